"""A plain text progress bar on stderr: `[########------------] 12/40 E123_2.jpg`.

On a terminal it redraws one line; in a log (stderr not a TTY) it writes a line at each tenth of the
way and at the end, so a CI log or a cron mail stays short.
"""

from __future__ import annotations

import sys
from typing import TextIO

BAR_WIDTH = 20


class ProgressBar:
    def __init__(self, total: int, stream: TextIO | None = None) -> None:
        self._total = total
        self._stream = stream if stream is not None else sys.stderr
        self._interactive = self._stream.isatty()
        self._last_tenth = -1

    def render(self, done: int, label: str = "") -> str:
        filled = BAR_WIDTH * done // self._total if self._total else BAR_WIDTH
        return f"[{'#' * filled}{'-' * (BAR_WIDTH - filled)}] {done}/{self._total} {label}".rstrip()

    def update(self, done: int, label: str = "") -> None:
        if self._interactive:
            self._stream.write(f"\r\x1b[K{self.render(done, label)}")
            if done >= self._total:
                self._stream.write("\n")
        else:
            tenth = 10 * done // self._total if self._total else 10
            if tenth == self._last_tenth and done < self._total:
                return
            self._last_tenth = tenth
            self._stream.write(self.render(done, label) + "\n")
        self._stream.flush()
