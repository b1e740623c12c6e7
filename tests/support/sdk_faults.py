"""Faults injected BELOW botocore's retry loop, so a test sees what the SDK itself does with them.

`SdkFaults` is a `before-send` handler: botocore emits `before-send.<service>.<Operation>` once per HTTP
attempt, inside its retry loop (botocore.endpoint.Endpoint._send_request), after the request is signed;
a handler may answer it with an `AWSResponse` or raise, and botocore treats that exactly like a reply
from the wire. So an injected throttle is retried by the SDK's own retry mode, a lost answer is retried
as a read timeout, and every attempt, retries included, is counted here.

Faults, per operation, on chosen attempts (1-based, counted per operation over the watched emitter):
- `throttle`: a real-shaped 400 throttling error (ThrottlingException, ProvisionedThroughputExceededException,
  ...): nothing happened, the SDK backs off and retries (standard mode: at most `max_attempts`).
- `fail_after_apply`: the request is forwarded (moto applies it) and a 5xx answer is returned instead.
- `lose_answer`: the request is forwarded (applied) and the answer is lost: botocore's ReadTimeoutError.
- `hang`: the attempt is sent, over a real socket with the client's own timeouts, to a `SilentServer` on
  127.0.0.1 that accepts and never answers; nothing is applied.

Works with `mock_aws` clients (requests that go through are answered by moto's `before-send` handler, which
the injector calls itself) and with clients
pointed at a ThreadedMotoServer on 127.0.0.1 (forwarding is a real HTTP request). Install on a client
(`SdkFaults.install(client)`) or on a boto3/botocore session before its clients are made (every client
of that session is then watched).

`instant_retries()` keeps the SDK's retries but skips their back-off sleeps (recording what the SDK asked
for), so a test with many throttles stays fast.
"""

from __future__ import annotations

import enum
import io
import json
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Self
from urllib.parse import urlsplit, urlunsplit
from xml.sax.saxutils import escape

from botocore.awsrequest import AWSPreparedRequest, AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError
from botocore.httpsession import URLLib3Session
from botocore.model import ServiceModel
from botocore.retries.standard import ExponentialBackoff, RetryContext
from moto.core.models import botocore_stubber as moto_stubber

INJECTED_REQUEST_ID = "injected-0000"

# The throttling code each service sends (all are in botocore's retryable throttling codes).
THROTTLING_CODES: dict[str, str] = {
    "dynamodb": "ProvisionedThroughputExceededException",
    "kinesis": "ProvisionedThroughputExceededException",
    "sqs": "RequestThrottled",
    "sns": "Throttling",
    "s3": "SlowDown",
}
THROTTLING_STATUS: dict[str, int] = {"s3": 503}
# Forwarded requests go to a local emulator (ThreadedMotoServer on 127.0.0.1).
FORWARD_TIMEOUT_SECONDS = 10
# Bound on one SilentServer's life: a test that forgets to close it cannot leave a thread behind for long.
SILENT_SERVER_MAX_SECONDS = 60.0


class FaultKind(enum.StrEnum):
    THROTTLE = "throttle"
    FAIL_AFTER_APPLY = "fail_after_apply"
    LOSE_ANSWER = "lose_answer"
    HANG = "hang"


def every(n: int) -> Callable[[int], bool]:
    """Attempts n, 2n, 3n, ... of the operation."""
    if n < 1:
        raise ValueError("every(n) needs n >= 1")
    return lambda attempt: attempt % n == 0


def attempts(*numbers: int) -> Callable[[int], bool]:
    """Exactly these attempts of the operation (1-based)."""
    chosen = frozenset(numbers)
    return lambda attempt: attempt in chosen


def always(_: int) -> bool:
    return True


@dataclass
class Fault:
    operation: str  # botocore's operation name, e.g. "UpdateItem"
    kind: FaultKind
    on: Callable[[int], bool]  # which attempts of the operation (1-based) are disturbed
    code: str | None = None
    status: int | None = None
    hits: int = 0


@dataclass(frozen=True, slots=True)
class Attempt:
    """One HTTP attempt the SDK made, and what was done to it (None: passed through)."""

    service: str
    operation: str
    number: int  # of this operation, 1-based
    fault: FaultKind | None


class _RawBody(io.BytesIO):
    """What AWSResponse reads its body from (urllib3's HTTPResponse.stream interface)."""

    def stream(self, **_: Any) -> Iterator[bytes]:
        chunk = self.read()
        while chunk:
            yield chunk
            chunk = self.read()


