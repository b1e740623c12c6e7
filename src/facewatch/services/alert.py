"""The alert stage, in two phases per alert job:

1. at once: the snapshot (frame with the face box, face crop) -> the first SNS message (alert_snapshot) ->
   the document queued for the indexer (clip "pending"); then the job is postponed until the clip's
   post-roll is ingested (SQS visibility timeout);
2. after the post-roll: the clip in S3 -> the second SNS message (alert_clip, same alert id, sequence 2) ->
   the document queued again, overwriting the first in place.

Each step's outcome is recorded on the alert's item (facewatch.adapters.alert_ledger), so an SQS redelivery
(after a crash or a failed later step) resumes where the last attempt stopped and never publishes a second
alert. Indexing is not done here: a notified alert's document goes to IndexQueue (services/index.py), so
OpenSearch, however slow, never holds up a notification.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.base import MetricManager
from pydantic import ValidationError

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import AlertLedger, AlertProgress, NotifyAttempt
from facewatch.adapters.alert_records import AlertRecords, ConcurrentChangeError
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore, ClipUnavailableError
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import (
    AlertNotifier,
    PublishDeniedError,
    PublishInDoubtError,
    PublishRefusedError,
)
from facewatch.adapters.privacy_records import SiteMatching
from facewatch.config import AlertSettings
from facewatch.domain.alert_job import INGEST_MARGIN_SECONDS, AlertJob, mismatch
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
from facewatch.domain.digest import CAPPED_MESSAGE_ID, DIGEST_MESSAGE_PREFIX, compose_digest, notification_kind
from facewatch.domain.document import IndexJob, alert_document
from facewatch.domain.notification import (
    AlertContext,
    ClipLink,
    Phase,
    SnsMessage,
    alert_page_url,
    compose_sns_message,
)
from facewatch.domain.privacy import UNKNOWN_FACE_ALERT, alert_allowed
from facewatch.domain.snapshot import SnapshotOutcome
from facewatch.observability import logger, metrics
from facewatch.services.digest import DigestGate
from facewatch.services.snapshot import SnapshotTaker


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
    """The clip is not available yet (its post-roll is still being recorded, or KVS has not ingested it);
    the job comes back after that time or a backoff (SQS visibility timeout)."""


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


# _publish's answer when phase 1's publish is in doubt (the job goes on to phase 2).
_IN_DOUBT = "(in doubt)"
LATENCY_METRICS = {
    "frame_to_arrival": "LatencyFrameToRecord",
    "arrival_to_detector": "LatencyRecordToDetector",
    "detector_to_phase1": "LatencyDetectorToSnapshot",
    "phase1_to_phase2": "LatencySnapshotToClip",
}


def publish_latency_metrics(camera_id: str, context: AlertContext) -> None:
    """The latency components of a published message, in one EMF document with dimensions service and
    CameraId (the function's metric set has no CameraId): frame -> record, record -> detector, detector ->
    phase 1 and frame -> phase 1 after phase 1; phase 1 -> phase 2 after phase 2."""
    latency = context.latency.as_dict()
    names = (
        ["frame_to_arrival", "arrival_to_detector", "detector_to_phase1"]
        if context.phase is Phase.SNAPSHOT
        else ["phase1_to_phase2"]
    )
    camera_metrics = MetricManager(namespace=metrics.namespace, service=metrics.service)
    camera_metrics.add_dimension(name="CameraId", value=camera_id)
    for name in names:
        value = latency[name]
        if value is not None:
            camera_metrics.add_metric(name=LATENCY_METRICS[name], unit=MetricUnit.Seconds, value=value)
    if context.phase is Phase.SNAPSHOT:
        camera_metrics.add_metric(
            name="LatencyFrameToSnapshot",
            unit=MetricUnit.Seconds,
            value=round(max(0.0, context.notified_at - context.job.frame_time), 3),
        )
    if camera_metrics.metric_set:
        print(json.dumps(camera_metrics.serialize_metric_set(), separators=(",", ":")))  # EMF: a line on stdout


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
        snapshots: SnapshotTaker,
        cameras: CameraRegistry,
        notifier: AlertNotifier,
        index_queue: IndexQueue,
        queue: JobQueue,
        sites: SiteMatching | None = None,
        records: AlertRecords | None = None,
        digest: DigestGate | None = None,
        clock: Callable[[], float] = time.time,
        new_token: Callable[[], str] = lambda: uuid.uuid4().hex,
    ) -> None:
        self._settings = settings
        self._ledger = ledger
        self._clips = clips
        self._snapshots = snapshots
        self._cameras = cameras
        self._notifier = notifier
        self._index_queue = index_queue
        self._queue = queue
        self._sites = sites
        self._records = records
        self._digest = digest
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
            code = error_code(error)
            count_failure("record_failed")
            if message.receive_count >= self._settings.alert_max_receive_count:
                # SQS would move it now, without a word: dead-letter it here, with why (SQS's redrive stays
                # the backstop for a function that dies).
                self._dead_letter(
                    message.body,
                    f"failed on its last receive ({message.receive_count}) with {code}: fix the cause (the "
                    "alerter's log has every failure under the alert id), then move the job back",
                    alert_id=job.alert_id,
                    failure_class=None,
                    error_code=code,
                )
                return
            logger.error(
                "alert job failed, will retry",
                extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "error_code": code},
            )
            raise

    def _withheld_by_site(self, job: AlertJob) -> bool:
        """A site whose privacy profile allows no such alert (watchlist-only: no stranger alerts; off: none)
        gets nothing: no snapshot, clip, message or document. Counted, never silent."""
        if self._sites is None:
            return False
        site = self._cameras.place_of(job.camera_id).site
        matching = self._sites.matching_of(site)
        alert_type = job.policy.alert_type if job.policy is not None else UNKNOWN_FACE_ALERT
        if alert_allowed(matching, alert_type):
            return False
        metrics.add_metric(name="AlertsWithheld_privacy_profile", unit=MetricUnit.Count, value=1)
        logger.info(
            "alert withheld: the site's privacy profile does not allow it",
            extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "matching": matching.value},
        )
        return True

    def _alert(self, job: AlertJob, message: QueueMessage) -> None:
        if self._withheld_by_site(job):
            return
        progress = self._ledger.load(job.alert_id)
        if not progress.first.settled:
            first = self._first_phase(job, message, progress)
            if first is None:
                return
            progress = first
            wait = self._clip_ready_at(job) - self._clock()
            if wait > 0:
                delay = math.ceil(wait)
                self._queue.postpone(message.queue_url, message.receipt_handle, delay)
                logger.info(
                    "snapshot sent, clip follows",
                    extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "retry_in_s": delay},
                )
                raise ClipNotReadyError("post-roll")
        if not progress.notified:
            if progress.notify_started_at is not None:
                self._begun_elsewhere(message, job, progress)
                return
            clip = progress.clip or self._fetch_clip(job, message, self._clip_attempt(progress, message))
            attempt = NotifyAttempt(token=self._new_token(), message_id=message.message_id, deadline=message.deadline)
            owner = self._ledger.begin_notify(job.alert_id, clip, attempt, now=self._clock())
            if owner is not None:  # another attempt got there first
                if not owner.notified:
                    self._begun_elsewhere(message, job, owner)
                    return
                progress = owner
            else:
                notified = self._notify_clip(job, clip, attempt, message, progress)
                if notified is None:
                    return
                progress = notified
        self._queue_document(job, progress, Phase.CLIP)

    def _clip_ready_at(self, job: AlertJob) -> float:
        """When the clip's post-roll should be ingested (fragments are listed about a second after ingest)."""
        return job.frame_time + self._settings.clip_post_roll_seconds + INGEST_MARGIN_SECONDS

    def _receives_before_clip(self, job: AlertJob, message: QueueMessage) -> int:
        """The receives phase 1 used: this one too when the job waits for the post-roll, else the clip's
        first try is in this very receive."""
        waits = self._clip_ready_at(job) > self._clock()
        return message.receive_count if waits else message.receive_count - 1

    @staticmethod
    def _clip_attempt(progress: AlertProgress, message: QueueMessage) -> int:
        """Which try of the clip this receive is: receives spent on phase 1 do not count."""
        return max(1, message.receive_count - (progress.first.receive_count or 0))

    def _first_phase(self, job: AlertJob, message: QueueMessage, progress: AlertProgress) -> AlertProgress | None:
        """Phase 1 up to its publish. Returns the progress to go on to phase 2 with, or None when this job
        ends here (dead-lettered, or a copy of it owns the alert)."""
        if progress.first.started_at is not None:
            return self._snapshot_begun_elsewhere(message, job, progress)
        snapshot = self._snapshots.take(job)
        attempt = NotifyAttempt(token=self._new_token(), message_id=message.message_id, deadline=message.deadline)
        owner = self._ledger.begin_snapshot_notify(job.alert_id, snapshot, attempt, now=self._clock())
        if owner is not None:
            return owner if owner.first.settled else self._snapshot_begun_elsewhere(message, job, owner)
        now = self._clock()
        context = self._context(job, None, notified_at=now, with_link=True, phase=Phase.SNAPSHOT, snapshot=snapshot)
        # Above the site's cap one digest replaces the individual messages (decided once, on the first).
        verdict, count = self._digest.verdict(job) if self._digest else ("send", 0)
        if verdict == "capped":  # the site's digest already told the team; the alert is indexed only
            metrics.add_metric(name="AlertsCapped", unit=MetricUnit.Count, value=1)
            self._ledger.finish_notify(
                job.alert_id,
                CAPPED_MESSAGE_ID,
                notified_at=now,
                phase=Phase.SNAPSHOT,
                receive_count=self._receives_before_clip(job, message),
            )
            progress = self._ledger.load(job.alert_id)
            self._queue_document(job, progress, Phase.SNAPSHOT)
            return progress
        outgoing = (
            compose_digest(context, job.policy, count)
            if verdict == "digest" and job.policy is not None
            else compose_sns_message(context)
        )
        message_id = self._publish(job, context, attempt, message, outgoing)
        if message_id is None:
            return None
        if verdict == "digest" and message_id is not _IN_DOUBT:
            message_id = DIGEST_MESSAGE_PREFIX + message_id
        if message_id is _IN_DOUBT:
            # The first message may or may not be out: not published again. The job goes on to the clip,
            # whose message carries the snapshot too; a person settles the dead-lettered copy.
            self._ledger.settle_snapshot_in_doubt(job.alert_id, now, self._receives_before_clip(job, message))
            return self._ledger.load(job.alert_id)
        self._ledger.finish_notify(
            job.alert_id,
            message_id,
            notified_at=now,
            phase=Phase.SNAPSHOT,
            receive_count=self._receives_before_clip(job, message),
        )
        self._notified(job, context)
        progress = self._ledger.load(job.alert_id)
        self._queue_document(job, progress, Phase.SNAPSHOT)
        return progress

    def _snapshot_begun_elsewhere(
        self, message: QueueMessage, job: AlertJob, progress: AlertProgress
    ) -> AlertProgress | None:
        """Phase 1 was claimed and its result not recorded: as _begun_elsewhere, except that this job's own
        stopped attempt does not end the alert: phase 1 is settled in doubt and phase 2 still goes out."""
        first = progress.first
        ids = {"alert_id": job.alert_id, "camera_id": job.camera_id}
        if first.message_id in (None, message.message_id):
            self._queue.dead_letter(
                message.body,
                IN_DOUBT.format(
                    what="an earlier attempt began publishing the first message (the snapshot) and stopped before "
                    "recording the result; the second message (the clip) goes out regardless"
                ),
                job.alert_id,
                None,
            )
            count_failure("snapshot_in_doubt")
            logger.error("first message in doubt, going on to the clip", extra=ids)
            self._ledger.settle_snapshot_in_doubt(job.alert_id, self._clock(), self._receives_before_clip(job, message))
            return self._ledger.load(job.alert_id)
        if first.deadline is not None and self._clock() < first.deadline:
            count_failure("concurrent_copy")
            logger.info("another copy of the job is notifying, will retry", extra=ids)
            raise NotifyInProgressError(job.alert_id)
        count_failure("duplicate_job")
        logger.warning("duplicate alert job left to the copy that began notifying", extra=ids)
        return None

    def _fetch_clip(self, job: AlertJob, message: QueueMessage, attempts: int) -> ClipOutcome:
        key = clip_key(job)
        span = clip_range(job, self._settings.clip_pre_roll_seconds, self._settings.clip_post_roll_seconds)
        try:
            stored = self._clips.store(job.kvs_stream_arn, span, key, clip_metadata(job))
        except ClipUnavailableError as error:
            failure = classify_clip_error(error.code)
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

    def _context(
        self,
        job: AlertJob,
        clip: ClipOutcome | None,
        notified_at: float,
        *,
        with_link: bool,
        phase: Phase,
        snapshot: SnapshotOutcome | None,
        phase1_at: float | None = None,
    ) -> AlertContext:
        link = None
        snapshot_links = None
        if with_link:
            expiry = self._settings.clip_url_expiry_seconds
            if clip is not None and clip.status == "ok" and clip.key:
                link = ClipLink(url=self._clips.presign(clip.key, expiry), expires_at=notified_at + expiry)
            snapshot_links = self._snapshots.links(snapshot, expiry, notified_at) if snapshot else None
        return AlertContext(
            job=job,
            place=self._cameras.place_of(job.camera_id),
            clip=clip,
            link=link,
            notified_at=notified_at,
            phase=phase,
            snapshot=snapshot,
            snapshot_links=snapshot_links,
            phase1_at=phase1_at,
            page_url=alert_page_url(self._settings.console_url, job.alert_id) if self._settings.console_url else None,
        )

    def _publish(
        self,
        job: AlertJob,
        context: AlertContext,
        attempt: NotifyAttempt,
        message: QueueMessage,
        outgoing: SnsMessage | None = None,
    ) -> str | None:
        """Publishes one phase's message once. Returns the SNS message id; None when the job was
        dead-lettered instead (denied; or in doubt in phase 2); _IN_DOUBT when phase 1 is in doubt."""
        phase = context.phase
        ids = {"alert_id": job.alert_id, "camera_id": job.camera_id, "phase": int(phase)}
        try:
            return self._notifier.publish(outgoing or compose_sns_message(context))
        except PublishDeniedError as error:
            # Retrying cannot help until a person fixes IAM, the topic or its KMS key: dead-letter now, with
            # the reason, so the alarm fires within a minute instead of after every receive.
            self._ledger.abort_notify(job.alert_id, attempt, phase)
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
            self._ledger.abort_notify(job.alert_id, attempt, phase)
            count_failure("publish_refused")
            raise
        except PublishInDoubtError as error:
            # SNS may have delivered it: publishing again could alert twice. The claim stays in the ledger.
            count_failure("publish_in_doubt")
            logger.error("SNS publish in doubt", extra={**ids, "error_code": error.code})
            what = "the first message (the snapshot)" if phase is Phase.SNAPSHOT else "the publish"
            self._dead_letter(
                message.body,
                IN_DOUBT.format(what=f"SNS answered {what} with {error.code}, it may have gone out"),
                alert_id=job.alert_id,
                failure_class=None,
                error_code=error.code,
            )
            return _IN_DOUBT if phase is Phase.SNAPSHOT else None

    def _notify_clip(
        self,
        job: AlertJob,
        clip: ClipOutcome,
        attempt: NotifyAttempt,
        message: QueueMessage,
        progress: AlertProgress,
    ) -> AlertProgress | None:
        """Publishes phase 2 once. Returns the new progress, or None when the job was dead-lettered instead.
        When the first message went out in the site's digest (or was capped), the clip is not messaged on
        its own: it is in the document and the console."""
        now = self._clock()
        if notification_kind(progress.first.sns_message_id) != "individual":
            self._ledger.finish_notify(job.alert_id, CAPPED_MESSAGE_ID, notified_at=now)
            return AlertProgress(
                snapshot=progress.snapshot,
                first=progress.first,
                clip=clip,
                notify_started_at=now,
                notified_at=now,
                sns_message_id=CAPPED_MESSAGE_ID,
            )
        context = self._context(
            job,
            clip,
            notified_at=now,
            with_link=True,
            phase=Phase.CLIP,
            snapshot=progress.snapshot,
            phase1_at=progress.first.notified_at,
        )
        message_id = self._publish(job, context, attempt, message)
        if message_id is None:
            return None
        self._ledger.finish_notify(job.alert_id, message_id, notified_at=now)
        self._notified(job, context)
        return AlertProgress(
            snapshot=progress.snapshot,
            first=progress.first,
            clip=clip,
            notify_started_at=now,
            notified_at=now,
            sns_message_id=message_id,
        )

    def _notified(self, job: AlertJob, context: AlertContext) -> None:
        """Metrics and the log line of a published message; the latency components also per camera."""
        latency = context.latency
        phase = context.phase
        if phase is Phase.SNAPSHOT:
            metrics.add_metric(name="AlertsNotified", unit=MetricUnit.Count, value=1)
            metrics.add_metric(
                name="AlertLatency", unit=MetricUnit.Seconds, value=max(0.0, context.notified_at - job.frame_time)
            )
        else:
            metrics.add_metric(name="FollowUpsNotified", unit=MetricUnit.Count, value=1)
        publish_latency_metrics(job.camera_id, context)
        logger.info(
            "alert notified" if phase is Phase.SNAPSHOT else "clip notified",
            extra={
                "alert_id": job.alert_id,
                "camera_id": job.camera_id,
                "phase": int(phase),
                "snapshot_status": context.snapshot.status if context.snapshot else None,
                "clip_status": context.clip.status if context.clip else "pending",
                "latency_s": round(context.notified_at - job.frame_time, 3),
                "latency": latency.as_dict(),
            },
        )

    def _queue_document(self, job: AlertJob, progress: AlertProgress, phase: Phase) -> None:
        """Hands the document to the indexer (IndexQueue). Sent again on a redelivery and after each phase:
        indexing is idempotent (the document id is the alert id), so phase 2 updates phase 1's in place."""
        clip = (progress.clip or ClipOutcome.missing("clip outcome not recorded")) if phase is Phase.CLIP else None
        first_at = progress.first.notified_at
        notified_at = (progress.notified_at if phase is Phase.CLIP else first_at) or self._clock()
        # No link for the document: it stores the S3 locations, never a URL that expires.
        context = self._context(
            job,
            clip,
            notified_at,
            with_link=False,
            phase=phase,
            snapshot=progress.snapshot,
            phase1_at=first_at,
        )
        first_kind = notification_kind(progress.first.sns_message_id)
        self._index_queue.send(
            IndexJob(
                alert_id=job.alert_id,
                camera_id=job.camera_id,
                frame_time=job.frame_time,
                document={**alert_document(context), "notification": first_kind},
            )
        )
        self._write_record(job, context)

    def _write_record(self, job: AlertJob, context: AlertContext) -> None:
        """The console's record: created with the first message, its clip filled in with the second. A
        redelivery never undoes triage (create is conditional; the clip update keeps every other field)."""
        if self._records is None:
            return
        record = alert_record(context)
        if self._records.create(record, self._settings.alert_record_retention_days * 86_400):
            return
        if context.clip is None:
            return
        stored = self._records.get(job.alert_id)
        update = {"clip_key": record.clip_key, "clip_status": record.clip_status, "clip_reason": record.clip_reason}
        if stored is None or all(getattr(stored, name) == value for name, value in update.items()):
            return
        try:
            self._records.replace(stored, stored.model_copy(update=update))
        except ConcurrentChangeError:
            # Someone triaged it this instant: the next redelivery (or the document) carries the clip.
            logger.info("alert record changed meanwhile, clip not recorded", extra={"alert_id": job.alert_id})

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
