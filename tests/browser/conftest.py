"""The console in a real browser: Debian's Chromium (/usr/bin/chromium, installed by `make test`), driven by
Playwright's Python package, which is pointed at it and never downloads a browser. A missing browser FAILS
the tests: they are the acceptance of the console."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from facewatch_local.console import EmulatedConsole, serve_console

CHROMIUM = Path(os.environ.get("FACEWATCH_CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "img"


@pytest.fixture(scope="module")
def console() -> Iterator[tuple[str, EmulatedConsole]]:
    with serve_console() as served:
        yield served


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs Debian's chromium (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox", "--disable-dev-shm-usage"]
        )
        try:
            yield launched
        finally:
            launched.close()
