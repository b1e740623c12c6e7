"""A short camera scene made at test time: two people crossing an empty room, as a video file.

The face is the portrait of Grace Hopper committed as events/media/grace_hopper.jpg (a public-domain US Navy
photograph, see events/media/SOURCES.md), scaled down and moved across a textured background; the second
person is the same portrait mirrored. Nothing is downloaded.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import cv2
import numpy as np
from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.local_detector import cascade_path

WIDTH, HEIGHT, FPS = 640, 360, 10
DURATION_SECONDS = 12.0
PORTRAIT_SIZE = (150, 176)  # width, height in the frame
PORTRAIT_PATH = Path(__file__).resolve().parents[2] / "events" / "media" / "grace_hopper.jpg"


@dataclass(frozen=True, slots=True)
class Appearance:
    """A person in view from `start` to `end` (seconds into the video), moving sideways."""

    name: str
    start: float
    end: float
    x: int
    y: int
    pixels_per_second: float
    mirrored: bool = False

    def visible(self, t: float) -> bool:
        return self.start <= t < self.end

    def origin(self, t: float) -> tuple[int, int]:
        return int(self.x + (t - self.start) * self.pixels_per_second), self.y


EMPLOYEE = Appearance("employee", 2.0, 6.0, x=40, y=90, pixels_per_second=40.0)
VISITOR = Appearance("visitor", 7.0, 11.0, x=440, y=100, pixels_per_second=-40.0, mirrored=True)
SCENE = (EMPLOYEE, VISITOR)


@cache
def portrait() -> Image:
    image = cv2.imread(str(PORTRAIT_PATH))
    assert image is not None, f"cannot read {PORTRAIT_PATH}"
    return np.asarray(cv2.resize(image, PORTRAIT_SIZE, interpolation=cv2.INTER_AREA), dtype=np.uint8)


@cache
def face_in_portrait() -> Box:
    """Where the face is inside the portrait, as the Haar cascade finds it (ratios of the portrait)."""
    grey = cv2.cvtColor(portrait(), cv2.COLOR_BGR2GRAY)
    found = cv2.CascadeClassifier(str(cascade_path())).detectMultiScale(grey, 1.1, 5)
    assert len(found) == 1, f"expected one face in the portrait, found {len(found)}"
    x, y, w, h = (int(v) for v in found[0])
    return Box.from_pixels(x, y, w, h, PORTRAIT_SIZE[0], PORTRAIT_SIZE[1])


def face_box(appearance: Appearance, t: float) -> Box:
    """The face's box in the frame at `t`, drawn the way Rekognition draws boxes (taller than Haar's)."""
    face = face_in_portrait()
    if appearance.mirrored:
        face = Box(1.0 - face.right, face.top, face.width, face.height)
    ox, oy = appearance.origin(t)
    pw, ph = PORTRAIT_SIZE
    left, top = ox + face.left * pw, oy + (face.top - 0.1 * face.height) * ph
    return Box.from_pixels(left, top, face.width * pw, face.height * 1.2 * ph, WIDTH, HEIGHT)


def background() -> Image:
    noise = np.random.default_rng(7).integers(90, 140, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    return np.asarray(cv2.GaussianBlur(noise, (9, 9), 0), dtype=np.uint8)


def render(t: float, scene: tuple[Appearance, ...] = SCENE) -> Image:
    frame = background()
    for appearance in scene:
        if appearance.visible(t):
            x, y = appearance.origin(t)
            face = cv2.flip(portrait(), 1) if appearance.mirrored else portrait()
            frame[y : y + PORTRAIT_SIZE[1], x : x + PORTRAIT_SIZE[0]] = face
    return frame


def write_video(path: Path, scene: tuple[Appearance, ...] = SCENE, duration: float = DURATION_SECONDS) -> Path:
    """An MJPEG AVI (OpenCV's VideoWriter; the FFmpeg in opencv-python-headless reads it back)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    assert writer.isOpened(), "OpenCV cannot write MJPEG AVI here"
    try:
        for index in range(round(duration * FPS)):
            writer.write(render(index / FPS, scene))
    finally:
        writer.release()
    return path
