"""Redelivery and transient AWS errors: a failing record is reported alone, and its retry does the rest.

Lambda delivers Kinesis records at least once and, on a partial batch response, checkpoints at the
lowest failed sequence number and redelivers from there; the tests replay exactly that.
"""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.aws import fail_calls
from tests.support.detector import DetectorHarness, counted, suppressed_count_updates
from tests.support.kinesis import failed_sequence_numbers, kinesis_event, sequence_numbers
from tests.support.records import CAMERA_ID, frame_at

from facewatch.adapters.alert_ledger import alert_key

LOBBY, GARAGE, CORRIDOR = CAMERA_ID, "seoul-hq-garage-b2", "seoul-hq-corridor-3f"


def _redelivery_from(event: dict[str, Any], sequence_number: str) -> dict[str, Any]:
    """What Lambda sends after a partial failure: the records from the lowest failed one on."""
    records = event["Records"]
    first = next(i for i, r in enumerate(records) if r["kinesis"]["sequenceNumber"] == sequence_number)
    return {"Records": records[first:]}


def _alert_ids(harness: DetectorHarness) -> list[str]:
    return [job.body["alert_id"] for job in harness.alert_jobs()]


def test_a_batch_redelivered_to_the_same_container_raises_no_second_alert(harness: DetectorHarness) -> None:
    event = kinesis_event([frame_at(10.0), frame_at(11.0)])
    harness.invoke(event)
    mark = harness.calls.mark()

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert len(harness.alert_jobs()) == 1
    assert harness.calls.since(mark) == [], "no claim, no send, and the suppressed count waits for the window's end"


def test_the_opening_record_redelivered_to_a_new_container_resends_its_job_under_the_same_alert_id(
    harness: DetectorHarness,
) -> None:
    # By design: a new container cannot tell "job sent" from "claim won, send failed", so the record
    # that opened the window re-sends its job; the alert stage drops the duplicate by alert id.
    event = kinesis_event([frame_at(10.0), frame_at(11.0)])
    harness.invoke(event)
    [first_alert_id] = _alert_ids(harness)
    harness.restart()

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert _alert_ids(harness) == [first_alert_id]
    item = harness.window_item(LOBBY)
    assert item is not None
    assert item["alert_id"] == first_alert_id


def test_a_redelivered_record_that_did_not_open_the_window_is_suppressed_in_a_new_container(
    harness: DetectorHarness,
) -> None:
    event = kinesis_event([frame_at(10.0), frame_at(11.0)])
    harness.invoke(event)
    harness.alert_jobs()
    harness.restart()

    response = harness.invoke({"Records": event["Records"][1:]})

    assert failed_sequence_numbers(response) == []
    assert harness.alert_jobs() == []


@pytest.mark.parametrize("container", ["same-container", "new-container"])
def test_a_job_whose_send_failed_after_the_claim_is_sent_exactly_once_by_the_retry(
    harness: DetectorHarness, container: str
) -> None:
    event = kinesis_event([frame_at(10.0)])
    fail_calls(harness.sqs, "SendMessage", "ServiceUnavailable", status=503)

    first = harness.invoke(event)

    assert failed_sequence_numbers(first) == sequence_numbers(event)
    assert harness.queue_depth() == (0, 0)
    item = harness.window_item(LOBBY)
    assert item is not None, "the claim was made before the send failed"

    if container == "new-container":
        harness.restart()
    retry = harness.invoke(event)

    assert failed_sequence_numbers(retry) == []
    assert _alert_ids(harness) == [item["alert_id"]]


@pytest.mark.parametrize(
    "error_code",
    ["ProvisionedThroughputExceededException", "ThrottlingException", "RequestLimitExceeded", "InternalServerError"],
)
def test_a_throttled_claim_stops_the_batch_there_and_the_redelivery_raises_the_rest_in_order(
    harness: DetectorHarness, error_code: str
) -> None:
    event = kinesis_event([frame_at(10.0, camera_id=camera) for camera in (LOBBY, GARAGE, CORRIDOR)])
    _, garage, corridor = sequence_numbers(event)
    fail_calls(harness.dynamodb, "UpdateItem", error_code, starting_at_call=2)  # the garage's claim

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == [garage, corridor], "the records after the failed one wait"
    assert [job.body["camera_id"] for job in harness.alert_jobs()] == [LOBBY]

    retry = harness.invoke(_redelivery_from(event, garage))

    assert failed_sequence_numbers(retry) == []
    assert [job.body["camera_id"] for job in harness.alert_jobs()] == [GARAGE, CORRIDOR]


def test_a_failed_quarantine_write_stops_the_batch_and_its_retry_keeps_it(harness: DetectorHarness) -> None:
    event = kinesis_event([b"not a face-search record", frame_at(10.0)])
    fail_calls(harness.s3, "PutObject", "SlowDown", status=503)

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == sequence_numbers(event)
    assert harness.quarantined() == []
    assert harness.alert_jobs() == []

    retry = harness.invoke(event)

    assert failed_sequence_numbers(retry) == []
    assert [q.raw for q in harness.quarantined()] == [b"not a face-search record"]
    assert len(harness.alert_jobs()) == 1


def test_a_failed_suppressed_count_write_fails_nothing_and_is_retried_at_the_next_flush(
    harness: DetectorHarness,
) -> None:
    harness.invoke(kinesis_event([frame_at(10.0), frame_at(11.0), frame_at(12.0)]))
    [lobby] = _alert_ids(harness)
    fail_calls(harness.dynamodb, "UpdateItem", "ProvisionedThroughputExceededException", starting_at_call=2)

    # The garage's claim (call 1); at the batch end the lobby's window has ended: its count (call 2) fails.
    response = harness.invoke(kinesis_event([frame_at(71.0, camera_id=GARAGE)]))

    assert failed_sequence_numbers(response) == []
    assert len(harness.alert_jobs()) == 1
    assert harness.alert_item(lobby) is None

    # The lobby's next window: the kept count goes first, then the claim.
    mark = harness.calls.mark()
    retry = harness.invoke(kinesis_event([frame_at(72.0)]))

    assert failed_sequence_numbers(retry) == []
    assert len(harness.alert_jobs()) == 1
    tries = [counted(update) for update in suppressed_count_updates(harness.calls.calls)]
    assert tries == [(alert_key(lobby), 2), (alert_key(lobby), 2)], "the failed write, then its retry"
    retried = [c.params["UpdateExpression"].split()[0] for c in harness.calls.since(mark) if c.service == "dynamodb"]
    assert retried == ["ADD", "SET"], "the count, then the claim"
    assert harness.suppressed_count(lobby) == 2
