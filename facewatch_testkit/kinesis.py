"""Lambda events from Kinesis, in the envelope `sam local generate-event kinesis get-records` prints.

`kinesis_envelope` is the one builder of a Kinesis record as Lambda's event source mapping delivers it (the
local runtime uses it for records read from moto); `kinesis_record` and `kinesis_event` put the test
factories' defaults around it.
"""

from __future__ import annotations

import base64
import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from facewatch_testkit.records import ACCOUNT_ID, CAMERA_ID, REGION, T0, encode_record, frame_time

DATA_STREAM_NAME = f"facewatch-face-search-{CAMERA_ID}"
SHARD_ID = "shardId-000000000000"
# Kinesis sequence numbers are 56-digit decimal strings that grow along a shard.
_SEQUENCE_PREFIX = "4965641234567890123456789012345678901234"
# One public capture saw records arrive about 6 s after their fragment started.
ARRIVAL_LAG_SECONDS = 6.132
_next_sequence = itertools.count(1)


@dataclass(frozen=True, slots=True)
class RawData:
    """A `data` field put in the envelope exactly as given (for instance, text that is not base64)."""

    text: str


type Payload = Mapping[str, Any] | bytes | RawData


def sequence_number(n: int) -> str:
    return f"{_SEQUENCE_PREFIX}{n:016d}"


def _data_field(payload: Payload) -> str:
    if isinstance(payload, RawData):
        return payload.text
    data = payload if isinstance(payload, bytes) else encode_record(payload)
    return base64.b64encode(data).decode("ascii")


def _arrival(payload: Payload) -> float:
    """Frame time + the usual lag for a well-formed record; T0 + lag for anything else."""
    try:
        return round(frame_time(payload) + ARRIVAL_LAG_SECONDS, 3)  # type: ignore[arg-type]
    except (KeyError, TypeError, ValueError):
        return round(T0 + ARRIVAL_LAG_SECONDS, 3)


def kinesis_envelope(
    *,
    data: str,
    partition_key: str,
    sequence_number: str,
    arrival_timestamp: float,
    shard_id: str,
    stream_arn: str,
    invoke_identity_arn: str,
) -> dict[str, Any]:
    """One record of a Lambda Kinesis event; `data` is the record's bytes in base64 (or any text, as given)."""
    return {
        "kinesis": {
            "kinesisSchemaVersion": "1.0",
            "partitionKey": partition_key,
            "sequenceNumber": sequence_number,
            "data": data,
            "approximateArrivalTimestamp": arrival_timestamp,
        },
        "eventSource": "aws:kinesis",
        "eventVersion": "1.0",
        "eventID": f"{shard_id}:{sequence_number}",
        "eventName": "aws:kinesis:record",
        "invokeIdentityArn": invoke_identity_arn,
        "awsRegion": stream_arn.split(":")[3],
        "eventSourceARN": stream_arn,
    }


def kinesis_record(
    payload: Payload, *, sequence: int, stream_name: str = DATA_STREAM_NAME, shard_id: str = SHARD_ID
) -> dict[str, Any]:
    return kinesis_envelope(
        data=_data_field(payload),
        # The stream processor gives each record a random partition key.
        partition_key=f"2c5e8e1a-7d4b-4f0e-9d0a-{sequence:012x}",
        sequence_number=sequence_number(sequence),
        arrival_timestamp=_arrival(payload),
        shard_id=shard_id,
        stream_arn=f"arn:aws:kinesis:{REGION}:{ACCOUNT_ID}:stream/{stream_name}",
        invoke_identity_arn=f"arn:aws:iam::{ACCOUNT_ID}:role/facewatch-detector-role",
    )


def kinesis_event(
    payloads: Iterable[Payload],
    *,
    first_sequence: int | None = None,
    stream_name: str = DATA_STREAM_NAME,
    shard_id: str = SHARD_ID,
) -> dict[str, Any]:
    """One Lambda event, records in shard order.

    Sequence numbers continue a process-wide counter unless `first_sequence` pins them (events/ files).
    """
    records = []
    for offset, payload in enumerate(payloads):
        n = first_sequence + offset if first_sequence is not None else next(_next_sequence)
        records.append(kinesis_record(payload, sequence=n, stream_name=stream_name, shard_id=shard_id))
    return {"Records": records}


def sequence_numbers(event: Mapping[str, Any]) -> list[str]:
    return [record["kinesis"]["sequenceNumber"] for record in event["Records"]]


def failed_sequence_numbers(response: Mapping[str, Any]) -> list[str]:
    """The sequence numbers a handler reported in batchItemFailures, in order."""
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]
