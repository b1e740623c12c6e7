"""Running the real handlers in-process: their output counted instead of printed, their factories stood in for."""

from __future__ import annotations

import contextlib
import io
import time
from collections.abc import Iterator
from dataclasses import dataclass
from types import ModuleType

from facewatch.observability import logger


@dataclass(frozen=True, slots=True)
class Clocks:
    """Wall time (time.perf_counter) and this process's CPU time (time.process_time), read together.

    The benchmarked code is single-threaded and, against in-memory AWS, never waits: its CPU time is what
    it would take on a core of its own, while wall time also counts the moments a busy machine gives the
    core to someone else."""

    wall: float = 0.0
    cpu: float = 0.0

    @classmethod
    def now(cls) -> Clocks:
        return cls(time.perf_counter(), time.process_time())

    def __add__(self, other: Clocks) -> Clocks:
        return Clocks(self.wall + other.wall, self.cpu + other.cpu)

    def __sub__(self, other: Clocks) -> Clocks:
        return Clocks(self.wall - other.wall, self.cpu - other.cpu)


class CountingSink(io.TextIOBase):
    """Where a handler's stdout (EMF metrics) and log lines go while it is measured: counted, not kept."""

    def __init__(self) -> None:
        self.characters = 0

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.characters += len(text)
        return len(text)


@contextlib.contextmanager
def captured_output() -> Iterator[CountingSink]:
    """stdout and the Powertools logger (whose handler keeps the stdout it saw at import) into one sink."""
    sink = CountingSink()
    handler = logger.registered_handler
    previous = handler.setStream(sink)  # type: ignore[attr-defined]
    try:
        with contextlib.redirect_stdout(sink):
            yield sink
    finally:
        handler.setStream(previous)  # type: ignore[attr-defined]


@contextlib.contextmanager
def factory_answers(module: ModuleType, factory: str, value: object) -> Iterator[None]:
    """Inside the block, a handler module's cached factory (`detector()`, `alert_stage()`) returns `value`:
    the Lambda container the benchmark built, as tests/support/detector.py does for the tests."""
    original = getattr(module, factory)
    setattr(module, factory, lambda: value)
    try:
        yield
    finally:
        setattr(module, factory, original)
