"""The template passes `sam validate --lint` (the SAM transform plus cfn-lint), as CI runs it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPOSITORY = Path(__file__).resolve().parents[2]
# The sam next to this interpreter (the project's virtualenv), else one on PATH.
SAM = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")


@pytest.mark.skipif(SAM is None, reason="the sam CLI is not installed")
def test_sam_validate_with_lint_is_clean() -> None:
    # given
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    # when
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--template-file", "template.yaml"],
        cwd=REPOSITORY,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is a valid SAM Template" in result.stdout + result.stderr
