"""Local face detector speed: frames/s of the sampler's Haar cascade on one core.

The sampler runs the cascade on every sampled frame (2 frames/s per camera by default), so this decides
how many cameras one proxy core can serve. Frames are 1920x1080 (a 1080p security camera), made here:
a textured background with 0, 1 or 3 faces pasted from events/media/grace_hopper.jpg (faces about 110 px
tall). The process is pinned to one CPU and OpenCV to one thread. Decoding the camera's H.264 is not
included (it costs the same in stream-processor mode, where kvssink only repackages it: see docs/image-mode.md).

`python -m benchmarks.local_detector` prints the table; `--quick` runs a few frames (the smoke test).
"""

from __future__ import annotations

import argparse
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from facewatch_sampler.frames import Image
from facewatch_sampler.imaging import crop_face, encode_jpeg
from facewatch_sampler.local_detector import HaarFaceDetector

from benchmarks.report import Table, cpu_model, number

FRAME_SIZE = (1920, 1080)
DETECT_WIDTHS = (640, 960, 1280)
DEFAULT_DETECT_WIDTH = 960
PORTRAIT_HEIGHT_PX = 300  # the face inside is about 110 px tall
FACES_PER_SCENE = {"empty": 0, "one face": 1, "three faces": 3}
FRAMES_PER_SCENE = 10
REPETITIONS = 3
PORTRAIT_PATH = Path(__file__).resolve().parent.parent / "events" / "media" / "grace_hopper.jpg"


@contextmanager
def one_core() -> Iterator[int]:
    """Pins this process to one CPU and OpenCV to one thread; restores both afterwards."""
    cpus = os.sched_getaffinity(0)
    cpu = min(cpus)
    threads = cv2.getNumThreads()
    os.sched_setaffinity(0, {cpu})
    cv2.setNumThreads(1)
    try:
        yield cpu
    finally:
        cv2.setNumThreads(threads)
        os.sched_setaffinity(0, cpus)


def _portrait() -> Image:
    image = cv2.imread(str(PORTRAIT_PATH))
    if image is None:
        raise RuntimeError(f"cannot read the sample portrait {PORTRAIT_PATH}")
    height, width = image.shape[:2]
    size = (round(width * PORTRAIT_HEIGHT_PX / height), PORTRAIT_HEIGHT_PX)
    return np.asarray(cv2.resize(image, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)


def scene(faces: int, seed: int) -> Image:
    """A 1080p frame: blurred noise over a gradient (a wall, a floor), with `faces` people in it."""
    width, height = FRAME_SIZE
    rng = np.random.default_rng(seed)
    gradient = np.linspace(60, 170, height, dtype=np.float32)[:, None, None]
    noise = rng.normal(0, 18, size=(height, width, 3)).astype(np.float32)
    frame = np.clip(cv2.GaussianBlur(gradient + noise, (7, 7), 0), 0, 255).astype(np.uint8)
    portrait = _portrait()
    ph, pw = portrait.shape[:2]
    for index in range(faces):
        x = int(rng.integers(0, width - pw)) if faces == 1 else 100 + index * (width - pw - 200) // max(1, faces - 1)
        y = int(rng.integers(100, height - ph - 100))
        frame[y : y + ph, x : x + pw] = portrait
    return frame


def _frames_per_second(detector: HaarFaceDetector, frames: Sequence[Image], repetitions: int) -> float:
    detector.detect(frames[0])  # warm-up
    best = float("inf")
    for _ in range(repetitions):
        started = time.perf_counter()
        for frame in frames:
            detector.detect(frame)
        best = min(best, time.perf_counter() - started)
    return len(frames) / best


def _ms(action: Any, repetitions: int) -> float:
    action()
    started = time.perf_counter()
    for _ in range(repetitions):
        action()
    return (time.perf_counter() - started) / repetitions * 1000


def run(quick: bool = False) -> dict[str, Any]:
    per_scene = 2 if quick else FRAMES_PER_SCENE
    repetitions = 1 if quick else REPETITIONS
    scenes = {name: [scene(faces, seed) for seed in range(per_scene)] for name, faces in FACES_PER_SCENE.items()}
    rows = []
    with one_core() as cpu:
        for width in DETECT_WIDTHS:
            detector = HaarFaceDetector(detect_width_px=width)
            row: dict[str, Any] = {"detect_width_px": width}
            for name, frames in scenes.items():
                row[f"fps_{name}"] = round(_frames_per_second(detector, frames, repetitions), 1)
                row[f"faces_found_{name}"] = sum(len(detector.detect(f)) for f in frames)
                row[f"faces_drawn_{name}"] = FACES_PER_SCENE[name] * len(frames)
            rows.append(row)
        frame = scenes["one face"][0]
        face = HaarFaceDetector(detect_width_px=DEFAULT_DETECT_WIDTH).detect(frame)[0]
        jpeg_ms = _ms(lambda: encode_jpeg(frame, max_side_px=1280, quality=90), 10 if not quick else 1)
        crop_ms = _ms(lambda: crop_face(frame, face, max_side_px=1280, quality=90), 10 if not quick else 1)
    return {
        "cpu": cpu_model(),
        "pinned_to_cpu": cpu,
        "opencv": cv2.__version__,
        "frame_size": list(FRAME_SIZE),
        "load_average_1m": round(os.getloadavg()[0], 2),
        "rows": rows,
        "jpeg_1280_ms": round(jpeg_ms, 2),
        "face_crop_ms": round(crop_ms, 2),
        "example_face_box": [round(v, 3) for v in (face.left, face.top, face.width, face.height)],
    }


def default_frames_per_second(result: dict[str, Any]) -> float:
    """The headline: frames/s at the default detect width, on frames with one face."""
    row = next(r for r in result["rows"] if r["detect_width_px"] == DEFAULT_DETECT_WIDTH)
    return float(row["fps_one face"])


def tables(result: dict[str, Any]) -> list[Table]:
    table = Table(
        f"Local face detector on 1 core ({result['cpu']}, OpenCV {result['opencv']}, 1920x1080 frames)",
        ["detect width", "frames/s: empty", "frames/s: one face", "frames/s: three faces", "faces found / drawn"],
    )
    for row in result["rows"]:
        found = sum(row[f"faces_found_{name}"] for name in FACES_PER_SCENE)
        drawn = sum(row[f"faces_drawn_{name}"] for name in FACES_PER_SCENE)
        table.add(
            f"{row['detect_width_px']} px",
            number(row["fps_empty"]),
            number(row["fps_one face"]),
            number(row["fps_three faces"]),
            f"{found} / {drawn}",
        )
    fps = default_frames_per_second(result)
    table.notes += [
        f"At the default {DEFAULT_DETECT_WIDTH} px and 2 frames/s per camera, one core runs the detector for "
        f"{fps / 2:.0f} cameras (decoding their H.264 not included).",
        f"Per frame with a new face, also: the 1280 px JPEG for DetectFaces {result['jpeg_1280_ms']:.1f} ms, a face "
        f"crop for SearchFacesByImage {result['face_crop_ms']:.1f} ms. Load average {result['load_average_1m']} "
        "at the end (the figures are only comparable on a quiet machine).",
    ]
    return [table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.local_detector", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a few frames, one repetition")
    args = parser.parse_args(argv)
    for table in tables(run(quick=args.quick)):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
