"""The face-search record a Rekognition Video stream processor writes to Kinesis Data Streams.

Parsed once, strictly, into typed models; anything that does not have that shape is rejected with a
reason that names the offending field but never echoes its value (no face data or raw payload in logs).
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facewatch.domain.cameras import camera_id_problem
from facewatch.domain.snapshot import EdgeSnapshot, edge_snapshot_from_record

# A Kinesis record's data blob is at most 1 MiB (Kinesis PutRecord limit); anything bigger is not ours.
MAX_RECORD_BYTES = 1024 * 1024
# Rekognition reports at most 100 faces per frame; more means the record is not what it claims to be.
MAX_FACES_PER_FRAME = 100
MAX_MATCHES_PER_FACE = 4096
# Epoch seconds accepted as a frame time: after 2000-01-01 and before 2100-01-01.
MIN_EPOCH_SECONDS = 946_684_800.0
MAX_EPOCH_SECONDS = 4_102_444_800.0
# A frame's offset inside its fragment; fragments are seconds long, a day is far beyond any.
MAX_FRAME_OFFSET_SECONDS = 86_400.0
# A frame is analysed before its record reaches Kinesis, so its time is behind the record's arrival but for
# the producer's clock error. A frame time further ahead means a wrong clock or a forged record: accepted, it
# would open a dedup window in the future and silence its camera until then.
MAX_FRAME_TIME_AHEAD_OF_ARRIVAL_SECONDS = 300.0

_KVS_STREAM_ARN = re.compile(
    r"^arn:aws[a-z-]*:kinesisvideo:(?P<region>[a-z0-9-]+):(?P<account>\d{12}):"
    r"stream/(?P<name>[a-zA-Z0-9_.-]{1,256})/(?P<created>\d{1,20})$",
    re.ASCII,  # and fullmatch below: else `\d` takes any Unicode digit and `$` a trailing newline
)


class QuarantineReason(enum.StrEnum):
    """The class of a quarantine reason (metric QuarantinedRecords_<class>, per camera)."""

    MALFORMED = "malformed"  # not a face-search record
    FUTURE_STAMPED = "future_stamped"  # frame time ahead of the record's arrival: the camera's clock
    UNSAFE_CAMERA_ID = "unsafe_camera_id"  # a stream name that is not a safe camera id


class MalformedRecordError(ValueError):
    """The record is not a face-search record; `reason` says why without quoting its content."""

    def __init__(
        self, reason: str, kind: QuarantineReason = QuarantineReason.MALFORMED, camera_id: str | None = None
    ) -> None:
        super().__init__(reason)
        self.reason = reason
        self.kind = kind
        self.camera_id = camera_id  # when the record names a (safe) camera


class _Strict(BaseModel):
    # strict: "[]" is not a list and "99" is not a number; no NaN/Infinity; unknown keys ignored
    # (Landmarks and other fields are never read, so never kept).
    model_config = ConfigDict(strict=True, allow_inf_nan=False, frozen=True, extra="ignore", defer_build=True)


Ratio = Annotated[float, Field(ge=-10.0, le=10.0)]
Percent = Annotated[float, Field(ge=0.0, le=100.0)]
Degrees = Annotated[float, Field(ge=-360.0, le=360.0)]
EpochSeconds = Annotated[float, Field(gt=MIN_EPOCH_SECONDS, lt=MAX_EPOCH_SECONDS)]


class BoxRatios(_Strict):
    Width: Ratio
    Height: Ratio
    Left: Ratio
    Top: Ratio


class HeadPose(_Strict):
    Pitch: Degrees
    Roll: Degrees
    Yaw: Degrees


class ImageQuality(_Strict):
    Brightness: Percent
    Sharpness: Percent


class Detection(_Strict):
    BoundingBox: BoxRatios
    Confidence: Percent
    Pose: HeadPose | None = None
    Quality: ImageQuality | None = None


class MatchIdentity(_Strict):
    FaceId: str | None = Field(default=None, max_length=256)
    ExternalImageId: str | None = Field(default=None, max_length=256)


class Match(_Strict):
    Similarity: Percent
    Face: MatchIdentity | None = None


class FaceSearchResult(_Strict):
    DetectedFace: Detection
    MatchedFaces: Annotated[list[Match], Field(max_length=MAX_MATCHES_PER_FACE)]


class KinesisVideoSource(_Strict):
    StreamArn: Annotated[str, Field(max_length=2048)]
    FragmentNumber: Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[0-9]+$")]
    ServerTimestamp: EpochSeconds
    ProducerTimestamp: EpochSeconds
    FrameOffsetInSeconds: Annotated[float, Field(ge=0.0, le=MAX_FRAME_OFFSET_SECONDS)]


class RecordInput(_Strict):
    KinesisVideo: KinesisVideoSource


# What image mode (facewatch_sampler.records) adds to the record; a stream processor writes neither.
IMAGE_MODE_SOURCE = "image-mode"


class FaceSearchRecord(_Strict):
    InputInformation: RecordInput
    FaceSearchResponse: Annotated[list[FaceSearchResult], Field(max_length=MAX_FACES_PER_FRAME)]
    FacewatchSource: Annotated[str, Field(max_length=64)] | None = None
    # Checked by edge_snapshot_from_record, never by the parser: a bad reference costs the snapshot, not
    # the alert.
    FacewatchSnapshot: Any = None


@dataclass(frozen=True, slots=True)
class VideoSource:
    """Where a frame came from: the camera (= KVS stream name) and the fragment holding it."""

    stream_arn: str
    camera_id: str
    fragment_number: str
    producer_timestamp: float
    server_timestamp: float
    frame_offset_seconds: float
    # Image mode: the frame the sampler uploaded, or why there is none. None in stream mode.
    edge_snapshot: EdgeSnapshot | None = None

    @property
    def frame_time(self) -> float:
        """Frame time in epoch seconds: the documented mapping for live media."""
        return self.producer_timestamp + self.frame_offset_seconds


@dataclass(frozen=True, slots=True)
class FaceFrame:
    """One analysed frame: its source and the faces found in it."""

    source: VideoSource
    faces: tuple[FaceSearchResult, ...]


def camera_id_from_stream_arn(stream_arn: str) -> str:
    match = _KVS_STREAM_ARN.fullmatch(stream_arn)
    if match is None:
        raise MalformedRecordError("InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN")
    camera_id = match.group("name")
    problem = camera_id_problem(camera_id)
    if problem is not None:
        raise MalformedRecordError(
            f"InputInformation.KinesisVideo.StreamArn: the stream name {problem}", QuarantineReason.UNSAFE_CAMERA_ID
        )
    return camera_id


def _describe(error: ValidationError) -> str:
    # include_input=False: the reason must never carry the offending value (it may be face data).
    details = error.errors(include_input=False, include_url=False, include_context=False)
    first = details[0]
    location = ".".join(str(part) for part in first["loc"]) or "record"
    more = f" (+{len(details) - 1} more)" if len(details) > 1 else ""
    return f"{location}: {first['msg']}{more}"


def parse_face_frame(data: bytes) -> FaceFrame:
    """Parses a Kinesis data blob as a face-search record, or raises MalformedRecordError."""
    if len(data) > MAX_RECORD_BYTES:
        raise MalformedRecordError(f"record is {len(data)} bytes, over the {MAX_RECORD_BYTES}-byte limit")
    try:
        record = FaceSearchRecord.model_validate_json(data)
    except ValidationError as error:
        raise MalformedRecordError(_describe(error)) from None
    except (RecursionError, ValueError) as error:  # nesting too deep for the parser
        raise MalformedRecordError(f"record could not be parsed: {type(error).__name__}") from None
    video = record.InputInformation.KinesisVideo
    camera_id = camera_id_from_stream_arn(video.StreamArn)
    image_mode = record.FacewatchSource == IMAGE_MODE_SOURCE or record.FacewatchSnapshot is not None
    source = VideoSource(
        stream_arn=video.StreamArn,
        camera_id=camera_id,
        fragment_number=video.FragmentNumber,
        producer_timestamp=video.ProducerTimestamp,
        server_timestamp=video.ServerTimestamp,
        frame_offset_seconds=video.FrameOffsetInSeconds,
        edge_snapshot=edge_snapshot_from_record(record.FacewatchSnapshot, camera_id) if image_mode else None,
    )
    return FaceFrame(source=source, faces=tuple(record.FaceSearchResponse))


def check_frame_time(frame: FaceFrame, arrived_at: float) -> None:
    """Raises MalformedRecordError when the frame claims a time well after its record reached Kinesis."""
    ahead = frame.source.frame_time - arrived_at
    if ahead > MAX_FRAME_TIME_AHEAD_OF_ARRIVAL_SECONDS:
        raise MalformedRecordError(
            f"InputInformation.KinesisVideo: frame time is {ahead:.0f} s after the record reached Kinesis "
            f"(more than {MAX_FRAME_TIME_AHEAD_OF_ARRIVAL_SECONDS:.0f} s: wrong producer clock?)",
            QuarantineReason.FUTURE_STAMPED,
            frame.source.camera_id,
        )
