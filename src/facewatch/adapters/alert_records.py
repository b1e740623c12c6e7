"""The console's alert records (AlertRecordTable): one item per alert, listed newest first.

Keys: `alert_id`. Index `by_time` (feed, frame_time) lists every alert by time; index `by_status`
(status, frame_time) lists one status and counts the unacknowledged. Site and camera are filters on
those. The record itself is one JSON attribute (the versioned AlertRecord); the attributes beside it
exist for the indexes, filters, the triage condition and TTL.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters import aws
from facewatch.domain.alert_record import AlertRecord, TriageStatus

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

FEED = "alert"
BY_TIME_INDEX = "by_time"
BY_STATUS_INDEX = "by_status"
# A page is filled from at most this many queries (filters make DynamoDB pages short), and the
# unacknowledged count reads at most this many pages: both bounded in time.
MAX_QUERIES_PER_PAGE = 10
MAX_COUNT_PAGES = 20


class ConcurrentChangeError(Exception):
    """The record changed between read and write (someone else acted on the alert)."""


class InvalidCursorError(ValueError):
    """A paging cursor this table did not issue."""


@dataclass(frozen=True, slots=True)
class AlertFilter:
    site: str | None = None
    camera_id: str | None = None
    status: TriageStatus | None = None
    since: float | None = None
    until: float | None = None


@dataclass(frozen=True, slots=True)
class AlertPage:
    records: tuple[AlertRecord, ...]
    cursor: str | None


def _encode_cursor(key: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(key, sort_keys=True).encode()).decode()


def _decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as error:
        raise InvalidCursorError("not a cursor of this list") from error
    allowed = {"alert_id", "feed", "status", "frame_time"}
    if not isinstance(key, dict) or not set(key) <= allowed or "alert_id" not in key:
        raise InvalidCursorError("not a cursor of this list")
    for value in key.values():
        if not isinstance(value, dict) or len(value) != 1 or next(iter(value)) not in ("S", "N"):
            raise InvalidCursorError("not a cursor of this list")
    return key


class AlertRecords:
    def __init__(self, table_name: str, dynamodb: DynamoDBClient | None = None) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)

    def _item(self, record: AlertRecord, expires_at: int) -> dict[str, Any]:
        item: dict[str, Any] = {
            "alert_id": {"S": record.alert_id},
            "feed": {"S": FEED},
            "frame_time": {"N": repr(record.frame_time)},
            "camera_id": {"S": record.camera_id},
            "status": {"S": record.status.value},
            "version": {"N": str(record.version)},
            "record": {"S": record.model_dump_json(by_alias=True)},
            "expires_at": {"N": str(expires_at)},
        }
        if record.site:
            item["site"] = {"S": record.site}
        return item

    def create(self, record: AlertRecord, retention_seconds: int) -> bool:
        """Stores a new alert's record; False if it exists (a redelivered job must not undo triage)."""
        try:
            self._client.get().put_item(
                TableName=self._table,
                Item=self._item(record, int(record.frame_time) + retention_seconds),
                ConditionExpression="attribute_not_exists(alert_id)",
            )
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                return False
            raise
        return True

    def get(self, alert_id: str) -> AlertRecord | None:
        item = (
            self._client.get()
            .get_item(TableName=self._table, Key={"alert_id": {"S": alert_id}}, ConsistentRead=True)
            .get("Item")
        )
        return AlertRecord.model_validate_json(item["record"]["S"]) if item else None

    def replace(self, before: AlertRecord, after: AlertRecord) -> AlertRecord:
        """Writes a triaged record if nobody changed it since `before` was read; the TTL stays."""
        stored = after.model_copy(update={"version": before.version + 1})
        names = {"#status": "status", "#record": "record", "#version": "version"}
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key={"alert_id": {"S": before.alert_id}},
                UpdateExpression="SET #status = :status, #record = :record, #version = :next",
                ConditionExpression="#version = :read",
                ExpressionAttributeNames=names,
                ExpressionAttributeValues={
                    ":status": {"S": stored.status.value},
                    ":record": {"S": stored.model_dump_json(by_alias=True)},
                    ":next": {"N": str(stored.version)},
                    ":read": {"N": str(before.version)},
                },
            )
        except ClientError as error:
            if aws.error_code(error) == "ConditionalCheckFailedException":
                raise ConcurrentChangeError(before.alert_id) from error
            raise
        return stored

    def page(self, where: AlertFilter, size: int, cursor: str | None = None) -> AlertPage:
        """Newest first, `size` at most; the cursor continues where this page ended."""
        query = self._query(where)
        start = _decode_cursor(cursor) if cursor else None
        records: list[AlertRecord] = []
        for _ in range(MAX_QUERIES_PER_PAGE):
            request = {**query, "Limit": size - len(records)}
            if start:
                request["ExclusiveStartKey"] = start
            response = self._client.get().query(**request)
            records += [AlertRecord.model_validate_json(item["record"]["S"]) for item in response.get("Items", [])]
            start = response.get("LastEvaluatedKey")
            if not start or len(records) >= size:
                break
        return AlertPage(records=tuple(records), cursor=_encode_cursor(start) if start else None)

    def count(self, status: TriageStatus) -> int:
        query = self._query(AlertFilter(status=status))
        total, start = 0, None
        for _ in range(MAX_COUNT_PAGES):
            request = {**query, "Select": "COUNT"}
            if start:
                request["ExclusiveStartKey"] = start
            response = self._client.get().query(**request)
            total += response.get("Count", 0)
            start = response.get("LastEvaluatedKey")
            if not start:
                break
        return total

    def _query(self, where: AlertFilter) -> dict[str, Any]:
        names: dict[str, str] = {}
        values: dict[str, Any] = {}
        if where.status is not None:
            index, names["#p"], values[":p"] = BY_STATUS_INDEX, "status", {"S": where.status.value}
        else:
            index, names["#p"], values[":p"] = BY_TIME_INDEX, "feed", {"S": FEED}
        condition = "#p = :p"
        if where.since is not None or where.until is not None:
            names["#t"] = "frame_time"
        if where.since is not None and where.until is not None:
            condition += " AND #t BETWEEN :since AND :until"
            values[":since"], values[":until"] = {"N": repr(where.since)}, {"N": repr(where.until)}
        elif where.since is not None:
            condition += " AND #t >= :since"
            values[":since"] = {"N": repr(where.since)}
        elif where.until is not None:
            condition += " AND #t <= :until"
            values[":until"] = {"N": repr(where.until)}
        filters = []
        if where.site:
            names["#site"], values[":site"] = "site", {"S": where.site}
            filters.append("#site = :site")
        if where.camera_id:
            names["#camera"], values[":camera"] = "camera_id", {"S": where.camera_id}
            filters.append("#camera = :camera")
        query: dict[str, Any] = {
            "TableName": self._table,
            "IndexName": index,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "ScanIndexForward": False,
        }
        if filters:
            query["FilterExpression"] = " AND ".join(filters)
        return query
