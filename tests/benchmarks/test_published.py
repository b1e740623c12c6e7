"""docs/performance.md shows the committed run (benchmarks/results/published.json), rendered, not typed."""

from __future__ import annotations

import json
import subprocess
import sys

from benchmarks.publish import PUBLISHED
from tests.support.docs import ROOT, page

SECTIONS = ("machine", "throughput", "call_economy", "cold_start", "cost", "targets")


def test_the_performance_page_is_rendered_from_the_published_run() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "benchmarks.publish", "--check"], cwd=ROOT, capture_output=True, text=True
    )

    assert result.returncode == 0, result.stderr


def test_the_published_run_is_a_full_run_with_every_section_and_the_cold_start_ratios() -> None:
    published = json.loads(PUBLISHED.read_text())
    cold_start = published["cold_start"]

    assert published["quick"] is False
    assert set(SECTIONS) <= set(published)
    assert cold_start["whole_process"]["runs"] >= 10
    assert set(cold_start["whole_process"]["ratio_to_boto3"]) == {"detector", "alerter"}
    assert "Cold start, whole process" in page("performance.md")
