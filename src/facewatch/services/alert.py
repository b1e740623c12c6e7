"""The alert stage: alert job -> clip in S3 -> one SNS alert -> document in OpenSearch.

Each step's outcome is recorded on the alert's item, so an SQS redelivery (after a crash or a failed
later step) resumes where the last attempt stopped and never publishes a second alert.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from facewatch.adapters.alert_ledger import AlertLedger, AlertProgress
from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore, ClipUnavailableError
from facewatch.adapters.job_queue import JobQueue
from facewatch.adapters.notifier import AlertNotifier, PublishRefusedError
from facewatch.adapters.search_index import AlertIndex
from facewatch.config import AlertSettings
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.alert_record import alert_record
from facewatch.domain.clip import (
    ClipFailure,
    ClipOutcome,
    classify_clip_error,
    clip_key,
    clip_metadata,
    clip_range,
    missing_reason,
    retry_delay_seconds,
)
from facewatch.domain.document import alert_document
from facewatch.domain.notification import AlertContext, ClipLink, alert_page_url, compose_sns_message
from facewatch.observability import logger, metrics


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """What the alert stage needs of an SQS message, independent of the Lambda envelope."""

    body: str
    message_id: str
    receive_count: int
    receipt_handle: str
    queue_url: str


class ClipNotReadyError(Exception):
    """The clip is not available yet; the job comes back after a backoff (SQS visibility timeout)."""


def _job_rejection(error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    parts = [str(part) for part in first["loc"]]
    if first["type"] == "extra_forbidden" and parts:
        # The name of an unexpected field is the input's own text, of any size: never echo it.
        parts[-1] = "(unexpected field)"
    location = ".".join(parts) or "body"
    return f"not an alert job: {location}: {first['msg']}"


class AlertStage:
    def __init__(
        self,
        settings: AlertSettings,
        *,
        ledger: AlertLedger,
        clips: ClipStore,
        cameras: CameraRegistry,
        notifier: AlertNotifier,
        index: AlertIndex | None,
        queue: JobQueue,
        records: AlertRecords | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._clips = clips
        self._cameras = cameras
        self._notifier = notifier
        self._index = index
        self._queue = queue
        self._records = records
        self._clock = clock

    def process(self, message: QueueMessage) -> None:
        try:
            job = AlertJob.model_validate_json(message.body)
        except ValidationError as error:
            self._dead_letter(message.body, _job_rejection(error), alert_id=None)
            return
        progress = self._ledger.load(job.alert_id)
        if progress.notify_in_doubt:
            self._notification_in_doubt(message, job)
            return
        if not progress.notified:
            clip = progress.clip or self._fetch_clip(job, message)
            owner = self._ledger.begin_notify(job.alert_id, clip, now=self._clock())
            if owner is not None:  # another attempt got there first
                if not owner.notified:
                    self._notification_in_doubt(message, job)
                    return
                progress = owner
            else:
                progress = self._notify(job, clip)
        self._write_document(job, progress)

    def _fetch_clip(self, job: AlertJob, message: QueueMessage) -> ClipOutcome:
        key = clip_key(job)
        span = clip_range(job, self._settings.clip_pre_roll_seconds, self._settings.clip_post_roll_seconds)
        try:
            stored = self._clips.store(job.kvs_stream_arn, span, key, clip_metadata(job))
        except ClipUnavailableError as error:
            failure = classify_clip_error(error.code)
            attempts = message.receive_count
            if failure is not ClipFailure.PERMANENT and attempts < self._settings.clip_max_attempts:
                delay = retry_delay_seconds(attempts)
                self._queue.postpone(message.queue_url, message.receipt_handle, delay)
                logger.info(
                    "clip not ready, retrying",
                    extra={
                        "alert_id": job.alert_id,
                        "camera_id": job.camera_id,
                        "code": error.code,
                        "attempt": attempts,
                        "retry_in_s": delay,
                    },
                )
                raise ClipNotReadyError(error.code) from error
            metrics.add_metric(name=f"ClipMissing_{failure.value}", unit=MetricUnit.Count, value=1)
            return ClipOutcome.missing(missing_reason(error.code, failure, attempts))
        metrics.add_metric(name="ClipOk", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="ClipBytes", unit=MetricUnit.Bytes, value=stored.size_bytes)
        metrics.add_metric(name="GetClipLatency", unit=MetricUnit.Milliseconds, value=stored.get_clip_seconds * 1000)
        return ClipOutcome.stored(self._clips.bucket, key, stored.size_bytes)

    def _context(self, job: AlertJob, clip: ClipOutcome, notified_at: float, *, with_link: bool) -> AlertContext:
        link = None
        if with_link and clip.status == "ok" and clip.key:
            expiry = self._settings.clip_url_expiry_seconds
            link = ClipLink(url=self._clips.presign(clip.key, expiry), expires_at=notified_at + expiry)
        return AlertContext(
            job=job,
            place=self._cameras.place_of(job.camera_id),
            clip=clip,
            link=link,
            notified_at=notified_at,
            page_url=alert_page_url(self._settings.console_url, job.alert_id) if self._settings.console_url else None,
        )

    def _notify(self, job: AlertJob, clip: ClipOutcome) -> AlertProgress:
        now = self._clock()
        context = self._context(job, clip, notified_at=now, with_link=True)
        try:
            message_id = self._notifier.publish(compose_sns_message(context))
        except PublishRefusedError:
            self._ledger.abort_notify(job.alert_id)
            raise
        self._ledger.finish_notify(job.alert_id, message_id, notified_at=now)
        metrics.add_metric(name="AlertsNotified", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="AlertLatency", unit=MetricUnit.Seconds, value=max(0.0, now - job.frame_time))
        logger.info(
            "alert notified",
            extra={
                "alert_id": job.alert_id,
                "camera_id": job.camera_id,
                "clip_status": clip.status,
                "latency_s": round(now - job.frame_time, 3),
            },
        )
        return AlertProgress(clip=clip, notify_started_at=now, notified_at=now, sns_message_id=message_id)

    def _write_document(self, job: AlertJob, progress: AlertProgress) -> None:
        if self._records is not None:
            # The console's record, created once (a redelivery never undoes triage); repeated until it is.
            clip = progress.clip or ClipOutcome.missing("clip outcome not recorded")
            context = self._context(job, clip, progress.notified_at or self._clock(), with_link=False)
            self._records.create(alert_record(context), self._settings.alert_record_retention_days * 86_400)
        if self._index is None:
            logger.warning("OpenSearch not configured: alert not indexed", extra={"alert_id": job.alert_id})
            return
        clip = progress.clip or ClipOutcome.missing("clip outcome not recorded")
        notified_at = progress.notified_at or self._clock()
        # No link for the document: it stores the S3 location, never a URL that expires.
        context = self._context(job, clip, notified_at, with_link=False)
        try:
            self._index.index(job.alert_id, job.frame_time, alert_document(context))
        except Exception:
            # Retried on its own: the job comes back, finds itself notified, and only indexes; after the
            # queue's maxReceiveCount it lands in the dead-letter queue with its full payload.
            metrics.add_metric(name="IndexFailures", unit=MetricUnit.Count, value=1)
            logger.warning("alert not indexed, will retry", extra={"alert_id": job.alert_id})
            raise

    def _notification_in_doubt(self, message: QueueMessage, job: AlertJob) -> None:
        # Publishing again could alert twice; not publishing could lose the alert. Neither is silent:
        # the job goes to the dead-letter queue (alarmed) with the reason, for a person to check.
        self._dead_letter(
            message.body,
            "notification in doubt: an earlier attempt began publishing to SNS and stopped before recording "
            "the result; check the topic's delivery before re-driving",
            alert_id=job.alert_id,
        )

    def _dead_letter(self, body: str, reason: str, alert_id: str | None) -> None:
        self._queue.dead_letter(body, reason, alert_id)
        metrics.add_metric(name="AlertsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.error("alert job dead-lettered", extra={"alert_id": alert_id, "reason": reason})
