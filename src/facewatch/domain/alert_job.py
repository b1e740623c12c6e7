"""The alert job: the versioned message the detector queues for the alert stage."""

from __future__ import annotations

import math
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from facewatch.domain.cameras import camera_id_problem
from facewatch.domain.dedup import alert_id_for
from facewatch.domain.records import (
    MAX_EPOCH_SECONDS,
    MAX_FRAME_OFFSET_SECONDS,
    MIN_EPOCH_SECONDS,
    MalformedRecordError,
    VideoSource,
    camera_id_from_stream_arn,
)
from facewatch.domain.sightings import Sighting
from facewatch.domain.snapshot import EdgeSnapshot

# Fragments become listable in KVS about a second after ingestion; ask for the clip after that.
INGEST_MARGIN_SECONDS = 2.0
# SQS DelaySeconds is capped at 15 minutes.
MAX_SQS_DELAY_SECONDS = 900

# The times a record the detector accepts can yield (a frame is its fragment's start plus an offset). A job
# outside them is not one the detector queued, and its clip range or dates would fail on every delivery.
JobTime = Annotated[float, Field(gt=MIN_EPOCH_SECONDS, lt=MAX_EPOCH_SECONDS + MAX_FRAME_OFFSET_SECONDS)]


class _Job(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, defer_build=True)


class FaceBox(_Job):
    width: float
    height: float
    left: float
    top: float


class FacePose(_Job):
    pitch: float
    roll: float
    yaw: float


class FaceQuality(_Job):
    brightness: float
    sharpness: float


class TriggeringFace(_Job):
    """The face that raised the alert: geometry and scores only, never landmarks or pixels."""

    index: int = Field(ge=0)
    bounding_box: FaceBox
    confidence: float = Field(ge=0, le=100)
    quality: FaceQuality | None = None
    pose: FacePose | None = None


class AlertJob(_Job):
    schema_version: Literal[1] = Field(default=1, alias="schema")
    alert_id: str = Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")
    camera_id: str = Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9_.-]+$")
    kvs_stream_arn: str = Field(min_length=1, max_length=2048, pattern=r"^arn:aws[a-z-]*:kinesisvideo:")
    fragment_number: str = Field(min_length=1, max_length=128, pattern=r"^[0-9]+$")
    producer_timestamp: JobTime
    server_timestamp: JobTime
    # The frame's offset in its fragment, as Rekognition gave it: the alert id is derived from it.
    frame_offset_seconds: float = Field(ge=0, le=MAX_FRAME_OFFSET_SECONDS)
    frame_time: JobTime
    face: TriggeringFace
    faces_in_frame: int = Field(ge=1)
    unmatched_faces_in_frame: int = Field(ge=1)
    kinesis_sequence_number: str = Field(max_length=128)
    detected_at: JobTime
    # When the record reached Kinesis (its approximate arrival time): the latency split starts there.
    arrived_at: JobTime | None = None
    # Image mode: the frame the sampler uploaded (checked again by the alerter), or why there is none.
    edge_snapshot: EdgeSnapshot | None = None

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True, defer_build=True)

    def to_message(self) -> str:
        # The optional fields are left out when empty, so a job without them reads as it always did.
        unset = {name for name in _OPTIONAL_FIELDS if getattr(self, name) is None}
        return self.model_dump_json(by_alias=True, exclude=unset)

    @property
    def source(self) -> VideoSource:
        return VideoSource(
            stream_arn=self.kvs_stream_arn,
            camera_id=self.camera_id,
            fragment_number=self.fragment_number,
            producer_timestamp=self.producer_timestamp,
            server_timestamp=self.server_timestamp,
            frame_offset_seconds=self.frame_offset_seconds,
        )


def mismatch(job: AlertJob) -> str | None:
    """Why the job's alert id and fields do not belong together, or None when they do.

    The detector derives the alert id from the frame's own source (facewatch.domain.dedup.alert_id_for) and
    the camera id from the stream ARN; recomputing both tells a job the detector built from one that names
    another alert (whose notification and document it would otherwise take over) or another camera. The
    reason names fields, never their values.
    """
    try:
        camera_id = camera_id_from_stream_arn(job.kvs_stream_arn)
    except MalformedRecordError:
        return "kvs_stream_arn is not a Kinesis video stream ARN"
    if camera_id != job.camera_id:
        return "camera_id is not the camera of kvs_stream_arn"
    unsafe = camera_id_problem(camera_id)
    if unsafe is not None:
        return f"camera_id {unsafe}"
    if job.producer_timestamp + job.frame_offset_seconds != job.frame_time:
        return "frame_time is not producer_timestamp + frame_offset_seconds"
    if alert_id_for(job.source, job.face.index) != job.alert_id:
        return "alert_id is not the id of this job's frame and face"
    return None


_OPTIONAL_FIELDS = ("arrived_at", "edge_snapshot")


def build_alert_job(
    sighting: Sighting, alert_id: str, sequence_number: str, detected_at: float, arrived_at: float | None = None
) -> AlertJob:
    detected = sighting.face.DetectedFace
    box = detected.BoundingBox
    source = sighting.source
    return AlertJob(
        alert_id=alert_id,
        camera_id=source.camera_id,
        kvs_stream_arn=source.stream_arn,
        fragment_number=source.fragment_number,
        producer_timestamp=source.producer_timestamp,
        server_timestamp=source.server_timestamp,
        frame_offset_seconds=source.frame_offset_seconds,
        frame_time=source.frame_time,
        face=TriggeringFace(
            index=sighting.face_index,
            bounding_box=FaceBox(width=box.Width, height=box.Height, left=box.Left, top=box.Top),
            confidence=detected.Confidence,
            quality=(
                FaceQuality(brightness=detected.Quality.Brightness, sharpness=detected.Quality.Sharpness)
                if detected.Quality
                else None
            ),
            pose=(
                FacePose(pitch=detected.Pose.Pitch, roll=detected.Pose.Roll, yaw=detected.Pose.Yaw)
                if detected.Pose
                else None
            ),
        ),
        faces_in_frame=sighting.faces_in_frame,
        unmatched_faces_in_frame=sighting.unmatched_faces_in_frame,
        kinesis_sequence_number=sequence_number,
        detected_at=detected_at,
        arrived_at=arrived_at,
        edge_snapshot=source.edge_snapshot,
    )


def alert_delay_seconds(frame_time: float, now: float, post_roll_seconds: float, max_delay_seconds: int) -> int:
    """SQS delay for an alert job: the time left until the clip's post-roll is ingested.

    frame time + post-roll + ingest margin - now, clamped to [0, max_delay]: a record that reached us
    late (Rekognition results can lag the video by tens of seconds) is not delayed a second time.
    """
    remaining = frame_time + post_roll_seconds + INGEST_MARGIN_SECONDS - now
    cap = min(max_delay_seconds, MAX_SQS_DELAY_SECONDS)
    return max(0, min(cap, math.ceil(remaining)))
