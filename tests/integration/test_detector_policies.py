"""The detector under alert policies, through its real handler on moto: the policies come from PolicyTable
through the cache (one Query per period, none per record: counted on the detector's own client), and each
rule's outcome shows in what the detector queued, stored and counted."""

from __future__ import annotations

import itertools
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.detector import DetectorHarness, FakeClock, suppressed_count_updates, window_claims
from tests.support.kinesis import failed_sequence_numbers, kinesis_event
from tests.support.logs import emf_metric_sets
from tests.support.records import CAMERA_ID, T0, employee_face, frame_at, unknown_face

from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.policy_store import POLICY_CACHE_SECONDS, PolicyCache, PolicyStore
from facewatch.adapters.quarantine import Quarantine
from facewatch.config import DetectorSettings
from facewatch.domain.policy import SitePolicy
from facewatch.domain.watchlists import Snooze, WatchlistEntry, watchlist_image_id
from facewatch.services.detect import Detector

SEOUL = ZoneInfo("Asia/Seoul")
GARAGE = "seoul-hq-garage-b2"
DYNAMODB_WRITES = ("UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
# T0 is 2025-11-22 11:00:00 in Seoul (a Saturday): "closed" from 11:01 on, in this test's world.
NIGHT = {"windows": [{"days": "mon-sun", "start": "20:00", "end": "07:00"}]}
CLOSED_FROM_1101 = {"windows": [{"days": "sat", "start": "11:01", "end": "20:00"}]}


def site(*rules: dict[str, Any], **extra: Any) -> SitePolicy:
    return SitePolicy.model_validate(
        {
            "site": "seoul-hq",
            "timezone": "Asia/Seoul",
            "cameras": {CAMERA_ID: {}, GARAGE: {}},
            "rules": list(rules),
            **extra,
        }
    )


class Policies:
    """PolicyTable as the CLI fills it, and a detector container whose cache reads it."""

    def __init__(self, harness: DetectorHarness) -> None:
        self.harness = harness
        self.store = PolicyStore(harness.stack.policy_table_name, harness._look["dynamodb"])
        self.monotonic = FakeClock(1000.0)

    def apply(self, policy: SitePolicy) -> None:
        self.store.apply(policy, by="test", note="", now=T0)

    def container(self, **env: str) -> Detector:
        settings = DetectorSettings.from_environ({**self.harness.env, **env})
        detector = Detector(
            settings=settings,
            windows=DedupWindows(settings.dedup_table_name, self.harness.dynamodb),
            queue=AlertQueue(settings.alert_queue_url, self.harness.sqs),
            quarantine=Quarantine(settings.quarantine_bucket_name, self.harness.s3),
            clock=self.harness.clock,
            policies=PolicyCache(
                PolicyStore(settings.policy_table_name, self.harness.dynamodb),
                employee_match_threshold=settings.employee_match_threshold,
                default_dedup_window_seconds=settings.dedup_window_seconds,
                clock=self.monotonic,
            ),
        )
        self.harness.container = detector
        return detector


@pytest.fixture
def policies(harness: DetectorHarness) -> Policies:
    return Policies(harness)


def jobs(harness: DetectorHarness) -> list[dict[str, Any]]:
    return sorted((job.body for job in harness.alert_jobs()), key=lambda body: body["frame_time"])


def policy_queries(harness: DetectorHarness) -> int:
    return sum(1 for c in harness.calls.calls if c.service == "dynamodb" and c.operation == "Query")


def test_the_policy_cache_reads_the_table_once_per_period_never_per_record(
    harness: DetectorHarness, policies: Policies
) -> None:
    policies.apply(site({"type": "unknown_face", "id": "strangers"}))
    policies.container()
    records = [frame_at(n * 0.5, [employee_face()]) for n in range(200)] + [frame_at(200.0 + n) for n in range(5)]

    for batch in itertools.batched(records, 25):
        assert failed_sequence_numbers(harness.invoke(kinesis_event(list(batch)))) == []

    assert policy_queries(harness) == 1, "one Query for 205 records in 9 batches"
    policies.monotonic.now += POLICY_CACHE_SECONDS
    harness.invoke(kinesis_event([frame_at(300.0, [employee_face()])]))
    assert policy_queries(harness) == 2, "the next record after the period reads the table again"


def test_a_policy_change_takes_effect_within_the_cache_period(harness: DetectorHarness, policies: Policies) -> None:
    policies.apply(site({"type": "unknown_face", "id": "strangers", "enabled": False}))
    policies.container()
    harness.invoke(kinesis_event([frame_at(0.0), frame_at(1.0)]))
    assert jobs(harness) == []

    policies.apply(site({"type": "unknown_face", "id": "strangers", "confirm_sightings": 1}))
    policies.monotonic.now += POLICY_CACHE_SECONDS
    harness.invoke(kinesis_event([frame_at(2.0)]))

    [job] = jobs(harness)
    assert job["policy"]["rule_id"] == "strangers"


def test_confirmation_needs_n_sightings_within_t_and_the_alert_lists_the_frames(
    harness: DetectorHarness, policies: Policies, capsys: pytest.CaptureFixture[str]
) -> None:
    policies.apply(site({"type": "unknown_face", "id": "strangers", "confirm_sightings": 2, "confirm_seconds": 10}))
    policies.container()

    harness.invoke(kinesis_event([frame_at(0.0)]))  # one blurred-employee-like sighting: no alert
    harness.invoke(kinesis_event([frame_at(30.0), frame_at(32.0)]))

    [job] = jobs(harness)
    assert job["frame_time"] == pytest.approx(T0 + 32.0)
    confirmation = job["policy"]["confirmation"]
    assert (confirmation["sightings_needed"], confirmation["within_seconds"]) == (2, 10.0)
    assert [f["frame_time"] for f in confirmation["frames"]] == pytest.approx([T0 + 30.0, T0 + 32.0])
    per_camera = [m for m in emf_metric_sets(capsys.readouterr().out) if "RecordsProcessed" not in m]
    assert sum(m.get("NotAlerted_unconfirmed", 0) for m in per_camera) == 2


def test_a_near_miss_alerts_with_the_closest_employee(harness: DetectorHarness, policies: Policies) -> None:
    policies.apply(site({"type": "unknown_face", "id": "strangers", "confirm_sightings": 1}))
    policies.container(EMPLOYEE_MATCH_THRESHOLD="90")

    harness.invoke(kinesis_event([frame_at(0.0, [employee_face("E10442", similarity=86.5)])]))

    [job] = jobs(harness)
    assert job["policy"]["near_miss"] == {"employee_id": "E10442", "similarity": 86.5}


def test_a_banned_person_raises_a_watchlist_match_in_a_window_of_its_own(
    harness: DetectorHarness, policies: Policies
) -> None:
    policies.apply(
        site(
            {"type": "unknown_face", "id": "strangers", "confirm_sightings": 1},
            {"type": "watchlist", "id": "banned", "list": "banned", "severity": "critical"},
        )
    )
    policies.store.put_entry(
        WatchlistEntry(
            list="banned",
            entry_id="case-118",
            reason="trespass notice",
            added_at=T0 - 86_400,
            expires_at=T0 + 86_400,
            added_by="ops",
        )
    )
    policies.container()
    banned = employee_face(watchlist_image_id("banned", "case-118"), similarity=97.0)

    harness.invoke(kinesis_event([frame_at(0.0), frame_at(5.0, [banned]), frame_at(6.0, [banned])]))

    by_type = {job["policy"]["alert_type"]: job for job in jobs(harness)}
    assert set(by_type) == {"unknown_face", "watchlist_match"}, "the stranger's window does not hide the banned person"
    assert by_type["watchlist_match"]["policy"]["watchlist"]["entry_id"] == "case-118"
    assert harness.window_item(CAMERA_ID) is not None
    assert harness.window_item(f"{CAMERA_ID}#banned") is not None


def test_after_hours_alerts_on_an_employee_while_armed_only(harness: DetectorHarness, policies: Policies) -> None:
    policies.apply(site({"type": "after_hours", "id": "closed", "schedule": CLOSED_FROM_1101}))
    policies.container()
    closed = datetime(2025, 11, 22, 11, 1, tzinfo=SEOUL).timestamp() - T0 + 5.0

    harness.invoke(kinesis_event([frame_at(0.0, [employee_face()]), frame_at(closed, [employee_face()])]))

    [job] = jobs(harness)
    assert job["policy"]["alert_type"] == "after_hours"
    assert job["unmatched_faces_in_frame"] == 0
    assert "E10442" not in str(job), "an after-hours alert does not name the employee"


def test_a_snoozed_camera_raises_nothing_until_the_snooze_ends(harness: DetectorHarness, policies: Policies) -> None:
    policies.apply(site({"type": "unknown_face", "id": "strangers", "confirm_sightings": 1}))
    policies.store.put_snooze(
        Snooze(
            snooze_id="s1",
            scope="camera",
            target=CAMERA_ID,
            starts_at=T0,
            until=T0 + 60.0,
            reason="cleaning",
            by="guard-1",
        )
    )
    policies.container()

    harness.invoke(kinesis_event([frame_at(10.0), frame_at(30.0), frame_at(70.0)]))

    [job] = jobs(harness)
    assert job["frame_time"] == pytest.approx(T0 + 70.0)


def test_faces_that_raise_no_alert_are_counted_on_the_windows_alert_item_within_two_writes_per_alert(
    harness: DetectorHarness, policies: Policies
) -> None:
    policies.apply(
        site(
            {"type": "unknown_face", "id": "strangers", "confirm_sightings": 1},
            {"type": "after_hours", "id": "x", "schedule": NIGHT, "include_employees": False},
        )
    )
    policies.container()
    records = [frame_at(0.0), frame_at(5.0, [employee_face()]), frame_at(6.0, [unknown_face(confidence=50.0)])]
    records += [frame_at(10.0), frame_at(70.0)]  # a suppressed sighting, then the next window

    harness.invoke(kinesis_event(records))

    first, _ = jobs(harness)
    item = harness.alert_item(first["alert_id"])
    assert item is not None
    assert (item["suppressed_count"], item["not_alerted_employee_match"], item["not_alerted_low_confidence"]) == (
        1,
        1,
        1,
    )
    writes = [c for c in harness.calls.calls if c.service == "dynamodb" and c.operation in DYNAMODB_WRITES]
    assert len(window_claims(writes)) == 2
    assert len(suppressed_count_updates(writes)) == 1
    assert len(writes) / 2 <= 2, "DynamoDB writes per alert"
