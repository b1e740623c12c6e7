"""The documentation pages as the tests read them: one helper for every test that checks or executes docs/.

A page is a Markdown file under docs/ (README.md is read with `readme()`). `section(page, title)` is the text
from its `## title` heading to the next `## ` heading; `steps(text)` turns the ```bash blocks of a walkthrough
into the commands to run, each with the ```text block that follows it (what those commands print).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DOCS = ROOT / "docs"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```\n", re.S | re.M)


def page(name: str) -> str:
    """The text of docs/<name>."""
    return (DOCS / name).read_text()


def readme() -> str:
    return (ROOT / "README.md").read_text()


def section(name: str, title: str) -> str:
    """From the `## title` heading of docs/<name> up to the next `## ` heading (or the page's end)."""
    text = page(name)
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else len(text)]


@dataclass(frozen=True, slots=True)
class Step:
    commands: list[str]
    shows: str | None  # the ```text block that follows the ```bash block, if any


def shell_lines(block: str) -> list[str]:
    """The shell lines of a ```bash block: continuation lines joined, blank and comment lines dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.strip().startswith("#")]


def steps(text: str) -> list[Step]:
    """Each ```bash block of `text`, with the ```text block right after it (nothing but blank lines between)."""
    found: list[Step] = []
    previous_end = -1
    for match in _FENCE.finditer(text):
        language, body = match.groups()
        if language == "bash":
            found.append(Step(shell_lines(body), None))
        elif (
            language == "text" and found and found[-1].shows is None and not text[previous_end : match.start()].strip()
        ):
            found[-1] = Step(found[-1].commands, body)
        previous_end = match.end()
    return found
