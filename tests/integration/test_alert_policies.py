"""The alert stage with policies, through AlertFunction's handler on moto: the policy's part of a job reaches
the subscribers (attributes a filter policy matches, email lines, the structured notice), and above a site's
cap one digest replaces the individual messages while every alert is still indexed."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from tests.support.alerts import (
    CAMERA_TABLE,
    CLIP_BUCKET,
    DEDUP_TABLE,
    REGION,
    AlertWorld,
    alert_world,
    sample_job,
)

from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.site_rates import SiteRates
from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.config import AlertSettings
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.alert_policy import AlertPolicyInfo, NearMissInfo, SnoozeInfo, WatchlistInfo
from facewatch.domain.policy import Caps
from facewatch.handlers import alerter
from facewatch.services.alert import AlertStage
from facewatch.services.digest import DigestGate
from facewatch.services.snapshot import SnapshotTaker

CAPS = Caps(max_alerts=3, per_minutes=5)
PERIOD_SECONDS = 300.0


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


class Documents:
    """The documents the alert stage handed to the indexer (IndexQueue), by alert id."""

    def __init__(self, world: AlertWorld) -> None:
        self._world = world
        self.seen: dict[str, dict[str, Any]] = {}

    @property
    def writes(self) -> list[tuple[str, str, dict[str, Any]]]:
        for job in self._world.index_jobs():
            self.seen[job["alert_id"]] = job["document"]
        return [("", alert_id, document) for alert_id, document in self.seen.items()]


@pytest.fixture
def index(monkeypatch: pytest.MonkeyPatch, world: AlertWorld) -> Documents:
    """The handler's stage with the digest gate on moto (as the handler builds it)."""
    settings = AlertSettings.from_environ(os.environ)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stage = AlertStage(
        settings,
        ledger=AlertLedger(DEDUP_TABLE, dynamodb),
        clips=ClipStore(CLIP_BUCKET),
        snapshots=SnapshotTaker(images=KvsImages(), store=SnapshotStore(CLIP_BUCKET)),
        cameras=CameraRegistry(CAMERA_TABLE, dynamodb),
        notifier=AlertNotifier(settings.alert_topic_arn),
        index_queue=IndexQueue(settings.index_queue_url),
        queue=JobQueue(settings.alert_dead_letter_queue_url),
        digest=DigestGate(SiteRates(DEDUP_TABLE, dynamodb)),
    )
    monkeypatch.setattr(alerter, "alert_stage", lambda: stage)
    return Documents(world)


def policy(**changes: Any) -> AlertPolicyInfo:
    fields: dict[str, Any] = {"site": "seoul-hq", "rule_id": "strangers", "recipients": ("security", "reception")}
    return AlertPolicyInfo(**{**fields, **changes})


def job(n: int, info: AlertPolicyInfo, seconds: float = 0.0) -> AlertJob:
    """The n-th alert, `seconds` after the sample's frame: a frame of its own, so an alert id of its own."""
    base = sample_job()
    producer = base.producer_timestamp + seconds
    return sample_job(
        fragment_number=str(int(base.fragment_number) + n),
        producer_timestamp=producer,
        server_timestamp=producer + 0.3,
        frame_time=producer + base.frame_offset_seconds,
        policy=info,
    )


def deliver_all(world: AlertWorld, jobs: list[AlertJob]) -> None:
    for each in jobs:  # one at a time, in order: the digest decision follows the alerts' order
        world.send_job(each.to_message())
        world.deliver()


def attributes(envelope: dict[str, Any]) -> dict[str, str]:
    return {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}


def first_messages(world: AlertWorld, queue_url: str | None = None) -> list[dict[str, Any]]:
    """Each alert's first message (the snapshot; the clip follows in a second one), and digests."""
    return [e for e in world.notifications(queue_url) if attributes(e)["event_type"] != "alert_clip"]


def kind(envelope: dict[str, Any]) -> str:
    """What went out: the alert's type for an individual message, alert_digest for a digest."""
    found = attributes(envelope)
    return found["event_type"] if found["event_type"] == "alert_digest" else found["alert_type"]


