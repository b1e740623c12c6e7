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

Two phases are notified, each claimed this way on attributes of its own: phase 1 (the snapshot, at once)
on `snapshot_*` attributes, phase 2 (the clip) on the unprefixed ones. The item also records `snapshot_key`
and `crop_key` (the console reads them) once the snapshot is stored.

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
from facewatch.domain.notification import Phase
from facewatch.domain.snapshot import SnapshotOutcome

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
class SnapshotPhase:
    """Phase 1's notify step: claimed, published, or settled as in doubt (dead-lettered for a person while
    the job goes on to phase 2, which carries the snapshot again)."""

    started_at: float | None = None
    notified_at: float | None = None
    sns_message_id: str | None = None
    attempt: str | None = None
    message_id: str | None = None
    deadline: float | None = None
    in_doubt_at: float | None = None
    receive_count: int | None = None

    @property
    def notified(self) -> bool:
        return self.notified_at is not None

    @property
    def settled(self) -> bool:
        return self.notified_at is not None or self.in_doubt_at is not None


def _prefix(phase: Phase) -> str:
    return "snapshot_" if phase is Phase.SNAPSHOT else ""


@dataclass(frozen=True, slots=True)
class AlertProgress:
    snapshot: SnapshotOutcome | None = None
    first: SnapshotPhase = SnapshotPhase()
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
    snapshot = SnapshotOutcome.model_validate_json(item["snapshot"]["S"]) if "snapshot" in item else None
    receives = _number(item, "snapshot_receive_count")
    return AlertProgress(
        snapshot=snapshot,
        first=SnapshotPhase(
            started_at=_number(item, "snapshot_notify_started_at"),
            notified_at=_number(item, "snapshot_notified_at"),
            sns_message_id=item.get("snapshot_sns_message_id", {}).get("S"),
            attempt=item.get("snapshot_notify_attempt", {}).get("S"),
            message_id=item.get("snapshot_notify_message_id", {}).get("S"),
            deadline=_number(item, "snapshot_notify_deadline"),
            in_doubt_at=_number(item, "snapshot_in_doubt_at"),
            receive_count=int(receives) if receives is not None else None,
        ),
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
        """Records the clip outcome and that `attempt` starts publishing phase 2, in one conditional write.

        Returns None when this attempt owns the notification (also when the write is an SDK retry of its
        own applied write); otherwise the stored progress of the attempt that got there first (then this
        one must not publish).
        """
        return self._begin(alert_id, Phase.CLIP, {"clip": {"S": clip.model_dump_json()}}, attempt, now)

    def begin_snapshot_notify(
        self, alert_id: str, snapshot: SnapshotOutcome, attempt: NotifyAttempt, now: float
    ) -> AlertProgress | None:
        """Phase 1's claim, as begin_notify: records the snapshot (and its keys for the console) with it."""
        values: dict[str, Any] = {"snapshot": {"S": snapshot.model_dump_json()}}
        if snapshot.status == "ok" and snapshot.frame_key and snapshot.crop_key:
            values["snapshot_key"] = {"S": snapshot.frame_key}
            values["crop_key"] = {"S": snapshot.crop_key}
        return self._begin(alert_id, Phase.SNAPSHOT, values, attempt, now)

    def _begin(
        self, alert_id: str, phase: Phase, outcome: dict[str, Any], attempt: NotifyAttempt, now: float
    ) -> AlertProgress | None:
        p = _prefix(phase)
        # Names through placeholders: SNAPSHOT is a DynamoDB reserved word.
        sets = [f"#{name} = :{name}" for name in outcome]
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=alert_key(alert_id),
                UpdateExpression=(
                    f"SET {', '.join(sets)}, {p}notify_started_at = :now, {p}notify_attempt = :attempt, "
                    f"{p}notify_message_id = :message, {p}notify_deadline = :deadline, expires_at = :expires"
                ),
                ConditionExpression=f"attribute_not_exists({p}notify_started_at) OR {p}notify_attempt = :attempt",
                ExpressionAttributeNames={f"#{name}": name for name in outcome},
                ExpressionAttributeValues={
                    **{f":{name}": value for name, value in outcome.items()},
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

    def abort_notify(self, alert_id: str, attempt: NotifyAttempt, phase: Phase = Phase.CLIP) -> None:
        """SNS refused the publish (a definite failure): let a later attempt publish. Only `attempt`'s own
        claim is released; when it is gone already (an SDK retry of this write, or a person settled the
        alert), there is nothing to do."""
        p = _prefix(phase)
        try:
            self._client.get().update_item(
                TableName=self._table,
                Key=alert_key(alert_id),
                UpdateExpression=(
                    f"REMOVE {p}notify_started_at, {p}notify_attempt, {p}notify_message_id, {p}notify_deadline"
                ),
                ConditionExpression=f"{p}notify_attempt = :attempt",
                ExpressionAttributeValues={":attempt": {"S": attempt.token}},
            )
        except ClientError as error:
            if aws.error_code(error) != "ConditionalCheckFailedException":
                raise

    def finish_notify(
        self,
        alert_id: str,
        sns_message_id: str,
        notified_at: float,
        phase: Phase = Phase.CLIP,
        receive_count: int | None = None,
    ) -> None:
        p = _prefix(phase)
        values: dict[str, Any] = {":at": {"N": repr(notified_at)}, ":id": {"S": sns_message_id}}
        update = f"SET {p}notified_at = :at, {p}sns_message_id = :id"
        if receive_count is not None:
            update += f", {p}receive_count = :receives"
            values[":receives"] = {"N": str(receive_count)}
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression=update,
            ExpressionAttributeValues=values,
        )

    def settle_snapshot_in_doubt(self, alert_id: str, now: float, receive_count: int) -> None:
        """Phase 1 is in doubt and dead-lettered for a person: the job goes on to phase 2 without it."""
        self._client.get().update_item(
            TableName=self._table,
            Key=alert_key(alert_id),
            UpdateExpression="SET snapshot_in_doubt_at = :at, snapshot_receive_count = :receives",
            ExpressionAttributeValues={":at": {"N": repr(now)}, ":receives": {"N": str(receive_count)}},
        )
