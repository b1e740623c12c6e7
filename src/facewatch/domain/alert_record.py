"""The alert's durable record for the console: what was seen, where its media are, and what people made
of it (triage). Written once by the alert stage, then changed only by triage actions.

Triage is a small state machine: new -> acknowledged -> resolved (a resolution may also be given
directly from new). Every change appends a history entry with who, when and the note; a resolution is
the alert's label (employee, known visitor, false alarm, not a face), kept for threshold tuning.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from facewatch.domain.alert_job import FaceBox
from facewatch.domain.cameras import CameraPlace
from facewatch.domain.clip import CLIP_PREFIX, ClipOutcome
from facewatch.domain.notification import AlertContext
from facewatch.domain.snapshot import SNAPSHOT_PREFIX, snapshot_keys

ALERT_RECORD_SCHEMA = 1
MAX_NOTE_CHARS = 1000
# What the console may read from the clip bucket, and nothing else (the console role is scoped the same).
MEDIA_PREFIXES = (f"{CLIP_PREFIX}/", f"{SNAPSHOT_PREFIX}/")
CLIP_PENDING_REASON = "the clip follows after the post-roll"


class TriageStatus(StrEnum):
    NEW = "new"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """What the face turned out to be: the alert's label."""

    EMPLOYEE = "employee"
    KNOWN_VISITOR = "known_visitor"
    FALSE_ALARM = "false_alarm"
    NOT_A_FACE = "not_a_face"

    @property
    def label(self) -> str:
        return {
            Resolution.EMPLOYEE: "Employee",
            Resolution.KNOWN_VISITOR: "Known visitor",
            Resolution.FALSE_ALARM: "False alarm",
            Resolution.NOT_A_FACE: "Not a face",
        }[self]


class HistoryEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    at: float
    actor: str
    action: Literal["acknowledged", "resolved"]
    note: str = ""
    resolution: Resolution | None = None
    employee_id: str | None = None
    face_id: str | None = None


