"""Which frames to sample: one every 1/fps seconds of frame time, on a steady grid."""

from __future__ import annotations

# Frame times a millisecond short of a grid point count as on it: sums of float seconds near 1.7e9 are
# off by a few hundred nanoseconds, and a 1 ms early frame is as good as the one 40 ms later.
TOLERANCE_SECONDS = 0.001


class SamplingSchedule:
    """Keeps a grid of sample times so a 25 fps camera sampled at 2 fps yields a frame every 0.5 s.

    After a gap in the stream (reconnect, stall) or a clock step back, the grid restarts at the next
    frame instead of bursting to catch up.
    """

    def __init__(self, frames_per_second: float) -> None:
        if frames_per_second <= 0:
            raise ValueError("frames_per_second must be positive")
        self.interval_seconds = 1.0 / frames_per_second
        self._next: float | None = None

    def reset(self) -> None:
        self._next = None

    def due(self, frame_time: float) -> bool:
        """True when the frame at `frame_time` is to be sampled (and moves the grid past it)."""
        upcoming = self._next
        if upcoming is not None:
            past_grid_point = frame_time + TOLERANCE_SECONDS - upcoming
            if -self.interval_seconds <= past_grid_point < 0:
                return False
            if 0 <= past_grid_point < self.interval_seconds:
                self._next = upcoming + self.interval_seconds
                return True
        # The first frame, a gap of more than an interval, or time stepping back: restart the grid here.
        self._next = frame_time + self.interval_seconds
        return True
