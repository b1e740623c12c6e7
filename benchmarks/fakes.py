"""The AWS APIs the detector calls, answered in memory: DynamoDB UpdateItem, SQS SendMessage, S3 PutObject.

One store, two ways in:

- `stub(service)`: an object with the boto3 method names, injected into the real adapters. No botocore
  runs, so a benchmark measures facewatch's own code (handler, domain, adapters) and nothing else.
- `serve(events)`: real botocore clients whose HTTP requests are answered here (botocore's `before-send`
  hook), so validation, serialisation, SigV4 signing and response parsing run as they do in Lambda; only
  the network and the service are missing.

Neither is moto. Time spent inside the store is added to `spent`, which a benchmark subtracts.
DynamoDB expressions are evaluated for the subset facewatch writes (SET, also with if_not_exists; ADD;
REMOVE; comparisons, attribute_exists/attribute_not_exists, AND/OR); anything else raises, so a changed
expression cannot be silently mis-answered.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any
from urllib.parse import unquote, urlsplit

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ClientError

from benchmarks.harness import Clocks

type Item = dict[str, dict[str, Any]]

# The operations the detector uses, by boto3 method name.
OPERATIONS: Mapping[str, Mapping[str, str]] = {
    "dynamodb": {"update_item": "UpdateItem"},
    "sqs": {"send_message": "SendMessage"},
    "s3": {"put_object": "PutObject"},
}
_JSON_CONTENT_TYPE = {"dynamodb": "application/x-amz-json-1.0", "sqs": "application/x-amz-json-1.0"}
_ERROR_NAMESPACE = {"dynamodb": "com.amazonaws.dynamodb.v20120810", "sqs": "com.amazonaws.sqs"}


class AwsError(Exception):
    """An error response, as the service would send it (code, HTTP status, modelled extra fields)."""

    def __init__(self, code: str, message: str, status: int = 400, extra: Mapping[str, Any] | None = None) -> None:
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message
        self.status = status
        self.extra = dict(extra or {})


class UnsupportedRequestError(NotImplementedError):
    """The code under test asked for something this store does not emulate: extend it, do not guess."""


def _value(typed: Mapping[str, Any]) -> Any:
    (kind, raw), *_ = typed.items()
    if kind == "N":
        return Decimal(raw)
    if kind in ("S", "BOOL"):
        return raw
    raise UnsupportedRequestError(f"attribute type {kind}")


_COMPARISONS: Mapping[str, Callable[[Any, Any], bool]] = {
    "=": lambda a, b: a == b,
    "<>": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_FUNCTION_TERM = re.compile(r"^(attribute_exists|attribute_not_exists)\((\w+)\)$")
_COMPARISON_TERM = re.compile(r"^(\w+)\s*(<>|<=|>=|=|<|>)\s*(:\w+)$")


def condition_holds(expression: str, item: Item | None, values: Mapping[str, Any]) -> bool:
    """A ConditionExpression of OR-ed AND-ed terms (no parentheses around sub-expressions)."""
    stored = item or {}
    for alternative in re.split(r"\s+OR\s+", expression.strip()):
        if all(_term_holds(term.strip(), stored, values) for term in re.split(r"\s+AND\s+", alternative)):
            return True
    return False


def _term_holds(term: str, item: Item, values: Mapping[str, Any]) -> bool:
    if match := _FUNCTION_TERM.match(term):
        exists = match.group(2) in item
        return exists if match.group(1) == "attribute_exists" else not exists
    if match := _COMPARISON_TERM.match(term):
        name, operator, placeholder = match.groups()
        if name not in item:
            return False
        return _COMPARISONS[operator](_value(item[name]), _value(values[placeholder]))
    raise UnsupportedRequestError(f"condition term {term!r}")


_IF_NOT_EXISTS = re.compile(r"^if_not_exists\((\w+),\s*(:\w+)\)$")


def apply_update(expression: str, item: Item, values: Mapping[str, Any]) -> None:
    """An UpdateExpression made of SET a = :x | if_not_exists(b, :x), ... / ADD a :n, ... / REMOVE a, ... clauses.

    Operands read the item as it was before the update, as DynamoDB's do."""
    before = {name: dict(value) for name, value in item.items()}
    for action, body in re.findall(r"(SET|ADD|REMOVE)\s+(.*?)(?=\s+(?:SET|ADD|REMOVE)\s|$)", expression.strip()):
        for clause in (part.strip() for part in re.split(r",(?![^(]*\))", body)):
            if action == "SET":
                name, _, operand = (piece.strip() for piece in clause.partition("="))
                if match := _IF_NOT_EXISTS.match(operand):
                    source, placeholder = match.groups()
                    item[name] = dict(before[source] if source in before else values[placeholder])
                elif operand.startswith(":"):
                    item[name] = dict(values[operand])
                else:
                    raise UnsupportedRequestError(f"SET {clause!r}")
            elif action == "ADD":
                name, placeholder = clause.split()
                total = (_value(item[name]) if name in item else Decimal(0)) + _value(values[placeholder])
                item[name] = {"N": str(total)}
            else:
                item.pop(clause, None)