class AlertRecord(BaseModel):
    """One alert as the console lists and shows it."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_version: Literal[1] = Field(1, alias="schema")
    alert_id: str
    camera_id: str
    place: CameraPlace
    frame_time: float
    detected_at: float
    notified_at: float
    confidence: float
    faces_in_frame: int
    unknown_faces: int
    bounding_box: FaceBox
    kvs_stream_arn: str
    clip_key: str | None = None
    clip_status: str = "missing"
    clip_reason: str | None = None
    snapshot_key: str | None = None
    crop_key: str | None = None
    status: TriageStatus = TriageStatus.NEW
    resolution: Resolution | None = None
    employee_id: str | None = None
    updated_by: str | None = None
    updated_at: float | None = None
    note: str = ""
    history: tuple[HistoryEntry, ...] = ()
    # Optimistic concurrency: a triage write succeeds only against the version it read.
    version: int = 0

    @property
    def latency_seconds(self) -> float:
        return max(0.0, self.notified_at - self.frame_time)

    @property
    def site(self) -> str | None:
        return self.place.site

    @property
    def stream_mode(self) -> bool:
        """Recorded from a KVS stream: the console can replay it from the detection on."""
        return ":kinesisvideo:" in self.kvs_stream_arn


def alert_record(context: AlertContext) -> AlertRecord:
    # The first message has no clip yet: the record says it follows, and the second message fills it in.
    job, clip = context.job, context.clip or ClipOutcome.missing(CLIP_PENDING_REASON)
    # The snapshot writer's keys (facewatch.domain.snapshot): the console checks they exist when it shows them.
    snapshots = snapshot_keys(job.camera_id, job.frame_time, job.alert_id)
    return AlertRecord(
        alert_id=job.alert_id,
        camera_id=job.camera_id,
        place=context.place,
        frame_time=job.frame_time,
        detected_at=job.detected_at,
        notified_at=context.notified_at,
        confidence=job.face.confidence,
        faces_in_frame=job.faces_in_frame,
        unknown_faces=job.unmatched_faces_in_frame,
        bounding_box=job.face.bounding_box,
        kvs_stream_arn=job.kvs_stream_arn,
        clip_key=clip.key if clip.status == "ok" else None,
        clip_status=clip.status,
        clip_reason=clip.reason,
        snapshot_key=snapshots.frame,
        crop_key=snapshots.crop,
    )


def is_media_key(key: str | None) -> bool:
    return bool(key) and str(key).startswith(MEDIA_PREFIXES) and ".." not in str(key)


class TriageError(Exception):
    """A triage action that cannot apply: the message says why, in words for the page."""


def _clean_note(note: str) -> str:
    text = " ".join(note.split())
    if len(text) > MAX_NOTE_CHARS:
        raise TriageError(f"the note is longer than {MAX_NOTE_CHARS} characters")
    return text


def acknowledge(record: AlertRecord, actor: str, note: str, now: float) -> AlertRecord:
    """Someone has looked at the alert and is on it. Only a new alert can be acknowledged."""
    if record.status is not TriageStatus.NEW:
        raise TriageError(f"the alert is already {record.status.value}")
    text = _clean_note(note)
    entry = HistoryEntry(at=now, actor=actor, action="acknowledged", note=text)
    return record.model_copy(
        update={
            "status": TriageStatus.ACKNOWLEDGED,
            "updated_by": actor,
            "updated_at": now,
            "note": text or record.note,
            "history": (*record.history, entry),
        }
    )


def check_resolution(record: AlertRecord, resolution: Resolution, note: str, employee_id: str | None) -> str:
    """Whether the resolution can be recorded (raises TriageError with the reason); the cleaned note.
    Checked before anything is enrolled, so a refused resolution leaves the collection untouched."""
    if record.status is TriageStatus.RESOLVED:
        raise TriageError(f"the alert is already resolved ({record.resolution.label if record.resolution else '?'})")
    text = _clean_note(note)
    if not text:
        raise TriageError("a note is required to resolve an alert")
    if resolution is Resolution.EMPLOYEE and not employee_id:
        raise TriageError("choose the employee the face belongs to")
    if resolution is not Resolution.EMPLOYEE and employee_id:
        raise TriageError("only an employee resolution names an employee")
    return text


def resolve(
    record: AlertRecord,
    actor: str,
    resolution: Resolution,
    note: str,
    now: float,
    *,
    employee_id: str | None = None,
    face_id: str | None = None,
) -> AlertRecord:
    """Labels the alert. The note is required: a resolution changes the record and, for an employee,
    the face collection. An employee resolution names the employee and the face enrolled for them."""
    text = check_resolution(record, resolution, note, employee_id)
    if resolution is Resolution.EMPLOYEE and not face_id:
        raise TriageError("an employee resolution names the enrolled face")
    entry = HistoryEntry(
        at=now,
        actor=actor,
        action="resolved",
        note=text,
        resolution=resolution,
        employee_id=employee_id,
        face_id=face_id,
    )
    return record.model_copy(
        update={
            "status": TriageStatus.RESOLVED,
            "resolution": resolution,
            "employee_id": employee_id,
            "updated_by": actor,
            "updated_at": now,
            "note": text,
            "history": (*record.history, entry),
        }
    )


def triage_fields(record: AlertRecord) -> dict[str, object]:
    """What the alert's search document carries of the triage: status, who, when, note, label."""
    return {
        "triage": {
            "status": record.status.value,
            "resolution": record.resolution.value if record.resolution else None,
            "employee_id": record.employee_id,
            "by": record.updated_by,
            "at": (
                datetime.fromtimestamp(record.updated_at, tz=UTC)
                .isoformat(timespec="milliseconds")
                .replace("+00:00", "Z")
                if record.updated_at
                else None
            ),
            "note": record.note,
        }
    }
