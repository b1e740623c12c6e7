"""The fault matrix: every AWS step of the pipeline, disturbed by a transient fault (throttling or a 5xx), by a
lost response (the call took effect, its answer timed out) and by a permanent fault; the batch goes through
the real handlers, redelivered as Lambda redelivers (Kinesis from the lowest failed sequence number up to
MaximumRetryAttempts, SQS until maxReceiveCount). Every cell keeps the invariants of `Outcome.violations`
and ends as its row expects; the table is printed in the terminal summary.

The scenario (pipeline.Pipeline.scenario) raises four alerts: three in a first batch, which also holds a
suppressed sighting and an employee, and one put afterwards on the same shard.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from tests.reliability.faults import Fault, FaultInjector, Moment, SqsTime, read_timeout, refuse
from tests.reliability.pipeline import (
    ALERTER,
    ALERTS,
    DETECTOR,
    OUTCOME_COLUMNS,
    Expect,
    FaultyOpenSearch,
    Outcome,
    Pipeline,
    alert_jobs,
    claims,
    outcome_cells,
)
from tests.reliability.pipeline import counts as pipeline_counts
from tests.reliability.report import table
from tests.support.local_domain import closed_port
from tests.support.sdk_faults import Fault as SdkFault
from tests.support.sdk_faults import FaultKind, attempts, every, instant_retries

EVERY_CALL = None
SECOND_CALL = frozenset({2})

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

MATRIX = table(
    "Fault matrix (4 alerts per cell; 'notified' = SNS accepted it exactly once, never twice)",
    "step",
    "fault",
    *OUTCOME_COLUMNS,
    order=1,
)


@dataclass(frozen=True)
class Step:
    name: str
    function: str
    service: str
    operation: str
    matches: Callable[[Mapping[str, Any]], bool] = lambda _: True

    def fault(self, answer: Callable[[], Any], calls: frozenset[int] | None, moment: Moment = "before") -> Fault:
        return Fault(self.function, self.service, self.operation, answer, moment, calls, self.matches)


CLAIM = Step("DynamoDB claim", DETECTOR, "dynamodb", "UpdateItem", claims)
SEND = Step("SQS send", DETECTOR, "sqs", "SendMessage", alert_jobs)
ENDPOINT = Step("GetDataEndpoint", ALERTER, "kinesisvideo", "GetDataEndpoint")
CLIP = Step("GetClip", ALERTER, "kinesis-video-archived-media", "GetClip")
UPLOAD = Step("S3 upload", ALERTER, "s3", "PutObject")
PUBLISH = Step("SNS publish", ALERTER, "sns", "Publish")
INDEX = Step("OpenSearch index", ALERTER, "opensearch", "index")


@dataclass(frozen=True)
class Cell:
    step: Step
    label: str
    faults: tuple[Fault, ...]
    expect: Expect
    # OpenSearch: answer these requests (1-based) with 503, lose the answer to these, or nobody listens.
    search_failing: frozenset[int] = frozenset()
    search_lost: frozenset[int] = frozenset()
    search_refused: bool = False
    # Faults below botocore's retry loop on the named function's clients (the SDK's own retries act on them).
    below_sdk: tuple[tuple[str, SdkFault], ...] = ()

    @property
    def id(self) -> str:
        return f"{self.step.name}: {self.label}"


LEDGER = Step("DynamoDB ledger claim", ALERTER, "dynamodb", "UpdateItem")
INDEX_JOB = Step("SQS index job", ALERTER, "sqs", "SendMessage")


def below_sdk(
    step: Step, kind: FaultKind, on: Callable[[int], bool], status: int | None = None
) -> tuple[str, SdkFault]:
    code = "InternalServerError" if kind is FaultKind.FAIL_AFTER_APPLY else None
    return step.function, SdkFault(step.operation, kind, on, code, status)


LOST_IN_DETECTOR = Expect(notified=0, detector_dlq=ALERTS, clips_ok=0, indexed=0)
WITHOUT_CLIPS = Expect(clips_ok=0)

CELLS = [
    Cell(
        CLAIM,
        "throttled once",
        (CLAIM.fault(refuse("ProvisionedThroughputExceededException"), SECOND_CALL),),
        Expect(),
    ),
    Cell(CLAIM, "write applied, answer timed out", (CLAIM.fault(read_timeout, SECOND_CALL, "after"),), Expect()),
    Cell(CLAIM, "access denied, always", (CLAIM.fault(refuse("AccessDeniedException"), EVERY_CALL),), LOST_IN_DETECTOR),
    Cell(SEND, "500 once", (SEND.fault(refuse("InternalError", 500), SECOND_CALL),), Expect()),
    Cell(SEND, "job accepted, answer timed out", (SEND.fault(read_timeout, SECOND_CALL, "after"),), Expect()),
    Cell(SEND, "access denied, always", (SEND.fault(refuse("AccessDenied", 403), EVERY_CALL),), LOST_IN_DETECTOR),
    Cell(ENDPOINT, "throttled once", (ENDPOINT.fault(refuse("ClientLimitExceededException"), SECOND_CALL),), Expect()),
    Cell(ENDPOINT, "answer timed out", (ENDPOINT.fault(read_timeout, SECOND_CALL, "after"),), Expect()),
    Cell(
        ENDPOINT,
        "stream not found, always",
        (ENDPOINT.fault(refuse("ResourceNotFoundException", 404), EVERY_CALL),),
        WITHOUT_CLIPS,
    ),
    Cell(CLIP, "throttled once", (CLIP.fault(refuse("ClientLimitExceededException"), SECOND_CALL),), Expect()),
    Cell(CLIP, "answer timed out", (CLIP.fault(read_timeout, SECOND_CALL, "after"),), Expect()),
    Cell(CLIP, "no retention, always", (CLIP.fault(refuse("NoDataRetentionException"), EVERY_CALL),), WITHOUT_CLIPS),
    Cell(UPLOAD, "503 SlowDown once", (UPLOAD.fault(refuse("SlowDown", 503), SECOND_CALL),), Expect()),
    Cell(UPLOAD, "object stored, answer timed out", (UPLOAD.fault(read_timeout, SECOND_CALL, "after"),), Expect()),
    Cell(UPLOAD, "access denied, always", (UPLOAD.fault(refuse("AccessDenied", 403), EVERY_CALL),), WITHOUT_CLIPS),
    Cell(PUBLISH, "throttled once", (PUBLISH.fault(refuse("Throttling"), SECOND_CALL),), Expect()),
    # SNS took it and the answer was lost: the job is dead-lettered "in doubt", never published again.
    Cell(
        PUBLISH,
        "published, answer timed out",
        (PUBLISH.fault(read_timeout, SECOND_CALL, "after"),),
        Expect(alert_dlq=1),
    ),
    Cell(
        PUBLISH,
        "not authorized, always",
        (PUBLISH.fault(refuse("AuthorizationError", 403), EVERY_CALL),),
        Expect(notified=0, alert_dlq=ALERTS, clips_ok=0, indexed=0),
    ),
    # The first two requests are the index template's PUT and opensearch-py's own retry of it.
    Cell(INDEX, "503 twice", (), Expect(), search_failing=frozenset({1, 2})),
    Cell(INDEX, "document written, answer lost twice", (), Expect(), search_lost=frozenset({2, 3})),
    Cell(INDEX, "connection refused, always", (), Expect(index_dlq=ALERTS, indexed=0), search_refused=True),
    # Below the SDK: botocore's own retries see these faults.
    Cell(
        LEDGER,
        "below SDK: applied, answer lost (SDK retry)",
        (),
        Expect(),
        below_sdk=(below_sdk(LEDGER, FaultKind.LOSE_ANSWER, attempts(1)),),
    ),
    Cell(
        LEDGER,
        "below SDK: throttled every 3rd call",
        (),
        Expect(),
        below_sdk=(below_sdk(LEDGER, FaultKind.THROTTLE, every(3)),),
    ),
    Cell(
        PUBLISH,
        "below SDK: accepted, then 500",
        (),
        Expect(alert_dlq=1),
        below_sdk=(below_sdk(PUBLISH, FaultKind.FAIL_AFTER_APPLY, attempts(2), 500),),
    ),
    Cell(
        PUBLISH,
        "below SDK: accepted, answer lost",
        (),
        Expect(alert_dlq=1),
        below_sdk=(below_sdk(PUBLISH, FaultKind.LOSE_ANSWER, attempts(2)),),
    ),
    # The request reaches a socket that never answers: the SNS client's read timeout (10 s), no SDK retry.
    # SNS got nothing, but the alerter cannot know that: in doubt, like a lost answer.
    Cell(
        PUBLISH,
        "below SDK: hangs (read timeout)",
        (),
        Expect(notified=ALERTS - 1, alert_dlq=1, clips_ok=ALERTS - 1),
        below_sdk=(below_sdk(PUBLISH, FaultKind.HANG, attempts(2)),),
    ),
    Cell(
        PUBLISH,
        "below SDK: throttled every 2nd call",
        (),
        Expect(),
        below_sdk=(below_sdk(PUBLISH, FaultKind.THROTTLE, every(2)),),
    ),
    Cell(
        INDEX_JOB,
        "below SDK: queued, answer lost (SDK retry)",
        (),
        Expect(),
        below_sdk=(below_sdk(INDEX_JOB, FaultKind.LOSE_ANSWER, attempts(1)),),
    ),
]


@pytest.fixture(autouse=True)
def without_backoff_sleeps() -> Iterator[None]:
    """The SDK's retries happen, without their back-off sleeps."""
    with instant_retries():
        yield


