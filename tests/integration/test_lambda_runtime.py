"""The local Lambda (facewatch_local.lambda_runtime): what its event source mappings deliver, retry and drop,
with a stand-in function whose records say how often they fail. AWS is moto's in-process mock."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import load_template
from facewatch_local.lambda_runtime import (
    FunctionConfig,
    KinesisEventSourceMapping,
    KinesisMappingSettings,
    LocalFunction,
    RecordFilter,
    SqsEventSourceMapping,
    SqsMappingSettings,
    event_source_properties,
)

STAND_IN = """
import base64
import json
import os

IMPORTED_WITH = os.environ["GREETING"]  # read once, at import: a container's own state
ATTEMPTS = {}


def _should_fail(item):
    ATTEMPTS[item["id"]] = ATTEMPTS.get(item["id"], 0) + 1
    if ATTEMPTS[item["id"]] <= item.get("raise_times", 0):
        raise RuntimeError("the whole batch fails")
    return ATTEMPTS[item["id"]] <= item.get("fail_times", 0)


def kinesis(event, context):
    failed = [
        {"itemIdentifier": record["kinesis"]["sequenceNumber"]}
        for record in event["Records"]
        if _should_fail(json.loads(base64.b64decode(record["kinesis"]["data"])))
    ]
    return {"batchItemFailures": failed}


def sqs(event, context):
    failed = [{"itemIdentifier": r["messageId"]} for r in event["Records"] if _should_fail(json.loads(r["body"]))]
    return {"batchItemFailures": failed}


def greeting(event, context):
    return {"imported_with": IMPORTED_WITH, "now": os.environ["GREETING"], "shell": os.environ.get("FROM_SHELL")}
