"""The budget guards: a camera's calls per minute, and its fair share of the account's Rekognition TPS.

Rekognition Image's TPS quota is per account and Region, and every camera of the fleet shares it
(../shared/reference/aws-media-search-and-quotas.md, "Transactions per second": reported defaults 50 in
us-east-1, us-west-2 and eu-west-1, 5 elsewhere; verify in Service Quotas). Each sampler is a separate
process, often on a separate host, so the share is static and needs no coordination: every camera gets
`account TPS x utilisation / cameras in the fleet` as a token bucket. The fleet's calls then stay inside
the quota over any second once the buckets' small bursts are spread (they start at a random level), and
no camera can starve another: each one's share is its own. The price is that a quiet camera's share is
not lent to a busy one (docs/image-mode-budget.md says when to raise the quota instead). A throttled call
still happens (other callers, a quota lower than configured): the analyser then backs off with jitter.
"""

from __future__ import annotations

import random
from collections import deque
from collections.abc import Callable
from typing import Protocol

BUDGET_WINDOW_SECONDS = 60.0
# Reported Rekognition Image defaults per API (reference above; "verify"): the largest Regions, the rest.
LARGE_REGION_TPS = 50.0
LARGE_REGIONS = frozenset({"us-east-1", "us-west-2", "eu-west-1"})
DEFAULT_REGION_TPS = 5.0
# The share of the quota samplers plan to use: enrolment, the CLI and clock skew between hosts take the rest.
DEFAULT_QUOTA_UTILISATION = 0.8
# A camera's bucket holds at least one frame's calls (DetectFaces + one SearchFacesByImage) and about a
# second of its share: bursts stay small, so the fleet's per-second total stays near the average.
MIN_BURST_CALLS = 2.0
BURST_SECONDS = 1.0


def default_account_tps(region: str | None) -> float:
    """The documented default TPS of the Region's Rekognition Image APIs (5 when the Region is unknown)."""
    return LARGE_REGION_TPS if region in LARGE_REGIONS else DEFAULT_REGION_TPS


def camera_share_tps(account_tps: float, fleet_cameras: int, utilisation: float = DEFAULT_QUOTA_UTILISATION) -> float:
    """Calls per second one camera may make so that the whole fleet stays inside the account's quota."""
    if account_tps <= 0:
        raise ValueError("account TPS must be positive")
    if fleet_cameras < 1:
        raise ValueError("the fleet has at least one camera")
    if not 0 < utilisation <= 1:
        raise ValueError("utilisation must be in (0, 1]")
    return account_tps * utilisation / fleet_cameras


class Budget(Protocol):
    def remaining(self, now: float) -> int: ...

    def try_spend(self, calls: int, now: float) -> bool: ...


class CallBudget:
    """At most N calls in any minute: a sliding window of the calls spent; a request for more than what
    is left is refused whole."""

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


class TokenBucket:
    """`rate_per_second` tokens a second, at most `capacity` saved up. Starts at a random level so that
    a fleet started at once does not spend its first bursts in the same second. Time is whatever the
    caller passes (the frame's time): its clock starts at the first call."""

    def __init__(self, rate_per_second: float, capacity: float, *, jitter: Callable[[], float] = random.random) -> None:
        if rate_per_second <= 0 or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and room for one token")
        self.rate_per_second = rate_per_second
        self.capacity = capacity
        self._tokens = capacity * jitter()
        self._updated: float | None = None

    def _refill(self, now: float) -> None:
        if self._updated is None:
            self._updated = now
        elif now > self._updated:
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate_per_second)
            self._updated = now

    def remaining(self, now: float) -> int:
        self._refill(now)
        return int(self._tokens)

    def try_spend(self, calls: int, now: float) -> bool:
        self._refill(now)
        if calls > self._tokens:
            return False
        self._tokens -= calls
        return True


def share_bucket(camera_tps: float, *, jitter: Callable[[], float] = random.random) -> TokenBucket:
    """The bucket of a camera's share: room for one frame's calls or a second of its share, if more."""
    return TokenBucket(camera_tps, max(MIN_BURST_CALLS, camera_tps * BURST_SECONDS), jitter=jitter)


class CameraBudget:
    """Both guards: a call is made only when the camera's minute and its share of the account allow it."""

    def __init__(self, per_minute: CallBudget, share: TokenBucket) -> None:
        self.per_minute = per_minute
        self.share = share
        self.spent = 0

    def remaining(self, now: float) -> int:
        return min(self.per_minute.remaining(now), self.share.remaining(now))

    def try_spend(self, calls: int, now: float) -> bool:
        if calls > self.remaining(now):
            return False
        self.per_minute.try_spend(calls, now)
        self.share.try_spend(calls, now)
        self.spent += calls
        return True
