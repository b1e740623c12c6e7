"""The README documents what a deployer and a newcomer need, and stays in step with template.yaml."""

import subprocess
import sys
from pathlib import Path

import pytest
from facewatch_local.stack import load_template
from scripts.doc_parameters import parameter_table

ROOT = Path(__file__).resolve().parents[2]
README = (ROOT / "README.md").read_text()


def test_the_parameter_table_is_rendered_from_the_current_template():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.doc_parameters", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert parameter_table(load_template()) in README


@pytest.mark.parametrize("name", list(load_template()["Parameters"]))
def test_every_parameter_is_documented_with_its_default(name):
    spec = load_template()["Parameters"][name]
    row = next(line for line in README.splitlines() if line.startswith(f"| `{name}` |"))
    default = spec.get("Default", "")
    assert (f"`{default}`" if default != "" else "(empty)") in row
    assert spec["Description"].split(".")[0].replace("|", "\\|") in row


@pytest.mark.parametrize("name", list(load_template()["Outputs"]))
def test_every_output_is_named_in_the_deploy_guide(name):
    assert f"`{name}`" in README


def test_the_first_screen_shows_the_two_commands():
    first_screen = "\n".join(README.splitlines()[:30])
    assert "make demo" in first_screen
    assert "make test" in first_screen


def test_the_ci_script_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
