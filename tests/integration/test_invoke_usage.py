"""`make invoke` used wrongly: one line on stderr saying what to do, a non-zero exit, no traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from facewatch_local.invoke import main

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"


def _usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    status = main(argv)

    captured = capsys.readouterr()
    assert status == 2
    assert captured.out == ""
    [line] = captured.err.splitlines()
    assert line.startswith("facewatch invoke: ")
    return line


def test_without_arguments_it_says_which_function_and_event_to_pass(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error([], capsys)

    assert "no FUNCTION given" in line
    assert "make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json" in line


def test_without_an_event_it_names_an_example_event_for_that_function(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(["--function", "AlertFunction", "--event", ""], capsys)

    assert "EVENT=events/alerter-unknown-face.json" in line


def test_an_unknown_function_is_named_with_the_ones_there_are(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(["--function", "Detector", "--event", str(EVENTS / "detector-unknown-face.json")], capsys)

    assert "unknown function 'Detector': one of DetectorFunction, AlertFunction" in line


def test_a_missing_event_file_is_named(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(["--function", "DetectorFunction", "--event", "events/no-such-event.json"], capsys)

    assert "no event file events/no-such-event.json" in line


@pytest.mark.parametrize(
    ("function", "event", "owner"),
    [
        ("DetectorFunction", "alerter-unknown-face.json", "AlertFunction"),
        ("AlertFunction", "detector-unknown-face.json", "DetectorFunction"),
    ],
)
def test_an_event_for_the_other_function_is_refused_naming_whose_it_is(
    function: str, event: str, owner: str, capsys: pytest.CaptureFixture[str]
) -> None:
    line = _usage_error(["--function", function, "--event", str(EVENTS / event)], capsys)

    assert f"is not an event for {function}: it is an event for {owner}" in line


def test_an_event_of_no_known_source_says_what_the_function_takes(capsys: pytest.CaptureFixture[str]) -> None:
    line = _usage_error(
        ["--function", "DetectorFunction", "--event", str(EVENTS / "processor-control-create.json")], capsys
    )

    assert "DetectorFunction takes aws:kinesis records" in line


def test_a_file_that_is_not_json_is_named(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")

    line = _usage_error(["--function", "DetectorFunction", "--event", str(broken)], capsys)

    assert f"{broken} is not JSON" in line


def test_the_module_run_without_arguments_prints_no_traceback() -> None:
    run = subprocess.run(
        [sys.executable, "-m", "facewatch_local.invoke"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert run.returncode == 2
    assert "Traceback" not in run.stderr
    assert len(run.stderr.splitlines()) == 1
