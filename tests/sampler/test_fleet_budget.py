"""The fleet-wide Rekognition budget: cameras share the account's TPS fairly, stay inside it, back off
when throttled, and count the frames they could not afford. Real analysers and boto3 clients against
the Rekognition stand-in on 127.0.0.1, which enforces a TPS quota per API (benchmarks/fleet_budget.py)."""

from __future__ import annotations

import pytest
from benchmarks.fleet_budget import simulate
from facewatch_sampler.budget import (
    CallBudget,
    CameraBudget,
    TokenBucket,
    camera_share_tps,
    default_account_tps,
    share_bucket,
)


@pytest.mark.parametrize(
    ("region", "tps"), [("us-east-1", 50.0), ("us-west-2", 50.0), ("eu-west-1", 50.0), ("ap-northeast-2", 5.0)]
)
def test_the_default_account_tps_is_the_regions_documented_default(region: str, tps: float) -> None:
    assert default_account_tps(region) == tps


def test_each_camera_gets_an_equal_share_of_the_planned_part_of_the_quota() -> None:
    assert camera_share_tps(50.0, 200) == pytest.approx(0.2)  # 50 x 0.8 / 200
    assert camera_share_tps(5.0, 1, utilisation=1.0) == 5.0


def test_a_token_bucket_refills_at_its_rate_up_to_its_capacity() -> None:
    bucket = TokenBucket(0.5, 2.0, jitter=lambda: 0.0)

    assert not bucket.try_spend(1, now=100.0)  # starts empty (jitter 0)
    assert bucket.try_spend(1, now=102.0)  # 2 s x 0.5
    assert bucket.remaining(now=1000.0) == 2  # capped


def test_a_camera_spends_only_what_both_its_minute_and_its_share_allow() -> None:
    budget = CameraBudget(CallBudget(3), share_bucket(10.0, jitter=lambda: 1.0))

    assert budget.remaining(0.0) == 3  # the minute caps the 10 saved-up tokens
    assert budget.try_spend(3, 0.0)
    assert not budget.try_spend(1, 5.0)
    assert budget.spent == 3


def test_a_fleet_asking_far_more_than_the_quota_stays_inside_it_and_no_camera_starves() -> None:
    # given 20 cameras each asking ~4 calls/s (a new face on every frame) and a quota of 30 TPS per API
    result = simulate(cameras=20, quota_tps=30.0, seconds=4.0)

    # then no API got more than its quota in any second, nothing was throttled
    assert max(result.max_calls_in_a_second.values()) <= 30
    assert result.throttled == 0
    # every camera analysed frames, and each one counted the frames its share could not cover
    assert result.starved == 0
    assert min(result.frames_over_budget) > 0
    # the fleet used its planned share (30 x 0.8 = 24 calls/s) roughly, never more
    assert result.fleet_tps <= 24.0 * 1.1


def test_cameras_configured_above_the_real_quota_are_throttled_and_back_off() -> None:
    # given a fleet told the account has 4x its real quota
    result = simulate(cameras=20, quota_tps=10.0, seconds=4.0, configured_tps=40.0)

    # then the stand-in throttles, the cameras back off (frames dropped while waiting) instead of hammering
    assert result.throttled > 0
    assert sum(result.frames_backing_off) > 0
    assert result.throttled < result.calls / 2
