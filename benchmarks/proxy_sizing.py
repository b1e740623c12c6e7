"""Proxy-host sizing: CPU per camera for decoding 1080p H.264 and running the local detector, per detector.

A camera's H.264 stream is made here: 1920x1080 frames (a wall, a person from events/media crossing it)
encoded with libx264 at a camera-like 4 Mbit/s and a key frame every second, at 15 and 25 frames/s. The
encoder is the ffmpeg binary of the imageio-ffmpeg wheel (`make bench` installs requirements-bench.txt;
the opencv-python-headless wheel decodes H.264 but has no H.264 encoder). Encoding is not measured.

Then, pinned to one core with OpenCV on one thread, the sampler's own source reads the file as it reads a
camera: every frame is decoded (`grab`), 2 a second are converted to pixels (`retrieve`) and go through
the local detector. CPU time (process time: decoder threads included) over the video's duration gives the
share of a core one camera needs, and "cameras per core" = 1 / that share. The kvssink producer beside it
only repackages the stream (no decode) and is not included.

`python -m benchmarks.proxy_sizing` prints the table; `--quick` uses a 2 s stream.
"""

from __future__ import annotations

import argparse
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from facewatch_sampler.frames import OpenCvSource
from facewatch_sampler.local_detector import local_detector
from facewatch_sampler.schedule import SamplingSchedule
from facewatch_sampler.settings import LocalDetectorKind

from benchmarks.detector_comparison import DEFAULT_DETECT_WIDTH, MIN_FACE_PX, PORTRAITS, _placed, _wall
from benchmarks.local_detector import one_core
from benchmarks.report import Table, cpu_model, number

FRAME_SIZE = (1920, 1080)
CAMERA_FPS = (15, 25)
SAMPLED_FPS = 2.0
BITRATE = "4M"
SECONDS = 8.0
QUICK_SECONDS = 2.0


class EncoderUnavailable(RuntimeError):
    """No ffmpeg with libx264 here (imageio-ffmpeg not installed)."""


def ffmpeg() -> str:
    try:
        import imageio_ffmpeg
    except ModuleNotFoundError as error:
        raise EncoderUnavailable(
            "pip install -r requirements-bench.txt (imageio-ffmpeg) for an H.264 encoder"
        ) from error
    return str(imageio_ffmpeg.get_ffmpeg_exe())


def _frames(fps: int, seconds: float) -> list[np.ndarray[Any, np.dtype[np.uint8]]]:
    """A wall with a person walking across it, then gone for the last third (frames without a face)."""
    person, _ = _placed(PORTRAITS[0], 120, seed=3)
    wall = _wall(3)
    count = round(fps * seconds)
    frames = []
    for index in range(count):
        shift = int(index * 900 / count)
        frame = wall.copy() if index > count * 2 // 3 else np.roll(person, shift, axis=1)
        frames.append(frame)
    return frames


def encode(path: Path, fps: int, seconds: float) -> Path:
    """An H.264 (High profile, yuv420p) MP4 like a camera's, key frame every second."""
    command = [
        ffmpeg(),
        "-hide_banner",
        "-loglevel",
        "error",
        "-y",
        "-f",
        "rawvideo",
        "-pix_fmt",
        "bgr24",
        "-s",
        f"{FRAME_SIZE[0]}x{FRAME_SIZE[1]}",
        "-r",
        str(fps),
        "-i",
        "-",
        "-c:v",
        "libx264",
        "-preset",
        "veryfast",
        "-b:v",
        BITRATE,
        "-g",
        str(fps),
        "-pix_fmt",
        "yuv420p",
        str(path),
    ]
    with subprocess.Popen(command, stdin=subprocess.PIPE) as process:
        assert process.stdin is not None
        for frame in _frames(fps, seconds):
            process.stdin.write(frame.tobytes())
        process.stdin.close()
        if process.wait(timeout=120) != 0:
            raise RuntimeError(f"ffmpeg could not encode {path}")
    return path


def _cpu_seconds(path: Path, kind: LocalDetectorKind | None) -> tuple[float, int, int]:
    """CPU seconds to read the whole file as the sampler does; frames decoded, frames sampled."""
    detector = local_detector(kind, detect_width_px=DEFAULT_DETECT_WIDTH, min_face_px=MIN_FACE_PX) if kind else None
    source = OpenCvSource(str(path), start_time=0.0)
    schedule = SamplingSchedule(SAMPLED_FPS)
    started = time.process_time()
    source.open()
    decoded = sampled = 0
    try:
        while (frame_time := source.grab()) is not None:
            decoded += 1
            if schedule.due(frame_time):
                sampled += 1
                image = source.retrieve()
                if detector is not None:
                    detector.detect(image)
    finally:
        source.close()
    return time.process_time() - started, decoded, sampled


def run(quick: bool = False) -> dict[str, Any]:
    seconds = QUICK_SECONDS if quick else SECONDS
    rows = []
    with tempfile.TemporaryDirectory(prefix="facewatch-sizing-") as directory, one_core() as cpu:
        for fps in CAMERA_FPS:
            path = encode(Path(directory) / f"camera-{fps}fps.mp4", fps, seconds)
            decode_cpu, decoded, sampled = _cpu_seconds(path, None)
            row: dict[str, Any] = {
                "camera_fps": fps,
                "video_seconds": decoded / fps,
                "frames_decoded": decoded,
                "frames_sampled": sampled,
                "mbytes": round(path.stat().st_size / 1e6, 2),
                "decode_core_share": round(decode_cpu / (decoded / fps), 4),
            }
            for kind in LocalDetectorKind:
                total, _, _ = _cpu_seconds(path, kind)
                share = total / (decoded / fps)
                row[f"core_share_{kind.value}"] = round(share, 4)
                row[f"cameras_per_core_{kind.value}"] = round(1 / share, 1)
            rows.append(row)
    return {
        "cpu": cpu_model(),
        "pinned_to_cpu": cpu,
        "opencv": cv2.__version__,
        "frame_size": list(FRAME_SIZE),
        "sampled_fps": SAMPLED_FPS,
        "bitrate": BITRATE,
        "rows": rows,
    }


def cameras_per_core(result: dict[str, Any], kind: LocalDetectorKind, camera_fps: int) -> float:
    row = next(r for r in result["rows"] if r["camera_fps"] == camera_fps)
    return float(row[f"cameras_per_core_{kind.value}"])


def tables(result: dict[str, Any]) -> list[Table]:
    kinds = list(LocalDetectorKind)
    table = Table(
        f"Proxy host: cameras per core, 1080p H.264 at {result['bitrate']}bit/s, decode every frame + "
        f"{result['sampled_fps']:g} frames/s through the detector ({result['cpu']}, OpenCV {result['opencv']})",
        [
            "camera",
            "decode only: core share",
            *(f"{k.value}: core share" for k in kinds),
            *(f"{k.value}: cameras/core" for k in kinds),
        ],
    )
    for row in result["rows"]:
        table.add(
            f"{row['camera_fps']} frames/s",
            f"{row['decode_core_share']:.1%}",
            *(f"{row[f'core_share_{k.value}']:.1%}" for k in kinds),
            *(number(row[f"cameras_per_core_{k.value}"]) for k in kinds),
        )
    table.notes.append(
        "CPU time over video time; frames with and without a face as they come (a third of the video is empty). "
        "Leave a core's headroom for kvssink, the OS and bursts: plan on about 70% of these figures."
    )
    return [table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.proxy_sizing", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a 2 s stream")
    args = parser.parse_args(argv)
    for table in tables(run(quick=args.quick)):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
