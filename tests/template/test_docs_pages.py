"""The documentation tells a deployer and a newcomer what they need, and stays in step with template.yaml."""

import re
import subprocess
import sys

import pytest
from facewatch_local.stack import load_template
from scripts.doc_parameters import parameter_table
from tests.support.docs import ROOT, page, readme

README_MAX_LINES = 200


def test_the_parameter_table_is_rendered_from_the_current_template():
    result = subprocess.run(
        [sys.executable, "-m", "scripts.doc_parameters", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert parameter_table(load_template()) in page("parameters.md")


@pytest.mark.parametrize("name", list(load_template()["Parameters"]))
def test_every_parameter_is_documented_with_its_default(name):
    spec = load_template()["Parameters"][name]
    row = next(line for line in page("parameters.md").splitlines() if line.startswith(f"| `{name}` |"))
    default = spec.get("Default", "")
    assert (f"`{default}`" if default != "" else "(empty)") in row
    assert spec["Description"].split(".")[0].replace("|", "\\|") in row


@pytest.mark.parametrize("name", list(load_template()["Outputs"]))
def test_every_output_is_named_in_the_deploy_guide(name):
    assert f"`{name}`" in page("deploy.md")


def test_the_readme_is_short_and_its_first_screen_shows_the_two_commands():
    lines = readme().splitlines()
    first_screen = "\n".join(lines[:30])

    assert len(lines) <= README_MAX_LINES
    assert "make demo" in first_screen
    assert "make test" in first_screen


def test_the_readme_says_which_mode_a_new_account_can_deploy():
    text = readme()

    assert "image mode is the\nonly mode a new account can deploy" in text
    assert "2026-04-30" in text


def test_every_page_the_readme_links_exists():
    linked = re.findall(r"\]\((docs/[^)#]+)", readme())
    assert linked
    assert [path for path in linked if not (ROOT / path).is_file()] == []


def test_the_ci_script_runs_the_readme_test_command():
    assert "make test" in (ROOT / ".ci" / "run").read_text()
