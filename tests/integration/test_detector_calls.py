"""What the detector costs in AWS calls: per alert one conditional claim and one suppressed-count write,
none for frames without a sighting and none for a suppressed sighting.

Calls are counted on the detector's own clients with botocore event hooks (tests/support/aws.py).
"""

from __future__ import annotations

import itertools

from tests.support.aws import AwsCall
from tests.support.detector import DetectorHarness, counted, suppressed_count_updates, window_claims
from tests.support.kinesis import failed_sequence_numbers, kinesis_event
from tests.support.records import CAMERA_ID, employee_face, face_search_record, frame_at, frame_time, unknown_face

from facewatch.adapters.alert_ledger import ALERT_ITEM_TTL_SECONDS, alert_key

RECORDS_PER_SECOND = 5
GARAGE = "seoul-hq-garage-b2"
DYNAMODB_WRITES = ("UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")


def _dynamodb_writes(calls: list[AwsCall]) -> list[AwsCall]:
    return [c for c in calls if c.service == "dynamodb" and c.operation in DYNAMODB_WRITES]


def _alert_ids_by_frame_time(harness: DetectorHarness) -> list[tuple[float, str]]:
    return sorted((job.body["frame_time"], job.body["alert_id"]) for job in harness.alert_jobs())


def test_a_person_standing_ten_minutes_costs_ten_claims_and_at_most_ten_count_writes(
    harness: DetectorHarness,
) -> None:
    # One camera, one visitor in every analysed frame for 10 minutes at 5 frames/s, 60 s windows, delivered
    # as Lambda delivers a live stream: a batch about every second.
    records = [frame_at(n / RECORDS_PER_SECOND) for n in range(10 * 60 * RECORDS_PER_SECOND)]
    assert len(records) == 3000

    for batch in itertools.batched(records, RECORDS_PER_SECOND):
        response = harness.invoke(kinesis_event(batch))
        assert failed_sequence_numbers(response) == []

    calls = harness.calls.calls
    claims, count_writes = window_claims(calls), suppressed_count_updates(calls)
    assert len(claims) == 10
    assert len(count_writes) <= 10
    assert harness.calls.by_operation() == {"dynamodb.UpdateItem": 10 + len(count_writes), "sqs.SendMessage": 10}
    assert len(_dynamodb_writes(calls)) / 10 <= 2, "DynamoDB writes per alert"
    # Each ended window's count is written right before the claim of the camera's next window.
    assert [c for c in calls if c.service == "dynamodb"] == [
        claims[0],
        *itertools.chain(*zip(count_writes, claims[1:], strict=True)),
    ]

    openers = _alert_ids_by_frame_time(harness)
    assert len(openers) == 10
    assert all(later - earlier >= 60 for (earlier, _), (later, _) in itertools.pairwise(openers))

    # The last window ends in event time when a later sighting (here on another camera) is seen.
    harness.invoke(kinesis_event([frame_at(700.0, camera_id=GARAGE)]))

    starts = [start for start, _ in openers]
    expected = {
        alert_key(alert_id)["pk"]["S"]: sum(1 for r in records if start < frame_time(r) < end)
        for (start, alert_id), end in zip(openers, [*starts[1:], float("inf")], strict=True)
    }
    assert harness.stored_suppressed_counts() == expected
    assert sum(expected.values()) == len(records) - 10, "every sighting but the openers was suppressed"
    assert len(suppressed_count_updates(harness.calls.calls)) == 10, "one count write per window, each once"


def test_records_without_a_sighting_make_no_aws_call(harness: DetectorHarness) -> None:
    event = kinesis_event(
        [
            face_search_record([]),
            face_search_record([employee_face()]),
            face_search_record([unknown_face(confidence=62.0)]),
            face_search_record([employee_face(), unknown_face(confidence=80.0)]),
        ]
    )

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert harness.calls.calls == []


def test_sightings_suppressed_by_a_cached_window_make_no_aws_call(harness: DetectorHarness) -> None:
    harness.invoke(kinesis_event([frame_at(10.0)]))
    mark = harness.calls.mark()

    harness.invoke(kinesis_event([frame_at(11.0), frame_at(12.0), frame_at(13.0)]))
    harness.invoke(kinesis_event([frame_at(69.9)]))

    assert harness.calls.since(mark) == []
    assert harness.stored_suppressed_counts() == {}, "the count waits for the window's end"


