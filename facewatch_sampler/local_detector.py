"""The cheap local face detector: OpenCV's Haar cascade for frontal faces, shipped in the wheel.

It only decides whether a frame is worth a Rekognition call, so it runs on a downscaled grey frame. It
misses faces turned well away from the camera (a frontal-face cascade), which image mode then never sees:
docs/image-mode.md says so. opencv-python-headless 4.x ships the cascades
under cv2.data.haarcascades; 5.x wheels do not, hence the `<5` pin.
"""

from __future__ import annotations

from pathlib import Path

import cv2

from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# detectMultiScale: 10% scale steps, 5 neighbours (OpenCV's defaults are 1.1 and 3; 5 cuts false
# positives on textured backgrounds at little cost in recall). No histogram equalisation: the cascade
# normalises each window's contrast itself, and equalising a noisy frame made detection 7x slower here.
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 5


class LocalDetectorUnavailable(RuntimeError):
    """The installed OpenCV has no Haar cascades (e.g. OpenCV 5 wheels)."""


def cascade_path() -> Path:
    data = getattr(cv2, "data", None)
    directory = getattr(data, "haarcascades", None)
    if not isinstance(directory, str):
        raise LocalDetectorUnavailable(
            f"OpenCV {cv2.__version__} ships no Haar cascades (cv2.data.haarcascades): install opencv-python-headless<5"
        )
    return Path(directory) / CASCADE_FILE


class HaarFaceDetector:
    """Faces at least `min_face_px` tall at `detect_width_px` frame width, as boxes of the full frame."""

    def __init__(self, *, detect_width_px: int = 960, min_face_px: int = 24) -> None:
        path = cascade_path()
        classifier = cv2.CascadeClassifier(str(path))
        if classifier.empty():
            raise LocalDetectorUnavailable(f"cannot load the Haar cascade {path}")
        self._classifier = classifier
        self._detect_width_px = detect_width_px
        self._min_face_px = min_face_px

    def detect(self, image: Image) -> list[Box]:
        height, width = int(image.shape[0]), int(image.shape[1])
        scale = min(1.0, self._detect_width_px / width)
        grey = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        if scale < 1.0:
            size = (round(width * scale), round(height * scale))
            grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA)
        found = self._classifier.detectMultiScale(
            grey,
            scaleFactor=SCALE_FACTOR,
            minNeighbors=MIN_NEIGHBOURS,
            minSize=(self._min_face_px, self._min_face_px),
        )
        small_height, small_width = int(grey.shape[0]), int(grey.shape[1])
        return [Box.from_pixels(int(x), int(y), int(w), int(h), small_width, small_height) for (x, y, w, h) in found]
