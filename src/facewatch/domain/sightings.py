"""Which faces in a frame are sightings: a confident face that no employee matched."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from facewatch.domain.records import FaceFrame, FaceSearchResult, VideoSource


class DropReason(StrEnum):
    """Why a detected face did not become a sighting (each is counted in a metric)."""

    EMPLOYEE_MATCH = "employee_match"
    LOW_CONFIDENCE = "low_confidence"
    TOO_SMALL = "too_small"
    TOO_BLURRY = "too_blurry"
    TURNED_AWAY = "turned_away"


@dataclass(frozen=True, slots=True)
class FaceGates:
    """The thresholds a face must pass. The quality gates are off when zero."""

    min_confidence: float = 90.0
    min_box_height_ratio: float = 0.0
    min_sharpness: float = 0.0
    max_abs_yaw_degrees: float = 0.0


@dataclass(frozen=True, slots=True)
class Sighting:
    """An unknown face on a camera at a frame time: the thing the security team is told about."""

    source: VideoSource
    face_index: int
    face: FaceSearchResult
    faces_in_frame: int
    unmatched_faces_in_frame: int

    @property
    def camera_id(self) -> str:
        return self.source.camera_id

    @property
    def frame_time(self) -> float:
        return self.source.frame_time


@dataclass(frozen=True, slots=True)
class FrameVerdict:
    """What one frame yields: its sightings (best first) and the faces dropped, by reason."""

    sightings: tuple[Sighting, ...]
    dropped: Counter[DropReason] = field(default_factory=Counter)


def drop_reason(result: FaceSearchResult, gates: FaceGates) -> DropReason | None:
    """None when the face is a sighting, else the first gate it failed."""
    face = result.DetectedFace
    if result.MatchedFaces:
        # The stream processor only lists collection faces at or above its FaceMatchThreshold (>= 80),
        # so any entry means an employee, whatever the order of the list.
        return DropReason.EMPLOYEE_MATCH
    if face.Confidence < gates.min_confidence:
        return DropReason.LOW_CONFIDENCE
    if gates.min_box_height_ratio > 0 and face.BoundingBox.Height < gates.min_box_height_ratio:
        return DropReason.TOO_SMALL
    if gates.min_sharpness > 0 and (face.Quality is None or face.Quality.Sharpness < gates.min_sharpness):
        return DropReason.TOO_BLURRY
    if gates.max_abs_yaw_degrees > 0 and (face.Pose is None or abs(face.Pose.Yaw) > gates.max_abs_yaw_degrees):
        return DropReason.TURNED_AWAY
    return None


def judge_frame(frame: FaceFrame, gates: FaceGates) -> FrameVerdict:
    """Splits a frame's faces into sightings and drops. An empty frame yields nothing."""
    if not frame.faces:
        return FrameVerdict(sightings=())
    dropped: Counter[DropReason] = Counter()
    kept: list[int] = []
    for index, result in enumerate(frame.faces):
        reason = drop_reason(result, gates)
        if reason is None:
            kept.append(index)
        else:
            dropped[reason] += 1
    if not kept:  # most frames: employees, or faces below the gates
        return FrameVerdict(sightings=(), dropped=dropped)
    unmatched = sum(1 for result in frame.faces if not result.MatchedFaces)
    sightings = [
        Sighting(
            source=frame.source,
            face_index=index,
            face=frame.faces[index],
            faces_in_frame=len(frame.faces),
            unmatched_faces_in_frame=unmatched,
        )
        for index in kept
    ]
    sightings.sort(key=lambda s: -s.face.DetectedFace.Confidence)
    return FrameVerdict(sightings=tuple(sightings), dropped=dropped)
