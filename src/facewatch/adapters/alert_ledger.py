"""Progress of each alert through the alert stage, on its own item in DedupTable (pk alert#ID).

It makes an SQS redelivery resume at the step that failed: the clip is fetched until the notify step
begins, SNS is published at most once, and the document is queued for indexing (idempotently) until
that succeeds.

The notify step is claimed with one conditional write that carries the attempt's token, the SQS message
that made it and the end of that invocation. An SDK retry of the claim (the write applied, its answer was
lost) repeats the same token and finds the claim its own. Another attempt that finds the claim can tell
its own earlier receive of the message (over: SQS redelivers only after the visibility timeout, which is
longer than the function's timeout), a copy of the job still in flight (its invocation has not ended),
and a copy that stopped.

This module owns the alert item's key and lifetime. The detector adds one attribute to the same item,
`suppressed_count` (the sightings its window suppressed, see DedupWindows.add_suppressed), which the
alert stage neither reads nor overwrites.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws
from facewatch.domain.clip import ClipOutcome

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Alert items outlive the alert queue's and its dead-letter queue's retention (14 days at most).
ALERT_ITEM_TTL_SECONDS = 30 * 86_400


@dataclass(frozen=True, slots=True)
class NotifyAttempt:
    """Who claims the notify step: a token unique to the attempt, its SQS message, and when its invocation
    ends (Lambda stops it then, so after it the attempt can no longer publish)."""

    token: str
    message_id: str
    deadline: float


@dataclass(frozen=True, slots=True)
class AlertProgress:
    clip: ClipOutcome | None = None
    notify_started_at: float | None = None
    notified_at: float | None = None
    sns_message_id: str | None = None
    notify_attempt: str | None = None
    notify_message_id: str | None = None
    notify_deadline: float | None = None

    @property
    def notified(self) -> bool:
        return self.notified_at is not None

    @property
    def notify_in_doubt(self) -> bool:
        """An earlier attempt began publishing and never recorded the outcome (it crashed or timed out)."""
        return self.notify_started_at is not None and self.notified_at is None


def alert_key(alert_id: str) -> dict[str, Any]:
    """The DynamoDB key of an alert's item: the one place the `alert#` format is written."""
    return {"pk": {"S": f"alert#{alert_id}"}}


def _number(item: dict[str, Any], name: str) -> float | None:
    return float(item[name]["N"]) if "N" in item.get(name, {}) else None


def _progress(item: dict[str, Any]) -> AlertProgress:
    clip = ClipOutcome.model_validate_json(item["clip"]["S"]) if "clip" in item else None
    return AlertProgress(
        clip=clip,
        notify_started_at=_number(item, "notify_started_at"),
        notified_at=_number(item, "notified_at"),
        sns_message_id=item.get("sns_message_id", {}).get("S"),
        notify_attempt=item.get("notify_attempt", {}).get("S"),
        notify_message_id=item.get("notify_message_id", {}).get("S"),
        notify_deadline=_number(item, "notify_deadline"),
    )


class AlertLedger:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def load(self, alert_id: str) -> AlertProgress:
        response = self._client.get().get_item(TableName=self._table, Key=alert_key(alert_id), ConsistentRead=True)
        return _progress(response["Item"]) if "Item" in response else AlertProgress()

    def begin_notify(
        self, alert_id: str, clip: ClipOutcome, attempt: NotifyAttempt, now: float
    ) -> AlertProgress | None:
        """Records the clip outcome and that `attempt` starts publishing, in one conditional write.

        Returns None when this attempt owns the notification (also when the write is an SDK retry of its
        own applied write); otherwise the stored progress of the attempt that got there first (then this
        one must not publish).
        """
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=alert_key(alert_id),
                UpdateExpression=(
                    "SET clip = :clip, notify_started_at = :now, notify_attempt = :attempt, "
                    "notify_message_id = :message, notify_deadline = :deadline, expires_at = :expires"
                ),
                ConditionExpression="attribute_not_exists(notify_started_at) OR notify_attempt = :attempt",
                ExpressionAttributeValues={
                    ":clip": {"S": clip.model_dump_json()},
                    ":now": {"N": repr(now)},
                    ":attempt": {"S": attempt.token},
                    ":message": {"S": attempt.message_id},
                    ":deadline": {"N": repr(attempt.deadline)},
                    ":expires": {"N": str(int(now) + ALERT_ITEM_TTL_SECONDS)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            stored: dict[str, Any] = error.response.get("Item", {})  # type: ignore[assignment]
            return _progress(stored)
        return None

    def abort_notify(self, alert_id: str, attempt: NotifyAttempt) -> None:
        """SNS refused the publish (a definite failure): let a later attempt publish. Only `attempt`'s own
        claim is released; when it is gone already (an SDK retry of this write, or a person settled the
        alert), there is nothing to do."""
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=alert_key(alert_id),
                UpdateExpression="REMOVE notify_started_at, notify_attempt, notify_message_id, notify_deadline",
                ConditionExpression="notify_attempt = :attempt",
                ExpressionAttributeValues={":attempt": {"S": attempt.token}},
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise

    def finish_notify(self, alert_id: str, sns_message_id: str, notified_at: float) -> None:
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression="SET notified_at = :at, sns_message_id = :id",
            ExpressionAttributeValues={":at": {"N": repr(notified_at)}, ":id": {"S": sns_message_id}},
        )