def run_cell(
    cell: Cell,
    number: int,
    session: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> Outcome:
    opensearch.failing, opensearch.lost = set(cell.search_failing), set(cell.search_lost)
    injector.reset(*cell.faults)
    pipeline = Pipeline(
        session,
        template,
        f"fm{number:02d}",
        opensearch=opensearch,
        injector=injector,
        sqs_time=sqs_time,
        opensearch_url=f"http://127.0.0.1:{closed_port()}" if cell.search_refused else None,
    )
    functions = {DETECTOR: pipeline.detector, ALERTER: pipeline.alerter}
    for function, fault in cell.below_sdk:
        fault.hits = 0
        functions[function].below_sdk.append(fault)
    try:
        return pipeline.run()
    finally:
        for restarting in functions.values():
            restarting.stop_watching()


@pytest.mark.parametrize("number", range(len(CELLS)), ids=[cell.id for cell in CELLS])
def test_every_alert_is_notified_once_or_dead_lettered_whole(
    number: int,
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
    opensearch: FaultyOpenSearch,
) -> None:
    # given a fault on one step
    cell = CELLS[number]
    # when the scenario goes through the pipeline, redelivered as Lambda redelivers
    outcome = run_cell(cell, number, emulated, template, injector, sqs_time, opensearch)
    # then
    counts = pipeline_counts(outcome)
    problems = outcome.violations()
    if counts != cell.expect:
        problems.append(f"expected {cell.expect}, got {counts}")
    if cell.faults and not any(fault.hits for fault in cell.faults):
        problems.append("the fault never fired")
    if cell.below_sdk and not any(fault.hits for _, fault in cell.below_sdk):
        problems.append("the below-SDK fault never fired")
    if len(opensearch.requests) < max(cell.search_failing | cell.search_lost, default=0):
        problems.append("the OpenSearch fault never fired")
    MATRIX.add(
        cell.step.name,
        cell.label,
        *outcome_cells(outcome, counts, problems),
    )
    assert problems == []
