"""What the security team receives: the email text, the subject, the structured alert and the
SNS message attributes a team filters on. Pure functions of the alert and its context."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import IntEnum
from typing import Any
from zoneinfo import ZoneInfo

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.alert_policy import document_fields, email_lines, sns_attributes
from facewatch.domain.cameras import CameraPlace, one_line
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.snapshot import SnapshotOutcome

# Two messages per alert (the alert id and `sequence` tie them): the snapshot at once, the clip after the
# post-roll. Email subscribers may filter on event_type to get the first only (AlertEmailFollowUp).
EVENT_TYPE_SNAPSHOT = "alert_snapshot"
EVENT_TYPE_CLIP = "alert_clip"
ALERT_NOTICE_SCHEMA = 2
# SNS: the subject is ASCII, no line breaks or control characters, at most 100 characters.
MAX_SUBJECT_CHARS = 100
_NOT_SUBJECT_SAFE = re.compile(r"[^\x20-\x7e]")


class Phase(IntEnum):
    SNAPSHOT = 1  # at once: the frame and the face crop
    CLIP = 2  # after the post-roll: the clip, or why there is none

    @property
    def event_type(self) -> str:
        return EVENT_TYPE_SNAPSHOT if self is Phase.SNAPSHOT else EVENT_TYPE_CLIP


@dataclass(frozen=True, slots=True)
class ClipLink:
    """A presigned link to the clip and when it stops working."""

    url: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class SnapshotLinks:
    """Presigned links to the snapshot's frame and crop, and when they stop working."""

    frame_url: str
    crop_url: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class Latency:
    """Where the time between the frame and a message went, in seconds (None: not known for this alert)."""

    frame_to_arrival: float | None
    arrival_to_detector: float | None
    detector_to_phase1: float | None
    phase1_to_phase2: float | None

    @classmethod
    def of(cls, job: AlertJob, phase1_at: float | None, phase2_at: float | None) -> Latency:
        arrived = job.arrived_at

        def span(start: float | None, end: float | None) -> float | None:
            return round(max(0.0, end - start), 3) if start is not None and end is not None else None

        return cls(
            frame_to_arrival=span(job.frame_time, arrived),
            arrival_to_detector=span(arrived, job.detected_at),
            detector_to_phase1=span(job.detected_at, phase1_at),
            phase1_to_phase2=span(phase1_at, phase2_at),
        )

    def as_dict(self) -> dict[str, float | None]:
        return {
            "frame_to_arrival": self.frame_to_arrival,
            "arrival_to_detector": self.arrival_to_detector,
            "detector_to_phase1": self.detector_to_phase1,
            "phase1_to_phase2": self.phase1_to_phase2,
        }


@dataclass(frozen=True, slots=True)
class AlertContext:
    """Everything an alert message says, gathered before it is composed.

    Phase 1 has no clip yet (`clip` None: it follows); phase 2 carries the clip outcome and, again, the
    snapshot. `phase1_at` is when the first message went out (phase 2 only)."""

    job: AlertJob
    place: CameraPlace
    clip: ClipOutcome | None
    link: ClipLink | None
    notified_at: float
    # The alert's page in the console (CONSOLE_URL): it keeps working after the clip link has expired.
    page_url: str | None = None
    phase: Phase = Phase.CLIP
    snapshot: SnapshotOutcome | None = None
    snapshot_links: SnapshotLinks | None = None
    phase1_at: float | None = None

    @property
    def latency(self) -> Latency:
        if self.phase is Phase.SNAPSHOT:
            return Latency.of(self.job, self.notified_at, None)
        return Latency.of(self.job, self.phase1_at, self.notified_at)


@dataclass(frozen=True, slots=True)
class SnsMessage:
    subject: str
    message: str  # the MessageStructure=json envelope
    attributes: dict[str, dict[str, str]]


def _utc(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, tz=UTC)


def iso_utc(epoch: float) -> str:
    return _utc(epoch).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def local_time(epoch: float, timezone: str) -> datetime:
    return _utc(epoch).astimezone(ZoneInfo(timezone))


