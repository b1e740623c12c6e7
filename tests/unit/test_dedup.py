"""Dedup windows per camera, in event time, and the alert id that names a window."""

from __future__ import annotations

import dataclasses
import itertools
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.records import CAMERA_ID, T0, kvs_stream_arn

from facewatch.domain.dedup import (
    ALERT_ID_HEX_CHARS,
    CameraWindows,
    DedupWindow,
    LateReason,
    Placement,
    alert_id_for,
    place_sighting,
)
from facewatch.domain.records import VideoSource

WINDOW_SECONDS = 60.0
SOURCE = VideoSource(
    stream_arn=kvs_stream_arn(),
    camera_id=CAMERA_ID,
    fragment_number="91343852333181432392682062612240118245634380512",
    producer_timestamp=T0,
    server_timestamp=T0 + 0.294,
    frame_offset_seconds=1.733,
)


def _alerts(frame_times: list[float], window_seconds: float = WINDOW_SECONDS) -> list[float]:
    """The frame times that raise an alert when sightings arrive in this order on one camera."""
    window: DedupWindow | None = None
    raised = []
    for n, frame_time in enumerate(frame_times):
        alert_id = f"{n:032x}"
        if window is not None and window.suppresses(frame_time, alert_id):
            continue
        window = DedupWindow.opened_by(CAMERA_ID, frame_time, alert_id, window_seconds)
        raised.append(frame_time)
    return raised


def test_the_alert_id_is_deterministic_from_the_opening_record() -> None:
    assert alert_id_for(SOURCE, 0) == alert_id_for(dataclasses.replace(SOURCE), 0)


def test_the_alert_id_is_32_lowercase_hex_characters() -> None:
    assert re.fullmatch(rf"[0-9a-f]{{{ALERT_ID_HEX_CHARS}}}", alert_id_for(SOURCE, 0))


OTHER_FRAGMENT = "91343852333181432392682062612240118245634380513"


@pytest.mark.parametrize(
    ("changed", "face_index"),
    [
        pytest.param(SOURCE, 1, id="other-face"),
        pytest.param(dataclasses.replace(SOURCE, frame_offset_seconds=1.933), 0, id="other-frame"),
        pytest.param(dataclasses.replace(SOURCE, fragment_number=OTHER_FRAGMENT), 0, id="other-fragment"),
        pytest.param(
            dataclasses.replace(SOURCE, stream_arn=kvs_stream_arn("gate-2"), camera_id="gate-2"), 0, id="other-camera"
        ),
    ],
)
def test_the_alert_id_differs_for_another_face_frame_fragment_or_camera(changed: VideoSource, face_index: int) -> None:
    assert alert_id_for(changed, face_index) != alert_id_for(SOURCE, 0)


def test_a_window_opens_at_the_sighting_and_lasts_the_window() -> None:
    window = DedupWindow.opened_by(CAMERA_ID, T0, "a" * 32, WINDOW_SECONDS)

    assert (window.camera_id, window.start, window.end, window.alert_id) == (CAMERA_ID, T0, T0 + 60, "a" * 32)


@pytest.mark.parametrize(
    ("frame_time", "alert_id", "suppressed"),
    [
        pytest.param(T0 + 1, "b" * 32, True, id="inside"),
        pytest.param(T0 + 59.999, "b" * 32, True, id="just-before-the-end"),
        pytest.param(T0 + 60, "b" * 32, False, id="at-the-end"),
        pytest.param(T0 + 61, "b" * 32, False, id="after"),
        pytest.param(T0 - 5, "b" * 32, False, id="late-record-from-before-the-window-is-placed-elsewhere"),
        pytest.param(T0, "a" * 32, False, id="the-opening-record-redelivered"),
    ],
)
def test_a_window_suppresses_later_sightings_until_its_end(frame_time: float, alert_id: str, suppressed: bool) -> None:
    window = DedupWindow.opened_by(CAMERA_ID, T0, "a" * 32, WINDOW_SECONDS)

    assert window.suppresses(frame_time, alert_id) is suppressed


