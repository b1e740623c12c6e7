"""The local face detectors compared on real photographs: recall on frontal, turned and small faces, false
boxes, and frames per second on one core at the default detect width.

The photographs are committed in events/media/ with their sources and licences (SOURCES.md): two frontal
portraits (Grace Hopper, Eileen Collins), one face turned about 60 degrees away (the CC0 "cameraman"), and
four photographs without a face (a cat, a coffee cup, a rocket launch) for false boxes. Each test frame is
1920x1080 (a 1080p camera), the photograph pasted on a textured wall with its face at a set height:
- frontal: the portraits as taken, faces 80 and 120 px tall;
- turned: the cameraman, as taken and mirrored, 80 and 120 px; the portraits with the head tilted 30
  degrees either way (a 2-D rotation of the real photograph);
- small: every face 40 px (Rekognition's smallest in a 1080p frame) and 56 px tall;
- no face: the four photographs filling the frame.
A box counts as found when its centre lies inside the face's known box (given below per photograph, in
its own pixels, moved with it); any other box is a false box.

Speed is CPU time per frame, pinned to one core with OpenCV on one thread, on the frames with a face.
`python -m benchmarks.detector_comparison` prints the table; `--quick` times fewer frames.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.local_detector import HaarFaceDetector, MtcnnFaceDetector
from facewatch_sampler.settings import LocalDetectorKind

from benchmarks.local_detector import one_core
from benchmarks.report import Table, cpu_model, number

MEDIA = Path(__file__).resolve().parent.parent / "events" / "media"
FRAME_SIZE = (1920, 1080)
DEFAULT_DETECT_WIDTH = 960
MIN_FACE_PX = 24
TIMING_REPETITIONS = 3


@dataclass(frozen=True, slots=True)
class Photograph:
    file: str
    face: tuple[int, int, int, int] | None  # x, y, width, height of the face in the photograph's pixels


PORTRAITS = (Photograph("grace_hopper.jpg", (170, 110, 195, 235)), Photograph("astronaut.jpg", (172, 52, 104, 128)))
TURNED = Photograph("camera.jpg", (185, 100, 75, 100))
NO_FACE = tuple(Photograph(name, None) for name in ("chelsea.jpg", "coffee.jpg", "rocket.jpg"))


@dataclass(frozen=True, slots=True)
class TestFrame:
    category: str  # frontal, turned, small, no face
    label: str
    image: Image
    faces: tuple[Box, ...]


def _read(photo: Photograph) -> Image:
    image = cv2.imread(str(MEDIA / photo.file))
    if image is None:
        raise RuntimeError(f"cannot read {MEDIA / photo.file}")
    return np.asarray(image, dtype=np.uint8)


def _wall(seed: int) -> Image:
    width, height = FRAME_SIZE
    rng = np.random.default_rng(seed)
    gradient = np.linspace(70, 160, height, dtype=np.float32)[:, None, None]
    noise = rng.normal(0, 14, size=(height, width, 3)).astype(np.float32)
    return np.clip(cv2.GaussianBlur(gradient + noise, (7, 7), 0), 0, 255).astype(np.uint8)


def _placed(
    photo: Photograph, face_height_px: int, *, mirrored: bool = False, tilt_degrees: float = 0.0, seed: int = 0
) -> tuple[Image, Box]:
    """The photograph scaled so its face is `face_height_px` tall, pasted on a wall; the face's box."""
    assert photo.face is not None
    image = _read(photo)
    x, y, w, h = photo.face
    if mirrored:
        image = np.ascontiguousarray(image[:, ::-1])
        x = image.shape[1] - x - w
    scale = face_height_px / h
    image = np.asarray(cv2.resize(image, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    x, y, w, h = (round(v * scale) for v in (x, y, w, h))
    corners = np.array([[x, y], [x + w, y], [x, y + h], [x + w, y + h]], dtype=np.float32)
    if tilt_degrees:
        centre = (x + w / 2, y + h / 2)
        rotation = cv2.getRotationMatrix2D(centre, tilt_degrees, 1.0)
        image = np.asarray(
            cv2.warpAffine(image, rotation, (image.shape[1], image.shape[0]), borderMode=cv2.BORDER_REPLICATE),
            dtype=np.uint8,
        )
        corners = cv2.transform(corners[None], rotation)[0]
    frame = _wall(seed)
    rng = np.random.default_rng(seed)
    ph, pw = image.shape[:2]
    ox = int(rng.integers(0, max(1, FRAME_SIZE[0] - pw)))
    oy = int(rng.integers(0, max(1, FRAME_SIZE[1] - ph)))
    visible = image[: FRAME_SIZE[1] - oy, : FRAME_SIZE[0] - ox]
    frame[oy : oy + visible.shape[0], ox : ox + visible.shape[1]] = visible
    left, top = corners.min(axis=0)
    right, bottom = corners.max(axis=0)
    box = Box.from_pixels(ox + left, oy + top, right - left, bottom - top, FRAME_SIZE[0], FRAME_SIZE[1])
    return frame, box


def _filled(photo: Photograph) -> Image:
    return np.asarray(cv2.resize(_read(photo), FRAME_SIZE, interpolation=cv2.INTER_LINEAR), dtype=np.uint8)


def test_frames() -> list[TestFrame]:
    frames: list[TestFrame] = []

    def add(category: str, label: str, placed: tuple[Image, Box]) -> None:
        frames.append(TestFrame(category, label, placed[0], (placed[1],)))

    for seed, photo in enumerate(PORTRAITS):
        for height in (80, 120):
            add("frontal", f"{photo.file} {height} px", _placed(photo, height, seed=seed * 10 + height))
            for tilt in (-30.0, 30.0):
                placed = _placed(photo, height, tilt_degrees=tilt, seed=seed * 10 + height + 1)
                add("turned", f"{photo.file} {height} px tilted {tilt:+.0f}", placed)
    for height in (80, 120):
        for mirrored in (False, True):
            add("turned", f"{TURNED.file} {height} px", _placed(TURNED, height, mirrored=mirrored, seed=height))
    for seed, photo in enumerate((*PORTRAITS, TURNED)):
        for height in (40, 56):
            add("small", f"{photo.file} {height} px", _placed(photo, height, seed=100 + seed * 10 + height))
    frames += [TestFrame("no face", photo.file, _filled(photo), ()) for photo in NO_FACE]
    frames.append(TestFrame("no face", "wall", _wall(999), ()))
    return frames


def score(found: Sequence[Box], faces: Sequence[Box]) -> tuple[int, int]:
    """(faces found, false boxes): a box is a hit when its centre is inside a face's box not yet hit."""
    hit: set[int] = set()
    false_boxes = 0
    for box in found:
        x, y = box.centre
        match = next((i for i, face in enumerate(faces) if i not in hit and face.contains(x, y)), None)
        if match is None:
            false_boxes += 1
        else:
            hit.add(match)
    return len(hit), false_boxes


Detector = Callable[[Image], list[Box]]


def detectors(detect_width_px: int = DEFAULT_DETECT_WIDTH) -> dict[str, Detector]:
    return {
        LocalDetectorKind.HAAR.value: HaarFaceDetector(detect_width_px=detect_width_px, min_face_px=MIN_FACE_PX).detect,
        LocalDetectorKind.MTCNN.value: MtcnnFaceDetector(
            detect_width_px=detect_width_px, min_face_px=MIN_FACE_PX
        ).detect,
    }


def _seconds_per_frame(detect: Detector, frames: Sequence[Image], repetitions: int) -> float:
    """CPU seconds per frame (process time, the best of `repetitions`): on a shared machine the wall clock
    also counts the time other processes held the core."""
    detect(frames[0])  # warm-up
    best = float("inf")
    for _ in range(repetitions):
        started = time.process_time()
        for frame in frames:
            detect(frame)
        best = min(best, time.process_time() - started)
    return best / len(frames)


def run(quick: bool = False) -> dict[str, Any]:
    frames = test_frames()
    categories = ("frontal", "turned", "small")
    rows = []
    with one_core() as cpu:
        for name, detect in detectors().items():
            row: dict[str, Any] = {"detector": name, "missed": []}
            false_boxes = 0
            for category in (*categories, "no face"):
                chosen = [f for f in frames if f.category == category]
                found = faces = 0
                for frame in chosen:
                    hits, false = score(detect(frame.image), frame.faces)
                    found, faces, false_boxes = found + hits, faces + len(frame.faces), false_boxes + false
                    if hits < len(frame.faces):
                        row["missed"].append(frame.label)
                if faces:
                    row[f"found_{category}"] = found
                    row[f"faces_{category}"] = faces
            row["false_boxes"] = false_boxes
            row["frames"] = len(frames)
            timed = [f.image for f in frames if f.category != "no face"][: 4 if quick else None]
            seconds = _seconds_per_frame(detect, timed, 1 if quick else TIMING_REPETITIONS)
            row["ms_per_frame"] = round(seconds * 1000, 1)
            row["frames_per_second_per_core"] = round(1 / seconds, 1)
            rows.append(row)
    return {
        "cpu": cpu_model(),
        "pinned_to_cpu": cpu,
        "opencv": cv2.__version__,
        "frame_size": list(FRAME_SIZE),
        "detect_width_px": DEFAULT_DETECT_WIDTH,
        "rows": rows,
    }


def recall(row: dict[str, Any], category: str) -> float:
    return float(row[f"found_{category}"]) / float(row[f"faces_{category}"])


def tables(result: dict[str, Any]) -> list[Table]:
    table = Table(
        f"Local face detectors on real photographs (1920x1080 frames at {result['detect_width_px']} px, "
        f"1 core, {result['cpu']}, OpenCV {result['opencv']})",
        ["detector", "frontal", "turned", "small (40-56 px)", "false boxes", "ms/frame", "frames/s per core"],
    )
    for row in result["rows"]:
        table.add(
            row["detector"],
            *(f"{row[f'found_{c}']}/{row[f'faces_{c}']}" for c in ("frontal", "turned", "small")),
            f"{row['false_boxes']} in {row['frames']} frames",
            number(row["ms_per_frame"]),
            number(row["frames_per_second_per_core"]),
        )
    for row in result["rows"]:
        if row["missed"]:
            table.notes.append(f"{row['detector']} missed: {', '.join(row['missed'])}")
    return [table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.detector_comparison", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="time a few frames once")
    args = parser.parse_args(argv)
    for table in tables(run(quick=args.quick)):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