_SUBJECT_BY_TYPE = {"watchlist_match": "watchlist match", "after_hours": "after-hours face"}


def alert_page_url(console_url: str, alert_id: str) -> str:
    """The alert's page in the console."""
    return f"{console_url.rstrip('/')}/alerts/{alert_id}"


def compose_subject(context: AlertContext) -> str:
    place = context.place
    where = f" at {place.site}" if place.site else ""
    base = _SUBJECT_BY_TYPE.get(context.job.policy.alert_type, "unknown face") if context.job.policy else "unknown face"
    what = base if context.phase is Phase.SNAPSHOT else f"clip of {base}"
    text = f"facewatch: {what} on {place.label}{where}, {_utc(context.job.frame_time):%H:%M:%S} UTC"
    text = _NOT_SUBJECT_SAFE.sub("?", text)
    return text if len(text) <= MAX_SUBJECT_CHARS else text[: MAX_SUBJECT_CHARS - 3] + "..."


def _minutes(expires_at: float, now: float) -> int:
    return max(1, round((expires_at - now) / 60))


def _clip_lines(context: AlertContext) -> list[str]:
    clip, link = context.clip, context.link
    if clip is None:
        return ["Clip:       follows in a second message once the video after the sighting is stored"]
    if clip.status == "ok" and link is not None:
        return [
            f"Clip:       {link.url}",
            f"            (short-lived convenience link, valid for about "
            f"{_minutes(link.expires_at, context.notified_at)} min; stored at {clip.s3_uri})",
        ]
    return [f"Clip:       none - {clip.reason or 'not available'}"]


def _snapshot_lines(context: AlertContext) -> list[str]:
    snapshot, links = context.snapshot, context.snapshot_links
    if snapshot is None:
        return []
    if snapshot.status == "ok" and links is not None:
        return [
            f"Face:       {links.crop_url}",
            f"Frame:      {links.frame_url}",
            f"            (links valid for about {_minutes(links.expires_at, context.notified_at)} min; "
            f"stored at {snapshot.uri(snapshot.frame_key)})",
        ]
    return [f"Snapshot:   none - {snapshot.reason or 'not available'}"]


def _seconds(value: float | None) -> str:
    return f"{value:.1f} s" if value is not None else "n/a"


def _latency_line(context: AlertContext) -> str:
    latency = context.latency
    parts = [
        f"frame -> record {_seconds(latency.frame_to_arrival)}",
        f"record -> detector {_seconds(latency.arrival_to_detector)}",
        f"detector -> first message {_seconds(latency.detector_to_phase1)}",
    ]
    if context.phase is Phase.CLIP:
        parts.append(f"first -> this message {_seconds(latency.phase1_to_phase2)}")
    return "Latency:    " + ", ".join(parts)


def compose_email(context: AlertContext) -> str:
    job, place = context.job, context.place
    local = local_time(job.frame_time, place.timezone)
    if context.phase is Phase.SNAPSHOT:
        opening = f"A face that matches no employee was seen on camera {place.label}."
        sequence = "message 1 of 2; the clip follows"
    else:
        opening = f"The clip of the unknown face seen on camera {place.label}."
        first = f"; the first went out at {_utc(context.phase1_at):%H:%M:%S} UTC" if context.phase1_at else ""
        sequence = f"message 2 of 2{first}"
    lines = [opening, ""]
    if context.page_url:
        lines += [f"Open:       {context.page_url}", "            (the alert in the console, after sign-in)"]
    lines.append(f"Camera:     {place.label}")
    if place.where:
        lines.append(f"Where:      {place.where}")
    lines += [
        f"When:       {local:%Y-%m-%d %H:%M:%S %Z} ({place.timezone}) = {_utc(job.frame_time):%Y-%m-%d %H:%M:%S} UTC",
        f"Confidence: {job.face.confidence:.1f}% that this is a face; no employee matched",
        f"Unknown:    {job.unmatched_faces_in_frame} unknown of {job.faces_in_frame} face(s) in the frame",
        *email_lines(job.policy),
        *_snapshot_lines(context),
        *_clip_lines(context),
        f"Alert id:   {job.alert_id} ({sequence})",
        _latency_line(context),
        "",
        "Further sightings on this camera within the dedup window are not alerted again.",
    ]
    # Every line is made one line again: whatever a registry entry or a reason holds cannot add one.
    return "\n".join(one_line(line) for line in lines)


