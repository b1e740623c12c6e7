"""Renders docs/parameters.md's parameter table from template.yaml (one source of truth).

python -m scripts.doc_parameters          # rewrite the table in docs/parameters.md
python -m scripts.doc_parameters --check  # exit 1 when docs/parameters.md is out of date
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

from facewatch_local.stack import TEMPLATE_PATH, load_template

PAGE = Path(__file__).resolve().parent.parent / "docs" / "parameters.md"
START, END = "<!-- parameters:start -->", "<!-- parameters:end -->"


def parameter_table(template: dict) -> str:
    rows = ["| Parameter | Default | What it does |", "|---|---|---|"]
    for name, spec in template["Parameters"].items():
        default = spec.get("Default", "")
        shown = f"`{default}`" if default != "" else "(empty)"
        bounds = []
        if "AllowedValues" in spec:
            bounds.append("one of " + ", ".join(f"`{value}`" for value in spec["AllowedValues"]))
        if "MinValue" in spec or "MaxValue" in spec:
            bounds.append(f"{spec.get('MinValue', 'any')} to {spec.get('MaxValue', 'any')}")
        description = spec.get("Description", "").replace("|", "\\|")
        extra = f" ({'; '.join(bounds)})" if bounds else ""
        rows.append(f"| `{name}` | {shown} | {description}{extra} |")
    return "\n".join(rows)


def render(page: str, template: dict) -> str:
    pattern = re.compile(re.escape(START) + ".*?" + re.escape(END), re.DOTALL)
    return pattern.sub(lambda _: f"{START}\n{parameter_table(template)}\n{END}", page)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = PAGE.read_text()
    wanted = render(current, load_template(TEMPLATE_PATH))
    if args.check:
        if current != wanted:
            print(f"{PAGE.name}'s parameter table is out of date: python -m scripts.doc_parameters", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
