"""Plain stand-ins for the sampler's ports: a local detector that reports given boxes, a face service
that answers from a script, and a source of blank frames."""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
from facewatch_sampler.frames import Frame, Image, SourceUnavailable
from facewatch_sampler.geometry import Box
from facewatch_sampler.records import AnalysedFace, CollectionMatch
from facewatch_sampler.rekognition import RekognitionError, SearchedFace

BLANK = np.zeros((360, 640, 3), dtype=np.uint8)
EMPLOYEE_MATCH = CollectionMatch(
    similarity=99.2, face_id="6f0c3d5e-3b1a-4a57-9f0e-2f4f3a9c1d21", external_image_id="E1"
)


def frame_at(t: float, index: int = 0) -> Frame:
    return Frame(image=BLANK, time=t, index=index)


class FixedBoxes:
    """A local detector that sees `boxes` (change them between frames to move the faces)."""

    def __init__(self, *boxes: Box) -> None:
        self.boxes = list(boxes)

    def detect(self, image: Image) -> list[Box]:
        return list(self.boxes)


@dataclass
class FakeFaces:
    """DetectFaces finds a face wherever the local detector's boxes are (given); searches match or not.

    `errors` are raised, in order, by the next calls (None = answer normally)."""

    faces: list[Box] = field(default_factory=list)
    matches: tuple[CollectionMatch, ...] = ()
    user_matches: tuple[CollectionMatch, ...] = ()
    searched_face: bool = True
    errors: list[RekognitionError | None] = field(default_factory=list)
    delay_seconds: float = 0.0
    calls: list[str] = field(default_factory=list)

    def _call(self, operation: str) -> None:
        self.calls.append(operation)
        if self.delay_seconds:
            time.sleep(self.delay_seconds)
        if self.errors:
            error = self.errors.pop(0)
            if error is not None:
                raise error

    def detect_faces(self, jpeg: bytes) -> list[AnalysedFace]:
        self._call("DetectFaces")
        return [AnalysedFace(box=box, confidence=99.5) for box in self.faces]

    def search_face(self, jpeg: bytes) -> SearchedFace | None:
        self._call("SearchFacesByImage")
        if not self.searched_face:
            return None
        return SearchedFace(box=Box(0.25, 0.25, 0.5, 0.5), confidence=99.5, matches=self.matches)

    def search_user(self, jpeg: bytes) -> SearchedFace | None:
        self._call("SearchUsersByImage")
        if not self.searched_face:
            return None
        return SearchedFace(box=Box(0.25, 0.25, 0.5, 0.5), confidence=99.5, matches=self.user_matches)


class BlankLiveSource:
    """A live camera of blank frames, `frame_interval` apart in real time. Each connection sends `frames`
    frames, then breaks; `fail_opens` says which connection attempts are refused."""

    live = True

    def __init__(self, frames: int, frame_interval: float = 0.01) -> None:
        self._frames = frames
        self._interval = frame_interval
        self.opened = 0
        self.fail_opens: list[bool] = []
        self._left = 0

    def open(self) -> None:
        self.opened += 1
        if self.fail_opens and self.fail_opens.pop(0):
            raise SourceUnavailable("connection refused")
        self._left = self._frames

    def grab(self) -> float | None:
        if self._left <= 0:
            raise SourceUnavailable("stopped sending frames")
        self._left -= 1
        time.sleep(self._interval)
        return time.time()

    def retrieve(self) -> Image:
        return BLANK

    def close(self) -> None:
        pass
