"""The video clip around a sighting: which range to ask KVS for, where it goes, and what a failure means."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict

from facewatch.domain.alert_job import AlertJob

CLIP_PREFIX = "clips"
CLIP_CONTENT_TYPE = "video/mp4"
# Backoff between clip attempts, doubled per receive and capped (SQS visibility timeout).
CLIP_RETRY_BASE_SECONDS = 4
CLIP_RETRY_MAX_SECONDS = 300

# GetClip / GetDataEndpoint errors that are permanent for this clip (KVS archived-media API reference).
PERMANENT_CLIP_ERRORS = frozenset(
    {
        "NoDataRetentionException",
        "InvalidArgumentException",
        "UnsupportedStreamMediaTypeException",
        "MissingCodecPrivateDataException",
        "InvalidCodecPrivateDataException",
        "InvalidMediaFrameException",
        "NotAuthorizedException",
        "AccessDeniedException",
        "EmptyClip",
    }
)
# "No fragments" (the range is not ingested yet) comes back as ResourceNotFoundException.
NOT_READY_CLIP_ERRORS = frozenset({"ResourceNotFoundException"})


class ClipFailure(StrEnum):
    NOT_READY = "not_ready"  # retry later: fragments not ingested yet
    THROTTLED = "throttled"  # retry later: ClientLimitExceededException, 5xx, connection errors
    PERMANENT = "permanent"  # retrying cannot help


def classify_clip_error(code: str) -> ClipFailure:
    if code in PERMANENT_CLIP_ERRORS:
        return ClipFailure.PERMANENT
    if code in NOT_READY_CLIP_ERRORS:
        return ClipFailure.NOT_READY
    return ClipFailure.THROTTLED


@dataclass(frozen=True, slots=True)
class ClipRange:
    """A PRODUCER_TIMESTAMP range for GetClip, epoch seconds."""

    start: float
    end: float


def clip_range(job: AlertJob, pre_roll_seconds: float, post_roll_seconds: float) -> ClipRange:
    """GetClip only includes fragments that START at or after StartTimestamp, so the range starts
    pre-roll before the fragment's own start, never after it, or the face's fragment is left out."""
    return ClipRange(start=job.producer_timestamp - pre_roll_seconds, end=job.frame_time + post_roll_seconds)


def clip_key(job: AlertJob) -> str:
    day = datetime.fromtimestamp(job.frame_time, tz=UTC).strftime("%Y/%m/%d")
    return f"{CLIP_PREFIX}/{job.camera_id}/{day}/{job.alert_id}.mp4"


def clip_metadata(job: AlertJob) -> dict[str, str]:
    return {
        "alert-id": job.alert_id,
        "camera-id": job.camera_id,
        "frame-time": datetime.fromtimestamp(job.frame_time, tz=UTC).isoformat(timespec="milliseconds"),
    }


def retry_delay_seconds(receive_count: int) -> int:
    return int(min(CLIP_RETRY_MAX_SECONDS, CLIP_RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1)))


class ClipOutcome(BaseModel):
    """What became of the clip: stored (with its key and size) or missing (with the reason)."""

    model_config = ConfigDict(frozen=True, defer_build=True)

    status: Literal["ok", "missing"]
    bucket: str | None = None
    key: str | None = None
    size_bytes: int = 0
    reason: str | None = None

    @classmethod
    def stored(cls, bucket: str, key: str, size_bytes: int) -> ClipOutcome:
        return cls(status="ok", bucket=bucket, key=key, size_bytes=size_bytes)

    @classmethod
    def missing(cls, reason: str) -> ClipOutcome:
        return cls(status="missing", reason=reason)

    @property
    def s3_uri(self) -> str | None:
        return f"s3://{self.bucket}/{self.key}" if self.status == "ok" else None


def missing_reason(code: str, failure: ClipFailure, attempts: int) -> str:
    if failure is ClipFailure.PERMANENT:
        return f"the video could not be retrieved ({code})"
    return f"the video was still not available after {attempts} attempts ({code})"
