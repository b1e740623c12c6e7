"""The demo summary's 'first alert' line: from `make demo`'s start when the Makefile says when that was."""

from __future__ import annotations

from facewatch_local.demo import time_to_first_alert


def test_from_make_demo_it_splits_the_wait_into_install_and_demo() -> None:
    line = time_to_first_alert(first_printed_at=1_045.5, demo_started_at=1_030.0, make_started_at=1_000.0)

    assert line == (
        "first alert  printed 45.5 s after `make demo` started "
        "(virtualenv and install 30.0 s, demo 15.5 s; target < 60 s from a fresh clone)"
    )


def test_without_make_it_counts_from_the_demo() -> None:
    assert time_to_first_alert(1_012.0, 1_000.0, None) == "first alert  printed 12.0 s after the demo started"


def test_a_start_time_after_the_demo_began_is_not_believed() -> None:
    assert time_to_first_alert(1_012.0, 1_000.0, 1_005.0) == "first alert  printed 12.0 s after the demo started"


def test_no_alert_is_said() -> None:
    assert time_to_first_alert(None, 1_000.0, 990.0) == "first alert  none printed"
