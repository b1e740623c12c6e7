"""Face-search records shaped like the ones a Rekognition Video stream processor writes to Kinesis.

Records are plain dicts (so a test can break them in any way) with every field a real record has,
Landmarks included. `encode_record` writes the fragment timestamps in Java scientific notation
(1.763776800118E9), as real records do, so tests parse what production parses.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any

ACCOUNT_ID = "111122223333"
REGION = "ap-northeast-2"
CAMERA_ID = "seoul-hq-lobby-01"
STREAM_CREATION_MS = 1_731_900_000_000
# 2025-11-22T02:00:00.118Z: the fragment start of the reference capture (examples/two-faces-one-unknown.json).
T0 = 1_763_776_800.118
# KVS fragments are typically 2-10 s long; the factory cuts time into 2 s fragments.
FRAGMENT_SECONDS = 2.0
SERVER_LAG_SECONDS = 0.294
EMPLOYEE_ID = "E10442"

LANDMARK_TYPES = ("eyeLeft", "eyeRight", "nose", "mouthLeft", "mouthRight")
# Where each landmark sits inside the face box (x, y as ratios of the box).
_LANDMARK_POSITIONS = ((0.3, 0.35), (0.7, 0.35), (0.5, 0.55), (0.35, 0.78), (0.65, 0.78))
_TIMESTAMP_KEYS = ("ServerTimestamp", "ProducerTimestamp")


def kvs_stream_arn(camera_id: str = CAMERA_ID) -> str:
    return f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT_ID}:stream/{camera_id}/{STREAM_CREATION_MS}"


def fragment_number(producer_timestamp: float) -> str:
    """KVS fragment numbers are long decimal strings that grow with time."""
    return f"913438523331814323926820626122401{round(producer_timestamp * 1000):015d}"


def detected_face(
    *,
    confidence: float = 99.41,
    width: float = 0.071,
    height: float = 0.162,
    left: float = 0.612,
    top: float = 0.284,
    pitch: float = 3.2,
    roll: float = -2.1,
    yaw: float = 5.0,
    brightness: float = 51.7,
    sharpness: float = 95.0,
) -> dict[str, Any]:
    return {
        "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
        "Confidence": confidence,
        "Landmarks": [
            {"Type": kind, "X": round(left + x * width, 5), "Y": round(top + y * height, 5)}
            for kind, (x, y) in zip(LANDMARK_TYPES, _LANDMARK_POSITIONS, strict=True)
        ],
        "Pose": {"Pitch": pitch, "Roll": roll, "Yaw": yaw},
        "Quality": {"Brightness": brightness, "Sharpness": sharpness},
    }


def unknown_face(**face: float) -> dict[str, Any]:
    """A face no collection face matched at the processor's FaceMatchThreshold."""
    return {"DetectedFace": detected_face(**face), "MatchedFaces": []}


def employee_face(external_image_id: str = EMPLOYEE_ID, similarity: float = 97.12, **face: float) -> dict[str, Any]:
    """A face the stream processor matched to a collection face (an employee)."""
    return {
        "DetectedFace": detected_face(**face),
        "MatchedFaces": [
            {
                "Similarity": similarity,
                "Face": {
                    "BoundingBox": {"Width": 0.52, "Height": 0.61, "Left": 0.22, "Top": 0.14},
                    "FaceId": "6f0c3d5e-3b1a-4a57-9f0e-2f4f3a9c1d21",
                    "ImageId": "b7e2a0f4-5d6c-5e71-8a9b-0c1d2e3f4a5b",
                    "ExternalImageId": external_image_id,
                    "Confidence": 99.998,
                },
            }
        ],
    }


def face_search_record(
    faces: Sequence[Mapping[str, Any]] = (),
    *,
    camera_id: str = CAMERA_ID,
    producer_timestamp: float = T0,
    frame_offset_seconds: float = 1.733,
) -> dict[str, Any]:
    """One analysed frame; `faces` may be empty (a frame without a face)."""
    return {
        "InputInformation": {
            "KinesisVideo": {
                "StreamArn": kvs_stream_arn(camera_id),
                "FragmentNumber": fragment_number(producer_timestamp),
                "ServerTimestamp": round(producer_timestamp + SERVER_LAG_SECONDS, 3),
                "ProducerTimestamp": producer_timestamp,
                "FrameOffsetInSeconds": frame_offset_seconds,
            }
        },
        "StreamProcessorInformation": {"Status": "RUNNING"},
        "FaceSearchResponse": [dict(face) for face in faces],
    }


def frame_at(
    seconds_after_t0: float, faces: Sequence[Mapping[str, Any]] | None = None, *, camera_id: str = CAMERA_ID
) -> dict[str, Any]:
    """A frame `seconds_after_t0` into the footage: fragment start + offset, as KVS reports them.

    By default the frame holds one unknown face, i.e. a sighting.
    """
    fragment_index = math.floor(seconds_after_t0 / FRAGMENT_SECONDS)
    producer_timestamp = round(T0 + fragment_index * FRAGMENT_SECONDS, 3)
    return face_search_record(
        [unknown_face()] if faces is None else faces,
        camera_id=camera_id,
        producer_timestamp=producer_timestamp,
        frame_offset_seconds=round(seconds_after_t0 - fragment_index * FRAGMENT_SECONDS, 3),
    )


def frame_time(record: Mapping[str, Any]) -> float:
    """The record's frame time, computed as the detector computes it."""
    video = record["InputInformation"]["KinesisVideo"]
    return float(video["ProducerTimestamp"]) + float(video["FrameOffsetInSeconds"])


def java_double(value: float) -> str:
    """A float as Java's Double.toString writes it at or above 10^7: 1763776800.118 -> '1.763776800118E9'."""
    exact = Decimal(repr(value))
    sign, digits, _ = exact.as_tuple()
    significant = "".join(map(str, digits)).rstrip("0") or "0"
    mantissa = f"{significant[0]}.{significant[1:] or '0'}"
    return f"{'-' if sign else ''}{mantissa}E{exact.adjusted()}"


def encode_record(record: Mapping[str, Any]) -> bytes:
    """Compact JSON as the stream processor writes it, fragment timestamps in scientific notation."""
    text = json.dumps(record, separators=(",", ":"), ensure_ascii=False, allow_nan=True)
    source = record.get("InputInformation")
    video = source.get("KinesisVideo") if isinstance(source, Mapping) else None
    if isinstance(video, Mapping):
        for key in _TIMESTAMP_KEYS:
            value = video.get(key)
            if isinstance(value, float) and math.isfinite(value) and abs(value) >= 1e7:
                text = text.replace(f'"{key}":{value!r}', f'"{key}":{java_double(value)}', 1)
    return text.encode()
