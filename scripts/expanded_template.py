"""Prints template.yaml as the SAM transform receives it (AWS::LanguageExtensions applied: Fn::ForEach
expanded for the default parameters), as JSON, for scanners that do not expand it themselves (checkov).

python -m scripts.expanded_template > template-expanded.json
"""

from __future__ import annotations

import json
import sys

from facewatch_local.cfn import TEMPLATE_PATH, load_template


def main() -> int:
    json.dump(load_template(TEMPLATE_PATH), sys.stdout, indent=1)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
