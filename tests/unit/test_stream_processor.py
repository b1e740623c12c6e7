"""Which stream processors a CloudFormation request starts or stops, and what each status calls for."""

from __future__ import annotations

from typing import Any

import pytest

from facewatch.domain.custom_resource import CustomResourceRequest
from facewatch.domain.stream_processor import (
    ControlPlan,
    InvalidPropertiesError,
    ProcessorState,
    ProcessorStatus,
    Step,
    answer_physical_id,
    plan,
    run_outcome_at_deadline,
    step_to_run,
    step_to_stop,
)

ARN = "arn:aws:rekognition:ap-northeast-2:111122223333:streamprocessor/"


def request(request_type: str, name: str | None, old_name: str | None = None) -> CustomResourceRequest:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": "https://example.s3.amazonaws.com/response",
        "StackId": "arn:aws:cloudformation:ap-northeast-2:111122223333:stack/facewatch/1",
        "RequestId": "request-1",
        "LogicalResourceId": "CameraLobby01ProcessorControl",
        "ResourceProperties": {"ProcessorArn": ARN + name} if name else {},
    }
    if old_name:
        event["OldResourceProperties"] = {"ProcessorArn": ARN + old_name}
    return CustomResourceRequest.model_validate(event)


def state(status: ProcessorStatus | None) -> ProcessorState:
    return ProcessorState(name="facewatch_Lobby01_80", status=status)


def test_create_runs_the_processor_its_arn_names() -> None:
    assert plan(request("Create", "facewatch_Lobby01_80")) == ControlPlan(stop=(), run="facewatch_Lobby01_80")


def test_delete_stops_the_processor() -> None:
    assert plan(request("Delete", "facewatch_Lobby01_80")) == ControlPlan(stop=("facewatch_Lobby01_80",), run=None)


def test_an_update_to_a_new_processor_stops_the_old_one_first() -> None:
    # when
    steps = plan(request("Update", "facewatch_Lobby01_85", old_name="facewatch_Lobby01_80"))
    # then
    assert steps == ControlPlan(stop=("facewatch_Lobby01_80",), run="facewatch_Lobby01_85")


def test_an_update_to_the_same_processor_stops_nothing() -> None:
    steps = plan(request("Update", "facewatch_Lobby01_80", old_name="facewatch_Lobby01_80"))
    assert steps == ControlPlan(stop=(), run="facewatch_Lobby01_80")


def test_a_create_without_a_processor_arn_is_refused_with_the_reason() -> None:
    with pytest.raises(InvalidPropertiesError, match=r"^ResourceProperties\.ProcessorArn: Field required$"):
        plan(request("Create", None))


def test_a_delete_without_a_processor_arn_stops_nothing() -> None:
    assert plan(request("Delete", None)) == ControlPlan(stop=(), run=None)


def test_a_delete_stops_the_processor_its_physical_id_names() -> None:
    # given: the clean-up after a replacement, whichever properties come with it
    event = request("Delete", "facewatch_Lobby01_85").model_copy(
        update={"physical_resource_id": "facewatch_Lobby01_80"}
    )
    # then
    assert plan(event) == ControlPlan(stop=("facewatch_Lobby01_80",), run=None)


@pytest.mark.parametrize(
    ("request_type", "succeeded", "answered"),
    [
        ("Create", True, "facewatch_Lobby01_85"),
        ("Create", False, "facewatch_Lobby01_85"),
        ("Update", True, "facewatch_Lobby01_85"),
        ("Update", False, "facewatch_Lobby01_80"),
        ("Delete", True, "facewatch_Lobby01_80"),
    ],
)
def test_the_answer_names_the_processor_run_and_keeps_the_old_name_when_an_update_fails(
    request_type: str, succeeded: bool, answered: str
) -> None:
    # given
    event = request(request_type, "facewatch_Lobby01_85").model_copy(
        update={"physical_resource_id": "facewatch_Lobby01_80" if request_type != "Create" else None}
    )
    # when
    physical_id = answer_physical_id(event, plan(event), succeeded)
    # then
    assert physical_id == answered


def test_a_create_that_names_no_processor_is_answered_with_its_logical_id() -> None:
    assert answer_physical_id(request("Create", None), None, False) == "CameraLobby01ProcessorControl"


@pytest.mark.parametrize(
    ("arn", "valid"),
    [
        (ARN + "facewatch_Lobby01_80", True),
        (ARN + "facewatch_Lobby01_85.5", True),
        ("arn:aws-cn:rekognition:cn-north-1:111122223333:streamprocessor/facewatch_Lobby01_80", True),
        ("facewatch_Lobby01_80", False),
        ("arn:aws:rekognition:ap-northeast-2:111122223333:collection/facewatch-employees", False),
        (ARN + "facewatch Lobby01", False),
    ],
)
def test_only_stream_processor_arns_name_a_processor(arn: str, valid: bool) -> None:
    # given
    event = request("Create", "x")
    event = event.model_copy(update={"resource_properties": {"ProcessorArn": arn}})
    # when
    try:
        plan(event)
        accepted = True
    except InvalidPropertiesError:
        accepted = False
    # then
    assert accepted is valid


@pytest.mark.parametrize(
    ("status", "starts", "step"),
    [
        (ProcessorStatus.STOPPED, 0, Step.START),
        (ProcessorStatus.STARTING, 1, Step.WAIT),
        (ProcessorStatus.RUNNING, 1, Step.DONE),
        (ProcessorStatus.FAILED, 1, Step.START),
        (ProcessorStatus.FAILED, 3, Step.GIVE_UP),
        (ProcessorStatus.STOPPED, 3, Step.GIVE_UP),
        (ProcessorStatus.STOPPING, 0, Step.WAIT),
        (ProcessorStatus.UPDATING, 0, Step.WAIT),
        (None, 0, Step.GIVE_UP),
    ],
)
def test_step_towards_running(status: ProcessorStatus | None, starts: int, step: Step) -> None:
    assert step_to_run(state(status), starts, max_starts=3) is step


@pytest.mark.parametrize(
    ("status", "step"),
    [
        (ProcessorStatus.RUNNING, Step.STOP),
        (ProcessorStatus.STARTING, Step.WAIT),
        (ProcessorStatus.STOPPING, Step.WAIT),
        (ProcessorStatus.UPDATING, Step.WAIT),
        (ProcessorStatus.STOPPED, Step.DONE),
        (ProcessorStatus.FAILED, Step.DONE),
        (None, Step.DONE),
    ],
)
def test_step_towards_stopped(status: ProcessorStatus | None, step: Step) -> None:
    assert step_to_stop(state(status)) is step


@pytest.mark.parametrize(
    ("status", "started"),
    [(ProcessorStatus.STARTING, True), (ProcessorStatus.FAILED, False), (ProcessorStatus.STOPPED, False)],
)
def test_only_a_processor_still_starting_counts_as_started_when_time_is_up(
    status: ProcessorStatus, started: bool
) -> None:
    assert run_outcome_at_deadline(state(status)) is started
