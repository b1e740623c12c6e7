"""Every YAML file given parses, short-form CloudFormation tags (!Ref, !Sub ...) included, with no key twice.

python -m scripts.check_yaml FILE...   (what the pre-commit hook `check-yaml` runs; exit 1 on the first bad file)
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import yaml
from facewatch_local.cfn import TemplateError, read_template


def problems(paths: Sequence[Path]) -> list[str]:
    found = []
    for path in paths:
        try:
            read_template(path)
        except (yaml.YAMLError, TemplateError) as error:
            found.append(f"{path}: {error}")
    return found


def main(argv: Sequence[str] | None = None) -> int:
    found = problems([Path(name) for name in (sys.argv[1:] if argv is None else argv)])
    for problem in found:
        print(problem, file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