def test_a_batch_without_a_sighting_writes_no_count_even_after_the_window_ended(harness: DetectorHarness) -> None:
    harness.invoke(kinesis_event([frame_at(10.0), frame_at(11.0)]))
    mark = harness.calls.mark()

    harness.invoke(kinesis_event([frame_at(75.0, [employee_face()]), frame_at(76.0, [])]))

    assert harness.calls.since(mark) == []


def test_a_batch_crossing_a_window_end_writes_the_old_windows_count_once_before_the_next_claim(
    harness: DetectorHarness,
) -> None:
    records = [frame_at(10.0), frame_at(20.0), frame_at(71.0), frame_at(80.0), frame_at(90.0)]

    harness.invoke(kinesis_event(records))

    (_, first), (_, second) = _alert_ids_by_frame_time(harness)
    dynamodb = [c for c in harness.calls.calls if c.service == "dynamodb"]
    claims, [update] = window_claims(dynamodb), suppressed_count_updates(dynamodb)
    assert dynamodb == [claims[0], update, claims[1]]
    assert counted(update) == (alert_key(first), 1)
    assert harness.stored_suppressed_counts() == {alert_key(first)["pk"]["S"]: 1}

    # The second window (71-131) has ended by the next batch's sighting at 132: its count, then the next claim.
    mark = harness.calls.mark()
    harness.invoke(kinesis_event([frame_at(100.0), frame_at(132.0)]))

    [update] = suppressed_count_updates(harness.calls.since(mark))
    assert counted(update) == (alert_key(second), 3)
    assert len(window_claims(harness.calls.since(mark))) == 1
    assert harness.stored_suppressed_counts() == {alert_key(first)["pk"]["S"]: 1, alert_key(second)["pk"]["S"]: 3}
    item = harness.window_item(CAMERA_ID)
    assert item is not None
    assert "suppressed_count" not in item, "the camera item holds the current window only"


def test_a_window_that_ended_is_counted_at_the_end_of_a_batch_that_saw_a_later_sighting_elsewhere(
    harness: DetectorHarness,
) -> None:
    harness.invoke(kinesis_event([frame_at(10.0), frame_at(11.0), frame_at(12.0)]))
    [(_, lobby_alert)] = _alert_ids_by_frame_time(harness)
    mark = harness.calls.mark()

    harness.invoke(kinesis_event([frame_at(65.0, camera_id=GARAGE), frame_at(71.0, camera_id=GARAGE)]))

    calls = harness.calls.since(mark)
    [update] = suppressed_count_updates(calls)
    assert counted(update) == (alert_key(lobby_alert), 2)
    assert calls.index(update) == len(calls) - 1, "written at the end of the batch"
    assert harness.suppressed_count(lobby_alert) == 2


def test_counts_from_two_containers_add_up_on_the_same_alert_item(harness: DetectorHarness) -> None:
    first = harness.container
    harness.restart()
    second = harness.container

    harness.container = first
    harness.invoke(kinesis_event([frame_at(10.0), frame_at(11.0)]))  # opens the window, suppresses 1
    harness.container = second
    harness.invoke(kinesis_event([frame_at(12.0), frame_at(13.0)]))  # loses the claim, suppresses 2
    [(_, alert_id)] = _alert_ids_by_frame_time(harness)

    harness.container = first
    harness.invoke(kinesis_event([frame_at(75.0)]))  # the next window: first's count goes first
    written_at = harness.clock.now
    harness.clock.now += 3600.0
    harness.container = second
    harness.invoke(kinesis_event([frame_at(76.0)]))  # past its cached window: its count, then a lost claim

    updates = suppressed_count_updates(harness.calls.calls)
    assert [counted(u) for u in updates] == [(alert_key(alert_id), 1), (alert_key(alert_id), 2)]
    assert harness.suppressed_count(alert_id) == 3
    item = harness.alert_item(alert_id)
    assert item is not None
    assert item["expires_at"] == int(written_at) + ALERT_ITEM_TTL_SECONDS, "the first write sets the expiry"
