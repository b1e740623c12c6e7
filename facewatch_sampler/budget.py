"""The budget guard: at most N Rekognition calls per camera in any minute."""

from __future__ import annotations

from collections import deque

BUDGET_WINDOW_SECONDS = 60.0


class CallBudget:
    """A sliding window of the calls spent; a request for more than what is left is refused whole."""

    def __init__(self, max_calls_per_minute: int, window_seconds: float = BUDGET_WINDOW_SECONDS) -> None:
        if max_calls_per_minute < 1:
            raise ValueError("max_calls_per_minute must be at least 1")
        self.max_calls = max_calls_per_minute
        self._window_seconds = window_seconds
        self._spent: deque[float] = deque()

    def remaining(self, now: float) -> int:
        while self._spent and self._spent[0] <= now - self._window_seconds:
            self._spent.popleft()
        return self.max_calls - len(self._spent)

    def try_spend(self, calls: int, now: float) -> bool:
        if calls > self.remaining(now):
            return False
        self._spent.extend([now] * calls)
        return True