"""


@pytest.fixture
def code_root(tmp_path: Path) -> Path:
    (tmp_path / "stand_in.py").write_text(STAND_IN)
    return tmp_path


def stand_in(code_root: Path, handler: str, greeting: str = "hello") -> LocalFunction:
    return LocalFunction(
        FunctionConfig(
            logical_id="StandIn",
            function_name=f"test-{handler}",
            handler=f"stand_in.{handler}",
            code_root=code_root,
            timeout_seconds=30,
            memory_mb=128,
            environment={"GREETING": greeting},
            region="us-east-1",
            account_id="123456789012",
        )
    )


def delivered_sequence_numbers(function: LocalFunction) -> list[list[str]]:
    return [[r["kinesis"]["sequenceNumber"] for r in i.event["Records"]] for i in function.invocations]


class Stream:
    def __init__(self, session: boto3.session.Session) -> None:
        self.kinesis = session.client("kinesis")
        self.sqs = session.client("sqs")
        self.kinesis.create_stream(StreamName="records", ShardCount=1)
        self.arn = self.kinesis.describe_stream_summary(StreamName="records")["StreamDescriptionSummary"]["StreamARN"]
        self.failures_url = self.sqs.create_queue(QueueName="on-failure")["QueueUrl"]

    def mapping(self, function: LocalFunction, **settings: Any) -> KinesisEventSourceMapping:
        mapping = KinesisEventSourceMapping(
            function,
            self.arn,
            KinesisMappingSettings(report_batch_item_failures=True, **settings),
            kinesis=self.kinesis,
            sqs=self.sqs,
            on_failure_queue_url=self.failures_url,
        )
        mapping.start()
        return mapping

    def put(self, *data: bytes) -> list[str]:
        response = self.kinesis.put_records(
            StreamName="records", Records=[{"Data": item, "PartitionKey": "camera"} for item in data]
        )
        return [record["SequenceNumber"] for record in response["Records"]]

    def destination_messages(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(QueueUrl=self.failures_url, MaxNumberOfMessages=10).get("Messages", [])
        return [json.loads(message["Body"]) for message in messages]


@pytest.fixture
def stream(aws: boto3.session.Session) -> Stream:
    return Stream(aws)


def item(identifier: int, **behaviour: int) -> bytes:
    return json.dumps({"id": identifier, **behaviour}).encode()


def test_failed_records_are_redelivered_from_the_lowest_failed_sequence_number(stream: Stream, code_root: Path) -> None:
    function = stand_in(code_root, "kinesis")
    mapping = stream.mapping(function)
    first, second, third, fourth = stream.put(item(1), item(2, fail_times=1), item(3, fail_times=1), item(4))

    report = mapping.run(timeout_seconds=10)

    assert delivered_sequence_numbers(function) == [[first, second, third, fourth], [second, third, fourth]]
    assert (report.retries, report.batches_discarded, report.drained) == (1, 0, True)


def test_a_record_that_keeps_failing_is_given_up_after_the_retry_limit_and_reported_to_the_destination(
    stream: Stream, code_root: Path
) -> None:
    function = stand_in(code_root, "kinesis")
    mapping = stream.mapping(function, maximum_retry_attempts=2)
    _, poison, last = stream.put(item(1), item(2, fail_times=99), item(3))

    report = mapping.run(timeout_seconds=10)

    assert len(function.invocations) == 3  # the first attempt and 2 retries
    assert (report.batches_discarded, report.drained) == (1, True)
    [failure] = stream.destination_messages()
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    batch = failure["KinesisBatchInfo"]
    assert (batch["startSequenceNumber"], batch["endSequenceNumber"], batch["batchSize"]) == (poison, last, 2)


def test_a_function_error_retries_the_whole_batch(stream: Stream, code_root: Path) -> None:
    function = stand_in(code_root, "kinesis")
    mapping = stream.mapping(function)
    sequence_numbers = stream.put(item(1), item(2, raise_times=1))

    report = mapping.run(timeout_seconds=10)

    assert delivered_sequence_numbers(function) == [sequence_numbers, sequence_numbers]
    assert function.invocations[0].error == "RuntimeError: the whole batch fails"
    assert (report.function_errors, report.drained) == (1, True)


def test_the_templates_filter_delivers_faces_and_non_face_json_but_not_empty_frames_or_non_json(
    stream: Stream, code_root: Path
) -> None:
    properties = event_source_properties(load_template(), "DetectorFunction", "Kinesis")
    record_filter = KinesisMappingSettings.from_properties(properties).record_filter
    function = stand_in(code_root, "kinesis")
    mapping = stream.mapping(function, record_filter=record_filter)
    source = {"KinesisVideo": {"StreamArn": "arn:aws:kinesisvideo:us-east-1:123456789012:stream/cam/1"}}
    face = {"id": 1, "InputInformation": source, "FaceSearchResponse": [{"DetectedFace": {"Confidence": 99.1}}]}
    empty_frame = {"id": 2, "InputInformation": source, "FaceSearchResponse": []}
    face_seq, _, other_seq, _ = stream.put(
        json.dumps(face).encode(), json.dumps(empty_frame).encode(), item(3), b"not json at all"
    )

    report = mapping.run(timeout_seconds=10)

    assert delivered_sequence_numbers(function) == [[face_seq, other_seq]]
    assert (report.records_read, report.records_filtered_out) == (4, 2)


@pytest.mark.parametrize(
    ("data", "delivered"),
    [
        ({"FaceSearchResponse": [{"DetectedFace": {"Confidence": 0}}, {"DetectedFace": {}}]}, True),
        ({"FaceSearchResponse": [], "InputInformation": {"KinesisVideo": {"StreamArn": "a"}}}, False),
        ([1, 2, 3], True),
        ({"InputInformation": {"KinesisVideo": {}}}, True),
    ],
)
def test_the_filter_rules_inside_arrays_match_when_any_element_does(data: Any, delivered: bool) -> None:
    properties = event_source_properties(load_template(), "DetectorFunction", "Kinesis")
    record_filter = KinesisMappingSettings.from_properties(properties).record_filter

    assert record_filter.matches({"data": data}) is delivered


def test_an_operator_the_emulation_does_not_know_fails_when_the_filter_is_read() -> None:
    with pytest.raises(ValueError, match="wildcard"):
        RecordFilter.from_criteria({"Filters": [{"Pattern": '{"data": {"a": [{"wildcard": "x*"}]}}'}]})


def test_the_sqs_mapping_deletes_what_succeeded_and_redelivers_what_failed(
    aws: boto3.session.Session, code_root: Path
) -> None:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="jobs", Attributes={"VisibilityTimeout": "1"})["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": 1}))
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": 2, "fail_times": 1}))
    function = stand_in(code_root, "sqs")
    mapping = SqsEventSourceMapping(
        function, queue_url, SqsMappingSettings(batch_size=10, report_batch_item_failures=True), sqs=sqs
    )

    report = mapping.run(timeout_seconds=15)

    assert (report.messages_received, report.messages_deleted, report.messages_failed) == (3, 2, 1)
    assert report.drained
    redelivered = function.invocations[-1].event["Records"]
    assert [json.loads(r["body"])["id"] for r in redelivered] == [2]
    assert redelivered[0]["attributes"]["ApproximateReceiveCount"] == "2"


def test_the_sqs_mapping_waits_for_a_delayed_message(aws: boto3.session.Session, code_root: Path) -> None:
    sqs = aws.client("sqs")
    queue_url = sqs.create_queue(QueueName="delayed")["QueueUrl"]
    sqs.send_message(QueueUrl=queue_url, MessageBody=json.dumps({"id": 1}), DelaySeconds=2)
    function = stand_in(code_root, "sqs")

    report = SqsEventSourceMapping(function, queue_url, SqsMappingSettings(), sqs=sqs).run(timeout_seconds=10)

    assert (report.messages_received, report.drained) == (1, True)


def test_each_function_keeps_its_own_modules_environment_and_state(
    code_root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("FROM_SHELL", "not for functions")
    english, korean = stand_in(code_root, "greeting", "hello"), stand_in(code_root, "greeting", "annyeong")

    responses = [function.invoke({}).response for function in (english, korean, english)]

    assert responses == [
        {"imported_with": "hello", "now": "hello", "shell": None},
        {"imported_with": "annyeong", "now": "annyeong", "shell": None},
        {"imported_with": "hello", "now": "hello", "shell": None},
    ]
    assert "stand_in" not in sys.modules
    assert os.environ["FROM_SHELL"] == "not for functions"