def error_response(service_model: ServiceModel, url: str, code: str, status: int, message: str) -> AWSResponse:
    """An error answer shaped as the service's protocol sends it, so botocore parses it as from AWS."""
    headers = HTTPHeaders()
    headers["x-amzn-RequestId"] = INJECTED_REQUEST_ID
    protocol = service_model.resolved_protocol
    if protocol == "json":
        headers["Content-Type"] = f"application/x-amz-json-{service_model.metadata.get('jsonVersion', '1.0')}"
        body = json.dumps({"__type": code, "message": message}).encode()
    elif protocol == "rest-json":
        headers["Content-Type"] = "application/json"
        headers["x-amzn-ErrorType"] = code
        body = json.dumps({"message": message}).encode()
    elif protocol == "query":
        headers["Content-Type"] = "text/xml"
        body = (
            f"<ErrorResponse><Error><Type>{'Receiver' if status >= 500 else 'Sender'}</Type>"
            f"<Code>{escape(code)}</Code><Message>{escape(message)}</Message></Error>"
            f"<RequestId>{INJECTED_REQUEST_ID}</RequestId></ErrorResponse>"
        ).encode()
    elif protocol == "rest-xml":
        headers["Content-Type"] = "application/xml"
        body = (
            f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
            f"<RequestId>{INJECTED_REQUEST_ID}</RequestId></Error>"
        ).encode()
    else:
        raise NotImplementedError(f"no injected error shape for protocol {protocol!r}")
    headers["Content-Length"] = str(len(body))
    return AWSResponse(url, status, headers, _RawBody(body))


def _emitter_of(target: Any) -> Any:
    meta = getattr(target, "meta", None)
    if meta is not None and hasattr(meta, "events"):
        return meta.events  # a client
    if hasattr(target, "events"):
        return target.events  # a boto3 Session
    return target.get_component("event_emitter")  # a botocore Session


@dataclass
class SdkFaults:
    """Faults and attempt counts for the clients of one event emitter (a client's or a session's)."""

    events: Any
    faults: list[Fault] = field(default_factory=list)
    log: list[Attempt] = field(default_factory=list)
    _numbers: Counter[str] = field(default_factory=Counter)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _service_models: dict[str, ServiceModel] = field(default_factory=dict)
    _http: URLLib3Session | None = None
    _silent: SilentServer | None = None

    @classmethod
    def install(cls, target: Any) -> Self:
        """Hooks `target` (a client, a boto3 Session or a botocore Session).

        botocore calls every `before-send` handler, even after one has answered, so moto's own handler
        (which applies the request under mock_aws) would still apply a throttled request. The injector
        therefore takes moto's handler off this emitter and calls it itself when a request goes through.
        """
        injector = cls(events=_emitter_of(target))
        injector.events.unregister("before-send", moto_stubber)
        injector.events.register("before-call", injector._learn_service_model)
        injector.events.register("before-send", injector._before_send)
        return injector

    def uninstall(self) -> None:
        self.events.unregister("before-send", self._before_send)
        self.events.unregister("before-call", self._learn_service_model)
        self.events.register("before-send", moto_stubber)
        if self._http is not None:
            self._http.close()
        if self._silent is not None:
            self._silent.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.uninstall()

    # Declaring faults

    def throttle(
        self, operation: str, on: Callable[[int], bool] = always, *, code: str | None = None, status: int | None = None
    ) -> Fault:
        return self._add(Fault(operation, FaultKind.THROTTLE, on, code, status))

    def fail_after_apply(self, operation: str, on: Callable[[int], bool] = always, *, status: int = 500) -> Fault:
        code = "InternalServerError" if status == 500 else "ServiceUnavailable"
        return self._add(Fault(operation, FaultKind.FAIL_AFTER_APPLY, on, code, status))

    def lose_answer(self, operation: str, on: Callable[[int], bool] = always) -> Fault:
        return self._add(Fault(operation, FaultKind.LOSE_ANSWER, on))

    def hang(self, operation: str, on: Callable[[int], bool] = always) -> Fault:
        return self._add(Fault(operation, FaultKind.HANG, on))

    def clear(self) -> None:
        """No faults from now on; the attempt counts go on."""
        with self._lock:
            self.faults = []

    def _add(self, fault: Fault) -> Fault:
        with self._lock:
            self.faults.append(fault)
        return fault

    # Reading what happened

    def attempts(self, operation: str) -> int:
        """HTTP attempts the SDK made for `operation`, retries included."""
        return sum(1 for attempt in self.log if attempt.operation == operation)

    def injected(self, operation: str | None = None) -> list[Attempt]:
        return [a for a in self.log if a.fault is not None and operation in (None, a.operation)]

    # The handler

    def _learn_service_model(self, model: Any, **_: Any) -> None:
        # before-call fires once per API call, before any attempt: it brings the operation's model.
        service_model: ServiceModel = model.service_model
        self._service_models.setdefault(service_model.service_id.hyphenize(), service_model)

    def _before_send(self, request: AWSPreparedRequest, event_name: str, **_: Any) -> AWSResponse | None:
        service, operation = event_name.split(".", 2)[1:]
        with self._lock:
            self._numbers[operation] += 1
            number = self._numbers[operation]
            fault = next((f for f in self.faults if f.operation == operation and f.on(number)), None)
            if fault is not None:
                fault.hits += 1
            self.log.append(Attempt(service, operation, number, fault.kind if fault else None))
        if fault is None:
            return moto_stubber(event_name=event_name, request=request)  # None: botocore sends it
        model = self._service_models[service]
        match fault.kind:
            case FaultKind.THROTTLE:
                code = fault.code or THROTTLING_CODES.get(service, "ThrottlingException")
                status = fault.status or THROTTLING_STATUS.get(service, 400)
                return error_response(model, request.url, code, status, "Rate exceeded (injected)")
            case FaultKind.FAIL_AFTER_APPLY:
                self._forward(event_name, request)
                code, status = fault.code or "InternalServerError", fault.status or 500
                return error_response(model, request.url, code, status, "Internal error (injected)")
            case FaultKind.LOSE_ANSWER:
                self._forward(event_name, request)
                raise ReadTimeoutError(endpoint_url=request.url)
            case FaultKind.HANG:
                request.url = self._silent_server().redirect(request.url)
                return None  # botocore sends it itself, with the client's own timeouts

    def _forward(self, event_name: str, request: AWSPreparedRequest) -> AWSResponse:
        """Lets the request be applied: by moto's in-process backends under mock_aws, else over the wire."""
        answer: AWSResponse | None = moto_stubber(event_name=event_name, request=request)
        if answer is not None:
            return answer
        if self._http is None:
            self._http = URLLib3Session(timeout=FORWARD_TIMEOUT_SECONDS)
        request.reset_stream()
        answer = self._http.send(request)
        answer.content  # noqa: B018 - read the whole answer: the server has applied the request by then
        return answer

    def _silent_server(self) -> SilentServer:
        if self._silent is None:
            self._silent = SilentServer()
        return self._silent


