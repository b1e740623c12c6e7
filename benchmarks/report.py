"""Tables as Markdown (readable in a terminal, pasted as is into docs/performance.md), the machine, the JSON file."""

from __future__ import annotations

import json
import os
import platform
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("boto3", "botocore", "pydantic", "aws-lambda-powertools", "aws-xray-sdk", "moto")


@dataclass
class Table:
    title: str
    columns: Sequence[str]
    rows: list[Sequence[str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, *cells: object) -> None:
        self.rows.append([str(cell) for cell in cells])

    def render(self) -> str:
        widths = [max(len(str(c)) for c in column) for column in zip(self.columns, *self.rows, strict=True)]

        def line(cells: Sequence[str]) -> str:
            return "| " + " | ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)) + " |"

        parts = [f"**{self.title}**", "", line(self.columns), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
        parts += [line(row) for row in self.rows]
        if self.notes:
            parts += ["", *(f"- {note}" for note in self.notes)]
        return "\n".join(parts)


def number(value: float, digits: int = 1) -> str:
    return f"{value:,.{digits}f}"


def ratio(value: float) -> str:
    return f"{value:.2f}x"


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine() -> dict[str, Any]:
    """What the figures were measured on: they are only comparable on the same machine and load."""
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return {
        "cpu": cpu_model(),
        "cores_usable": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "load_average_1m_at_start": round(os.getloadavg()[0], 2),
        "os": platform.platform(),
        "python": sys.version.split()[0],
        "packages": versions,
    }


def describe_machine(info: dict[str, Any]) -> str:
    return (
        f"{info['cpu']}, {info['cores_usable']} usable cores, load {info['load_average_1m_at_start']} at start, "
        f"{info['os']}, Python {info['python']}"
    )


def write_json(path: Path, document: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, indent=2, sort_keys=False) + "\n")
