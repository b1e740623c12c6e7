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

    # then the record succeeds (its frame is long past: no post-roll to wait for), the clip is in S3 and both
    # messages of the alert reached the team's queue
    job = sample_job()
    assert response == {"batchItemFailures": []}
    assert world.clip_keys() == [f"clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"]
    notices = [json.loads(notification["Message"]) for notification in world.notifications()]
    assert [(notice["alert_id"], notice["sequence"]) for notice in notices] == [(job.alert_id, 1), (job.alert_id, 2)]


def test_redelivered_event_after_success_publishes_nothing_more(world: AlertWorld) -> None:
    # given the alert job was handled once
    invoke_alerter(load_event("alerter-unknown-face.json"))

    # when SQS delivers the same message again (third receive)
    response = invoke_alerter(load_event("alerter-redelivered.json"))

    # then it succeeds without a second alert or a second clip
    assert response == {"batchItemFailures": []}
    assert len(world.notifications()) == 2  # the snapshot and the clip, once each
    assert len(world.clip_keys()) == 1


def test_receives_spent_before_the_first_message_do_not_count_as_clip_attempts(world: AlertWorld) -> None:
    # given the camera's video is not in KVS (every GetClip answers ResourceNotFoundException)
    world.kvs.delete_stream(StreamARN=sample_job().kvs_stream_arn)
    event = load_event("alerter-redelivered.json")
    assert event["Records"][0]["attributes"]["ApproximateReceiveCount"] == str(CLIP_MAX_ATTEMPTS)

    # when the job is handled for the first time at its CLIP_MAX_ATTEMPTS-th receive
    response = invoke_alerter(event)

    # then the first message goes out now, without a snapshot, saying why, and the clip gets all its tries:
    # this was its first, so the job comes back
    assert len(response["batchItemFailures"]) == 1
    [notification] = world.notifications()
    notice = json.loads(notification["Message"])
    assert notice["event_type"] == "alert_snapshot"
    assert notice["snapshot"]["status"] == "missing"
    assert notice["clip"]["status"] == "pending"
