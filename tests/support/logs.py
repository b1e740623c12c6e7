"""What the handler prints: Powertools JSON log lines and EMF metric sets."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any

from facewatch_local.lambda_runtime import emf_metric_values


@dataclass
class CapturedLogs:
    stream: io.StringIO

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    @property
    def records(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]


def emf_metric_sets(stdout: str) -> list[dict[str, float]]:
    """Each EMF document printed, as metric name -> value (Powertools prints a value as a list)."""
    return [{name: _single(values) for name, values in metric_set.items()} for metric_set in emf_metric_values(stdout)]


def batch_metric_set(stdout: str) -> dict[str, float]:
    """The detector's one metric set per batch (dimension service), apart from its per-camera sets."""
    [batch] = [metric_set for metric_set in emf_metric_sets(stdout) if "RecordsProcessed" in metric_set]
    return batch


def _single(values: list[float]) -> float:
    assert len(values) == 1, f"one value per metric per invocation, got {values}"
    return values[0]
