"""Observing and disturbing boto3 clients on moto, and reading back what landed in SQS and S3.

Calls are observed and failures injected with botocore's own event hooks (the mechanism behind
botocore.stub.Stubber), so the code under test keeps its real client.
"""

from __future__ import annotations

import base64
import itertools
import json
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from facewatch.adapters.dedup_windows import window_key


@dataclass(frozen=True, slots=True)
class AwsCall:
    service: str
    operation: str
    params: dict[str, Any]


@dataclass
class CallLog:
    """Every API call the watched clients make, with its parameters, in order."""

    calls: list[AwsCall] = field(default_factory=list)

    def watch[C](self, client: C) -> C:
        events = client.meta.events  # type: ignore[attr-defined]
        service = client.meta.service_model.service_name  # type: ignore[attr-defined]

        def record(params: dict[str, Any], model: Any, **_: Any) -> None:
            self.calls.append(AwsCall(service, model.name, dict(params)))

        # before-parameter-build fires once per API call with the caller's parameters, retries excluded.
        events.register(f"before-parameter-build.{service}", record)
        return client

    def of(self, service: str, operation: str | None = None) -> list[AwsCall]:
        return [c for c in self.calls if c.service == service and operation in (None, c.operation)]

    def by_operation(self) -> Counter[str]:
        return Counter(f"{c.service}.{c.operation}" for c in self.calls)

    def mark(self) -> int:
        """A position in the log, for counting the calls made after it."""
        return len(self.calls)

    def since(self, mark: int) -> list[AwsCall]:
        return self.calls[mark:]


def fail_calls(
    client: Any, operation: str, error_code: str, *, starting_at_call: int = 1, times: int = 1, status: int = 400
) -> None:
    """Calls number `starting_at_call` .. +`times` of `operation` fail with `error_code`, as if AWS said so.

    The error takes botocore's normal error path (modelled exception class, no SDK retry), like a
    response queued with botocore.stub.Stubber; every other call goes through to moto.
    """
    service = client.meta.service_model.service_name
    seen = [0]

    def answer(**_: Any) -> tuple[AWSResponse, dict[str, Any]] | None:
        seen[0] += 1
        if not starting_at_call <= seen[0] < starting_at_call + times:
            return None
        return error_response(error_code, status)

    client.meta.events.register(f"before-call.{service}.{operation}", answer)


def error_response(error_code: str, status: int = 400) -> tuple[AWSResponse, dict[str, Any]]:
    """What a `before-call` handler returns to make botocore raise the modelled error, as if AWS said so."""
    http = AWSResponse(url="https://injected.invalid/", status_code=status, headers=HTTPHeaders(), raw=None)
    parsed = {
        "Error": {"Code": error_code, "Message": f"injected {error_code}"},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "injected"},
    }
    return http, parsed


@dataclass(frozen=True, slots=True)
class QueuedMessage:
    body: dict[str, Any]
    attributes: dict[str, str]
    message_attributes: dict[str, str]


def receive_visible(sqs: Any, queue_url: str, max_receives: int | None = None) -> list[dict[str, Any]]:
    """Every message visible now, as SQS returns it (each receive hides what it returns, so this drains the
    queue), in at most `max_receives` receives of ten when given."""
    messages: list[dict[str, Any]] = []
    for _ in itertools.count() if max_receives is None else range(max_receives):
        batch = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            WaitTimeSeconds=0,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not batch:
            break
        messages += batch
    return messages


def queued_message(message: dict[str, Any]) -> QueuedMessage:
    return QueuedMessage(
        body=json.loads(message["Body"]),
        attributes=message.get("Attributes", {}),
        message_attributes={k: v["StringValue"] for k, v in message.get("MessageAttributes", {}).items()},
    )


def receive_all(sqs: Any, queue_url: str) -> list[QueuedMessage]:
    """Every message visible now (each receive hides what it returns, so this drains the queue)."""
    return [queued_message(message) for message in receive_visible(sqs, queue_url)]


def queue_depth(sqs: Any, queue_url: str) -> tuple[int, int]:
    """(messages visible now, messages still inside their DelaySeconds)."""
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesDelayed"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]), int(attributes["ApproximateNumberOfMessagesDelayed"])


@dataclass(frozen=True, slots=True)
class QuarantinedObject:
    key: str
    envelope: dict[str, Any]
    metadata: dict[str, str]

    @property
    def reason(self) -> str:
        return str(self.envelope["reason"])

    @property
    def raw(self) -> bytes:
        return base64.b64decode(self.envelope["raw_base64"])


def quarantined_objects(s3: Any, bucket: str, prefix: str = "quarantine/detector/") -> list[QuarantinedObject]:
    objects = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for summary in page.get("Contents", []):
            response = s3.get_object(Bucket=bucket, Key=summary["Key"])
            envelope = json.loads(response["Body"].read())
            objects.append(QuarantinedObject(summary["Key"], envelope, response.get("Metadata", {})))
    return objects


def dedup_item(dynamodb: Any, table: str, camera_id: str) -> dict[str, Any] | None:
    """A camera's window item as stored, numbers as floats, or None."""
    item = dynamodb.get_item(TableName=table, Key=window_key(camera_id), ConsistentRead=True)
    if "Item" not in item:
        return None
    return {k: float(v["N"]) if "N" in v else v.get("S") for k, v in item["Item"].items()}


def window_claims(calls: list[AwsCall]) -> list[AwsCall]:
    """The conditional writes that try to open a camera window."""
    return [c for c in calls if c.operation == "UpdateItem" and "window_end =" in c.params["UpdateExpression"]]


def suppressed_count_updates(calls: list[AwsCall]) -> list[AwsCall]:
    """The writes that add an ended window's suppressed sightings to its alert's item."""
    return [
        c
        for c in calls
        if c.operation == "UpdateItem" and c.params["UpdateExpression"].startswith("ADD suppressed_count ")
    ]


def counted(call: AwsCall) -> tuple[dict[str, Any], int]:
    """The key a suppressed-count write adds to, and how many it adds."""
    return call.params["Key"], int(call.params["ExpressionAttributeValues"][":n"]["N"])
