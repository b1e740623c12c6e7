"""Says how the camera and the sampler are doing: a log line when the camera goes offline or comes back,
a status file rewritten every interval (for the host's monitoring), and optional CloudWatch metrics."""

from __future__ import annotations

import json
import os
import tempfile
import threading
from pathlib import Path

from facewatch_sampler.metrics import SamplerMetrics
from facewatch_sampler.observability import logger
from facewatch_sampler.stats import SamplerStats


class StatusReporter:
    def __init__(
        self, stats: SamplerStats, *, status_file: Path | None = None, metrics: SamplerMetrics | None = None
    ) -> None:
        self._stats = stats
        self._status_file = status_file
        self._metrics = metrics
        # The reader thread reports the camera's state, the analyser the periodic summary.
        self._lock = threading.Lock()

    def camera_online(self, now: float) -> None:
        stats = self._stats
        if stats.online:
            return
        was_offline = stats.changed_at is not None
        stats.online, stats.offline_reason, stats.changed_at = True, None, now
        if was_offline:
            stats.reconnects += 1
        logger.info("camera online", extra={"camera_id": stats.camera_id, "reconnects": stats.reconnects})
        self.publish()

    def camera_offline(self, reason: str, now: float) -> None:
        stats = self._stats
        if not stats.online and stats.changed_at is not None:
            return  # already reported
        stats.online, stats.offline_reason, stats.changed_at = False, reason, now
        logger.warning("camera offline", extra={"camera_id": stats.camera_id, "reason": reason})
        self.publish()

    def publish(self) -> None:
        with self._lock:
            if self._status_file is not None:
                text = json.dumps(self._stats.snapshot(), indent=2, sort_keys=True) + "\n"
                _write_atomically(self._status_file, text)
            if self._metrics is not None:
                self._metrics.publish(self._stats)

    def summary(self) -> None:
        logger.info("sampler status", extra=self._stats.snapshot())
        self.publish()


def _write_atomically(path: Path, text: str) -> None:
    """Readers see the old file or the new one, never half of one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", dir=path.parent, prefix=f".{path.name}.", delete=False) as handle:
        handle.write(text)
        temporary = Path(handle.name)
    os.replace(temporary, path)