class SilentServer:
    """A TCP server on 127.0.0.1 that accepts connections and never answers: a hanging endpoint.

    A client with a read timeout sees a real socket read time out. Connections are held until `close()`
    or, at the latest, SILENT_SERVER_MAX_SECONDS after the server started (then closed: a client without
    timeout sees the connection drop, never a hang beyond that bound).
    """

    def __init__(self, max_seconds: float = SILENT_SERVER_MAX_SECONDS) -> None:
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._listener.settimeout(0.1)
        self.port: int = self._listener.getsockname()[1]
        self.accepted = 0
        self._held: list[socket.socket] = []
        self._deadline = time.monotonic() + max_seconds
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, name="silent-server", daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def redirect(self, url: str) -> str:
        """`url` with its scheme and host replaced by this server's (path and query kept)."""
        parts = urlsplit(url)
        return urlunsplit(("http", f"127.0.0.1:{self.port}", parts.path, parts.query, parts.fragment))

    def _serve(self) -> None:
        while not self._stop.is_set() and time.monotonic() < self._deadline:
            try:
                connection, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                break
            self.accepted += 1
            self._held.append(connection)  # read nothing, answer nothing
        self._release()

    def _release(self) -> None:
        for connection in self._held:
            connection.close()
        self._held.clear()
        self._listener.close()

    def close(self) -> None:
        self._stop.set()
        self._thread.join(timeout=2.0)

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


@contextmanager
def instant_retries() -> Iterator[list[float]]:
    """The SDK's standard-mode retries happen as usual but without their back-off sleeps.

    Yields the delays the SDK computed (seconds), one per retry, so a test can still see that it backed off.
    """
    asked: list[float] = []
    original = ExponentialBackoff.delay_amount

    def delay_amount(backoff: ExponentialBackoff, context: RetryContext) -> float:
        asked.append(original(backoff, context))
        return 0.0

    ExponentialBackoff.delay_amount = delay_amount  # type: ignore[method-assign,assignment]
    try:
        yield asked
    finally:
        ExponentialBackoff.delay_amount = original  # type: ignore[method-assign]
