"""Suppressed sightings, counted per window in the container and written once per window.

Each window's count goes onto its alert's item after the window has ended in event time: right before
the container claims the camera's next window, or at the end of a batch whose newest sighting is at or
after the window's end. So an alert costs two DynamoDB writes at most (its claim and its count), however
long the person stays. A count that cannot be written never fails a record; it stays pending and is tried
again at the next flush (the SuppressedByWindow metric has the number either way).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from facewatch.adapters import aws
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.domain.dedup import DedupWindow
from facewatch.observability import logger


@dataclass(slots=True)
class _PendingCount:
    """Sightings this container suppressed in one window and has not yet written to its alert's item."""

    window_end: float
    count: int = 0
    late: int = 0  # late sightings counted on this window (domain.dedup.LateReason)


class SuppressedCounts:
    def __init__(self, windows: DedupWindows, clock: Callable[[], float], max_cameras: int) -> None:
        self._windows = windows
        self._clock = clock
        self._max_cameras = max_cameras
        # camera -> alert id of a window -> its pending count; kept across batches, for the container's life.
        # A camera normally has one entry (its current window); more only while a write keeps failing.
        self._pending: dict[str, dict[str, _PendingCount]] = {}

    def add(self, window: DedupWindow, *, late: bool = False) -> None:
        """Counts one suppressed (or late) sighting against its window: no AWS call."""
        windows = self._pending.get(window.camera_id)
        if windows is None:
            if len(self._pending) >= self._max_cameras:
                self._drop_oldest()
            windows = self._pending[window.camera_id] = {}
        pending = windows.get(window.alert_id)
        if pending is None:
            pending = windows[window.alert_id] = _PendingCount(window.end)
        if late:
            pending.late += 1
        else:
            pending.count += 1

    def flush_all_ended(self, event_time: float) -> None:
        for camera_id in list(self._pending):
            self.flush_ended(camera_id, event_time)

    def flush_ended(self, camera_id: str, event_time: float) -> None:
        """Writes the pending counts of the camera's windows that ended by `event_time`, once each."""
        windows = self._pending.get(camera_id)
        if not windows:
            return
        for alert_id, pending in list(windows.items()):
            if pending.window_end > event_time:
                continue
            try:
                self._windows.add_suppressed(alert_id, pending.count, self._clock(), late=pending.late)
            except Exception as error:  # a counter never fails a record; the metric has the number
                logger.warning(
                    "suppressed count not stored, kept for the next flush",
                    extra={"camera_id": camera_id, "alert_id": alert_id, "code": aws.error_code(error)},
                )
                continue
            del windows[alert_id]
        if not windows:
            del self._pending[camera_id]

    def _drop_oldest(self) -> None:
        """Keeps the pending counts bounded: the camera waiting longest gives its counts up (logged)."""
        camera_id, windows = next(iter(self._pending.items()))
        del self._pending[camera_id]
        for alert_id in windows:
            logger.warning(
                "suppressed count dropped, too many pending", extra={"camera_id": camera_id, "alert_id": alert_id}
            )
