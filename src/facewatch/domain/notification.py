"""What the security team receives: the email text, the subject, the structured alert and the
SNS message attributes a team filters on. Pure functions of the alert and its context."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.cameras import CameraPlace, one_line
from facewatch.domain.clip import ClipOutcome

EVENT_TYPE = "unknown_face"
ALERT_NOTICE_SCHEMA = 1
# SNS: the subject is ASCII, no line breaks or control characters, at most 100 characters.
MAX_SUBJECT_CHARS = 100
_NOT_SUBJECT_SAFE = re.compile(r"[^\x20-\x7e]")


@dataclass(frozen=True, slots=True)
class ClipLink:
    """A presigned link to the clip and when it stops working."""

    url: str
    expires_at: float


@dataclass(frozen=True, slots=True)
class AlertContext:
    """Everything an alert says, gathered before it is composed."""

    job: AlertJob
    place: CameraPlace
    clip: ClipOutcome
    link: ClipLink | None
    notified_at: float


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


def compose_subject(context: AlertContext) -> str:
    place = context.place
    where = f" at {place.site}" if place.site else ""
    text = f"facewatch: unknown face on {place.label}{where}, {_utc(context.job.frame_time):%H:%M:%S} UTC"
    text = _NOT_SUBJECT_SAFE.sub("?", text)
    return text if len(text) <= MAX_SUBJECT_CHARS else text[: MAX_SUBJECT_CHARS - 3] + "..."


def _clip_lines(context: AlertContext) -> list[str]:
    clip, link = context.clip, context.link
    if clip.status == "ok" and link is not None:
        minutes = max(1, round((link.expires_at - context.notified_at) / 60))
        return [
            f"Clip:       {link.url}",
            f"            (link valid for about {minutes} min; stored at {clip.s3_uri})",
        ]
    return [f"Clip:       none - {clip.reason or 'not available'}"]


def compose_email(context: AlertContext) -> str:
    job, place = context.job, context.place
    local = local_time(job.frame_time, place.timezone)
    lines = [
        f"A face that matches no employee was seen on camera {place.label}.",
        "",
        f"Camera:     {place.label}",
    ]
    if place.where:
        lines.append(f"Where:      {place.where}")
    lines += [
        f"When:       {local:%Y-%m-%d %H:%M:%S %Z} ({place.timezone}) = {_utc(job.frame_time):%Y-%m-%d %H:%M:%S} UTC",
        f"Confidence: {job.face.confidence:.1f}% that this is a face; no employee matched",
        f"Unknown:    {job.unmatched_faces_in_frame} unknown of {job.faces_in_frame} face(s) in the frame",
        *_clip_lines(context),
        f"Alert id:   {job.alert_id}",
        "",
        "Further sightings on this camera within the dedup window are not alerted again.",
    ]
    # Every line is made one line again: whatever a registry entry or a reason holds cannot add one.
    return "\n".join(one_line(line) for line in lines)


def alert_notice(context: AlertContext) -> dict[str, Any]:
    """The structured alert for machine subscribers (SQS, Lambda, HTTPS), versioned."""
    job, place, clip, link = context.job, context.place, context.clip, context.link
    return {
        "schema": ALERT_NOTICE_SCHEMA,
        "event_type": EVENT_TYPE,
        "alert_id": job.alert_id,
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
        "clip": {
            "status": clip.status,
            "s3_uri": clip.s3_uri,
            "url": link.url if link else None,
            "url_expires_at": iso_utc(link.expires_at) if link else None,
            "reason": clip.reason,
        },
        "kvs": {"stream_arn": job.kvs_stream_arn, "fragment_number": job.fragment_number},
        "detected_at": iso_utc(job.detected_at),
        "notified_at": iso_utc(context.notified_at),
    }


def message_attributes(place: CameraPlace) -> dict[str, dict[str, str]]:
    """SNS attributes for subscription filter policies (e.g. one office's team: {"site": ["SEOUL"]})."""
    attributes = {
        "camera_id": place.camera_id,
        "event_type": EVENT_TYPE,
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
        attributes=message_attributes(context.place),
    )
