"""The detector: Kinesis face-search records -> deduplicated alert jobs.

Per record: parse (or quarantine), judge the faces, and for a sighting claim the camera's window and
queue the alert job. Records without a sighting make no AWS call; a camera whose window is known in
this container is suppressed without one. Any AWS error is logged (camera id, alert id, error code,
failure class; never the record) and propagates, so the batch processor reports the record as failed,
stops there (handlers/ordered_batch.py) and Lambda redelivers from it, in order.

A sighting older than the camera's current window (records out of order) is placed by
facewatch.domain.dedup.place_sighting: suppressed by the window it falls in, a late window of its own
(an alert), or counted on a window with a named reason (LateSightings_<reason>, late_count).

Suppressed sightings are counted per window and written once per window (services/suppression.py).
"""

from __future__ import annotations

import enum
import json
import math
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from aws_lambda_powertools.metrics.base import MetricManager

from facewatch.adapters import aws
from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.quarantine import Quarantine, QuarantinedInput
from facewatch.config import DetectorSettings
from facewatch.domain.alert_job import alert_delay_seconds, build_alert_job
from facewatch.domain.dedup import DedupWindow, LateReason, alert_id_for, place_sighting
from facewatch.domain.records import MalformedRecordError, QuarantineReason, check_frame_time, parse_face_frame
from facewatch.domain.sightings import DropReason, judge_frame
from facewatch.observability import logger, metrics
from facewatch.services.suppression import SuppressedCounts

# Bound on the per-container window cache and pending counts; a stack has at most a few hundred cameras.
MAX_CACHED_CAMERAS = 10_000
# Conditional writes one sighting may take to find its window: the camera's item changes between two
# of them only when another container claims the same camera at the same moment.
MAX_CLAIM_ROUNDS = 3


class FailureClass(enum.StrEnum):
    """The step a record failed in (metric RecordsFailed_<class>, log field `failure`)."""

    QUARANTINE = "quarantine"  # S3 PutObject of a malformed record
    CLAIM = "claim"  # DynamoDB UpdateItem of the camera's window
    SEND = "send"  # SQS SendMessage of the alert job


# What a sighting's claim opened: the camera's current window, or a late window before it.
type Opened = Literal["current", "late"]


class ClaimContendedError(RuntimeError):
    """The camera's window kept changing under this claim: the record fails and is retried."""


@dataclass(frozen=True, slots=True)
class StreamRecord:
    """What the detector needs of a Kinesis record, independent of the Lambda envelope."""

    data: bytes
    decode_error: str | None
    stream_name: str
    shard_id: str
    sequence_number: str
    arrived_at: float


@dataclass(slots=True)
class BatchTally:
    """Counts for one batch, published as metrics once at the end."""

    records: int = 0
    sightings: int = 0
    alerts: int = 0
    suppressed: int = 0
    malformed: int = 0
    dropped: Counter[DropReason] = field(default_factory=Counter)
    late: Counter[LateReason] = field(default_factory=Counter)
    late_alerts: int = 0  # alerts raised by late windows (also in `alerts`)
    failed: Counter[FailureClass] = field(default_factory=Counter)
    quarantined: Counter[tuple[str, QuarantineReason]] = field(default_factory=Counter)  # camera, reason class
    not_processed: int = 0  # records after a failed one, left for the redelivery (ordered processing)


@dataclass(slots=True)
class _KnownWindow:
    window: DedupWindow
    job_sent: bool


