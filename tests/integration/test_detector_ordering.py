"""Class 1 of issue 12: no camera window is lost when a Kinesis batch is retried or records arrive late.

Faults are injected below botocore's retry loop (tests/support/sdk_faults.py) on clients configured as
production's (standard retries, four attempts), so the SDK's own retries play their part; Lambda's
redelivery from the lowest failed sequence number is emulated by DetectorHarness.deliver.
"""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.config import Config
from facewatch_local.stack import EmulatedStack
from tests.support.detector import DetectorHarness
from tests.support.kinesis import failed_sequence_numbers, kinesis_event, sequence_numbers
from tests.support.logs import emf_metric_sets
from tests.support.records import CAMERA_ID, T0, frame_at
from tests.support.sdk_faults import SdkFaults, attempts, every, instant_retries

from facewatch.adapters.aws import CLIENT_CONFIG

LOBBY, GARAGE, CORRIDOR = CAMERA_ID, "seoul-hq-garage-b2", "seoul-hq-corridor-3f"
# Production's clients retry three times: four attempts per call.
SDK_ATTEMPTS = 4
NO_SDK_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})


@pytest.fixture(autouse=True)
def _no_backoff_sleeps() -> Iterator[None]:
    with instant_retries():
        yield


@pytest.fixture
def production_clients(
    aws: boto3.session.Session, stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch
) -> DetectorHarness:
    return DetectorHarness(stack, aws, monkeypatch, client_config=CLIENT_CONFIG)


def _alerted(harness: DetectorHarness) -> list[tuple[str, float]]:
    """(camera, seconds after T0) of every alert job queued, sorted."""
    return sorted((job.body["camera_id"], round(job.body["frame_time"] - T0, 3)) for job in harness.alert_jobs())


def test_a_claim_throttled_past_the_sdk_retries_stops_the_batch_and_the_redelivery_alerts_every_window(
    production_clients: DetectorHarness,
) -> None:
    harness = production_clients
    event = kinesis_event([frame_at(0.0), frame_at(61.0), frame_at(122.0)])
    _, second, third = sequence_numbers(event)
    faults = SdkFaults.install(harness.dynamodb)
    faults.throttle("UpdateItem", attempts(2, 3, 4, 5))  # every attempt of the second claim

    first = harness.invoke(event)

    assert failed_sequence_numbers(first) == [second, third], "the record after the failed one is not processed"
    assert faults.attempts("UpdateItem") == 1 + SDK_ATTEMPTS
    harness.deliver({"Records": event["Records"][1:]})
    assert _alerted(harness) == [(LOBBY, 0.0), (LOBBY, 61.0), (LOBBY, 122.0)]


def test_a_failed_send_stops_the_batch_and_the_redelivery_sends_each_window_once(
    production_clients: DetectorHarness,
) -> None:
    harness = production_clients
    event = kinesis_event([frame_at(0.0), frame_at(61.0), frame_at(62.0), frame_at(122.0)])
    faults = SdkFaults.install(harness.sqs)
    faults.throttle("SendMessage", attempts(2, 3, 4, 5))  # the second window's job, every attempt

    responses = harness.deliver(event)

    assert len(responses) == 2
    assert failed_sequence_numbers(responses[0]) == sequence_numbers(event)[1:]
    assert _alerted(harness) == [(LOBBY, 0.0), (LOBBY, 61.0), (LOBBY, 122.0)]
    assert faults.attempts("SendMessage") == 1 + SDK_ATTEMPTS + 2


def _three_cameras_for(windows_per_camera: int) -> list[dict[str, object]]:
    """Each camera sees an unknown face at 0, 61, 122, ... s (one window each) and a second sighting
    1 s later (suppressed); the cameras' records are interleaved as one shard carries them."""
    frames = []
    for n in range(windows_per_camera):
        for offset in (0.0, 1.0):
            frames += [frame_at(n * 61.0 + offset, camera_id=camera) for camera in (LOBBY, GARAGE, CORRIDOR)]
    return frames


