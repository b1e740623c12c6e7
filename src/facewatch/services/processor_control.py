"""ProcessorControlFunction's work: bring a camera's stream processor to the state a CloudFormation request
implies (Create/Update: RUNNING; Delete, or the old processor of a replacement: STOPPED) and answer
CloudFormation, whatever happens, before the function's time is up."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from facewatch.adapters.custom_resource import RESPONSE_TIMEOUT_SECONDS, CustomResourceResponder
from facewatch.adapters.rekognition import ProcessorBusyError, ProcessorRequestError, StreamProcessors
from facewatch.domain.custom_resource import CustomResourceRequest, CustomResourceResponse, ResponseStatus
from facewatch.domain.stream_processor import (
    ControlPlan,
    InvalidPropertiesError,
    ProcessorState,
    Step,
    answer_physical_id,
    plan,
    run_outcome_at_deadline,
    step_to_run,
    step_to_stop,
    why_not_running,
)
from facewatch.observability import logger

# Kept back from the function's remaining time to PUT the answer: CloudFormation learns nothing otherwise.
ANSWER_MARGIN_SECONDS = RESPONSE_TIMEOUT_SECONDS + 5.0


@dataclass(frozen=True, slots=True)
class Timing:
    # DescribeStreamProcessor between state changes; dozens of cameras poll at once, mind the API's TPS.
    poll_seconds: float = 5.0
    # StartStreamProcessor calls per request, the first included.
    start_attempts: int = 3
    # Before starting again a processor that FAILED: time for a new role to become usable (IAM is
    # eventually consistent, and a processor created with a brand-new role can fail "Access denied to Role").
    restart_delay_seconds: float = 15.0


@dataclass(frozen=True, slots=True)
class Outcome:
    succeeded: bool
    reason: str


class ProcessorControl:
    def __init__(
        self,
        processors: StreamProcessors,
        responder: CustomResourceResponder,
        *,
        timing: Timing | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._processors = processors
        self._responder = responder
        self._timing = timing or Timing()
        self._clock = clock
        self._sleep = sleep

    def handle(self, event: Mapping[str, Any], remaining_ms: int) -> CustomResourceResponse:
        """Carries out the request and PUTs the answer. Raises only when there is no one to answer (no
        ResponseURL) or the answer could not be delivered (Lambda then retries the invocation)."""
        try:
            request = CustomResourceRequest.model_validate(event)
        except ValidationError as error:
            # Not raised as is: pydantic would quote the event, pre-signed ResponseURL included.
            raise ValueError(f"not a CloudFormation custom resource request ({error.error_count()} errors)") from None
        deadline = self._clock() + remaining_ms / 1000 - ANSWER_MARGIN_SECONDS
        steps: ControlPlan | None = None
        try:
            steps = plan(request)
            outcome = self._carry_out(steps, deadline)
        except InvalidPropertiesError as error:
            outcome = Outcome(succeeded=False, reason=error.reason)
        except Exception as error:
            # Never leave CloudFormation waiting: whatever went wrong becomes a FAILED answer.
            logger.exception("Processor control failed", extra={"request_type": request.request_type})
            outcome = Outcome(succeeded=False, reason=f"unexpected {type(error).__name__}: {error}")
        status = ResponseStatus.SUCCESS if outcome.succeeded else ResponseStatus.FAILED
        physical_resource_id = answer_physical_id(request, steps, outcome.succeeded)
        response = CustomResourceResponse.to(request, status, physical_resource_id, outcome.reason)
        logger.info(
            "Answering CloudFormation",
            extra={
                "request_type": request.request_type,
                "logical_resource_id": request.logical_resource_id,
                "status": status.value,
                "reason": response.reason,
            },
        )
        self._responder.send(request.response_url, response)
        return response

    def _carry_out(self, steps: ControlPlan, deadline: float) -> Outcome:
        outcome = Outcome(succeeded=True, reason="no stream processor to stop")
        for name in steps.stop:
            outcome = self._stop(name, deadline)
            if not outcome.succeeded:
                return outcome
        return self._run(steps.run, deadline) if steps.run else outcome

    def _run(self, name: str, deadline: float) -> Outcome:
        state, starts = ProcessorState(name=name, status=None), 0
        while True:
            try:
                state = self._processors.describe(name)
                step = step_to_run(state, starts, self._timing.start_attempts)
                if step is Step.DONE:
                    return Outcome(succeeded=True, reason=f"stream processor {name} is RUNNING")
                if step is Step.GIVE_UP:
                    return Outcome(succeeded=False, reason=why_not_running(state))
                if step is Step.START:
                    if starts and not self._pause(self._timing.restart_delay_seconds, deadline):
                        break
                    self._processors.start(name)
                    starts += 1
            except ProcessorBusyError as error:
                logger.info("Stream processor busy, trying again", extra={"processor": name, "code": error.code})
            except ProcessorRequestError as error:
                return Outcome(succeeded=False, reason=f"cannot start stream processor {name}: {error}")
            if not self._pause(self._timing.poll_seconds, deadline):
                break
        if run_outcome_at_deadline(state):
            logger.warning("Stream processor still STARTING when time ran out", extra={"processor": name})
            return Outcome(succeeded=True, reason=f"stream processor {name} was started and is still STARTING")
        return Outcome(succeeded=False, reason=f"timed out: {why_not_running(state)}")

    def _stop(self, name: str, deadline: float) -> Outcome:
        state = ProcessorState(name=name, status=None)
        while True:
            try:
                state = self._processors.describe(name)
                step = step_to_stop(state)
                if step is Step.DONE:
                    now = state.status.value if state.status else "gone"
                    return Outcome(succeeded=True, reason=f"stream processor {name} is {now}")
                if step is Step.STOP:
                    self._processors.stop(name)
            except ProcessorBusyError as error:
                logger.info("Stream processor busy, trying again", extra={"processor": name, "code": error.code})
            except ProcessorRequestError as error:
                return Outcome(succeeded=False, reason=f"cannot stop stream processor {name}: {error}")
            if not self._pause(self._timing.poll_seconds, deadline):
                break
        return Outcome(succeeded=False, reason=f"timed out stopping: {why_not_running(state)}")

    def _pause(self, seconds: float, deadline: float) -> bool:
        """Sleeps up to `seconds`, never past the deadline; False when no time is left."""
        remaining = deadline - self._clock()
        if remaining <= 0:
            return False
        self._sleep(min(seconds, remaining))
        return True
