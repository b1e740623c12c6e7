"""Disturbing the functions from outside: AWS faults, crashes, a runtime that dies, and SQS time that can jump.

- `FaultInjector` puts botocore event hooks (`before-call` answers with an error or raises; `after-call` raises
  once AWS has done the work, i.e. the response was lost) into botocore's built-in handlers, so every client
  a function's container creates has them, as real as the function's own. A fault names the function
  (AWS_LAMBDA_FUNCTION_NAME, set by the local runtime during an invocation), so the test's own clients are
  never disturbed. OpenSearch faults come from the local HTTP server; crashes after an index write wrap
  opensearch-py's `OpenSearch.index`.
- `RestartingFunction` is a local Lambda container whose process can be killed mid-invocation: the
  invocation fails as a whole and the next one is a cold start, as after a timeout or out-of-memory. Faults
  BELOW botocore's retry loop (tests/support/sdk_faults.py) can be given to it: the shared injector is then
  installed on the container's own boto3 session (facewatch.adapters.aws.session), again after a cold start,
  so the SDK's own retries act on them.
- `SqsTime` lets moto's SQS clock jump to the next visibility or delay expiry while a consumer long-polls,
  so a 360 s visibility timeout or the alerter's backoff takes no wall-clock time.
"""

from __future__ import annotations

import os
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from importlib import import_module
from typing import Any, Literal

import botocore.handlers
import opensearchpy
import pytest
from botocore.exceptions import ReadTimeoutError
from facewatch_local.lambda_runtime import Invocation, LocalFunction
from moto.core.utils import unix_time as real_unix_time
from moto.sqs import models as sqs_models
from tests.support import sdk_faults
from tests.support.aws import error_response

Moment = Literal["before", "after"]
_PARAMS_KEY = "facewatch_test_params"


class Crash(Exception):
    """The record handler raised: the batch processor reports that record failed, the container lives on."""


class FunctionKilled(BaseException):
    """The runtime died mid-invocation (timeout, out of memory): the whole invocation fails."""


def refuse(code: str, status: int = 400) -> Callable[[], Any]:
    """An error response: AWS refused the call (nothing happened)."""
    return lambda: error_response(code, status)


def read_timeout() -> Any:
    raise ReadTimeoutError(endpoint_url="https://injected.invalid/")


def crash() -> Any:
    raise Crash("injected crash")


def kill() -> Any:
    raise FunctionKilled("injected: the runtime was killed")


def _always(_: Mapping[str, Any]) -> bool:
    return True


@dataclass
class Fault:
    """A disturbance of `function`'s calls to `service`.`operation` (botocore names; "opensearch"."index")."""

    function: str  # logical id, e.g. "DetectorFunction"
    service: str
    operation: str
    answer: Callable[[], Any]  # "before": returns an error response or raises; "after": raises
    moment: Moment = "before"
    calls: frozenset[int] | None = None  # 1-based numbers of the matching calls to disturb; None: every call
    matches: Callable[[Mapping[str, Any]], bool] = _always  # on the call's API parameters
    seen: int = 0
    hits: int = 0

    def applies(self, function: str, service: str, operation: str, moment: Moment, params: Mapping[str, Any]) -> bool:
        return (
            function.endswith(f"-{self.function}")
            and (service, operation, moment) == (self.service, self.operation, self.moment)
            and self.matches(params)
        )


@dataclass(frozen=True, slots=True)
class Call:
    function: str
    service: str
    operation: str
    params: Mapping[str, Any]


@dataclass
class FaultInjector:
    faults: list[Fault] = field(default_factory=list)
    accepted: list[Call] = field(default_factory=list)  # calls AWS answered successfully

    def reset(self, *faults: Fault) -> None:
        """From now on, these faults (counted from zero) and no others."""
        for fault in faults:
            fault.seen = fault.hits = 0
        self.faults = list(faults)
        self.accepted = []

    @staticmethod
    def _function() -> str | None:
        return os.environ.get("AWS_LAMBDA_FUNCTION_NAME")

    def _disturb(self, service: str, operation: str, moment: Moment, params: Mapping[str, Any]) -> Any:
        function = self._function()
        if function is None:
            return None
        for fault in self.faults:
            if fault.applies(function, service, operation, moment, params):
                fault.seen += 1
                if fault.calls is None or fault.seen in fault.calls:
                    fault.hits += 1
                    return fault.answer()
        return None

    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context[_PARAMS_KEY] = dict(params)

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> Any:
        return self._disturb(model.service_model.service_name, model.name, "before", context.get(_PARAMS_KEY, {}))

    def _after_call(self, model: Any, context: dict[str, Any], http_response: Any, **_: Any) -> None:
        service, operation, params = model.service_model.service_name, model.name, context.get(_PARAMS_KEY, {})
        function = self._function()
        if function is not None and http_response.status_code < 300:
            self.accepted.append(Call(function, service, operation, params))
        self._disturb(service, operation, "after", params)

    def index_after_write(self, original: Callable[..., Any]) -> Callable[..., Any]:
        """opensearch-py's OpenSearch.index, disturbed after the document was written."""
        injector = self

        def index(client: Any, *args: Any, **kwargs: Any) -> Any:
            response = original(client, *args, **kwargs)
            injector._disturb("opensearch", "index", "after", kwargs)
            return response

        return index

    @contextmanager
    def installed(self) -> Iterator[FaultInjector]:
        """Hooks every botocore session created from now on (each container's), and opensearch-py."""
        specs = [
            ("before-parameter-build", self._keep_params),
            ("before-call", self._before_call),
            ("after-call", self._after_call),
        ]
        botocore.handlers.BUILTIN_HANDLERS.extend(specs)
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(opensearchpy.OpenSearch, "index", self.index_after_write(opensearchpy.OpenSearch.index))
                yield self
        finally:
            for spec in specs:
                botocore.handlers.BUILTIN_HANDLERS.remove(spec)