def test_a_watchlist_match_reaches_subscribers_with_its_type_severity_and_recipients(
    world: AlertWorld, index: Documents
) -> None:
    info = policy(
        alert_type="watchlist_match",
        rule_id="banned",
        severity="critical",
        watchlist=WatchlistInfo(list="banned", entry_id="case-118", similarity=97.5),
        snoozes=(SnoozeInfo(scope="list", target="vip", until=1763780400.0, reason="gala tonight"),),
    )
    deliver_all(world, [job(1, info)])

    [envelope] = first_messages(world)
    assert envelope["Subject"].startswith("facewatch: watchlist match on Lobby entrance")
    assert attributes(envelope) == {
        "camera_id": "seoul-hq-lobby-01",
        "event_type": "alert_snapshot",
        "alert_type": "watchlist_match",
        "site": "SEOUL",
        "zone": "LOBBY",
        "severity": "critical",
        "rule_id": "banned",
        "recipients": '["security","reception"]',
        "sequence": "1",
    }
    notice = json.loads(envelope["Message"])
    assert (notice["event_type"], notice["alert_type"]) == ("alert_snapshot", "watchlist_match")
    assert notice["watchlist"] == {"list": "banned", "entry_id": "case-118", "similarity": 97.5}
    [(_, _, document)] = index.writes  # one document per alert, updated in place by the second message
    assert document["alert_type"] == "watchlist_match"
    assert document["snoozes"][0]["target"] == "vip"
    assert document["notification"] == "individual"


def test_a_near_miss_names_the_closest_employee(world: AlertWorld, index: Documents) -> None:
    deliver_all(world, [job(1, policy(near_miss=NearMissInfo(employee_id="E10442", similarity=86.5)))])

    [envelope] = first_messages(world)
    assert json.loads(envelope["Message"])["near_miss"] == {"employee_id": "E10442", "similarity": 86.5}
    [(_, _, document)] = index.writes
    assert document["near_miss"] == {"employee_id": "E10442", "similarity": 86.5}


def test_a_filter_policy_on_recipients_gets_only_the_alerts_for_it(world: AlertWorld, index: Documents) -> None:
    facilities = world.sqs.create_queue(QueueName="facewatch-test-facilities")["QueueUrl"]
    arn = world.sqs.get_queue_attributes(QueueUrl=facilities, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    world.sns.subscribe(
        TopicArn=world.topic_arn,
        Protocol="sqs",
        Endpoint=arn,
        Attributes={"FilterPolicy": json.dumps({"recipients": ["facilities"]})},
    )

    deliver_all(world, [job(1, policy()), job(2, policy(recipients=("facilities",)), 100.0)])

    [only] = first_messages(world, facilities)
    assert json.loads(only["Message"])["alert_id"] == job(2, policy(recipients=("facilities",)), 100.0).alert_id


def test_above_the_cap_one_digest_replaces_the_individual_messages_and_every_alert_is_indexed(
    world: AlertWorld, index: Documents
) -> None:
    capped = policy(caps=CAPS)
    burst = [job(n, capped, seconds=n * 10.0) for n in range(1, 8)]  # 7 alerts within 70 s

    deliver_all(world, burst)

    envelopes = first_messages(world)
    kinds = [kind(e) for e in envelopes]
    assert kinds == ["unknown_face", "unknown_face", "unknown_face", "alert_digest"]
    digest = envelopes[-1]
    assert digest["Subject"] == "facewatch: digest for seoul-hq: over 3 alerts in 5 min"
    assert json.loads(digest["Message"])["alerts_in_period"] == 4
    assert sorted(alert_id for _, alert_id, _ in index.writes) == sorted(j.alert_id for j in burst)
    by_id = {alert_id: document for _, alert_id, document in index.writes}
    assert [by_id[j.alert_id]["notification"] for j in burst] == [
        "individual", "individual", "individual", "digest", "capped", "capped", "capped",
    ]  # fmt: skip


def test_digest_mode_lasts_a_period_after_the_burst_then_alerts_go_out_one_by_one_again(
    world: AlertWorld, index: Documents
) -> None:
    capped = policy(caps=CAPS)
    start = sample_job().frame_time
    period = int(start // PERIOD_SECONDS) * PERIOD_SECONDS
    in_first = [job(n, capped, seconds=(period - start) + n) for n in range(1, 6)]  # 5 in the first period
    in_second = [job(10 + n, capped, seconds=(period - start) + PERIOD_SECONDS + n) for n in range(1, 3)]
    in_third = [job(20 + n, capped, seconds=(period - start) + 2 * PERIOD_SECONDS + n) for n in range(1, 3)]

    deliver_all(world, [*in_first, *in_second, *in_third])

    kinds = [kind(e) for e in first_messages(world)]
    assert kinds == [
        "unknown_face", "unknown_face", "unknown_face", "alert_digest",  # first period: over the cap at the 4th
        "alert_digest",  # second period: the previous one was over, so one digest and the rest indexed only
        "unknown_face", "unknown_face",  # third period: the second stayed under the cap, the rate dropped
    ]  # fmt: skip
    assert len(index.writes) == 9


def test_a_site_without_caps_makes_no_counter_call(world: AlertWorld, index: Documents) -> None:
    deliver_all(world, [job(n, policy(), seconds=n) for n in range(1, 6)])

    assert len(first_messages(world)) == 5
    assert "Item" not in world.dynamodb.get_item(TableName=DEDUP_TABLE, Key={"pk": {"S": "rate#seoul-hq"}})
