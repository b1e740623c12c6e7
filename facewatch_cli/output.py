"""How the commands print: aligned plain-text tables for people, JSON for scripts, and the exit code
that says "done, but something needs your attention"."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

# 0 = all well, 1 = the command failed (CommandError), 2 = bad usage (argparse), 3 = the command ran but
# found something an operator must look at (a rejected photo, a camera that is not streaming).
EXIT_ATTENTION = 3


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows, strict=False)]
    lines = [
        "  ".join(str(cell).ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [headers, *rows]
    ]
    return "\n".join(lines)


def print_json(value: Any) -> None:
    json.dump(value, sys.stdout, indent=2, ensure_ascii=False, default=str)
    sys.stdout.write("\n")


def warn(message: str) -> None:
    print(f"facewatch: warning: {message}", file=sys.stderr)
