"""The detector on moto: explicit settings, watched clients and a fixed clock, invoked through the handler.

A `DetectorHarness` owns one Detector at a time, standing for one Lambda container: `restart()` is a
cold start (a new container with an empty window cache); the moto resources outlive it, as AWS's do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from botocore.config import Config
from tests.support.aws import (
    AwsCall,
    CallLog,
    QuarantinedObject,
    QueuedMessage,
    dedup_item,
    quarantined_objects,
    queue_depth,
    receive_all,
)
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import T0

from facewatch.adapters.alert_ledger import alert_key
from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.quarantine import Quarantine
from facewatch.config import DetectorSettings
from facewatch.handlers import detector as detector_handler
from facewatch.services.detect import Detector

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

# An hour after the footage: records replayed this late get DelaySeconds 0, so jobs are visible at once.
LATE_NOW = T0 + 3600.0


@dataclass
class FakeClock:
    now: float

    def __call__(self) -> float:
        return self.now


class DetectorHarness:
    def __init__(
        self, stack: EmulatedStack, session: Any, monkeypatch: pytest.MonkeyPatch, client_config: Config | None = None
    ) -> None:
        """`client_config`: the detector's clients' botocore Config (facewatch.adapters.aws.CLIENT_CONFIG to
        have production's retries); by default botocore's."""
        self.stack = stack
        self.calls = CallLog()
        # The detector's clients are watched; the test reads results through clients of its own.
        self.dynamodb = self.calls.watch(session.client("dynamodb", config=client_config))
        self.sqs = self.calls.watch(session.client("sqs", config=client_config))
        self.s3 = self.calls.watch(session.client("s3", config=client_config))
        self._look = {name: session.client(name) for name in ("dynamodb", "sqs", "s3")}
        self.clock = FakeClock(LATE_NOW)
        self.env = stack.detector_env()
        self._monkeypatch = monkeypatch
        self.container = self.new_container()

    def new_container(self, **env_overrides: str) -> Detector:
        settings = DetectorSettings.from_environ({**self.env, **env_overrides})
        return Detector(
            settings=settings,
            windows=DedupWindows(settings.dedup_table_name, self.dynamodb),
            queue=AlertQueue(settings.alert_queue_url, self.sqs),
            quarantine=Quarantine(settings.quarantine_bucket_name, self.s3),
            clock=self.clock,
        )

    def restart(self, **env_overrides: str) -> None:
        """A cold start: the next invocation runs in a new container."""
        self.container = self.new_container(**env_overrides)

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        """Runs the real handler (batch processing, partial response, metrics) on this container."""
        self._monkeypatch.setattr(detector_handler, "detector", lambda: self.container)
        response: dict[str, Any] = detector_handler.lambda_handler(event, FakeLambdaContext())
        return response

    def deliver(self, event: dict[str, Any], max_invocations: int = 20) -> list[dict[str, Any]]:
        """Invokes with `event` as Lambda's Kinesis event source mapping does until the batch is done: after
        a partial failure, the records from the lowest failed sequence number on are delivered again.
        Returns every response; fails the test if the batch is not done within `max_invocations`."""
        responses = []
        records = list(event["Records"])
        for _ in range(max_invocations):
            response = self.invoke({"Records": records})
            responses.append(response)
            failed = {failure["itemIdentifier"] for failure in response["batchItemFailures"]}
            if not failed:
                return responses
            first = min(i for i, record in enumerate(records) if record["kinesis"]["sequenceNumber"] in failed)
            records = records[first:]
        pytest.fail(f"the batch still had failed records after {max_invocations} deliveries")

    def alert_jobs(self) -> list[QueuedMessage]:
        """Drains the alert queue's visible messages."""
        return receive_all(self._look["sqs"], self.stack.alert_queue_url)

    def queue_depth(self) -> tuple[int, int]:
        return queue_depth(self._look["sqs"], self.stack.alert_queue_url)

    def quarantined(self) -> list[QuarantinedObject]:
        return quarantined_objects(self._look["s3"], self.stack.quarantine_bucket_name)

    def window_item(self, camera_id: str) -> dict[str, Any] | None:
        return dedup_item(self._look["dynamodb"], self.stack.dedup_table_name, camera_id)

    def alert_item(self, alert_id: str) -> dict[str, Any] | None:
        """An alert's item as stored, numbers as floats, or None."""
        response = self._look["dynamodb"].get_item(
            TableName=self.stack.dedup_table_name, Key=alert_key(alert_id), ConsistentRead=True
        )
        if "Item" not in response:
            return None
        return {k: float(v["N"]) if "N" in v else v.get("S") for k, v in response["Item"].items()}

    def suppressed_count(self, alert_id: str) -> int | None:
        """The suppressed_count stored on an alert's item (None: no item, or no count on it)."""
        item = self.alert_item(alert_id)
        return None if item is None or "suppressed_count" not in item else int(item["suppressed_count"])

    def stored_suppressed_counts(self) -> dict[str, int]:
        """pk -> suppressed_count, for every DedupTable item that has one (camera items must not)."""
        counts = {}
        for page in self._look["dynamodb"].get_paginator("scan").paginate(TableName=self.stack.dedup_table_name):
            for item in page["Items"]:
                if "suppressed_count" in item:
                    counts[item["pk"]["S"]] = int(item["suppressed_count"]["N"])
        return counts


def window_claims(calls: list[AwsCall]) -> list[AwsCall]:
    """The conditional writes that try to open a camera window."""
    return [c for c in calls if c.operation == "UpdateItem" and "window_end =" in c.params["UpdateExpression"]]


def suppressed_count_updates(calls: list[AwsCall]) -> list[AwsCall]:
    """The writes that add an ended window's suppressed sightings to its alert's item."""
    return [
        c
        for c in calls
        if c.operation == "UpdateItem" and c.params["UpdateExpression"].startswith("ADD suppressed_count ")
    ]


def counted(call: AwsCall) -> tuple[dict[str, Any], int]:
    """The key a suppressed-count write adds to, and how many it adds."""
    return call.params["Key"], int(call.params["ExpressionAttributeValues"][":n"]["N"])
