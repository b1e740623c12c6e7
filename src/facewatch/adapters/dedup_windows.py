"""Camera dedup windows in DedupTable: one item per camera, claimed with one conditional write.

The camera item says which window is current and which came before it (so a late sighting can still be
placed); both are overwritten as windows move on. What a window
leaves behind, the number of sightings it suppressed, goes onto the item of the alert that opened it
(alert#ID, keyed and aged by facewatch.adapters.alert_ledger), which no later window touches.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import ALERT_ITEM_TTL_SECONDS, alert_key
from facewatch.domain.dedup import CameraWindows, DedupWindow

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

# Window items outlive their window by a day (for inspection), then DynamoDB TTL removes them.
WINDOW_ITEM_TTL_SECONDS = 86_400


def window_key(camera_id: str) -> dict[str, Any]:
    return {"pk": {"S": f"camera#{camera_id}"}}


@dataclass(frozen=True, slots=True)
class Claim:
    """Whether the write opened the window; if not, what the camera's item holds (read with the failure)."""

    won: bool
    stored: CameraWindows | None = None


def _windows_of(item: dict[str, Any]) -> CameraWindows:
    camera_id = item["pk"]["S"].removeprefix("camera#")
    current = DedupWindow(
        camera_id=camera_id,
        start=float(item["window_start"]["N"]),
        end=float(item["window_end"]["N"]),
        alert_id=item["alert_id"]["S"],
    )
    previous = None
    if "prev_alert" in item and item["prev_alert"]["S"] != current.alert_id:
        previous = DedupWindow(
            camera_id=camera_id,
            start=float(item["prev_start"]["N"]),
            end=float(item["prev_end"]["N"]),
            alert_id=item["prev_alert"]["S"],
        )
    return CameraWindows(current=current, previous=previous)


class DedupWindows:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def claim(self, window: DedupWindow) -> Claim:
        """Opens `window` as the camera's current one unless the current window has not ended by its start.

        The window it replaces becomes the camera's previous window (a new camera's previous window is the
        new one itself), so a late sighting can still be placed in it. When the write's condition fails,
        the stored windows come back with the failure (ReturnValuesOnConditionCheckFailure): no second
        read. The caller decides what the failure means (facewatch.domain.dedup.place_sighting).
        """
        return self._conditional_write(
            window,
            update=(
                "SET prev_start = if_not_exists(window_start, :start), prev_end = if_not_exists(window_end, :end), "
                "prev_alert = if_not_exists(alert_id, :alert), "
                "window_start = :start, window_end = :end, alert_id = :alert, expires_at = :expires"
            ),
            condition="attribute_not_exists(pk) OR window_end <= :start",
            values={":expires": {"N": str(int(window.end) + WINDOW_ITEM_TTL_SECONDS)}},
        )

    def claim_late(self, window: DedupWindow, before: DedupWindow) -> Claim:
        """Opens `window`, which ends by the start of the camera's current window `before`, as its previous one.

        Only while `before` is still current and the stored previous window has ended by `window`'s start.
        """
        return self._conditional_write(
            window,
            update="SET prev_start = :start, prev_end = :end, prev_alert = :alert",
            # A previous window that is the current one itself means "no previous window" (see claim).
            condition="alert_id = :current AND :end <= window_start AND (attribute_not_exists(prev_end) "
            "OR prev_alert = alert_id OR prev_end <= :start)",
            values={":current": {"S": before.alert_id}},
        )

    def _conditional_write(self, window: DedupWindow, *, update: str, condition: str, values: dict[str, Any]) -> Claim:
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=window_key(window.camera_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues={
                    ":start": {"N": repr(window.start)},
                    ":end": {"N": repr(window.end)},
                    ":alert": {"S": window.alert_id},
                    **values,
                },
                ReturnValuesOnConditionCheckFailure="ALL_OLD",
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise
            item: dict[str, Any] | None = error.response.get("Item")  # type: ignore[assignment]
            if not item:
                raise
            return Claim(won=False, stored=_windows_of(item))
        return Claim(won=True)

    def add_suppressed(self, alert_id: str, count: int, now: float, late: int = 0) -> None:
        """Adds `count` suppressed sightings (and `late` late ones, see domain.dedup.LateReason) to the window
        opened by `alert_id`, on that alert's item.

        Unconditional: the alert id names the window for good, so the count lands on the right window
        whenever it is written, and counts from several containers add up. The item may not exist yet
        (the alert stage writes it later): ADD creates it, with the alert item's expiry unless it has one.
        """
        counters = {"suppressed_count": (":n", count), "late_count": (":late", late)}
        added = [(name, placeholder, n) for name, (placeholder, n) in counters.items() if n]
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression=(
                f"ADD {', '.join(f'{name} {placeholder}' for name, placeholder, _ in added)} "
                "SET expires_at = if_not_exists(expires_at, :expires)"
            ),
            ExpressionAttributeValues={
                **{placeholder: {"N": str(n)} for _, placeholder, n in added},
                ":expires": {"N": str(int(now) + ALERT_ITEM_TTL_SECONDS)},
            },
        )