class Detector:
    def __init__(
        self,
        settings: DetectorSettings,
        windows: DedupWindows,
        queue: AlertQueue,
        quarantine: Quarantine,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._settings = settings
        self._gates = settings.gates
        self._windows = windows
        self._queue = queue
        self._quarantine = quarantine
        self._clock = clock
        self._known: dict[str, _KnownWindow] = {}
        self._suppressed = SuppressedCounts(windows, clock, MAX_CACHED_CAMERAS)
        self._tally = BatchTally()
        self._event_time = -math.inf  # the newest sighting's frame time in the current batch

    @contextmanager
    def batch(self) -> Iterator[BatchTally]:
        """Scopes a tally to one batch; on exit, writes the counts of the windows that ended in event time.

        The clock is the newest sighting the batch saw on any camera: a camera that went quiet has its
        last window's count written once another camera's sightings show that window is over.
        """
        self._tally = tally = BatchTally()
        self._event_time = -math.inf
        yield tally
        if self._event_time > -math.inf:  # a batch without a sighting makes no call
            self._suppressed.flush_all_ended(self._event_time)

    def process(self, record: StreamRecord) -> None:
        tally = self._tally
        tally.records += 1
        try:
            if record.decode_error is not None:
                raise MalformedRecordError(record.decode_error)
            frame = parse_face_frame(record.data)
            check_frame_time(frame, record.arrived_at)
        except MalformedRecordError as error:
            # The stack's data streams are named as their camera: a record naming none counts against its stream.
            camera_id = error.camera_id or record.stream_name
            with self._failing(FailureClass.QUARANTINE, record, camera_id):
                self._quarantine_record(record, error.reason)
            tally.malformed += 1
            tally.quarantined[camera_id, error.kind] += 1
            return
        verdict = judge_frame(frame, self._gates)
        tally.dropped.update(verdict.dropped)
        if not verdict.sightings:
            return
        tally.sightings += len(verdict.sightings)
        # One alert per frame at most: the window is claimed by the most confident unknown face.
        sighting = verdict.sightings[0]
        camera_id = sighting.camera_id
        frame_time = sighting.frame_time
        if frame_time > self._event_time:
            self._event_time = frame_time
        alert_id = alert_id_for(sighting.source, sighting.face_index)
        known = self._known.get(camera_id)
        if known is not None:
            if known.window.suppresses(frame_time, alert_id):
                self._suppress(known.window)
                return
            if known.window.alert_id == alert_id and known.job_sent:
                return  # the same record redelivered to this container: its job is already queued
        # The camera's next window: what the ended ones suppressed is written first, then the claim.
        self._suppressed.flush_ended(camera_id, frame_time)
        window = DedupWindow.opened_by(camera_id, frame_time, alert_id, self._settings.dedup_window_seconds)
        with self._failing(FailureClass.CLAIM, record, camera_id, alert_id):
            opened = self._open(window)
        if opened is None:
            return
        now = self._clock()
        job = build_alert_job(sighting, alert_id, record.sequence_number, detected_at=now, arrived_at=record.arrived_at)
        delay = alert_delay_seconds(
            frame_time,
            now,
            self._settings.clip_post_roll_seconds,
            self._settings.alert_delay_seconds,
        )
        with self._failing(FailureClass.SEND, record, camera_id, alert_id):
            self._queue.send(job, delay_seconds=delay)
        if opened == "current":
            self._remember(_KnownWindow(window, job_sent=True))
        else:
            tally.late_alerts += 1
        tally.alerts += 1
        logger.info(
            "alert raised",
            extra={
                "camera_id": camera_id,
                "alert_id": alert_id,
                "frame_time": frame_time,
                "delay_s": delay,
                "late_window": opened == "late",
            },
        )

    def _open(self, window: DedupWindow) -> Opened | None:
        """Claims `window` for its sighting: "current" or "late" when the sighting opens (or, redelivered,
        had opened) a window and its job must be sent; None when it was suppressed or counted late."""
        claim, late = self._windows.claim(window), False
        for round_number in range(1, MAX_CLAIM_ROUNDS + 1):
            if claim.won:
                if not late:
                    self._remember(_KnownWindow(window, job_sent=False))
                return "late" if late else "current"
            stored = claim.stored
            if stored is None:  # DedupWindows.claim returns the stored windows with every lost claim
                raise ClaimContendedError("a lost claim without the stored windows")
            known = self._known.get(window.camera_id)
            if known is None or known.window != stored.current:
                self._remember(_KnownWindow(stored.current, job_sent=False))
            placement = place_sighting(stored, window.start, window.alert_id, self._settings.dedup_window_seconds)
            if placement.opened is not None:
                return "current" if placement.opened == stored.current else "late"
            if placement.suppressed_by is not None:
                self._suppress(placement.suppressed_by)
                return None
            if placement.late_on is not None and placement.late_reason is not None:
                self._count_late(placement.late_on, placement.late_reason, window)
                return None
            if round_number == MAX_CLAIM_ROUNDS:
                break
            if placement.next_window:
                claim, late = self._windows.claim(window), False
            else:
                claim, late = self._windows.claim_late(window, before=stored.current), True
        raise ClaimContendedError(f"camera window still contended after {MAX_CLAIM_ROUNDS} conditional writes")

    @contextmanager
    def _failing(
        self, failure: FailureClass, record: StreamRecord, camera_id: str | None = None, alert_id: str | None = None
    ) -> Iterator[None]:
        """Logs and counts an exception of one step (ids and error code only, never the record), re-raised."""
        try:
            yield
        except Exception as error:
            self._tally.failed[failure] += 1
            logger.error(
                "record failed",
                extra={
                    "failure": failure.value,
                    "code": aws.error_code(error),
                    "camera_id": camera_id,
                    "alert_id": alert_id,
                    "shard_id": record.shard_id,
                    "sequence_number": record.sequence_number,
                },
            )
            raise

    def _count_late(self, window: DedupWindow, reason: LateReason, sighting_window: DedupWindow) -> None:
        self._tally.late[reason] += 1
        self._suppressed.add(window, late=True)
        logger.info(
            "late sighting counted on a window",
            extra={
                "camera_id": window.camera_id,
                "alert_id": window.alert_id,
                "reason": reason.value,
                "frame_time": sighting_window.start,
            },
        )

    def _remember(self, known: _KnownWindow) -> None:
        if len(self._known) >= MAX_CACHED_CAMERAS and known.window.camera_id not in self._known:
            self._known.clear()
        self._known[known.window.camera_id] = known

    def _suppress(self, window: DedupWindow) -> None:
        self._tally.suppressed += 1
        self._suppressed.add(window)

    def _quarantine_record(self, record: StreamRecord, reason: str) -> None:
        key = self._quarantine.keep(
            QuarantinedInput(
                stage="detector",
                source=record.stream_name,
                item_id=f"{record.shard_id}-{record.sequence_number}",
                received_at=record.arrived_at,
                reason=reason,
                raw=record.data,
            )
        )
        logger.warning(
            "record quarantined",
            extra={"reason": reason, "sequence_number": record.sequence_number, "quarantine_key": key},
        )


def publish_metrics(tally: BatchTally) -> None:
    """One EMF metric set per batch (not per record): counts, and faces dropped by reason."""
    metrics.add_metric(name="RecordsProcessed", unit=MetricUnit.Count, value=tally.records)
    metrics.add_metric(name="Sightings", unit=MetricUnit.Count, value=tally.sightings)
    metrics.add_metric(name="AlertsRaised", unit=MetricUnit.Count, value=tally.alerts)
    metrics.add_metric(name="SuppressedByWindow", unit=MetricUnit.Count, value=tally.suppressed)
    metrics.add_metric(name="MalformedRecords", unit=MetricUnit.Count, value=tally.malformed)
    metrics.add_metric(name="LateWindowAlerts", unit=MetricUnit.Count, value=tally.late_alerts)
    metrics.add_metric(name="RecordsNotProcessed", unit=MetricUnit.Count, value=tally.not_processed)
    for reason in DropReason:
        metrics.add_metric(name=f"FacesDropped_{reason.value}", unit=MetricUnit.Count, value=tally.dropped[reason])
    for late in LateReason:
        metrics.add_metric(name=f"LateSightings_{late.value}", unit=MetricUnit.Count, value=tally.late[late])
    for failure in FailureClass:
        metrics.add_metric(name=f"RecordsFailed_{failure.value}", unit=MetricUnit.Count, value=tally.failed[failure])


def publish_camera_metrics(tally: BatchTally) -> None:
    """Per camera with quarantined records in the batch, one EMF document (dimensions service, CameraId):
    QuarantinedRecords, which the camera's alarm watches, and QuarantinedRecords_<reason class>."""
    per_camera: dict[str, Counter[QuarantineReason]] = {}
    for (camera_id, reason), count in tally.quarantined.items():
        per_camera.setdefault(camera_id, Counter())[reason] += count
    for camera_id, reasons in per_camera.items():
        # A metric set of its own (Powertools' single_metric holds one metric): the batch's set has no CameraId.
        camera_metrics = MetricManager(namespace=metrics.namespace)
        camera_metrics.add_dimension(name="CameraId", value=camera_id)
        camera_metrics.add_metric(name="QuarantinedRecords", unit=MetricUnit.Count, value=reasons.total())
        for reason, count in reasons.items():
            camera_metrics.add_metric(name=f"QuarantinedRecords_{reason.value}", unit=MetricUnit.Count, value=count)
        print(json.dumps(camera_metrics.serialize_metric_set(), separators=(",", ":")))  # EMF: a line on stdout
