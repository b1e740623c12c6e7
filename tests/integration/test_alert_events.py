"""events/alerter-*.json replayed through AlertFunction's handler on moto, as `sam local invoke` would."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scripts.make_alert_events import build_events, render
from tests.support.alerts import (
    CLIP_MAX_ATTEMPTS,
    AlertWorld,
    alert_world,
    failed_ids,
    invoke_alerter,
    sample_job,
)

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"


def load_event(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return event


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


@pytest.mark.parametrize("name", sorted(build_events()))
def test_event_file_is_what_the_generator_writes(name: str) -> None:
    # given the generator's output for the current AlertJob model
    expected = render(build_events()[name])

    # when the committed file is read
    committed = (EVENTS_DIR / name).read_text()

    # then they agree: run scripts/make_alert_events.py after changing the job model
    assert committed == expected


@pytest.mark.parametrize("name", ["alerter-unknown-face.json", "alerter-redelivered.json"])
def test_event_bodies_are_alert_jobs_the_detector_would_queue(name: str) -> None:
    body = load_event(name)["Records"][0]["body"]

    assert body == sample_job().to_message()


def test_unknown_face_event_stores_the_clip_and_alerts_once(world: AlertWorld) -> None:
    # given the SQS event for a fresh alert job
    event = load_event("alerter-unknown-face.json")

    # when the handler runs
    response = invoke_alerter(event)

    # then the record succeeds, the clip is in S3 and one alert reached the team's queue
    job = sample_job()
    assert response == {"batchItemFailures": []}
    assert world.clip_keys() == [f"clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"]
    [notification] = world.notifications()
    assert json.loads(notification["Message"])["alert_id"] == job.alert_id


def test_redelivered_event_after_success_publishes_nothing_more(world: AlertWorld) -> None:
    # given the alert job was handled once
    invoke_alerter(load_event("alerter-unknown-face.json"))

    # when SQS delivers the same message again (third receive)
    response = invoke_alerter(load_event("alerter-redelivered.json"))

    # then it succeeds without a second alert or a second clip
    assert response == {"batchItemFailures": []}
    assert len(world.notifications()) == 1
    assert len(world.clip_keys()) == 1


def test_redelivered_event_at_the_last_clip_attempt_alerts_without_a_clip(world: AlertWorld) -> None:
    # given the camera's video is not in KVS (every GetClip answers ResourceNotFoundException)
    world.kvs.delete_stream(StreamARN=sample_job().kvs_stream_arn)
    event = load_event("alerter-redelivered.json")
    assert event["Records"][0]["attributes"]["ApproximateReceiveCount"] == str(CLIP_MAX_ATTEMPTS)

    # when the job arrives for the CLIP_MAX_ATTEMPTS-th time
    response = invoke_alerter(event)

    # then the alert goes out now, without a clip, saying why
    assert response == {"batchItemFailures": []}
    [notification] = world.notifications()
    clip = json.loads(notification["Message"])["clip"]
    assert clip["status"] == "missing"
    assert clip["reason"] == "the video was still not available after 3 attempts (ResourceNotFoundException)"
    assert world.clip_keys() == []


def test_malformed_event_is_dead_lettered_with_the_reason_and_not_retried(world: AlertWorld) -> None:
    # given an alert job without its fragment number
    event = load_event("alerter-malformed.json")

    # when the handler runs
    response = invoke_alerter(event)

    # then the record is not retried, the job is in the DLQ whole with the reason, and nothing went out
    assert failed_ids(response) == []
    [dead] = world.dead_letters()
    assert dead["Body"] == event["Records"][0]["body"]
    assert dead["MessageAttributes"]["reason"]["StringValue"] == "not an alert job: fragment_number: Field required"
    assert world.notifications() == []
    assert world.clip_keys() == []
