"""The alert stage: alert job -> clip in S3 -> one SNS alert -> the document queued for the indexer.

Each step's outcome is recorded on the alert's item (facewatch.adapters.alert_ledger), so an SQS redelivery
(after a crash or a failed later step) resumes where the last attempt stopped and never publishes a second
alert. Indexing is not done here: a notified alert's document goes to IndexQueue (services/index.py), so
OpenSearch, however slow, never holds up a notification.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import AlertLedger, AlertProgress, NotifyAttempt
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore, ClipUnavailableError
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import (
    AlertNotifier,
    PublishDeniedError,
    PublishInDoubtError,
    PublishRefusedError,
)
from facewatch.config import AlertSettings
from facewatch.domain.alert_job import AlertJob, mismatch
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
from facewatch.domain.document import IndexJob, alert_document
from facewatch.domain.notification import AlertContext, ClipLink, compose_sns_message
from facewatch.observability import logger, metrics


@dataclass(frozen=True, slots=True)
class QueueMessage:
    """What a stage needs of an SQS message, independent of the Lambda envelope."""

    body: str
    message_id: str
    receive_count: int
    receipt_handle: str
    queue_url: str
    deadline: float  # epoch seconds when the invocation handling it ends (Lambda stops it then)


class ClipNotReadyError(Exception):
    """The clip is not available yet; the job comes back after a backoff (SQS visibility timeout)."""


class NotifyInProgressError(Exception):
    """Another copy of this job is publishing right now; this one comes back after the visibility timeout
    and finds the alert notified (SQS redelivers it: a transient failure, not a dead letter)."""


IN_DOUBT = (
    "notification in doubt: {what}; check the topic's delivery and settle the alert's item in DedupTable "
    "before moving the job back"
)


def _job_rejection(error: ValidationError) -> str:
    first = error.errors(include_input=False, include_url=False)[0]
    parts = [str(part) for part in first["loc"]]
    if first["type"] == "extra_forbidden" and parts:
        # The name of an unexpected field is the input's own text, of any size: never echo it.
        parts[-1] = "(unexpected field)"
    location = ".".join(parts) or "body"
    return f"not an alert job: {location}: {first['msg']}"


def error_code(error: Exception) -> str:
    """The AWS error code behind a failure (a domain error's `code`, a ClientError's code, or the name of the
    exception): what a log line says instead of the message, which may quote input."""
    code = getattr(error, "code", None)
    return code if isinstance(code, str) else aws.error_code(error)


def count_failure(failure_class: str) -> None:
    """One metric per failure class (`Failures_<class>`), so each can be graphed and alarmed on its own."""
    metrics.add_metric(name=f"Failures_{failure_class}", unit=MetricUnit.Count, value=1)


class AlertStage:
    def __init__(
        self,
        settings: AlertSettings,
        *,
        ledger: AlertLedger,
        clips: ClipStore,
        cameras: CameraRegistry,
        notifier: AlertNotifier,
        index_queue: IndexQueue,
        queue: JobQueue,
        clock: Callable[[], float] = time.time,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._clips = clips
        self._cameras = cameras
        self._notifier = notifier
        self._index_queue = index_queue
        self._queue = queue
        self._clock = clock
        self._new_token = new_token

    def process(self, message: QueueMessage) -> None:
        try:
            job = AlertJob.model_validate_json(message.body)
        except ValidationError as error:
            self._dead_letter(message.body, _job_rejection(error), alert_id=None, failure_class="not_a_job")
            return
        problem = mismatch(job)
        if problem is not None:
            # Never act on it: its alert id may be another alert's, whose notification and document it
            # would take over. The reason names the fields; the job is kept whole for the investigation.
            self._dead_letter(
                message.body, f"alert job does not add up: {problem}", alert_id=None, failure_class="mismatch"
            )
            logger.error("alert job does not add up", extra={"camera_id": job.camera_id, "reason": problem})
            return
        try:
            self._alert(job, message)
        except (ClipNotReadyError, NotifyInProgressError):
            raise  # logged where they are raised: expected, retried by SQS
        except Exception as error:
            count_failure("record_failed")
            logger.error(
                "alert job failed, will retry",
                extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "error_code": error_code(error)},
            )
            raise

    def _alert(self, job: AlertJob, message: QueueMessage) -> None:
        progress = self._ledger.load(job.alert_id)
        if not progress.notified:
            if progress.notify_started_at is not None:
                self._begun_elsewhere(message, job, progress)
                return
            clip = progress.clip or self._fetch_clip(job, message)
            attempt = NotifyAttempt(token=self._new_token(), message_id=message.message_id, deadline=message.deadline)
            owner = self._ledger.begin_notify(job.alert_id, clip, attempt, now=self._clock())
            if owner is not None:  # another attempt got there first
                if not owner.notified:
                    self._begun_elsewhere(message, job, owner)
                    return
                progress = owner
            else:
                notified = self._notify(job, clip, attempt, message)
                if notified is None:
                    return
                progress = notified
        self._queue_document(job, progress)

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
                        "error_code": error.code,
                        "attempt": attempts,
                        "retry_in_s": delay,
                    },
                )
                raise ClipNotReadyError(error.code) from error
            metrics.add_metric(name=f"ClipMissing_{failure.value}", unit=MetricUnit.Count, value=1)
            logger.warning(
                "alert goes out without its clip",
                extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "error_code": error.code},
            )
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
        )

    def _notify(
        self, job: AlertJob, clip: ClipOutcome, attempt: NotifyAttempt, message: QueueMessage
    ) -> AlertProgress | None:
        """Publishes once. Returns the new progress, or None when the job was dead-lettered instead."""
        now = self._clock()
        context = self._context(job, clip, notified_at=now, with_link=True)
        ids = {"alert_id": job.alert_id, "camera_id": job.camera_id}
        try:
            message_id = self._notifier.publish(compose_sns_message(context))
        except PublishDeniedError as error:
            # Retrying cannot help until a person fixes IAM, the topic or its KMS key: dead-letter now, with
            # the reason, so the alarm fires within a minute instead of after every receive.
            self._ledger.abort_notify(job.alert_id, attempt)
            count_failure("publish_denied")
            logger.error("SNS denied the publish", extra={**ids, "error_code": error.code})
            self._dead_letter(
                message.body,
                f"SNS denied the publish ({error.code}): fix the alerter's permission on the topic or its KMS key, "
                "then move the job back",
                alert_id=job.alert_id,
                failure_class=None,
                error_code=error.code,
            )
            return None
        except PublishRefusedError:
            self._ledger.abort_notify(job.alert_id, attempt)
            count_failure("publish_refused")
            raise
        except PublishInDoubtError as error:
            # SNS may have delivered it: publishing again could alert twice. The claim stays in the ledger.
            count_failure("publish_in_doubt")
            logger.error("SNS publish in doubt", extra={**ids, "error_code": error.code})
            self._dead_letter(
                message.body,
                IN_DOUBT.format(what=f"SNS answered the publish with {error.code}, it may have gone out"),
                alert_id=job.alert_id,
                failure_class=None,
                error_code=error.code,
            )
            return None
        self._ledger.finish_notify(job.alert_id, message_id, notified_at=now)
        metrics.add_metric(name="AlertsNotified", unit=MetricUnit.Count, value=1)
        metrics.add_metric(name="AlertLatency", unit=MetricUnit.Seconds, value=max(0.0, now - job.frame_time))
        logger.info(
            "alert notified",
            extra={
                **ids,
                "clip_status": clip.status,
                "latency_s": round(now - job.frame_time, 3),
            },
        )
        return AlertProgress(clip=clip, notify_started_at=now, notified_at=now, sns_message_id=message_id)

    def _queue_document(self, job: AlertJob, progress: AlertProgress) -> None:
        """Hands the document to the indexer (IndexQueue). Sent again on a redelivery: indexing is idempotent
        (the document id is the alert id)."""
        clip = progress.clip or ClipOutcome.missing("clip outcome not recorded")
        notified_at = progress.notified_at or self._clock()
        # No link for the document: it stores the S3 location, never a URL that expires.
        context = self._context(job, clip, notified_at, with_link=False)
        self._index_queue.send(
            IndexJob(
                alert_id=job.alert_id,
                camera_id=job.camera_id,
                frame_time=job.frame_time,
                document=alert_document(context),
            )
        )

    def _begun_elsewhere(self, message: QueueMessage, job: AlertJob, progress: AlertProgress) -> None:
        """An attempt claimed the notify step and has not recorded a result."""
        ids = {"alert_id": job.alert_id, "camera_id": job.camera_id}
        if progress.notify_message_id in (None, message.message_id):
            # This very message claimed it in an earlier receive, which is over: SQS redelivers a message
            # only after its visibility timeout, longer than the function's timeout. It stopped between
            # claiming and recording, so SNS may or may not have the alert.
            self._dead_letter(
                message.body,
                IN_DOUBT.format(
                    what="an earlier attempt began publishing to SNS and stopped before recording the result"
                ),
                alert_id=job.alert_id,
                failure_class="publish_in_doubt",
            )
            return
        if progress.notify_deadline is not None and self._clock() < progress.notify_deadline:
            # A copy of this job (the detector's SendMessage can be repeated by its SDK) is being handled
            # right now: come back when it is done.
            count_failure("concurrent_copy")
            logger.info("another copy of the job is notifying, will retry", extra=ids)
            raise NotifyInProgressError(job.alert_id)
        # A copy that stopped after claiming: its own message comes back (or is in the dead-letter queue
        # already) and is dead-lettered in doubt there. One dead letter per alert: this copy ends here.
        count_failure("duplicate_job")
        logger.warning("duplicate alert job left to the copy that began notifying", extra=ids)

    def _dead_letter(
        self,
        body: str,
        reason: str,
        alert_id: str | None,
        failure_class: str | None,
        error_code: str | None = None,
    ) -> None:
        self._queue.dead_letter(body, reason, alert_id, error_code)
        if failure_class is not None:
            count_failure(failure_class)
        metrics.add_metric(name="AlertsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.error("alert job dead-lettered", extra={"alert_id": alert_id, "reason": reason})
