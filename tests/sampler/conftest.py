"""Fixtures of the image-mode tests: the scene video, made once per run."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.sampler.scene import write_video
from tests.support.logs import CapturedLogs


@pytest.fixture(scope="session")
def scene_video(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """12 s at 10 frames/s: empty room, an employee crossing (2-6 s), empty, a visitor crossing (7-11 s)."""
    return write_video(tmp_path_factory.mktemp("scene") / "lobby.avi")


@pytest.fixture
def sampler_logs() -> Iterator[CapturedLogs]:
    """What the sampler's Powertools logger writes (JSON lines)."""
    from facewatch_sampler.observability import logger

    handler = logger.registered_handler
    assert hasattr(handler, "setStream")
    captured = CapturedLogs(io.StringIO())
    previous = handler.setStream(captured.stream)
    yield captured
    handler.setStream(previous)