def _snapshot_notice(context: AlertContext) -> dict[str, Any]:
    snapshot, links = context.snapshot, context.snapshot_links
    if snapshot is None:
        return {"status": "missing", "reason": "not taken"}
    return {
        "status": snapshot.status,
        "source": snapshot.source,
        "frame_s3_uri": snapshot.uri(snapshot.frame_key),
        "crop_s3_uri": snapshot.uri(snapshot.crop_key),
        "frame_url": links.frame_url if links else None,
        "crop_url": links.crop_url if links else None,
        "url_expires_at": iso_utc(links.expires_at) if links else None,
        "reason": snapshot.reason,
    }


def _clip_notice(context: AlertContext) -> dict[str, Any]:
    clip, link = context.clip, context.link
    if clip is None:
        return {"status": "pending", "s3_uri": None, "url": None, "url_expires_at": None, "reason": None}
    return {
        "status": clip.status,
        "s3_uri": clip.s3_uri,
        "url": link.url if link else None,
        "url_expires_at": iso_utc(link.expires_at) if link else None,
        "reason": clip.reason,
    }


def alert_notice(context: AlertContext) -> dict[str, Any]:
    """The structured alert for machine subscribers (SQS, Lambda, HTTPS), versioned."""
    job, place = context.job, context.place
    return {
        "schema": ALERT_NOTICE_SCHEMA,
        "event_type": context.phase.event_type,
        "alert_type": job.policy.alert_type if job.policy else "unknown_face",
        "alert_id": job.alert_id,
        "sequence": int(context.phase),
        "camera": {
            "id": place.camera_id,
            "display_name": place.display_name,
            "site": place.site,
            "floor": place.floor,
            "zone": place.zone,
            "timezone": place.timezone,
        },
        "frame_time": iso_utc(job.frame_time),
        "frame_time_local": local_time(job.frame_time, place.timezone).isoformat(timespec="milliseconds"),
        "confidence": round(job.face.confidence, 3),
        "faces_in_frame": job.faces_in_frame,
        "unknown_faces": job.unmatched_faces_in_frame,
        "bounding_box": job.face.bounding_box.model_dump(),
        "snapshot": _snapshot_notice(context),
        "clip": _clip_notice(context),
        "latency_seconds": context.latency.as_dict(),
        "kvs": {"stream_arn": job.kvs_stream_arn, "fragment_number": job.fragment_number},
        "page_url": context.page_url,
        "detected_at": iso_utc(job.detected_at),
        "first_notified_at": iso_utc(context.phase1_at) if context.phase1_at is not None else None,
        "notified_at": iso_utc(context.notified_at),
        **document_fields(job.policy),
    }


def message_attributes(place: CameraPlace, phase: Phase = Phase.CLIP) -> dict[str, dict[str, str]]:
    """SNS attributes for subscription filter policies (e.g. one office's team: {"site": ["SEOUL"]}; the
    first message only: {"event_type": ["alert_snapshot"]})."""
    attributes = {
        "camera_id": place.camera_id,
        "event_type": phase.event_type,
        "sequence": str(int(phase)),
        "site": place.site,
        "zone": place.zone,
    }
    return {name: {"DataType": "String", "StringValue": value} for name, value in attributes.items() if value}


def compose_sns_message(context: AlertContext) -> SnsMessage:
    email = compose_email(context)
    structured = json.dumps(alert_notice(context), separators=(",", ":"))
    envelope = {
        "default": email,
        "email": email,
        "sqs": structured,
        "lambda": structured,
        "https": structured,
    }
    return SnsMessage(
        subject=compose_subject(context),
        message=json.dumps(envelope),
        attributes={**sns_attributes(context.job.policy), **message_attributes(context.place, context.phase)},
    )
