"""docs/performance.md's tables, rendered from a `make bench` results file (one source of truth: the figures
on the page are the ones a run wrote, never typed in).

python -m benchmarks.publish                     # benchmarks/results/latest.json -> published.json and the page
python -m benchmarks.publish --check             # exit 1 when the page is not what published.json renders
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PAGE = ROOT / "docs" / "performance.md"
LATEST = ROOT / "benchmarks" / "results" / "latest.json"
# The run the page shows, committed beside the page so that a check can re-render it.
PUBLISHED = ROOT / "benchmarks" / "results" / "published.json"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"


def render_tables(results: dict[str, Any]) -> str:
    """Every table `make bench` prints, in its order, from a results document."""
    from benchmarks import call_economy, cold_start, cost, throughput
    from benchmarks.__main__ import targets_table
    from benchmarks.report import describe_machine

    packages = ", ".join(f"{name} {version}" for name, version in results["machine"]["packages"].items())
    header = (
        f"Run of {results['started_at']} ({results['seconds']:.0f} s) on {describe_machine(results['machine'])}; "
        f"{packages}."
    )
    tables = [
        *throughput.tables(results["throughput"]),
        *call_economy.tables(results["call_economy"]),
        *cold_start.tables(results["cold_start"]),
        *cost.tables(results["cost"]),
        targets_table(results["targets"]),
    ]
    return "\n\n".join([header, *(table.render() for table in tables)])


def render(page: str, results: dict[str, Any]) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    if not pattern.search(page):
        raise ValueError(f"{PAGE.name} has no {START} ... {END} section")
    return pattern.sub(lambda _: f"{START}\n{render_tables(results)}\n{END}", page)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.publish", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare the page with published.json, change nothing")
    parser.add_argument("--results", type=Path, default=LATEST, help="the run to publish (default: %(default)s)")
    args = parser.parse_args(argv)
    if args.check:
        current = PAGE.read_text()
        if current != render(current, json.loads(PUBLISHED.read_text())):
            print(f"{PAGE.name} differs from {PUBLISHED.name}: python -m benchmarks.publish", file=sys.stderr)
            return 1
        return 0
    results = json.loads(args.results.read_text())
    if results.get("quick"):
        print(f"{args.results} is a --quick run: its figures mean nothing; run make bench", file=sys.stderr)
        return 1
    if args.results.resolve() != PUBLISHED.resolve():
        shutil.copyfile(args.results, PUBLISHED)
    PAGE.write_text(render(PAGE.read_text(), results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
