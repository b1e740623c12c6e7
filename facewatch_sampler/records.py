"""The record image mode writes: a face-search record as a stream processor writes it, marked as ours.

Shape (../shared/reference/rekognition-face-search-records.md, section 1) and the detector's parser
(facewatch.domain.records) decide every field: numbers are JSON numbers, timestamps epoch seconds,
FragmentNumber a decimal string, StreamArn the camera's Kinesis video stream. There is no fragment: the
frame time is the ProducerTimestamp and FrameOffsetInSeconds is 0 (so the alert stage's clip pre-roll must
cover the longest fragment, docs/image-mode.md). Two top-level fields that
the parser ignores say where the record came from.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from facewatch.domain.records import MalformedRecordError, parse_face_frame
from facewatch.domain.snapshot import RECORD_SNAPSHOT_FIELD
from facewatch_sampler.geometry import Box

IMAGE_MODE_SOURCE = "image-mode"
SOURCE_FIELD = "FacewatchSource"
SYNTHETIC_FRAGMENT_FIELD = "SyntheticFragment"
# KVS fragment numbers are large positive integers in decimal (about 47 digits), so never start with 0.
# A synthetic one is "00" + the frame time in epoch milliseconds, zero-padded: a range KVS never hands
# out, unique per frame (the detector's alert id hashes it) and the same when a record is written again.
SYNTHETIC_FRAGMENT_PREFIX = "00"
SYNTHETIC_FRAGMENT_MS_DIGITS = 18


class RecordShapeError(ValueError):
    """A record this module built does not parse with the detector's parser: a bug, never written."""


@dataclass(frozen=True, slots=True)
class HeadPose:
    pitch: float
    roll: float
    yaw: float


@dataclass(frozen=True, slots=True)
class ImageQuality:
    brightness: float
    sharpness: float


@dataclass(frozen=True, slots=True)
class Landmark:
    kind: str
    x: float
    y: float


@dataclass(frozen=True, slots=True)
class CollectionMatch:
    """A collection face, or an employee's user, at or above the threshold (an employee). A user match
    has no face id; its user id (the employee id) is the ExternalImageId, as a face match's is."""

    similarity: float
    face_id: str | None
    external_image_id: str | None = None
    image_id: str | None = None
    confidence: float | None = None
    box: Box | None = None


@dataclass(frozen=True, slots=True)
class AnalysedFace:
    """One face of a frame: where (ratios of the full frame), how sure, and whom it matched."""

    box: Box
    confidence: float
    pose: HeadPose | None = None
    quality: ImageQuality | None = None
    landmarks: tuple[Landmark, ...] = ()
    matches: tuple[CollectionMatch, ...] = ()


def synthetic_fragment_number(frame_time: float) -> str:
    return f"{SYNTHETIC_FRAGMENT_PREFIX}{round(frame_time * 1000):0{SYNTHETIC_FRAGMENT_MS_DIGITS}d}"


def is_synthetic_fragment_number(fragment_number: str) -> bool:
    return fragment_number.startswith(SYNTHETIC_FRAGMENT_PREFIX)


def _box(box: Box) -> dict[str, float]:
    return {"Width": box.width, "Height": box.height, "Left": box.left, "Top": box.top}


def _match(match: CollectionMatch) -> dict[str, Any]:
    face: dict[str, Any] = {"FaceId": match.face_id} if match.face_id is not None else {}
    if match.box is not None:
        face["BoundingBox"] = _box(match.box)
    if match.image_id is not None:
        face["ImageId"] = match.image_id
    if match.external_image_id is not None:
        face["ExternalImageId"] = match.external_image_id
    if match.confidence is not None:
        face["Confidence"] = match.confidence
    return {"Similarity": match.similarity, "Face": face}


def _face(face: AnalysedFace) -> dict[str, Any]:
    detected: dict[str, Any] = {
        "BoundingBox": _box(face.box),
        "Confidence": face.confidence,
        "Landmarks": [{"Type": mark.kind, "X": mark.x, "Y": mark.y} for mark in face.landmarks],
    }
    if face.pose is not None:
        detected["Pose"] = {"Pitch": face.pose.pitch, "Roll": face.pose.roll, "Yaw": face.pose.yaw}
    if face.quality is not None:
        detected["Quality"] = {"Brightness": face.quality.brightness, "Sharpness": face.quality.sharpness}
    # Highest similarity first, as SearchFacesByImage returns them (the detector does not rely on order).
    matches = sorted(face.matches, key=lambda m: -m.similarity)
    return {"DetectedFace": detected, "MatchedFaces": [_match(m) for m in matches]}


def build_record(
    stream_arn: str,
    frame_time: float,
    faces: tuple[AnalysedFace, ...],
    snapshot: dict[str, str] | None = None,
) -> dict[str, Any]:
    """The face-search record of one analysed frame. No server-side fragment exists, so ServerTimestamp
    is the frame time too. `snapshot` names the frame uploaded to the clip bucket (facewatch_sampler.snapshots)."""
    timestamp = round(frame_time, 3)
    record = {
        "InputInformation": {
            "KinesisVideo": {
                "StreamArn": stream_arn,
                "FragmentNumber": synthetic_fragment_number(frame_time),
                "ServerTimestamp": timestamp,
                "ProducerTimestamp": timestamp,
                "FrameOffsetInSeconds": 0.0,
            }
        },
        "StreamProcessorInformation": {"Status": "RUNNING"},
        "FaceSearchResponse": [_face(face) for face in faces],
        SOURCE_FIELD: IMAGE_MODE_SOURCE,
        SYNTHETIC_FRAGMENT_FIELD: True,
    }
    if snapshot is not None:
        record[RECORD_SNAPSHOT_FIELD] = snapshot
    return record


def encode_record(record: dict[str, Any]) -> bytes:
    """Compact JSON, checked with the detector's own parser so a record it would quarantine is never sent."""
    data = json.dumps(record, separators=(",", ":"), allow_nan=False).encode()
    try:
        parse_face_frame(data)
    except MalformedRecordError as error:
        raise RecordShapeError(f"image-mode record does not parse as a face-search record: {error.reason}") from None
    return data
