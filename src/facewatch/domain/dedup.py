"""Deduplication per camera window, in event time.

The first sighting on a camera opens a window [t, t + window) and raises an alert; sightings inside it
are suppressed; the first one at or after its end opens the next window.

Out of order: records of one camera can arrive out of event-time order (its data stream resharded into
two shards that Lambda reads in parallel, or a record redelivered after later ones were processed). The
camera remembers two windows, its current one and the one before (or a late window opened since), and
`place_late_sighting` decides where a sighting older than the current window belongs:
- inside a remembered window: suppressed by it, as it would have been in order;
- far enough before the current window that its own window [t, t + window) ends before the current one
  starts, and after the previous one: it opens a window of its own and alerts (a "late window");
- otherwise it cannot get a window of its own without overlapping a window that already alerted: it is
  counted on that window with a named reason (LateReason), never dropped without a trace.
"""

from __future__ import annotations

import enum
import hashlib
from dataclasses import dataclass

from facewatch.domain.records import VideoSource

ALERT_ID_HEX_CHARS = 32


def alert_id_for(source: VideoSource, face_index: int) -> str:
    """Deterministic from the record that opened the window, so a redelivered record keeps its id."""
    key = f"{source.stream_arn}|{source.fragment_number}|{source.frame_offset_seconds!r}|{face_index}"
    return hashlib.sha256(key.encode()).hexdigest()[:ALERT_ID_HEX_CHARS]


@dataclass(frozen=True, slots=True)
class DedupWindow:
    """A camera's current window and the alert that opened it."""

    camera_id: str
    start: float
    end: float
    alert_id: str

    @classmethod
    def opened_by(cls, camera_id: str, frame_time: float, alert_id: str, window_seconds: float) -> DedupWindow:
        return cls(camera_id=camera_id, start=frame_time, end=frame_time + window_seconds, alert_id=alert_id)

    def covers(self, frame_time: float) -> bool:
        return self.start <= frame_time < self.end

    def suppresses(self, frame_time: float, alert_id: str) -> bool:
        """True when a sighting at `frame_time` falls inside this window and did not open it.

        A sighting before the window's start is not decided here: it is late (see place_late_sighting),
        and DynamoDB, which remembers the camera's previous window too, is asked.
        """
        return self.covers(frame_time) and alert_id != self.alert_id


class LateReason(enum.StrEnum):
    """Why a late sighting was counted on a window instead of opening one (metric LateSightings_<reason>)."""

    # Its own window would overlap a window that has already alerted: that alert stands for it.
    OVERLAPS_ALERTED_WINDOW = "overlaps_alerted_window"
    # Older than every window the camera remembers: whether it had its own window cannot be known.
    OLDER_THAN_REMEMBERED = "older_than_remembered"


@dataclass(frozen=True, slots=True)
class CameraWindows:
    """What DedupTable remembers of a camera: its current window and the one before (or a late one)."""

    current: DedupWindow
    previous: DedupWindow | None


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a sighting belongs, given the camera's remembered windows.

    Exactly one of: `opened` (this very sighting opened a remembered window: its record was redelivered),
    `next_window` (at or after the current window's end: claim the next window), `late_window` (open a
    window of its own before the current one), `suppressed_by` (inside a remembered window), or
    `late_on` with `late_reason` (counted on that window).
    """

    opened: DedupWindow | None = None
    next_window: bool = False
    late_window: bool = False
    suppressed_by: DedupWindow | None = None
    late_on: DedupWindow | None = None
    late_reason: LateReason | None = None


def place_sighting(windows: CameraWindows, frame_time: float, alert_id: str, window_seconds: float) -> Placement:
    current, previous = windows.current, windows.previous
    for window in (current, previous):
        if window is not None and window.alert_id == alert_id:
            return Placement(opened=window)
    if frame_time >= current.end:
        return Placement(next_window=True)
    if current.covers(frame_time):
        return Placement(suppressed_by=current)
    if previous is not None and previous.covers(frame_time):
        return Placement(suppressed_by=previous)
    # Late: before the current window, outside the previous one.
    if previous is not None and frame_time < previous.start:
        return Placement(late_on=previous, late_reason=LateReason.OLDER_THAN_REMEMBERED)
    if frame_time + window_seconds <= current.start:
        return Placement(late_window=True)
    return Placement(late_on=current, late_reason=LateReason.OVERLAPS_ALERTED_WINDOW)
