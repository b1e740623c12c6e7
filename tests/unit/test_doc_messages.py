"""docs/alerts-and-messages.md shows the messages as the code renders them (scripts/doc_messages.py)."""

from __future__ import annotations

import re

from scripts.doc_messages import PAGE, render, renderings


def test_the_page_shows_what_the_code_renders_now() -> None:
    page = PAGE.read_text()

    assert page == render(page), "run: python -m scripts.doc_messages"


def test_every_rendering_has_its_place_on_the_page() -> None:
    page = PAGE.read_text()

    for name, (_, text) in renderings().items():
        block = re.search(
            f"<!-- message:{name}:start -->\n```[a-z]+\n(.*?)\n```\n<!-- message:{name}:end -->", page, re.S
        )
        assert block is not None, name
        assert block.group(1) == text


def test_the_slack_example_shows_the_face_crop_as_an_image() -> None:
    _, slack = renderings()["slack-snapshot"]

    assert '"type": "image"' in slack
    assert "-crop.jpg" in slack