@dataclass
class InMemoryAws:
    """DynamoDB tables, SQS queues and S3 buckets as dictionaries; every call is counted."""

    tables: dict[str, dict[str, Item]] = field(default_factory=dict)
    queues: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    objects: dict[tuple[str, str], bytes] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    spent: Clocks = field(default_factory=Clocks)

    def call(self, service: str, operation: str, params: Mapping[str, Any]) -> dict[str, Any]:
        started = Clocks.now()
        try:
            self.calls[f"{service}.{operation}"] += 1
            handler: Callable[[Mapping[str, Any]], dict[str, Any]] | None = getattr(
                self, f"_{service}_{operation}", None
            )
            if handler is None:
                raise UnsupportedRequestError(f"{service}.{operation}")
            return handler(params)
        finally:
            self.spent += Clocks.now() - started

    def _dynamodb_UpdateItem(self, params: Mapping[str, Any]) -> dict[str, Any]:
        table = self.tables.setdefault(params["TableName"], {})
        key = json.dumps(params["Key"], sort_keys=True)
        current = table.get(key)
        values = params.get("ExpressionAttributeValues", {})
        condition = params.get("ConditionExpression")
        if condition and not condition_holds(condition, current, values):
            extra = {}
            if current and params.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD":
                extra["Item"] = current
            raise AwsError("ConditionalCheckFailedException", "The conditional request failed", extra=extra)
        updated: Item = {**(current or {}), **params["Key"]}
        apply_update(params["UpdateExpression"], updated, values)
        table[key] = updated
        return {}

    def _sqs_SendMessage(self, params: Mapping[str, Any]) -> dict[str, Any]:
        queue = self.queues.setdefault(params["QueueUrl"], [])
        queue.append(dict(params))
        body = params["MessageBody"]
        return {"MessageId": f"{len(queue):08d}-fake", "MD5OfMessageBody": hashlib.md5(body.encode()).hexdigest()}

    def _s3_PutObject(self, params: Mapping[str, Any]) -> dict[str, Any]:
        body = params.get("Body", b"")
        data = body if isinstance(body, bytes) else body.encode() if isinstance(body, str) else body.read()
        self.objects[(params["Bucket"], params["Key"])] = data
        return {"ETag": f'"{hashlib.md5(data).hexdigest()}"'}

    def reset(self) -> None:
        """Empty tables, queues and buckets, and zero the counters (a fresh account for the next run)."""
        self.tables.clear()
        self.queues.clear()
        self.objects.clear()
        self.calls.clear()
        self.spent = Clocks()

    def stub(self, service: str) -> StubClient:
        return StubClient(self, service)

    def serve(self, events: Any) -> None:
        """Answers every request of the clients behind `events` (a client's or a botocore session's emitter)."""
        events.register("before-send", self._answer)

    def _answer(self, request: Any, event_name: str, **_: Any) -> AWSResponse:
        started = Clocks.now()
        _before_send, service, operation = event_name.split(".")
        params = _request_params(service, operation, request)
        self.spent += Clocks.now() - started  # call() times itself
        try:
            status, (fields, body) = 200, _encode(service, self.call(service, operation, params))
        except AwsError as error:
            status, (fields, body) = error.status, _encode_error(service, error)
        started = Clocks.now()
        headers = HTTPHeaders()
        for name, value in {"x-amzn-RequestId": "in-memory", **fields}.items():
            headers[name] = value
        response = AWSResponse(request.url, status, headers, _Raw(body))
        self.spent += Clocks.now() - started
        return response


class StubClient:
    """A boto3 client stand-in over the store: same method names, same ClientError on failure."""

    def __init__(self, aws: InMemoryAws, service: str) -> None:
        self._aws = aws
        self._service = service

    def __getattr__(self, method: str) -> Callable[..., dict[str, Any]]:
        operation = OPERATIONS[self._service].get(method)
        if operation is None:
            raise UnsupportedRequestError(f"{self._service}.{method}")

        def call(**params: Any) -> dict[str, Any]:
            try:
                return self._aws.call(self._service, operation, params)
            except AwsError as error:
                response = {
                    "Error": {"Code": error.code, "Message": error.message},
                    "ResponseMetadata": {"HTTPStatusCode": error.status},
                    **error.extra,
                }
                raise ClientError(response, operation) from None  # type: ignore[arg-type]

        return call


def _request_params(service: str, operation: str, request: Any) -> dict[str, Any]:
    if service in _JSON_CONTENT_TYPE:
        params: dict[str, Any] = json.loads(request.body)
        return params
    if service == "s3" and operation == "PutObject":
        parts = urlsplit(request.url)
        host = parts.hostname or ""
        path = unquote(parts.path).lstrip("/")
        if host.startswith("s3.") or host.startswith("s3-") or host in ("localhost", "127.0.0.1"):
            bucket, _, key = path.partition("/")
        else:
            bucket, key = host.split(".")[0], path
        body = request.body
        data = body if isinstance(body, bytes) else b"" if body is None else body.read()
        return {"Bucket": bucket, "Key": key, "Body": data}
    raise UnsupportedRequestError(f"{service}.{operation} over HTTP")


def _encode(service: str, result: Mapping[str, Any]) -> tuple[dict[str, str], bytes]:
    if service in _JSON_CONTENT_TYPE:
        return {"Content-Type": _JSON_CONTENT_TYPE[service]}, json.dumps(result).encode()
    return {name: str(value) for name, value in result.items()}, b""


def _encode_error(service: str, error: AwsError) -> tuple[dict[str, str], bytes]:
    if service in _JSON_CONTENT_TYPE:
        document = {"__type": f"{_ERROR_NAMESPACE[service]}#{error.code}", "message": error.message, **error.extra}
        return {"Content-Type": _JSON_CONTENT_TYPE[service]}, json.dumps(document).encode()
    text = f"<Error><Code>{error.code}</Code><Message>{error.message}</Message></Error>"
    return {"Content-Type": "application/xml"}, text.encode()


class _Raw:
    """The urllib3 response surface botocore reads a body through."""

    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, *_: Any, **__: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any, **__: Any) -> bytes:
        body, self._body = self._body, b""
        return body
