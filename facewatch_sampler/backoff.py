"""Exponential backoff with jitter, as a value that says when the next attempt may be made."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass(slots=True)
class Backoff:
    """Delay after the n-th consecutive failure: min(max, base * 2^(n-1)), jittered down by up to half
    ("equal jitter": many cameras throttled at once do not retry in step)."""

    base_seconds: float
    max_seconds: float
    jitter: Callable[[], float] = field(default=random.random)
    failures: int = 0
    not_before: float = 0.0

    def fail(self, now: float) -> float:
        ceiling = min(self.max_seconds, self.base_seconds * 2.0**self.failures)
        delay = ceiling * (0.5 + 0.5 * self.jitter())
        self.failures += 1
        self.not_before = now + delay
        return delay

    def succeed(self) -> None:
        self.failures = 0
        self.not_before = 0.0

    def ready(self, now: float) -> bool:
        return now >= self.not_before
