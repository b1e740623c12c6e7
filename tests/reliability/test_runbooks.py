"""The runbooks of docs/operations.md, done step by step on the pipeline after a fault: what the operator does
for each dead-letter queue and for a notification in doubt ends with every alert notified exactly once.

moto has no StartMessageMoveTask; `move_back` does what it does (receive from the dead-letter queue, send to
the source queue, delete), as an operator without it would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import boto3
import pytest
from tests.reliability.faults import Fault, FaultInjector, Moment, SqsTime, crash, refuse
from tests.reliability.pipeline import (
    ALERTER,
    ALERTS,
    DETECTOR,
    FaultyOpenSearch,
    Pipeline,
    claims,
    peek_all,
    reread_batch,
)

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# Bound on the receives that empty a dead-letter queue (10 messages each).
MAX_RECEIVES = 20


def move_back(sqs: Any, dead_letter_queue_url: str, source_queue_url: str) -> list[dict[str, Any]]:
    """aws sqs start-message-move-task --source-arn <dead-letter queue ARN>: every message back to its source."""
    moved: list[dict[str, Any]] = []
    for _ in range(MAX_RECEIVES):
        batch = sqs.receive_message(
            QueueUrl=dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"], WaitTimeSeconds=0
        ).get("Messages", [])
        if not batch:
            break
        for message in batch:
            sqs.send_message(QueueUrl=source_queue_url, MessageBody=message["Body"])
            sqs.delete_message(QueueUrl=dead_letter_queue_url, ReceiptHandle=message["ReceiptHandle"])
        moved += batch
    return moved


def pipeline_with(
    fault: Fault,
    prefix: str,
    session: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> Pipeline:
    injector.reset(fault)
    pipeline = Pipeline(session, template, prefix, opensearch=opensearch, injector=injector, sqs_time=sqs_time)
    pipeline.run()
    injector.reset()  # the fault is fixed before the runbook
    return pipeline


def test_detector_dead_letters_are_re_read_from_the_stream_and_put_back(
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> None:
    # given DynamoDB refused every claim until the detector gave up: DetectorDeadLetterQueue holds batch places
    fault = Fault(DETECTOR, "dynamodb", "UpdateItem", refuse("AccessDeniedException"), matches=claims)
    pipeline = pipeline_with(fault, "rb-detector", emulated, template, injector, sqs_time, opensearch)
    sqs, kinesis, stack = pipeline.sqs, pipeline.kinesis, pipeline.stack

    # when the operator re-reads each batch (get-shard-iterator AT_SEQUENCE_NUMBER, get-records) and re-puts it
    letters = sqs.receive_message(QueueUrl=stack.detector_dead_letter_queue_url, MaxNumberOfMessages=10)["Messages"]
    for letter in letters:
        info = json.loads(letter["Body"])["KinesisBatchInfo"]
        records = reread_batch(kinesis, info)
        assert len(records) == info["batchSize"]
        kinesis.put_records(
            StreamName=stack.face_search_stream_name,
            Records=[{"Data": data, "PartitionKey": f"re-put-{i}"} for i, data in enumerate(records)],
        )
        sqs.delete_message(QueueUrl=stack.detector_dead_letter_queue_url, ReceiptHandle=letter["ReceiptHandle"])
    pipeline.run_detector()
    pipeline.run_alerter()

    # then every alert is notified exactly once
    outcome = pipeline.outcome()
    assert sorted(outcome.notified.values()) == [1] * ALERTS
    assert set(outcome.notified) == set(outcome.expected)


def test_alert_dead_letters_are_moved_back_once_sns_takes_them_again(
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> None:
    # given SNS refused every publish until SQS redrove the jobs to AlertDeadLetterQueue
    fault = Fault(ALERTER, "sns", "Publish", refuse("AuthorizationError", 403))
    pipeline = pipeline_with(fault, "rb-alerts", emulated, template, injector, sqs_time, opensearch)

    # when the operator moves them back to AlertQueue
    moved = move_back(pipeline.sqs, pipeline.stack.alert_dead_letter_queue_url, pipeline.stack.alert_queue_url)
    pipeline.run_alerter()

    # then every alert is notified exactly once, and indexed
    outcome = pipeline.outcome()
    assert len(moved) == ALERTS
    assert sorted(outcome.notified.values()) == [1] * ALERTS
    assert set(outcome.indexed) == set(outcome.expected)
    assert outcome.alert_dead_letters == []


def is_clip_message(params: Mapping[str, Any]) -> bool:
    return str(params.get("Subject", "")).startswith("facewatch: clip of")


@pytest.mark.parametrize(("moment", "went_out"), [("before", False), ("after", True)])
def test_a_notification_in_doubt_is_settled_in_the_ledger_then_moved_back(
    moment: Moment,
    went_out: bool,
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> None:
    # given the alerter died right before (or right after) SNS took one alert's clip message: its job is in doubt
    # (a first message in doubt does not stop the job: the clip message still goes out, tests/reliability crash
    # points; its dead-lettered copy only asks a person to look)
    fault = Fault(ALERTER, "sns", "Publish", crash, moment, frozenset({1}), is_clip_message)
    pipeline = pipeline_with(fault, f"rb-doubt-{moment}", emulated, template, injector, sqs_time, opensearch)
    dynamodb, stack = pipeline.session.client("dynamodb"), pipeline.stack
    [letter] = peek_all(pipeline.sqs, stack.alert_dead_letter_queue_url)
    alert_id = letter.message_attributes["alert_id"]
    assert letter.message_attributes["reason"].startswith("notification in doubt")

    # when the operator checks whether it went out (here: what SNS accepted) and says so in the ledger ...
    clip_messages = [notice for notice in pipeline.notices() if notice["event_type"] == "alert_clip"]
    published = [notice["alert_id"] for notice in clip_messages].count(alert_id)
    assert published == (1 if went_out else 0)
    key = {"pk": {"S": f"alert#{alert_id}"}}
    if went_out:
        dynamodb.update_item(
            TableName=stack.dedup_table_name,
            Key=key,
            UpdateExpression="SET notified_at = notify_started_at",
        )
    else:
        dynamodb.update_item(TableName=stack.dedup_table_name, Key=key, UpdateExpression="REMOVE notify_started_at")
    # ... and moves the job back
    move_back(pipeline.sqs, stack.alert_dead_letter_queue_url, stack.alert_queue_url)
    pipeline.run_alerter()

    # then that alert has gone out exactly once and is indexed; nothing is left in doubt
    outcome = pipeline.outcome()
    assert outcome.notified[alert_id] == 1
    assert sorted(outcome.notified.values()) == [1] * ALERTS
    assert alert_id in outcome.indexed
    assert outcome.alert_dead_letters == []
