"""ProcessorControlFunction, the custom resource that runs each camera's stream processor.

Rekognition is a real boto3 client under moto's mock, answered by botocore's Stubber with the real
rekognition service model (moto has no stream-processor APIs): the Stubber checks every call and its
parameters, in order, and each test's planned calls must all be made. CloudFormation's ResponseURL is a
server on 127.0.0.1 that records what is PUT to it. Time is a fake clock: sleeping advances it.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from facewatch.adapters.custom_resource import CustomResourceResponder
from facewatch.adapters.rekognition import StreamProcessors
from facewatch.services.processor_control import ANSWER_MARGIN_SECONDS, ProcessorControl, Timing

EVENTS = Path(__file__).resolve().parents[2] / "events"
NAME = "facewatch_SeoulLobby01_80"
OLD_NAME = "facewatch_SeoulLobby01_85"
ARN_PREFIX = "arn:aws:rekognition:ap-northeast-2:111122223333:streamprocessor/"
TIMING = Timing(poll_seconds=5.0, start_attempts=3, restart_delay_seconds=15.0)
FIVE_MINUTES_MS = 300_000


@dataclass
class Answer:
    method: str
    path: str
    headers: dict[str, str]
    document: dict[str, Any]


@dataclass
class ResponseRecorder:
    """CloudFormation's side of ResponseURL: what was PUT there."""

    url: str
    answers: list[Answer] = field(default_factory=list)

    @property
    def only(self) -> Answer:
        assert len(self.answers) == 1, f"expected one answer, got {len(self.answers)}"
        return self.answers[0]


