"""Progress of each alert through the alert stage, on its own item in DedupTable (pk alert#ID).

It makes an SQS redelivery resume at the step that failed: the clip is fetched until the notify step
begins, SNS is published at most once, and indexing repeats (idempotently) until it succeeds.

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
class AlertProgress:
    clip: ClipOutcome | None = None
    notify_started_at: float | None = None
    notified_at: float | None = None
    sns_message_id: str | None = None

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


def _progress(item: dict[str, Any]) -> AlertProgress:
    clip = ClipOutcome.model_validate_json(item["clip"]["S"]) if "clip" in item else None
    return AlertProgress(
        clip=clip,
        notify_started_at=float(item["notify_started_at"]["N"]) if "notify_started_at" in item else None,
        notified_at=float(item["notified_at"]["N"]) if "notified_at" in item else None,
        sns_message_id=item.get("sns_message_id", {}).get("S"),
    )


class AlertLedger:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def load(self, alert_id: str) -> AlertProgress:
        response = self._client.get().get_item(TableName=self._table, Key=alert_key(alert_id), ConsistentRead=True)
        return _progress(response["Item"]) if "Item" in response else AlertProgress()

    def begin_notify(self, alert_id: str, clip: ClipOutcome, now: float) -> AlertProgress | None:
        """Records the clip outcome and that publishing starts, in one conditional write.

        Returns None when this attempt owns the notification; otherwise the stored progress of the
        attempt that got there first (then this one must not publish).
        """
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=alert_key(alert_id),
                UpdateExpression="SET clip = :clip, notify_started_at = :now, expires_at = :expires",
                ConditionExpression="attribute_not_exists(notify_started_at)",
                ExpressionAttributeValues={
                    ":clip": {"S": clip.model_dump_json()},
                    ":now": {"N": repr(now)},
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

    def abort_notify(self, alert_id: str) -> None:
        """SNS refused the publish (a definite failure): let the retry publish."""
        self._client.get().update_item(
            TableName=self._table, Key=alert_key(alert_id), UpdateExpression="REMOVE notify_started_at"
        )

    def finish_notify(self, alert_id: str, sns_message_id: str, notified_at: float) -> None:
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression="SET notified_at = :at, sns_message_id = :id",
            ExpressionAttributeValues={":at": {"N": repr(notified_at)}, ":id": {"S": sns_message_id}},
        )
