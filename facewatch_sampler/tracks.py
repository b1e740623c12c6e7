"""The track cache: a face that stays in view is searched once per interval, not on every frame.

Faces found by the local detector on consecutive sampled frames are linked into tracks by the overlap
(IoU) of their boxes. A track remembers the last Rekognition result for it and for how long that result
may stand in for a new search; a track not seen for a while is forgotten (the person left).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from facewatch_sampler.geometry import Box, iou


@dataclass(slots=True)
class _Track[R]:
    track_id: int
    box: Box
    last_seen: float
    result: R | None = None
    fresh_until: float = 0.0


@dataclass(frozen=True, slots=True)
class TrackedFace[R]:
    """A face box of this frame, its track, and the track's result when it may still be reused."""

    track_id: int
    box: Box
    cached: R | None


class TrackCache[R]:
    def __init__(self, *, iou_threshold: float, forget_after_seconds: float) -> None:
        if not 0.0 < iou_threshold <= 1.0:
            raise ValueError("iou_threshold must be in (0, 1]")
        self._iou_threshold = iou_threshold
        self._forget_after_seconds = forget_after_seconds
        self._tracks: dict[int, _Track[R]] = {}
        self._ids = count(1)

    def observe(self, boxes: Sequence[Box], now: float) -> list[TrackedFace[R]]:
        """Links this frame's boxes to tracks (greedy, best overlap first); unlinked boxes start tracks."""
        self._tracks = {
            track_id: track
            for track_id, track in self._tracks.items()
            if now - track.last_seen <= self._forget_after_seconds and track.last_seen <= now
        }
        pairs = sorted(
            (
                (overlap, index, track_id)
                for index, box in enumerate(boxes)
                for track_id, track in self._tracks.items()
                if (overlap := iou(box, track.box)) >= self._iou_threshold
            ),
            reverse=True,
        )
        assigned: dict[int, int] = {}
        taken: set[int] = set()
        for _, index, track_id in pairs:
            if index not in assigned and track_id not in taken:
                assigned[index] = track_id
                taken.add(track_id)
        tracked = []
        for index, box in enumerate(boxes):
            track_id = assigned[index] if index in assigned else next(self._ids)
            if track_id not in self._tracks:
                self._tracks[track_id] = _Track(track_id, box, now)
            track = self._tracks[track_id]
            track.box, track.last_seen = box, now
            cached = track.result if track.result is not None and now < track.fresh_until else None
            tracked.append(TrackedFace(track_id, box, cached))
        return tracked

    def remember(self, track_id: int, result: R, now: float, reuse_for_seconds: float) -> None:
        """Stores a track's result, to stand in for new searches for `reuse_for_seconds` (0 = never)."""
        track = self._tracks.get(track_id)
        if track is not None:
            track.result = result
            track.fresh_until = now + reuse_for_seconds
