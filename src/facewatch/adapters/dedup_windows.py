"""Camera dedup windows in DedupTable: one item per camera, claimed with one conditional write.

The camera item only says which window is current; it is overwritten by the next one. What a window
leaves behind, the number of sightings it suppressed, goes onto the item of the alert that opened it
(alert#ID, keyed and aged by facewatch.adapters.alert_ledger), which no later window touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import ALERT_ITEM_TTL_SECONDS, alert_key
from facewatch.domain.dedup import DedupWindow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Window items outlive their window by a day (for inspection), then DynamoDB TTL removes them.
WINDOW_ITEM_TTL_SECONDS = 86_400


def window_key(camera_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"camera#{camera_id}"}}


@dataclass(frozen=True, slots=True)
class Claim:
    won: bool
    window: DedupWindow


class DedupWindows:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def claim(self, window: DedupWindow) -> Claim:
        """Opens `window` unless the camera's current window still covers its start.

        Succeeds iff there is no window, the stored one has ended by this frame time, or the stored one
        was opened by this very alert (a redelivered record must re-send its job). Losing the race is a
        suppression: the stored window comes back with the failure (ReturnValuesOnConditionCheckFailure),
        so no second read is needed.
        """
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=window_key(window.camera_id),
                UpdateExpression=(
                    "SET window_start = :start, window_end = :end, alert_id = :alert, expires_at = :expires"
                ),
                ConditionExpression="attribute_not_exists(pk) OR window_end <= :start OR alert_id = :alert",
                ExpressionAttributeValues={
                    ":start": {"N": repr(window.start)},
                    ":end": {"N": repr(window.end)},
                    ":alert": {"S": window.alert_id},
                    ":expires": {"N": str(int(window.end) + WINDOW_ITEM_TTL_SECONDS)},
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            item: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if not item:
                raise
            current = DedupWindow(
                camera_id=window.camera_id,
                start=float(item["window_start"]["N"]),
                end=float(item["window_end"]["N"]),
                alert_id=item["alert_id"]["S"],
            )
            return Claim(won=False, window=current)
        return Claim(won=True, window=window)

    def add_suppressed(self, alert_id: str, count: int, now: float) -> None:
        """Adds `count` suppressed sightings to the window opened by `alert_id`, on that alert's item.

        Unconditional: the alert id names the window for good, so the count lands on the right window
        whenever it is written, and counts from several containers add up. The item may not exist yet
        (the alert stage writes it later): ADD creates it, with the alert item's expiry unless it has one.
        """
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression="ADD suppressed_count :n SET expires_at = if_not_exists(expires_at, :expires)",
            ExpressionAttributeValues={
                ":n": {"N": str(count)},
                ":expires": {"N": str(int(now) + ALERT_ITEM_TTL_SECONDS)},
            },
        )