@pytest.fixture
def cloudformation() -> Iterator[ResponseRecorder]:
    answers: list[Answer] = []

    class Handler(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answers.append(Answer("PUT", self.path, dict(self.headers), json.loads(body)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *_: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    # A short poll interval: shutdown() waits for the serving loop to notice.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    host, port = str(server.server_address[0]), server.server_address[1]
    yield ResponseRecorder(f"http://{host}:{port}/response?X-Amz-Signature=test", answers)
    server.shutdown()
    server.server_close()


@dataclass
class FakeClock:
    now: float = 1_000.0
    slept: list[float] = field(default_factory=list)

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def rekognition(aws: boto3.session.Session) -> Iterator[Stubber]:
    client = aws.client("rekognition", region_name="ap-northeast-2")
    with Stubber(client) as stubber:
        yield stubber
        stubber.assert_no_pending_responses()


@pytest.fixture
def control(rekognition: Stubber, clock: FakeClock) -> ProcessorControl:
    return ProcessorControl(
        StreamProcessors(rekognition.client),  # type: ignore[arg-type]
        CustomResourceResponder(),
        timing=TIMING,
        clock=clock.monotonic,
        sleep=clock.sleep,
    )


def request(recorder: ResponseRecorder, kind: str, name: str = NAME, **changes: Any) -> dict[str, Any]:
    """A CloudFormation request, from the sam-local-invoke example events, answered at the recorder."""
    event: dict[str, Any] = json.loads((EVENTS / f"processor-control-{kind}.json").read_text())
    event["ResponseURL"] = recorder.url
    event["ResourceProperties"]["ProcessorArn"] = ARN_PREFIX + name
    event.update(changes)
    return event


def update(recorder: ResponseRecorder, old_name: str, new_name: str) -> dict[str, Any]:
    event = request(recorder, "create", new_name, RequestType="Update", PhysicalResourceId=old_name)
    event["OldResourceProperties"] = {**event["ResourceProperties"], "ProcessorArn": ARN_PREFIX + old_name}
    return event


def expect_describe(stubber: Stubber, status: str, message: str = "", name: str = NAME) -> None:
    described = {"Name": name, "Status": status, "StreamProcessorArn": ARN_PREFIX + name}
    if message:
        described["StatusMessage"] = message
    stubber.add_response("describe_stream_processor", described, {"Name": name})


def expect_missing(stubber: Stubber, name: str = NAME) -> None:
    stubber.add_client_error(
        "describe_stream_processor", "ResourceNotFoundException", "not found", 400, expected_params={"Name": name}
    )


def expect_start(stubber: Stubber, name: str = NAME) -> None:
    stubber.add_response("start_stream_processor", {"SessionId": "session-1"}, {"Name": name})


def expect_stop(stubber: Stubber, name: str = NAME) -> None:
    stubber.add_response("stop_stream_processor", {}, {"Name": name})


def test_create_starts_the_processor_and_answers_success_once_it_runs(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_describe(rekognition, "STOPPED")
    expect_start(rekognition)
    expect_describe(rekognition, "STARTING")
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", NAME)
    assert answer["Reason"] == f"stream processor {NAME} is RUNNING"


def test_the_answer_is_the_document_cloudformation_expects_put_without_a_content_type(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_describe(rekognition, "RUNNING")
    event = request(cloudformation, "create")
    # when
    control.handle(event, FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only
    assert answer.method == "PUT"
    assert answer.path == "/response?X-Amz-Signature=test"
    assert answer.headers.get("Content-Type") == ""
    assert set(answer.document) == {
        "Status",
        "Reason",
        "PhysicalResourceId",
        "StackId",
        "RequestId",
        "LogicalResourceId",
    }
    assert (answer.document["StackId"], answer.document["RequestId"], answer.document["LogicalResourceId"]) == (
        event["StackId"],
        event["RequestId"],
        event["LogicalResourceId"],
    )


def test_a_processor_already_running_is_not_started_again(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: a retried invocation, after the first one started it
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then: the Stubber allowed no start call
    assert cloudformation.only.document["Status"] == "SUCCESS"


def test_delete_stops_the_processor_and_answers_success_once_it_stopped(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_describe(rekognition, "RUNNING")
    expect_stop(rekognition)
    expect_describe(rekognition, "STOPPING")
    expect_describe(rekognition, "STOPPED")
    # when
    control.handle(request(cloudformation, "delete"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", NAME)
    assert answer["Reason"] == f"stream processor {NAME} is STOPPED"


def test_delete_of_a_missing_processor_answers_success(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_missing(rekognition)
    # when
    control.handle(request(cloudformation, "delete"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"] == f"stream processor {NAME} is gone"


def test_delete_of_a_failed_processor_answers_success_without_stopping_it(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: the rollback of a Create whose processor never ran
    expect_describe(rekognition, "FAILED", "Access denied to Role")
    # when
    control.handle(request(cloudformation, "delete"), FIVE_MINUTES_MS)
    # then
    assert cloudformation.only.document["Status"] == "SUCCESS"


def test_a_processor_that_keeps_failing_is_answered_failed_with_its_status_message(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: a role Rekognition may not assume (its trust policy)
    expect_describe(rekognition, "STOPPED")
    for _ in range(TIMING.start_attempts):
        expect_start(rekognition)
        expect_describe(rekognition, "FAILED", "Access denied to Role")
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == f"stream processor {NAME} is FAILED: Access denied to Role"
    assert answer["PhysicalResourceId"] == NAME


def test_a_processor_that_fails_once_is_started_again_after_a_delay(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder, clock: FakeClock
) -> None:
    # given: a brand-new role not yet usable by Rekognition, then usable
    expect_describe(rekognition, "STOPPED")
    expect_start(rekognition)
    expect_describe(rekognition, "FAILED", "Access denied to Role")
    expect_start(rekognition)
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    assert cloudformation.only.document["Status"] == "SUCCESS"
    assert TIMING.restart_delay_seconds in clock.slept


def test_an_update_that_renames_the_processor_stops_the_old_one_then_starts_the_new_one(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: a FaceMatchThreshold change replaced the processor (its video stream feeds one processor)
    expect_describe(rekognition, "RUNNING", name=OLD_NAME)
    expect_stop(rekognition, name=OLD_NAME)
    expect_describe(rekognition, "STOPPED", name=OLD_NAME)
    expect_describe(rekognition, "STOPPED")
    expect_start(rekognition)
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(update(cloudformation, OLD_NAME, NAME), FIVE_MINUTES_MS)
    # then: the new physical id makes CloudFormation delete the old resource
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", NAME)


def test_a_failed_update_keeps_the_old_physical_id(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: the new processor fails; CloudFormation rolls back to the old one
    expect_describe(rekognition, "STOPPED", name=OLD_NAME)
    expect_missing(rekognition)
    # when
    control.handle(update(cloudformation, OLD_NAME, NAME), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("FAILED", OLD_NAME)
    assert answer["Reason"] == f"stream processor {NAME} does not exist"


def test_the_clean_up_after_a_replacement_stops_the_old_processor(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: the delete of the old physical id, sent with the new properties
    expect_describe(rekognition, "RUNNING", name=OLD_NAME)
    expect_stop(rekognition, name=OLD_NAME)
    expect_describe(rekognition, "STOPPED", name=OLD_NAME)
    # when
    control.handle(request(cloudformation, "delete", PhysicalResourceId=OLD_NAME), FIVE_MINUTES_MS)
    # then: the Stubber saw no call about the new processor
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", OLD_NAME)


def test_an_update_that_keeps_the_processor_only_makes_sure_it_runs(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(update(cloudformation, NAME, NAME), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", NAME)


def test_throttling_is_waited_out(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: dozens of cameras' resources poll at once
    rekognition.add_client_error(
        "describe_stream_processor", "ThrottlingException", "Rate exceeded", 400, expected_params={"Name": NAME}
    )
    expect_describe(rekognition, "RUNNING")
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    assert cloudformation.only.document["Status"] == "SUCCESS"


def test_access_denied_to_the_function_is_answered_failed_with_the_error(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given
    expect_describe(rekognition, "STOPPED")
    rekognition.add_client_error(
        "start_stream_processor",
        "AccessDeniedException",
        "not authorized to perform: rekognition:StartStreamProcessor",
        400,
        expected_params={"Name": NAME},
    )
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == (
        f"cannot start stream processor {NAME}: AccessDeniedException: "
        "not authorized to perform: rekognition:StartStreamProcessor"
    )


def test_an_unexpected_exception_is_answered_failed(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: an answer the code does not expect (no Status)
    rekognition.add_response("describe_stream_processor", {"Name": NAME}, {"Name": NAME})
    # when
    control.handle(request(cloudformation, "create"), FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("unexpected KeyError")


def test_properties_that_name_no_processor_fail_the_create_without_calling_rekognition(
    control: ProcessorControl, cloudformation: ResponseRecorder
) -> None:
    # given
    event = request(cloudformation, "create")
    event["ResourceProperties"]["ProcessorArn"] = "facewatch_SeoulLobby01_80"
    # when
    control.handle(event, FIVE_MINUTES_MS)
    # then: the Stubber allowed no call
    answer = cloudformation.only.document
    assert answer["Status"] == "FAILED"
    assert answer["Reason"].startswith("ResourceProperties.ProcessorArn: String should match pattern")
    assert answer["PhysicalResourceId"] == event["LogicalResourceId"]


def test_deleting_a_resource_that_names_no_processor_succeeds(
    control: ProcessorControl, cloudformation: ResponseRecorder
) -> None:
    # given: the rollback of the Create above must not get stuck
    event = request(cloudformation, "delete", PhysicalResourceId="CameraSeoulLobby01ProcessorControl")
    del event["ResourceProperties"]["ProcessorArn"]
    # when
    control.handle(event, FIVE_MINUTES_MS)
    # then
    answer = cloudformation.only.document
    assert (answer["Status"], answer["PhysicalResourceId"]) == ("SUCCESS", "CameraSeoulLobby01ProcessorControl")


def test_an_event_that_is_not_a_custom_resource_request_raises_without_quoting_it(
    control: ProcessorControl, cloudformation: ResponseRecorder
) -> None:
    # given: no RequestId; the URL is a credential of sorts
    event = request(cloudformation, "create")
    del event["RequestId"]
    # when
    with pytest.raises(ValueError, match="not a CloudFormation custom resource request") as raised:
        control.handle(event, FIVE_MINUTES_MS)
    # then
    assert "X-Amz-Signature" not in str(raised.value)
    assert cloudformation.answers == []


def test_a_processor_stuck_stopping_is_answered_failed_before_the_function_times_out(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder, clock: FakeClock
) -> None:
    # given: one minute left in the invocation
    remaining_ms = 60_000
    started = clock.now
    polls = int((remaining_ms / 1000 - ANSWER_MARGIN_SECONDS) // TIMING.poll_seconds) + 1
    for _ in range(polls):
        expect_describe(rekognition, "STOPPING")
    # when
    control.handle(request(cloudformation, "delete"), remaining_ms)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == f"timed out stopping: stream processor {NAME} is STOPPING"
    assert clock.now - started <= remaining_ms / 1000 - ANSWER_MARGIN_SECONDS


def test_a_processor_still_starting_when_time_runs_out_counts_as_started(
    control: ProcessorControl, rekognition: Stubber, cloudformation: ResponseRecorder
) -> None:
    # given: the start was accepted; the camera may not be sending video yet
    remaining_ms = 30_000
    expect_describe(rekognition, "STOPPED")
    expect_start(rekognition)
    polls = int((remaining_ms / 1000 - ANSWER_MARGIN_SECONDS) // TIMING.poll_seconds)
    for _ in range(polls):
        expect_describe(rekognition, "STARTING")
    # when
    control.handle(request(cloudformation, "create"), remaining_ms)
    # then
    answer = cloudformation.only.document
    assert answer["Status"] == "SUCCESS"
    assert answer["Reason"] == f"stream processor {NAME} was started and is still STARTING"


def test_the_handler_answers_through_the_functions_own_client(
    aws: boto3.session.Session, cloudformation: ResponseRecorder, lambda_context: Any
) -> None:
    # given: the handler's lazily made client, as Lambda would build it
    from facewatch.adapters import aws as aws_clients
    from facewatch.handlers import processor_control as handler

    aws_clients.client.cache_clear()
    handler.processor_control.cache_clear()
    try:
        with Stubber(aws_clients.client("rekognition")) as stubber:
            expect_describe(stubber, "RUNNING")
            # when
            returned = handler.lambda_handler(request(cloudformation, "create"), lambda_context)
            # then
            stubber.assert_no_pending_responses()
    finally:
        handler.processor_control.cache_clear()
        aws_clients.client.cache_clear()
    assert cloudformation.only.document == returned
    assert returned["Status"] == "SUCCESS"
