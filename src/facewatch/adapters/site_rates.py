"""Alerts per site per M-minute bucket, on one DedupTable item per site (pk rate#<site>), for the digest
decision (facewatch.domain.policy_rules.cap_decision).

One conditional UpdateItem per capped-site alert; two when the alert is the first of a new bucket (the
first finds the stored bucket over, the second starts the new one and keeps the old count as `previous`).
Sites without caps in their policy make no call at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Counter items outlive their bucket by a day, then DynamoDB TTL removes them.
RATE_ITEM_TTL_SECONDS = 86_400
# A lost race at a bucket change is retried this often before giving up (the alert then goes out on its own).
MAX_ROLLOVER_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class SiteCount:
    count: int  # alerts in the current bucket, this one included
    previous: int  # alerts in the bucket before it (0 if that bucket saw none)


def rate_key(site: str) -> dict[str, Any]:
    return {"pk": {"S": f"rate#{site}"}}


class SiteRates:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def count(self, site: str, bucket: int, bucket_seconds: float) -> SiteCount | None:
        """Counts one alert in `bucket`; None when the stored bucket is newer (an old alert arriving late)."""
        expires = {":expires": {"N": str(int((bucket + 1) * bucket_seconds) + RATE_ITEM_TTL_SECONDS)}}
        for _ in range(MAX_ROLLOVER_ATTEMPTS):
            try:
                response = self._client.get().update_item(
                    TableName=self._table,
                    Key=rate_key(site),
                    UpdateExpression="ADD alert_count :one",
                    ConditionExpression="period_index = :bucket",
                    ExpressionAttributeValues={":one": {"N": "1"}, ":bucket": {"N": str(bucket)}},
                    ReturnValues="ALL_NEW",
                    ReturnValuesOnConditionCheckFailure="ALL_OLD",
                )
                item = response["Attributes"]
                return SiteCount(
                    count=int(item["alert_count"]["N"]), previous=int(item.get("previous_count", {}).get("N", "0"))
                )
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise
                old: dict[str, Any] = error.response.get("Item", {})  # type: ignore[assignment]
            old_bucket = int(old["period_index"]["N"]) if old else None
            if old_bucket is not None and old_bucket > bucket:
                return None
            previous = int(old["alert_count"]["N"]) if old and old_bucket == bucket - 1 else 0
            try:
                self._client.get().update_item(
                    TableName=self._table,
                    Key=rate_key(site),
                    UpdateExpression=(
                        "SET period_index = :bucket, alert_count = :one, previous_count = :previous, "
                        "expires_at = :expires"
                    ),
                    ConditionExpression="attribute_not_exists(pk) OR period_index = :old",
                    ExpressionAttributeValues={
                        ":bucket": {"N": str(bucket)},
                        ":one": {"N": "1"},
                        ":previous": {"N": str(previous)},
                        ":old": {"N": str(old_bucket if old_bucket is not None else -1)},
                        **expires,
                    },
                )
                return SiteCount(count=1, previous=previous)
            except ClientError as error:
                if aws.error_code(error) != "ConditionalCheckFailedException":
                    raise
        return None
