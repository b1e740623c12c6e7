"""docs/image-mode.md's settings and the systemd unit agree with `facewatch sampler run` itself."""

from __future__ import annotations

import argparse
import re

import pytest
from facewatch_cli.main import build_parser
from facewatch_cli.sampler import ENV_PREFIX
from tests.support.docs import ROOT, page

UNIT = (ROOT / "deploy" / "systemd" / "facewatch-sampler@.service").read_text()
SECTION = page("image-mode.md")
_ROW = re.compile(r"^\| `(--[a-z-]+)`(?:, `(--[a-z-]+)`)? \| (.+?) \|", re.MULTILINE)


def run_parser() -> argparse.ArgumentParser:
    parser = build_parser()
    groups = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    sampler = groups.choices["sampler"]
    commands = next(a for a in sampler._actions if isinstance(a, argparse._SubParsersAction))
    return commands.choices["run"]


def options() -> dict[str, argparse.Action]:
    return {flag: action for action in run_parser()._actions for flag in action.option_strings if flag != "-h"}


def documented() -> dict[str, str]:
    rows: dict[str, str] = {}
    for first, second, default in _ROW.findall(SECTION):
        for flag in filter(None, (first, second)):
            rows[flag] = default
    return rows


def test_the_settings_table_lists_every_option_of_the_command() -> None:
    assert set(documented()) == set(options()) - {"--help"}


def shown(value: object) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


PLAIN_DEFAULTS = {flag: value.strip("`") for flag, value in documented().items() if re.fullmatch(r"`[^`$]+`", value)}


@pytest.mark.parametrize(("flag", "default"), sorted(PLAIN_DEFAULTS.items()))
def test_the_documented_default_is_the_commands_default(flag: str, default: str) -> None:
    assert shown(options()[flag].default) == default


def test_every_variable_the_unit_and_docs_name_is_an_option() -> None:
    names = set(re.findall(rf"{ENV_PREFIX}[A-Z_]+", UNIT + SECTION)) - {f"{ENV_PREFIX}<OPTION>"}
    known = {ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper() for flag in options()}

    assert names
    assert names <= known


def test_the_unit_runs_the_command_for_its_instance() -> None:
    assert "ExecStart=/opt/facewatch-sampler/bin/facewatch sampler run" in UNIT
    assert "Environment=FACEWATCH_SAMPLER_CAMERA=%i" in UNIT
