"""Where frames come from: a camera's RTSP stream, or a video file or URL, read with OpenCV.

OpenCV's VideoCapture (the FFmpeg build inside the opencv-python-headless wheel) decodes RTSP/H.264, and
the same wheel has the local face detector and the JPEG encoder: one native dependency on the proxy host.
`grab()` advances a frame, `retrieve()` converts it to BGR pixels only for the frames that are sampled.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import cv2
import numpy as np
import numpy.typing as npt

from facewatch_sampler.native_logs import apply_opencv_log_level
from facewatch_sampler.urls import is_live_url, redact_url

type Image = npt.NDArray[np.uint8]

# RTSP over TCP: no lost UDP packets smearing frames, and it crosses NAT and firewalls. Read by OpenCV's
# FFmpeg backend when a capture is opened (opencv.org VideoCapture docs, OPENCV_FFMPEG_CAPTURE_OPTIONS).
FFMPEG_CAPTURE_OPTIONS = "rtsp_transport;tcp"
# A camera that does not answer within these is treated as disconnected (and reconnected with backoff).
OPEN_TIMEOUT_MS = 10_000
READ_TIMEOUT_MS = 10_000


class SourceUnavailable(Exception):
    """The camera could not be opened or stopped sending frames: reconnect later."""


@dataclass(frozen=True, slots=True)
class Frame:
    image: Image
    time: float
    index: int


class FrameSource(Protocol):
    """A video source read one frame at a time; `open` again after SourceUnavailable to reconnect."""

    @property
    def live(self) -> bool:
        """True for a camera (read in real time, frames dropped when busy), False for a file."""
        ...

    def open(self) -> None: ...

    def grab(self) -> float | None:
        """Advances one frame and returns its time (epoch seconds); None at the end of a file."""
        ...

    def retrieve(self) -> Image:
        """The pixels (BGR) of the frame the last `grab` advanced to."""
        ...

    def close(self) -> None: ...


class OpenCvSource:
    """A camera URL or a video file through OpenCV's FFmpeg backend.

    Frame time: the host clock when a live frame is grabbed (the KVS producer on the same host stamps its
    fragments with the same clock), or for a file `start_time` + frame index / the file's frame rate.
    """

    def __init__(self, url: str, *, clock: Callable[[], float] = time.time, start_time: float | None = None) -> None:
        self._url = url
        self._clock = clock
        self._start_time = start_time
        self._live = is_live_url(url)
        self._capture: cv2.VideoCapture | None = None
        self._file_fps = 0.0
        self._file_start = 0.0
        self._index = -1

    @property
    def live(self) -> bool:
        return self._live

    def open(self) -> None:
        self.close()
        apply_opencv_log_level(cv2)
        os.environ.setdefault("OPENCV_FFMPEG_CAPTURE_OPTIONS", FFMPEG_CAPTURE_OPTIONS)
        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, OPEN_TIMEOUT_MS, cv2.CAP_PROP_READ_TIMEOUT_MSEC, READ_TIMEOUT_MS]
        if not self._live and "://" not in self._url and not Path(self._url).is_file():
            raise SourceUnavailable(f"cannot read video file {self._url}: no such file")
        capture = cv2.VideoCapture(self._url, cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            what = "open" if self._live else "decode video file"
            raise SourceUnavailable(f"cannot {what} {redact_url(self._url)}")
        self._capture = capture
        self._index = -1
        if not self._live:
            fps = float(capture.get(cv2.CAP_PROP_FPS))
            self._file_fps = fps if fps > 0 else 25.0
            self._file_start = self._start_time if self._start_time is not None else self._clock()

    def grab(self) -> float | None:
        capture = self._capture
        if capture is None:
            raise SourceUnavailable("not open")
        if not capture.grab():
            if self._live:
                raise SourceUnavailable(f"{redact_url(self._url)} stopped sending frames")
            return None
        self._index += 1
        if self._live:
            return self._clock()
        return self._file_start + self._index / self._file_fps

    def retrieve(self) -> Image:
        capture = self._capture
        if capture is None:
            raise SourceUnavailable("not open")
        ok, image = capture.retrieve()
        if not ok or image is None:
            raise SourceUnavailable(f"{redact_url(self._url)}: a grabbed frame could not be decoded")
        return np.asarray(image, dtype=np.uint8)

    def close(self) -> None:
        if self._capture is not None:
            self._capture.release()
            self._capture = None
