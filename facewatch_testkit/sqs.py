"""Lambda events from SQS: `sqs_envelope` is the one builder of a message as Lambda's SQS event source mapping
delivers it (the local runtime uses it for messages received from moto); `sqs_record` and `sqs_event` put the
sample alert queue's defaults around it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

# The sample alert queue and message (scripts/make_alert_events.py writes events/alerter-*.json with them).
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The name CloudFormation gives the stack's AlertQueue (stack-LogicalId-suffix).
ALERT_QUEUE_NAME = "facewatch-AlertQueue-7XQ2M9KD4LRA"
ALERT_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{ALERT_QUEUE_NAME}"
MESSAGE_ID = "5b0f6a0e-2c1d-4e8b-9a57-3f6d1c2b7e90"
SQS_DELAY_SECONDS = 15
# When the sample job was sent (epoch milliseconds): the detector's detected_at.
SENT_AT_MS = 1763776836204


def sqs_envelope(
    *,
    message_id: str,
    receipt_handle: str,
    body: str,
    attributes: Mapping[str, str],
    queue_arn: str,
    message_attributes: Mapping[str, Any] | None = None,
    md5_of_message_attributes: str | None = None,
) -> dict[str, Any]:
    """One record of a Lambda SQS event."""
    envelope: dict[str, Any] = {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": dict(attributes),
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),  # noqa: S324 - SQS's own checksum, not security
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
    if md5_of_message_attributes is not None:
        envelope["md5OfMessageAttributes"] = md5_of_message_attributes
    return envelope


def sqs_record(
    body: str,
    *,
    receive_count: int = 1,
    message_id: str = MESSAGE_ID,
    receipt_handle: str = "MessageReceiptHandle",
    queue_arn: str = ALERT_QUEUE_ARN,
    sent_at_ms: int | None = None,
) -> dict[str, Any]:
    """One record in the shape Lambda's SQS event source mapping delivers it."""
    sent = sent_at_ms if sent_at_ms is not None else SENT_AT_MS
    return sqs_envelope(
        message_id=message_id,
        receipt_handle=receipt_handle,
        body=body,
        attributes={
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(sent),
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": str(sent + SQS_DELAY_SECONDS * 1000),
        },
        queue_arn=queue_arn,
    )


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}
