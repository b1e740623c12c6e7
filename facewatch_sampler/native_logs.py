"""Keeps OpenCV's and FFmpeg's own messages out of the sampler's JSON log.

Both write straight to stderr, which journald interleaves with the sampler's JSON lines. OpenCV reads
OPENCV_LOG_LEVEL at its first log call, and its FFmpeg backend OPENCV_FFMPEG_LOGLEVEL (an av_log level;
-8 is AV_LOG_QUIET) when it first opens a capture (OpenCV's videoio/cap_ffmpeg_impl.hpp): both must be
set before cv2 does anything. What those messages would have said, the sampler logs itself as structured
events (camera offline with its reason, a file it cannot read). An operator who needs FFmpeg's view sets
the variables in the unit's environment: these are defaults only.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, MutableMapping
from typing import Any

QUIET_NATIVE_LOGS: Mapping[str, str] = {"OPENCV_LOG_LEVEL": "ERROR", "OPENCV_FFMPEG_LOGLEVEL": "-8"}
# OPENCV_LOG_LEVEL's values and cv2.utils.logging's names for them.
OPENCV_LOG_LEVELS: Mapping[str, str] = {
    "SILENT": "LOG_LEVEL_SILENT",
    "FATAL": "LOG_LEVEL_FATAL",
    "ERROR": "LOG_LEVEL_ERROR",
    "WARNING": "LOG_LEVEL_WARNING",
    "INFO": "LOG_LEVEL_INFO",
    "DEBUG": "LOG_LEVEL_DEBUG",
    "VERBOSE": "LOG_LEVEL_VERBOSE",
}


def quiet_native_libraries(environ: MutableMapping[str, str] = os.environ) -> None:
    for name, value in QUIET_NATIVE_LOGS.items():
        environ.setdefault(name, value)


def apply_opencv_log_level(cv2: Any, environ: Mapping[str, str] = os.environ) -> None:
    """OpenCV reads OPENCV_LOG_LEVEL once, possibly before this package was imported (another module
    imported cv2 first and logged): set the level it names again, at run time."""
    level = OPENCV_LOG_LEVELS.get(environ.get("OPENCV_LOG_LEVEL", "").upper())
    if level is not None:
        cv2.utils.logging.setLogLevel(getattr(cv2.utils.logging, level))
