"""Quarantine: input that can never be processed is kept in S3 with the reason, not retried.

One object per rejected input, at a key derived from where it came from, so a redelivery overwrites
the same object instead of piling up copies. The raw bytes are stored base64-encoded inside a JSON
envelope; they are never logged.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from facewatch.adapters import aws

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

QUARANTINE_PREFIX = "quarantine"
QUARANTINE_ENVELOPE_SCHEMA = 1


@dataclass(frozen=True, slots=True)
class QuarantinedInput:
    """A rejected input and where it came from."""

    stage: str  # "detector" or "alerter"
    source: str  # stream or queue name
    item_id: str  # shard + sequence number, or SQS message id
    received_at: float  # epoch seconds; dates the key
    reason: str
    raw: bytes


def quarantine_key(item: QuarantinedInput) -> str:
    day = datetime.fromtimestamp(item.received_at, tz=UTC).strftime("%Y/%m/%d")
    safe_id = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in item.item_id)
    safe_source = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in item.source)
    return f"{QUARANTINE_PREFIX}/{item.stage}/{safe_source}/{day}/{safe_id}.json"


class Quarantine:
    def __init__(self, bucket_name: str, s3: S3Client | None = None) -> None:
        self._bucket = bucket_name
        self._client: aws.LazyClient[S3Client] = aws.LazyClient("s3", s3)

    def keep(self, item: QuarantinedInput) -> str:
        key = quarantine_key(item)
        envelope = {
            "schema": QUARANTINE_ENVELOPE_SCHEMA,
            "stage": item.stage,
            "source": item.source,
            "item_id": item.item_id,
            "received_at": item.received_at,
            "reason": item.reason,
            "raw_size_bytes": len(item.raw),
            "raw_base64": base64.b64encode(item.raw).decode("ascii"),
        }
        self._client.get().put_object(
            Bucket=self._bucket,
            Key=key,
            Body=json.dumps(envelope).encode(),
            ContentType="application/json",
            Metadata={"stage": item.stage, "reason": item.reason[:512].encode("ascii", "replace").decode()},
        )
        return key
