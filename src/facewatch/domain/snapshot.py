"""The snapshot of an alert: the frame with the face box drawn and a padded face crop, where they are
stored, where they come from, and what it means when they cannot be had.

Key layout (a contract: the console reads these keys):
    snapshots/{camera_id}/{YYYY}/{MM}/{DD}/{alert_id}-frame.jpg
    snapshots/{camera_id}/{YYYY}/{MM}/{DD}/{alert_id}-crop.jpg
dated by the frame's UTC time, in the clip bucket.

Where the frame comes from:
- stream mode: KVS GetImages at the frame's producer timestamp;
- image mode: the sampler uploads the JPEG it already encoded to edge/{camera_id}/... in the clip bucket and
  names it in the record (RECORD_SNAPSHOT_FIELD). The detector and the alerter accept only a reference in
  that bucket under that camera's own prefix; any other reference means "no snapshot, with the reason".
A snapshot that cannot be had never holds the alert back.
"""

from __future__ import annotations

import posixpath
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

SNAPSHOT_PREFIX = "snapshots"
EDGE_PREFIX = "edge"
SNAPSHOT_CONTENT_TYPE = "image/jpeg"
# The record's top-level field naming the frame image-mode uploaded: {"Bucket": ..., "Key": ...}.
RECORD_SNAPSHOT_FIELD = "FacewatchSnapshot"
MAX_KEY_CHARS = 1024  # S3 object keys are at most 1,024 bytes
# GetImages answers NO_MEDIA until the fragment holding the frame is ingested ("typically in less than one
# second" after the producer's acknowledgement, not documented as a bound): ask again for a few seconds.
NO_MEDIA_RETRY_SECONDS = 4.0
NO_MEDIA_RETRY_INTERVAL_SECONDS = 0.5


@dataclass(frozen=True, slots=True)
class SnapshotKeys:
    frame: str
    crop: str


def snapshot_keys(camera_id: str, frame_time: float, alert_id: str) -> SnapshotKeys:
    day = datetime.fromtimestamp(frame_time, tz=UTC).strftime("%Y/%m/%d")
    base = f"{SNAPSHOT_PREFIX}/{camera_id}/{day}/{alert_id}"
    return SnapshotKeys(frame=f"{base}-frame.jpg", crop=f"{base}-crop.jpg")


def edge_prefix(camera_id: str) -> str:
    return f"{EDGE_PREFIX}/{camera_id}/"


def edge_snapshot_key(camera_id: str, frame_time: float) -> str:
    """Where the sampler puts a frame: one object per frame, named by its UTC time in milliseconds."""
    day = datetime.fromtimestamp(frame_time, tz=UTC).strftime("%Y/%m/%d")
    return f"{edge_prefix(camera_id)}{day}/{round(frame_time * 1000)}-frame.jpg"


class EdgeSnapshot(BaseModel):
    """An image-mode frame reference as the detector passes it on: an object, or why there is none."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    bucket: str | None = Field(default=None, max_length=63)
    key: str | None = Field(default=None, max_length=MAX_KEY_CHARS)
    problem: str | None = Field(default=None, max_length=200)


def _outside_prefix(key: str, camera_id: str) -> bool:
    # normpath folds "a/../b" and "./": a key that only looks like it is under the prefix is outside it.
    return posixpath.normpath(key) != key or not key.startswith(edge_prefix(camera_id)) or key.endswith("/")


def edge_snapshot_from_record(raw: Any, camera_id: str) -> EdgeSnapshot:
    """The reference an image-mode record carries, checked against its camera. Reasons never quote it."""
    if raw is None:
        return EdgeSnapshot(problem="the image-mode record names no snapshot")
    if not isinstance(raw, dict) or not isinstance(raw.get("Key"), str) or not isinstance(raw.get("Bucket"), str):
        return EdgeSnapshot(problem="the record's snapshot reference is not {Bucket, Key}")
    bucket, key = raw["Bucket"], raw["Key"]
    if len(key) > MAX_KEY_CHARS or not 3 <= len(bucket) <= 63:
        return EdgeSnapshot(problem="the record's snapshot reference is too long")
    if _outside_prefix(key, camera_id):
        return EdgeSnapshot(problem=f"the record's snapshot is outside {edge_prefix(camera_id)}")
    return EdgeSnapshot(bucket=bucket, key=key)


def edge_snapshot_problem(reference: EdgeSnapshot, camera_id: str, bucket: str) -> str | None:
    """None when the alerter may read the reference: in its own bucket, under the camera's prefix."""
    if reference.problem:
        return reference.problem
    if reference.key is None or reference.bucket is None:
        return "the image-mode record names no snapshot"
    if reference.bucket != bucket:
        return "the record's snapshot is in a foreign bucket"
    if _outside_prefix(reference.key, camera_id):
        return f"the record's snapshot is outside {edge_prefix(camera_id)}"
    return None


class ImageFailure(StrEnum):
    NOT_READY = "not_ready"  # NO_MEDIA: the fragment may not be ingested yet
    UNAVAILABLE = "unavailable"  # anything else: asking again within seconds will not help


# GetImages' documented errors (KVS archived-media API reference) and per-image error values.
GET_IMAGES_REASONS = {
    "NO_MEDIA": "no video at the frame time yet",
    "MEDIA_ERROR": "the video at the frame time could not be decoded",
    "ResourceNotFoundException": "the camera's video stream was not found",
    "InvalidArgumentException": "KVS refused the image request",
    "ClientLimitExceededException": "KVS throttled the image request",
    "NotAuthorizedException": "not authorised to read the camera's video",
    "NoDataRetentionException": "the camera's video stream keeps no video (retention 0)",
}


def classify_image_error(code: str) -> ImageFailure:
    return ImageFailure.NOT_READY if code == "NO_MEDIA" else ImageFailure.UNAVAILABLE


def image_missing_reason(code: str) -> str:
    known = GET_IMAGES_REASONS.get(code)
    return f"{known} ({code})" if known else f"the frame could not be retrieved ({code})"


class SnapshotOutcome(BaseModel):
    """What became of the snapshot: stored (frame and crop keys) or missing (with the reason)."""

    model_config = ConfigDict(frozen=True)

    status: Literal["ok", "missing"]
    source: Literal["kvs", "edge"] | None = None
    bucket: str | None = None
    frame_key: str | None = None
    crop_key: str | None = None
    reason: str | None = None

    @classmethod
    def stored(cls, bucket: str, keys: SnapshotKeys, source: Literal["kvs", "edge"]) -> SnapshotOutcome:
        return cls(status="ok", source=source, bucket=bucket, frame_key=keys.frame, crop_key=keys.crop)

    @classmethod
    def missing(cls, reason: str, source: Literal["kvs", "edge"] | None = None) -> SnapshotOutcome:
        return cls(status="missing", source=source, reason=reason)

    def uri(self, key: str | None) -> str | None:
        return f"s3://{self.bucket}/{key}" if self.status == "ok" and key else None
