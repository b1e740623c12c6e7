"""What the sampler counts, for its status file, logs and metrics.

Each counter is written by one thread only (the reader or the analyser), so no lock is needed; a
snapshot taken meanwhile may be a frame behind, which a status report can live with.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(slots=True)
class SamplerStats:
    camera_id: str
    online: bool = False
    offline_reason: str | None = None
    changed_at: float | None = None
    reconnects: int = 0
    frames_read: int = 0
    frames_sampled: int = 0
    # Sampled frames replaced before analysis because the previous one was still being analysed.
    frames_dropped_busy: int = 0
    frames_without_face: int = 0
    frames_cached: int = 0
    # Sampled frames with a new face dropped because the camera's budget (calls per minute, share of
    # the account's TPS) could not cover DetectFaces and a search.
    frames_over_budget: int = 0
    frames_backing_off: int = 0
    frames_failed: int = 0
    frames_not_confirmed: int = 0
    frames_analysed: int = 0
    faces_searched: int = 0
    faces_cached: int = 0
    faces_unconfirmed: int = 0
    faces_over_budget: int = 0
    rekognition_calls: Counter[str] = field(default_factory=Counter)
    rekognition_errors: Counter[str] = field(default_factory=Counter)
    # This camera's share of the account's Rekognition TPS (calls per second).
    budget_share_tps: float = 0.0
    records_written: int = 0
    records_pending: int = 0
    records_dropped: int = 0

    @property
    def frames_dropped(self) -> int:
        """Sampled frames that were not analysed for want of time, budget or a healthy service."""
        return self.frames_dropped_busy + self.frames_over_budget + self.frames_backing_off + self.frames_failed

    def snapshot(self) -> dict[str, Any]:
        data = asdict(self)
        data["rekognition_calls"] = dict(self.rekognition_calls)
        data["rekognition_errors"] = dict(self.rekognition_errors)
        data["frames_dropped"] = self.frames_dropped
        return data
