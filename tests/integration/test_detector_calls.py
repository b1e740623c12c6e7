"""What the detector costs in AWS calls: one conditional write per window, none for frames without a sighting.

Calls are counted on the detector's own clients with botocore event hooks (tests/support/aws.py).
"""

from __future__ import annotations

import itertools

from tests.support.detector import DetectorHarness, suppressed_count_updates, window_claims
from tests.support.kinesis import failed_sequence_numbers, kinesis_event
from tests.support.records import CAMERA_ID, employee_face, face_search_record, frame_at, frame_time, unknown_face

RECORDS_PER_SECOND = 5
BATCH_SIZE = 100


def test_a_person_standing_ten_minutes_costs_ten_window_claims_and_ten_alert_jobs(harness: DetectorHarness) -> None:
    # One camera, one visitor in every analysed frame for 10 minutes at 5 frames/s, 60 s windows.
    records = [frame_at(n / RECORDS_PER_SECOND) for n in range(10 * 60 * RECORDS_PER_SECOND)]
    assert len(records) == 3000
    updates_per_batch = []

    for batch in itertools.batched(records, BATCH_SIZE):
        mark = harness.calls.mark()
        response = harness.invoke(kinesis_event(batch))
        assert failed_sequence_numbers(response) == []
        updates_per_batch.append(len(suppressed_count_updates(harness.calls.since(mark))))

    assert len(window_claims(harness.calls.calls)) == 10
    assert max(updates_per_batch) <= 1, "at most one suppressed-count write per camera per batch"
    assert harness.calls.by_operation() == {
        "dynamodb.UpdateItem": 10 + sum(updates_per_batch),
        "sqs.SendMessage": 10,
    }
    jobs = sorted(job.body["frame_time"] for job in harness.alert_jobs())
    assert len(jobs) == 10
    assert all(later - earlier >= 60 for earlier, later in itertools.pairwise(jobs))
    item = harness.window_item(CAMERA_ID)
    assert item is not None
    assert item["window_start"] == jobs[-1]
    assert item["suppressed_count"] == sum(1 for r in records if frame_time(r) > jobs[-1])


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


def test_a_camera_whose_window_is_cached_is_suppressed_without_a_claim(harness: DetectorHarness) -> None:
    harness.invoke(kinesis_event([frame_at(10.0)]))
    mark = harness.calls.mark()

    harness.invoke(kinesis_event([frame_at(11.0), frame_at(12.0), frame_at(13.0)]))

    calls = harness.calls.since(mark)
    [update] = calls
    assert suppressed_count_updates(calls) == [update]
    assert update.params["ExpressionAttributeValues"][":n"] == {"N": "3"}


def test_a_batch_crossing_a_window_end_writes_one_suppressed_count_per_camera(harness: DetectorHarness) -> None:
    # The first window's item is replaced by the second's within the batch, so only the second's count
    # can still be stored; a write for the first could only fail its condition.
    records = [frame_at(10.0), frame_at(20.0), frame_at(71.0), frame_at(80.0), frame_at(90.0)]

    harness.invoke(kinesis_event(records))

    assert len(window_claims(harness.calls.calls)) == 2
    [update] = suppressed_count_updates(harness.calls.calls)
    assert update.params["ExpressionAttributeValues"][":n"] == {"N": "2"}
    item = harness.window_item(CAMERA_ID)
    assert item is not None
    assert (item["window_start"], item["suppressed_count"]) == (frame_time(records[2]), 2)
