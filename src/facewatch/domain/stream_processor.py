"""Stream processors under CloudFormation: what to start or stop for a request, and what a status means.

CloudFormation's AWS::Rekognition::StreamProcessor creates a processor but never starts it, and a running
processor must be stopped before it can be deleted. Every property but Tags replaces the processor, so an
update that renames it means: stop the old one (its video stream can feed only one processor), start the
new one; CloudFormation then deletes the old resource.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from facewatch.domain.custom_resource import CustomResourceRequest

# NAME as CreateStreamProcessor allows it, in arn:aws:rekognition:REGION:ACCOUNT:streamprocessor/NAME.
_NAME = r"[a-zA-Z0-9_.\-]{1,128}"
_PROCESSOR_NAME = re.compile(_NAME, re.ASCII)
_PROCESSOR_ARN = re.compile(
    rf"^arn:aws[a-z-]*:rekognition:[a-z0-9-]+:\d{{12}}:streamprocessor/(?P<name>{_NAME})$", re.ASCII
)


class ProcessorStatus(StrEnum):
    STOPPED = "STOPPED"
    STARTING = "STARTING"
    RUNNING = "RUNNING"
    FAILED = "FAILED"
    STOPPING = "STOPPING"
    UPDATING = "UPDATING"


@dataclass(frozen=True, slots=True)
class ProcessorState:
    """What DescribeStreamProcessor says; `status` None when there is no such processor."""

    name: str
    status: ProcessorStatus | None
    status_message: str = ""


class Step(StrEnum):
    DONE = "done"
    WAIT = "wait"
    START = "start"
    STOP = "stop"
    GIVE_UP = "give up"


class ProcessorControlProperties(BaseModel):
    """The custom resource's properties: the processor, by the ARN its Fn::GetAtt gives."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    processor_arn: str = Field(alias="ProcessorArn", pattern=_PROCESSOR_ARN.pattern)

    @property
    def processor_name(self) -> str:
        match = _PROCESSOR_ARN.fullmatch(self.processor_arn)
        assert match is not None  # the field's pattern
        return match.group("name")


class InvalidPropertiesError(ValueError):
    """The resource's properties do not name a processor; `reason` says what is wrong without echoing them."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def processor_name(properties: dict[str, object]) -> str:
    try:
        return ProcessorControlProperties.model_validate(properties).processor_name
    except ValidationError as error:
        first = error.errors(include_input=False, include_url=False)[0]
        where = ".".join(str(part) for part in first["loc"]) or "ResourceProperties"
        raise InvalidPropertiesError(f"ResourceProperties.{where}: {first['msg']}") from None


@dataclass(frozen=True, slots=True)
class ControlPlan:
    """Processors to stop, in order, then the one to run (None: nothing to start)."""

    stop: tuple[str, ...]
    run: str | None


def plan(request: CustomResourceRequest) -> ControlPlan:
    """Raises InvalidPropertiesError when a Create or Update names no processor."""
    if request.request_type == "Delete":
        # A resource that never named a valid processor (its Create failed) has nothing to stop: deleting
        # it must not block the stack's rollback or deletion.
        if _named_processor(request.resource_properties) is None:
            return ControlPlan(stop=(), run=None)
        # The physical id is the name this function answered with. In the clean-up after a replacement it
        # is the old processor's, whichever properties come with the request.
        gone = request.physical_resource_id
        if gone is None or not _PROCESSOR_NAME.fullmatch(gone):
            gone = processor_name(request.resource_properties)
        return ControlPlan(stop=(gone,), run=None)
    new = processor_name(request.resource_properties)
    # Update: the old properties name the processor to stop, also when CloudFormation rolls back a failed
    # update (the processor the update started is then the "old" one).
    old = _named_processor(request.old_resource_properties) if request.request_type == "Update" else None
    return ControlPlan(stop=(old,) if old and old != new else (), run=new)


def answer_physical_id(request: CustomResourceRequest, steps: ControlPlan | None, succeeded: bool) -> str:
    """The resource's physical id in the answer: the name of the processor it runs, which CloudFormation
    hands back with later requests. A new one on Update makes CloudFormation delete the old resource, so a
    Delete and a failed Update keep the request's. `steps` is None when the properties named no processor."""
    current = request.physical_resource_id or request.logical_resource_id
    if request.request_type == "Delete" or (request.request_type == "Update" and not succeeded):
        return current
    return steps.run if steps is not None and steps.run else current


def _named_processor(properties: dict[str, object]) -> str | None:
    try:
        return processor_name(properties)
    except InvalidPropertiesError:
        return None


def step_to_run(state: ProcessorState, starts: int, max_starts: int) -> Step:
    """The next step towards RUNNING, `starts` StartStreamProcessor calls into at most `max_starts`."""
    match state.status:
        case ProcessorStatus.RUNNING:
            return Step.DONE
        case ProcessorStatus.STARTING | ProcessorStatus.STOPPING | ProcessorStatus.UPDATING:
            return Step.WAIT
        case ProcessorStatus.STOPPED | ProcessorStatus.FAILED:
            # FAILED right after creation is typically the new role not yet usable by Rekognition (IAM is
            # eventually consistent): a later start can succeed.
            return Step.START if starts < max_starts else Step.GIVE_UP
        case None:
            return Step.GIVE_UP


def step_to_stop(state: ProcessorState) -> Step:
    match state.status:
        case None | ProcessorStatus.STOPPED | ProcessorStatus.FAILED:
            return Step.DONE
        case ProcessorStatus.RUNNING:
            return Step.STOP
        case ProcessorStatus.STARTING | ProcessorStatus.STOPPING | ProcessorStatus.UPDATING:
            return Step.WAIT


def why_not_running(state: ProcessorState) -> str:
    if state.status is None:
        return f"stream processor {state.name} does not exist"
    message = f": {state.status_message}" if state.status_message else ""
    return f"stream processor {state.name} is {state.status.value}{message}"


def run_outcome_at_deadline(state: ProcessorState) -> bool:
    """Whether a processor not RUNNING when time is up still counts as started.

    STARTING does: the start was accepted and nothing has failed, and a processor may be waiting for video
    its camera is not sending yet; rolling back a whole stack for that would be worse. Anything else does not.
    """
    return state.status is ProcessorStatus.STARTING
