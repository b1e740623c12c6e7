"""Which channels already have a message, on small items in DedupTable (pk delivery#ALERT#SEQ#CHANNEL).

A redelivered message (one channel failed, the queue retries) posts only to the channels that did not get
it. A crash between a channel's answer and this write posts to that channel once more: at least once per
channel, never silently lost (docs/alerts-and-messages.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from facewatch.adapters import aws
from facewatch.domain.channels import Channel

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Longer than the delivery queue's retention and its dead-letter queue's (14 days).
DELIVERY_ITEM_TTL_SECONDS = 15 * 86_400
DELIVERY_KEY_PREFIX = "delivery#"


def delivery_key(delivery_id: str, channel: Channel) -> dict[str, Any]:
    alert_id, _, sequence = delivery_id.partition(":")
    return {"pk": {"S": f"{DELIVERY_KEY_PREFIX}{alert_id}#{sequence}#{channel.value}"}}


class DeliveryLedger:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def delivered(self, delivery_id: str, channel: Channel) -> bool:
        response = self._client.get().get_item(
            TableName=self._table, Key=delivery_key(delivery_id, channel), ConsistentRead=True
        )
        return "Item" in response

    def mark_delivered(self, delivery_id: str, channel: Channel, now: float) -> None:
        self._client.get().put_item(
            TableName=self._table,
            Item={
                **delivery_key(delivery_id, channel),
                "delivered_at": {"N": repr(now)},
                "expires_at": {"N": str(int(now) + DELIVERY_ITEM_TTL_SECONDS)},
            },
        )