@pytest.mark.parametrize("sdk", ["production-retries", "no-sdk-retries"])
def test_every_third_claim_throttled_loses_no_window(
    aws: boto3.session.Session, stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch, sdk: str
) -> None:
    harness = DetectorHarness(
        stack, aws, monkeypatch, client_config=CLIENT_CONFIG if sdk == "production-retries" else NO_SDK_RETRIES
    )
    windows_per_camera = 8
    frames = _three_cameras_for(windows_per_camera)
    faults = SdkFaults.install(harness.dynamodb)
    faults.throttle("UpdateItem", every(3))

    for start in range(0, len(frames), 10):  # BatchSize 10
        harness.deliver(kinesis_event(frames[start : start + 10]), max_invocations=30)

    expected = sorted((camera, n * 61.0) for camera in (LOBBY, GARAGE, CORRIDOR) for n in range(windows_per_camera))
    assert _alerted(harness) == expected
    assert faults.injected("UpdateItem"), "throttles were injected"
    calls = len([c for c in harness.calls.calls if c.operation == "UpdateItem"])
    retried_by_the_sdk = faults.attempts("UpdateItem") - calls
    if sdk == "production-retries":
        assert retried_by_the_sdk == len(faults.injected("UpdateItem")), "each throttle was retried below the handler"
    else:
        assert retried_by_the_sdk == 0, "each throttle failed its record and Lambda redelivered it"


def test_a_late_shard_alerts_the_windows_it_starts_and_counts_the_rest_with_a_reason(
    harness: DetectorHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    # After a reshard, one camera's records come from two child shards read in parallel: the second
    # shard's batch, with older frames, is processed after the first one's.
    shard_a = kinesis_event([frame_at(61.0), frame_at(62.0)], shard_id="shardId-000000000001")
    # [0, 60) ends before 61: a window of its own, which 1 and 30 fall in; 60.5 is after it, and its own
    # window would overlap the alerted [61, 121): counted on that one.
    shard_b = kinesis_event(
        [frame_at(0.0), frame_at(1.0), frame_at(30.0), frame_at(60.5)], shard_id="shardId-000000000002"
    )
    harness.deliver(shard_a)
    [current] = harness.alert_jobs()

    harness.deliver(shard_b)

    [late] = harness.alert_jobs()
    assert round(late.body["frame_time"] - T0, 3) == 0.0, "the late window alerts"
    harness.deliver(kinesis_event([frame_at(200.0)]))  # event time moves on: the windows' counts are written
    assert len(harness.alert_jobs()) == 1
    current_item = harness.alert_item(current.body["alert_id"])
    assert current_item is not None
    assert (current_item["suppressed_count"], current_item["late_count"]) == (1, 1), "62 s; 60.5 s"
    assert harness.suppressed_count(late.body["alert_id"]) == 2, "1 s and 30 s, in the late window"

    # The batch redelivered once the camera is two windows on: older than every remembered window, its
    # records are counted with that reason, not alerted again.
    harness.restart()
    capsys.readouterr()
    harness.deliver(shard_b)

    assert harness.alert_jobs() == []
    [metrics] = emf_metric_sets(capsys.readouterr().out)
    assert metrics["LateSightings_older_than_remembered"] == len(shard_b["Records"])


def test_a_late_record_behind_a_window_opened_61_seconds_after_it_is_alerted_not_suppressed(
    harness: DetectorHarness,
) -> None:
    harness.deliver(kinesis_event([frame_at(61.0)]))
    harness.restart()

    harness.deliver(kinesis_event([frame_at(0.0)], shard_id="shardId-000000000002"))

    assert sorted(round(job.body["frame_time"] - T0, 3) for job in harness.alert_jobs()) == [0.0, 61.0]
    item = harness.window_item(LOBBY)
    assert item is not None
    assert (item["window_start"] - T0, item["prev_start"] - T0) == (61.0, 0.0)
