"""The image-mode benchmarks run (so their code cannot rot) and say what docs/image-mode.md says."""

from __future__ import annotations

import math

from benchmarks import cost_image_mode, local_detector


def test_the_local_detector_benchmark_measures_frames_per_second_and_finds_the_faces() -> None:
    result = local_detector.run(quick=True)

    assert local_detector.default_frames_per_second(result) > 0
    default = next(r for r in result["rows"] if r["detect_width_px"] == local_detector.DEFAULT_DETECT_WIDTH)
    assert default["faces_found_one face"] == default["faces_drawn_one face"]
    assert default["faces_found_empty"] == 0
    assert "Local face detector on 1 core" in local_detector.tables(result)[0].render()


def test_image_mode_with_the_track_cache_is_cheaper_than_streaming_at_any_share_of_frames_with_faces() -> None:
    result = cost_image_mode.run()

    streaming = result["stream_processor"]["total_usd"]
    assert all(row["cache"]["total_usd"] < streaming for row in result["rows"])
    assert math.isinf(result["break_even_face_frame_share"]["cache"])


def test_without_the_track_cache_image_mode_is_dearer_once_about_half_the_frames_have_a_face() -> None:
    result = cost_image_mode.run()

    break_even = result["break_even_face_frame_share"]["no_cache"]
    assert 0.4 < break_even < 0.5  # 2 frames/s x 2.2 calls x $0.001 vs $0.12 a minute
    by_share = {row["face_frame_share"]: row["no_cache"]["total_usd"] for row in result["rows"]}
    assert by_share[0.25] < result["stream_processor"]["total_usd"] < by_share[0.5]


def test_the_budget_guard_caps_image_modes_calls() -> None:
    capped = cost_image_mode.ImageModeAssumptions(face_frame_share=1.0, research_after_seconds=0.0)

    detect, search, _ = capped.calls_per_month()

    assert detect + search == capped.max_calls_per_minute * 730 * 60
