"""Deduplication per camera window, in event time.

The first sighting on a camera opens a window [t, t + window) and raises an alert; sightings inside it
are suppressed; the first one at or after its end opens the next window.
"""

from __future__ import annotations

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

    def suppresses(self, frame_time: float, alert_id: str) -> bool:
        """True when a sighting at `frame_time` belongs to this window and did not open it.

        Mirrors the conditional write (claim iff no window, or t >= end, or same alert id), so a
        cached window answers exactly as DynamoDB would. Windows only move forward, so a stale cached
        window can only under-suppress (then DynamoDB is asked), never over-suppress.
        """
        return frame_time < self.end and alert_id != self.alert_id
