"""The one rule for camera ids (facewatch.domain.cameras.camera_id_problem): a camera id becomes a path
segment (clip keys, email links, downloaded file names) and a metric dimension."""

from __future__ import annotations

import pytest

from facewatch.domain.cameras import MAX_CAMERA_ID_CHARS, camera_id_problem


@pytest.mark.parametrize(
    "camera_id",
    ["facewatch_SeoulLobby01", "seoul-hq-lobby-01", "a", "a.b", ".hidden", "x" * MAX_CAMERA_ID_CHARS],
)
def test_a_stream_name_of_safe_characters_is_a_camera_id(camera_id: str) -> None:
    assert camera_id_problem(camera_id) is None


@pytest.mark.parametrize(
    ("camera_id", "problem"),
    [
        ("", "is empty"),
        (".", "'.' or '..'"),
        ("..", "'.' or '..'"),
        ("a/b", "a slash, space or control character"),
        ("../clips", "a slash, space or control character"),
        ("lobby\n", "a slash, space or control character"),
        ("lobby\x00", "a slash, space or control character"),
        ("lobby cam", "a slash, space or control character"),
        ("로비", "a slash, space or control character"),
        ("x" * (MAX_CAMERA_ID_CHARS + 1), f"over {MAX_CAMERA_ID_CHARS}"),
    ],
)
def test_a_camera_id_that_is_no_safe_path_segment_is_refused_with_a_reason_that_does_not_quote_it(
    camera_id: str, problem: str
) -> None:
    reason = camera_id_problem(camera_id)

    assert reason is not None
    assert problem in reason
    assert not camera_id or camera_id in (".", "..") or camera_id not in reason