class RestartingFunction(LocalFunction):
    """A local container whose runtime can die (FunctionKilled): the invocation fails as a whole, as Lambda
    reports it, and the next invocation starts cold (its modules, caches and clients are gone).

    `below_sdk` holds the below-SDK faults of this container's clients (empty: its session is not watched);
    `sdk_attempts` every HTTP attempt its clients made while watched, SDK retries included."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.below_sdk: list[sdk_faults.Fault] = []
        self.sdk_attempts: list[sdk_faults.Attempt] = []
        self._sdk_numbers: Counter[str] = Counter()
        self._watched: tuple[Any, sdk_faults.SdkFaults] | None = None

    @contextmanager
    def _container(self) -> Iterator[None]:
        with super()._container():
            if self.below_sdk:
                self._watch_session()
            yield

    def _watch_session(self) -> None:
        session = import_module("facewatch.adapters.aws").session()
        if self._watched is not None and self._watched[0] is session:
            return
        if self._watched is not None:  # a cold start: the old session is gone with its container
            self._watched[1].uninstall()
        injector = sdk_faults.SdkFaults.install(session)
        # The same Fault objects, attempt log and attempt numbers: "the first Publish" stays the container
        # lineage's first, whatever cold starts happen in between.
        injector.faults = self.below_sdk
        injector.log = self.sdk_attempts
        injector._numbers = self._sdk_numbers
        self._watched = (session, injector)

    def stop_watching(self) -> None:
        if self._watched is not None:
            self._watched[1].uninstall()
            self._watched = None

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        try:
            return super().invoke(event)
        except FunctionKilled as killed:
            self._modules = {}
            invocation = Invocation(
                function_name=self.config.function_name,
                request_id=str(uuid.uuid4()),
                event=event,
                response=None,
                error=f"Runtime.ExitError: {killed}",
                output="",
                duration_seconds=0.0,
            )
            self.invocations.append(invocation)
            return invocation


class SqsTime:
    """moto's SQS clock, real time plus an offset that jumps while a consumer long-polls an idle queue.

    A long poll that finds nothing visible waits, in SQS, until a message becomes visible (its visibility
    timeout or DelaySeconds ends) or the wait ends; here the clock jumps to that moment instead. Only
    long polls jump (the tests' own reads use WaitTimeSeconds=0), so time moves only when the consumer
    would be waiting anyway.
    """

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def _unix_time(self, dt: Any = None) -> float:
        return self.now() if dt is None else real_unix_time(dt)

    def _unix_time_millis(self, dt: Any = None) -> float:
        return self._unix_time(dt) * 1000.0

    def _wait_for_messages(self, queue: Any, timeout: int) -> None:
        now_ms = self.now() * 1000.0
        upcoming = [
            moment
            for message in list(queue._messages)
            for moment in (message.visible_at, message.delayed_until)
            if moment > now_ms
        ]
        target_ms = min(upcoming) + 1.0 if upcoming else now_ms + timeout * 1000.0 + 1.0
        self.offset += (target_ms - now_ms) / 1000.0

    @contextmanager
    def installed(self) -> Iterator[SqsTime]:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(sqs_models, "unix_time", self._unix_time)
            patch.setattr(sqs_models, "unix_time_millis", self._unix_time_millis)
            time_machine = self

            def wait_for_messages(queue: Any, timeout: int) -> None:
                time_machine._wait_for_messages(queue, timeout)

            patch.setattr(sqs_models.Queue, "wait_for_messages", wait_for_messages)
            yield self