def test_two_sightings_one_second_apart_raise_one_alert() -> None:
    assert _alerts([T0, T0 + 1]) == [T0]


def test_sightings_at_t_t30_t61_raise_two_alerts() -> None:
    assert _alerts([T0, T0 + 30, T0 + 61]) == [T0, T0 + 61]


def test_the_next_window_opens_from_the_first_sighting_after_the_end_not_on_a_fixed_grid() -> None:
    assert _alerts([T0, T0 + 61, T0 + 100, T0 + 121]) == [T0, T0 + 61, T0 + 121]


@given(st.lists(st.floats(min_value=0, max_value=3600, allow_nan=False), min_size=1, max_size=50))
def test_alerts_in_time_order_are_at_least_a_window_apart_and_cover_every_sighting(offsets: list[float]) -> None:
    frame_times = sorted(T0 + offset for offset in offsets)

    raised = _alerts(frame_times)

    assert raised[0] == frame_times[0]
    assert all(later - earlier >= WINDOW_SECONDS for earlier, later in itertools.pairwise(raised))
    # every sighting falls in the window of the last alert raised at or before it
    for frame_time in frame_times:
        opener = max(t for t in raised if t <= frame_time)
        assert frame_time - opener < WINDOW_SECONDS


CURRENT = DedupWindow.opened_by(CAMERA_ID, T0 + 200, "c" * 32, WINDOW_SECONDS)  # [200, 260)
PREVIOUS = DedupWindow.opened_by(CAMERA_ID, T0 + 100, "p" * 32, WINDOW_SECONDS)  # [100, 160)
REMEMBERED = CameraWindows(current=CURRENT, previous=PREVIOUS)


def _place(offset: float, alert_id: str = "x" * 32, windows: CameraWindows = REMEMBERED) -> Placement:
    return place_sighting(windows, T0 + offset, alert_id, WINDOW_SECONDS)


def test_a_sighting_in_the_previous_window_is_suppressed_by_it_as_it_would_have_been_in_order() -> None:
    assert _place(130) == Placement(suppressed_by=PREVIOUS)


def test_a_late_sighting_between_the_remembered_windows_with_room_for_its_own_opens_a_late_window() -> None:
    # [160, 200) ends as the current window [200, 260) starts, and starts as the previous one ends
    assert place_sighting(REMEMBERED, T0 + 160, "x" * 32, 40.0) == Placement(late_window=True)


def test_frame_t_behind_a_window_opened_at_t_plus_61_opens_its_own_window() -> None:
    windows = CameraWindows(current=DedupWindow.opened_by(CAMERA_ID, T0 + 61, "c" * 32, WINDOW_SECONDS), previous=None)

    assert _place(0, windows=windows) == Placement(late_window=True)


def test_a_late_sighting_whose_window_would_overlap_the_alerted_one_is_counted_on_it() -> None:
    assert _place(170) == Placement(late_on=CURRENT, late_reason=LateReason.OVERLAPS_ALERTED_WINDOW)


def test_a_sighting_older_than_every_remembered_window_is_counted_with_its_reason() -> None:
    assert _place(50) == Placement(late_on=PREVIOUS, late_reason=LateReason.OLDER_THAN_REMEMBERED)


def test_the_redelivered_opener_of_either_window_is_told_it_opened_it() -> None:
    assert _place(200, alert_id=CURRENT.alert_id) == Placement(opened=CURRENT)
    assert _place(100, alert_id=PREVIOUS.alert_id) == Placement(opened=PREVIOUS)


def test_a_sighting_at_or_after_the_current_end_goes_for_the_next_window() -> None:
    assert _place(260) == Placement(next_window=True)
    assert _place(230) == Placement(suppressed_by=CURRENT)
