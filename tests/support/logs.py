"""What the handler prints: Powertools JSON log lines and EMF metric sets."""

from __future__ import annotations

import io
import json
from dataclasses import dataclass
from typing import Any


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
    sets = []
    for line in stdout.splitlines():
        if not line.startswith("{"):
            continue
        document = json.loads(line)
        if "_aws" not in document:
            continue
        names = [m["Name"] for directive in document["_aws"]["CloudWatchMetrics"] for m in directive["Metrics"]]
        sets.append({name: _single(document[name]) for name in names})
    return sets


def _single(value: Any) -> float:
    if isinstance(value, list):
        assert len(value) == 1, f"one value per metric per invocation, got {value}"
        return float(value[0])
    return float(value)
