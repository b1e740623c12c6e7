"""Crash points: the function dies between two of its side effects, once, and the work is redelivered.

Two ways to die: the record handler raises (the batch processor reports that record failed; the container
lives on, caches warm), or the runtime is killed mid-invocation (timeout, out of memory: the invocation fails
as a whole, Kinesis retries the whole batch, SQS every message of it, and the next invocation starts cold).
The same invariants as the fault matrix hold in every cell; the table is printed in the terminal summary.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from tests.reliability.faults import Fault, FaultInjector, Moment, SqsTime, crash, kill
from tests.reliability.pipeline import (
    ALERTER,
    ALERTS,
    DETECTOR,
    OUTCOME_COLUMNS,
    Expect,
    FaultyOpenSearch,
    Pipeline,
    alert_jobs,
    claims,
    counts,
    index_jobs,
    ledger,
    outcome_cells,
)
from tests.reliability.report import table
from tests.support.sdk_faults import Fault as SdkFault
from tests.support.sdk_faults import FaultKind, attempts, instant_retries

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

CRASH_TABLE = table(
    "Crash points (the function dies once between two side effects; 4 alerts per cell)",
    "crash point",
    "how it dies",
    *OUTCOME_COLUMNS,
    order=2,
)


@dataclass(frozen=True)
class CrashPoint:
    name: str
    function: str
    service: str
    operation: str
    moment: Moment
    expect: Expect
    matches: Callable[[Mapping[str, Any]], bool] = lambda _: True
    # Faults below botocore's retry loop on the alerter's clients, before the crash (the SDK retries them).
    below_sdk: tuple[SdkFault, ...] = ()

    def fault(self, answer: Callable[[], Any]) -> Fault:
        return Fault(self.function, self.service, self.operation, answer, self.moment, frozenset({1}), self.matches)


# A first message (the snapshot) in doubt is dead-lettered for a person and the second (the clip) still goes
# out, so every alert is notified and indexed; a second message in doubt leaves that alert without it.
FIRST_IN_DOUBT = Expect(alert_dlq=1)
CLIP_IN_DOUBT_NOT_SENT = Expect(notified=ALERTS - 1, alert_dlq=1, clips_ok=ALERTS - 1)
CLIP_IN_DOUBT_SENT = Expect(alert_dlq=1)


def clip_message(params: Mapping[str, Any]) -> bool:
    """The second message of an alert (its subject names the clip)."""
    return str(params.get("Subject", "")).startswith("facewatch: clip of")


POINTS = [
    CrashPoint("after the claim", DETECTOR, "dynamodb", "UpdateItem", "after", Expect(), claims),
    CrashPoint("after the job is queued", DETECTOR, "sqs", "SendMessage", "after", Expect(), alert_jobs),
    # The ledger says the first message's publish began: a redelivery cannot know whether SNS got it.
    CrashPoint("after the first message began, before SNS", ALERTER, "sns", "Publish", "before", FIRST_IN_DOUBT),
    CrashPoint("after the first message's publish", ALERTER, "sns", "Publish", "after", FIRST_IN_DOUBT),
    # Right before the next side effect (the ledger records the clip and that publishing begins): the put itself
    # runs in s3transfer's worker thread, where a dying runtime cannot be staged.
    CrashPoint("after the S3 put", ALERTER, "dynamodb", "UpdateItem", "before", Expect(), ledger("SET #clip")),
    # The ledger says publishing began: a redelivery cannot know whether SNS got it, so a person checks.
    CrashPoint(
        "after the clip message began, before SNS",
        ALERTER,
        "sns",
        "Publish",
        "before",
        CLIP_IN_DOUBT_NOT_SENT,
        clip_message,
    ),
    CrashPoint(
        "after the clip message's publish", ALERTER, "sns", "Publish", "after", CLIP_IN_DOUBT_SENT, clip_message
    ),
    # Below the SDK first: the claim applied with its answer lost (the SDK's retry finds it its own), then the
    # function dies before SNS; or SNS took the publish and answered 500 (no SDK retry), then it dies. Both hit
    # the first message: the clip message still goes out.
    CrashPoint(
        "claim answer lost (below SDK), dies before SNS",
        ALERTER,
        "sns",
        "Publish",
        "before",
        FIRST_IN_DOUBT,
        below_sdk=(SdkFault("UpdateItem", FaultKind.LOSE_ANSWER, attempts(1)),),
    ),
    CrashPoint(
        "SNS took it, answered 500 (below SDK), dies",
        ALERTER,
        "sns",
        "Publish",
        "after",
        FIRST_IN_DOUBT,
        below_sdk=(SdkFault("Publish", FaultKind.FAIL_AFTER_APPLY, attempts(1), "InternalServerError", 500),),
    ),
    CrashPoint(
        "after the publish is recorded", ALERTER, "dynamodb", "UpdateItem", "after", Expect(), ledger("SET notified_at")
    ),
    # The document handed to the indexer (IndexQueue): the redelivered job finds the alert notified and queues it
    # again; the same document id is written twice.
    CrashPoint("after the document is queued", ALERTER, "sqs", "SendMessage", "after", Expect(), index_jobs),
    CrashPoint("after the index", ALERTER, "opensearch", "index", "after", Expect()),
]
MODES: dict[str, Callable[[], Any]] = {"record handler raises": crash, "runtime killed": kill}
CELLS = [(point, mode) for point in POINTS for mode in MODES]


@pytest.mark.parametrize(("point", "mode"), CELLS, ids=[f"{point.name}, {mode}" for point, mode in CELLS])
def test_a_crash_between_side_effects_loses_and_repeats_no_alert(
    point: CrashPoint,
    mode: str,
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> None:
    # given the function dies once at this point
    fault = point.fault(MODES[mode])
    injector.reset(fault)
    prefix = f"cp{CELLS.index((point, mode)):02d}"
    pipeline = Pipeline(emulated, template, prefix, opensearch=opensearch, injector=injector, sqs_time=sqs_time)
    for below in point.below_sdk:
        below.hits = 0
        pipeline.alerter.below_sdk.append(below)
    # when the scenario goes through the pipeline and the work is redelivered
    try:
        with instant_retries():
            outcome = pipeline.run()
    finally:
        pipeline.alerter.stop_watching()
    # then
    found = counts(outcome)
    problems = outcome.violations()
    if found != point.expect:
        problems.append(f"expected {point.expect}, got {found}")
    if fault.hits != 1:
        problems.append(f"the crash fired {fault.hits} times")
    if point.below_sdk and not all(below.hits for below in point.below_sdk):
        problems.append("a below-SDK fault never fired")
    CRASH_TABLE.add(
        point.name,
        mode,
        *outcome_cells(outcome, found, problems),
    )
    assert problems == []
