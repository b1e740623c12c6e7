"""The sampler's pure decisions, with plain values: sampling grid, tracks, budget, backoff, geometry."""

from __future__ import annotations

import pytest
from facewatch_sampler.backoff import Backoff
from facewatch_sampler.budget import CallBudget
from facewatch_sampler.geometry import Box, iou
from facewatch_sampler.schedule import SamplingSchedule
from facewatch_sampler.tracks import TrackCache


def sampled(schedule: SamplingSchedule, times: list[float]) -> list[float]:
    return [t for t in times if schedule.due(t)]


def test_a_25_fps_camera_sampled_at_2_fps_yields_a_frame_every_half_second() -> None:
    # given
    frames = [round(i / 25, 3) for i in range(100)]  # 4 s of a 25 fps camera

    # when
    kept = sampled(SamplingSchedule(2.0), frames)

    # then
    assert kept == [0.0, 0.52, 1.0, 1.52, 2.0, 2.52, 3.0, 3.52]


def test_after_a_gap_the_grid_restarts_instead_of_bursting_to_catch_up() -> None:
    schedule = SamplingSchedule(2.0)

    kept = sampled(schedule, [0.0, 0.5, 1.0, 7.3, 7.4, 7.8, 8.3])

    assert kept == [0.0, 0.5, 1.0, 7.3, 7.8, 8.3]


def test_time_stepping_back_restarts_the_grid() -> None:
    schedule = SamplingSchedule(2.0)

    kept = sampled(schedule, [100.0, 100.5, 3.0, 3.2, 3.5])

    assert kept == [100.0, 100.5, 3.0, 3.5]


def test_iou_of_boxes() -> None:
    a = Box(0.1, 0.1, 0.2, 0.2)
    assert iou(a, a) == pytest.approx(1.0)
    assert iou(a, Box(0.5, 0.5, 0.1, 0.1)) == 0.0
    assert iou(a, Box(0.2, 0.1, 0.2, 0.2)) == pytest.approx(1 / 3)


def test_a_box_inside_a_crop_maps_back_to_frame_ratios() -> None:
    crop = Box(0.5, 0.2, 0.2, 0.4)

    face = Box(0.25, 0.25, 0.5, 0.5).within(crop)

    assert (face.left, face.top, face.width, face.height) == pytest.approx((0.55, 0.3, 0.1, 0.2))


def test_a_face_moving_a_little_between_frames_keeps_its_track_and_cached_result() -> None:
    # given a face searched at t=0
    tracks = TrackCache[str](iou_threshold=0.3, forget_after_seconds=2.0)
    (first,) = tracks.observe([Box(0.10, 0.2, 0.1, 0.2)], now=0.0)
    tracks.remember(first.track_id, "unknown", now=0.0, reuse_for_seconds=10.0)

    # when it moves by a third of its width half a second later
    (moved,) = tracks.observe([Box(0.13, 0.2, 0.1, 0.2)], now=0.5)

    # then
    assert moved.track_id == first.track_id
    assert moved.cached == "unknown"


def test_a_cached_result_expires_after_its_reuse_interval() -> None:
    tracks = TrackCache[str](iou_threshold=0.3, forget_after_seconds=2.0)
    box = Box(0.1, 0.2, 0.1, 0.2)
    (face,) = tracks.observe([box], now=0.0)
    tracks.remember(face.track_id, "unknown", now=0.0, reuse_for_seconds=10.0)
    for t in (0.5 * i for i in range(1, 20)):  # seen every half second up to 9.5 s
        assert tracks.observe([box], now=t)[0].cached == "unknown"

    (later,) = tracks.observe([box], now=10.0)

    assert later.track_id == face.track_id
    assert later.cached is None


def test_a_track_not_seen_for_a_while_is_forgotten() -> None:
    tracks = TrackCache[str](iou_threshold=0.3, forget_after_seconds=2.0)
    box = Box(0.1, 0.2, 0.1, 0.2)
    (face,) = tracks.observe([box], now=0.0)
    tracks.remember(face.track_id, "employee", now=0.0, reuse_for_seconds=10.0)
    tracks.observe([], now=1.0)

    (back,) = tracks.observe([box], now=3.0)  # the person left and someone stands in the same place

    assert back.track_id != face.track_id
    assert back.cached is None


def test_two_faces_keep_their_own_tracks() -> None:
    tracks = TrackCache[str](iou_threshold=0.3, forget_after_seconds=2.0)
    left, right = tracks.observe([Box(0.1, 0.2, 0.1, 0.2), Box(0.6, 0.2, 0.1, 0.2)], now=0.0)
    tracks.remember(left.track_id, "employee", now=0.0, reuse_for_seconds=10.0)

    again = tracks.observe([Box(0.62, 0.2, 0.1, 0.2), Box(0.12, 0.2, 0.1, 0.2)], now=0.5)

    assert [(face.track_id, face.cached) for face in again] == [(right.track_id, None), (left.track_id, "employee")]


def test_the_budget_refuses_calls_beyond_the_limit_within_a_minute() -> None:
    budget = CallBudget(max_calls_per_minute=5)

    assert budget.try_spend(2, now=0.0)
    assert budget.try_spend(3, now=10.0)
    assert not budget.try_spend(1, now=59.9)
    assert budget.remaining(now=59.9) == 0


def test_the_budget_refills_as_calls_leave_the_sliding_minute() -> None:
    budget = CallBudget(max_calls_per_minute=5)
    budget.try_spend(2, now=0.0)
    budget.try_spend(3, now=10.0)

    assert budget.remaining(now=60.0) == 2
    assert not budget.try_spend(3, now=60.0)  # refused whole, nothing spent
    assert budget.try_spend(2, now=60.0)
    assert budget.remaining(now=70.0) == 3


def test_backoff_doubles_up_to_its_ceiling_with_jitter_below_it() -> None:
    backoff = Backoff(base_seconds=1.0, max_seconds=8.0, jitter=lambda: 1.0)

    delays = [backoff.fail(now=0.0) for _ in range(6)]

    assert delays == [1.0, 2.0, 4.0, 8.0, 8.0, 8.0]
    assert Backoff(1.0, 8.0, jitter=lambda: 0.0).fail(now=0.0) == 0.5


def test_backoff_says_when_the_next_attempt_may_be_made_and_resets_on_success() -> None:
    backoff = Backoff(base_seconds=2.0, max_seconds=30.0, jitter=lambda: 1.0)
    backoff.fail(now=100.0)

    assert not backoff.ready(now=101.9)
    assert backoff.ready(now=102.0)
    backoff.succeed()
    assert backoff.ready(now=0.0)
    assert backoff.fail(now=0.0) == 2.0


def test_frame_times_a_hair_before_a_grid_point_count_as_on_it() -> None:
    schedule = SamplingSchedule(2.0)
    start = 1_763_776_800.118

    kept = sampled(schedule, [start + i / 10 for i in range(21)])

    assert [round(t - start, 3) for t in kept] == [0.0, 0.5, 1.0, 1.5, 2.0]
