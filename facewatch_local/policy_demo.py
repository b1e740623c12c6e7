"""The demo's policy section: each recorded policy case (facewatch_local/policy_scenarios.py) replayed through
the real detector under its policy, and the outcome printed per rule with the reasons faces raised no alert.

Each case gets a stack of its own on the emulation (tables, queues): its policy is applied to PolicyTable
with its watchlist entries and snoozes, as `facewatch policy apply`, `watchlist add` and `snooze add` would
store them, and the detector reads them through its cache, as in Lambda.
"""

from __future__ import annotations

import itertools
import json
import sys
from collections import Counter
from dataclasses import dataclass, field
from typing import TextIO

import boto3

from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.policy_store import PolicyCache, PolicyStore
from facewatch.adapters.quarantine import Quarantine
from facewatch.config import DetectorSettings
from facewatch.domain.policy import SitePolicy
from facewatch.observability import logger
from facewatch.services.detect import Detector, StreamRecord
from facewatch_local.moto_server import emulated_aws
from facewatch_local.policy_scenarios import CASES, PolicyCase, case_snapshot, load_case, policy_text
from facewatch_local.stack import deploy_emulated_stack

# The detector's batches in this replay (the template's BatchSize is of this order).
BATCH_SIZE = 100
# The queues are read back at most this many times (10 messages each).
MAX_RECEIVES = 20


@dataclass(frozen=True, slots=True)
class CaseOutcome:
    case: PolicyCase
    alerts: Counter[str] = field(default_factory=Counter)  # "<alert type>/<rule id>" -> alerts
    reasons: Counter[str] = field(default_factory=Counter)  # reason -> faces that raised no alert

    @property
    def as_expected(self) -> bool:
        expected = self.case.expected_alerts
        return dict(self.alerts) == expected and all(self.reasons[r] > 0 for r in self.case.expected_reasons)


def _queued_alerts(session: boto3.session.Session, queue_url: str) -> Counter[str]:
    sqs = session.client("sqs")
    alerts: Counter[str] = Counter()
    for _ in range(MAX_RECEIVES):
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            break
        for message in messages:
            policy = json.loads(message["Body"]).get("policy") or {}
            alerts[f"{policy.get('alert_type', 'unknown_face')}/{policy.get('rule_id', '-')}"] += 1
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return alerts


def replay_case(session: boto3.session.Session, case: PolicyCase) -> CaseOutcome:
    stack = deploy_emulated_stack(session, name_prefix=f"pol-{case.name}")
    dynamodb = session.client("dynamodb")
    store = PolicyStore(stack.policy_table_name, dynamodb)
    store.apply(SitePolicy.model_validate_json(policy_text(case)), by="demo", note=case.title, now=case.start)
    snapshot = case_snapshot(case)
    for entry in snapshot.entries.values():
        store.put_entry(entry)
    for snooze in snapshot.snoozes:
        store.put_snooze(snooze)
    settings = DetectorSettings.from_environ(stack.detector_env())
    end = case.start + case.duration_seconds + 60.0
    detector = Detector(
        settings=settings,
        windows=DedupWindows(settings.dedup_table_name, dynamodb),
        queue=AlertQueue(settings.alert_queue_url, session.client("sqs")),
        quarantine=Quarantine(settings.quarantine_bucket_name, session.client("s3")),
        clock=lambda: end,  # replayed after the fact: the alert jobs are not delayed
        policies=PolicyCache(
            PolicyStore(settings.policy_table_name, dynamodb),
            employee_match_threshold=settings.employee_match_threshold,
            default_dedup_window_seconds=settings.dedup_window_seconds,
        ),
    )
    reasons: Counter[str] = Counter()
    records = load_case(case).records
    for number, batch in enumerate(itertools.batched(records, BATCH_SIZE)):
        with detector.batch() as tally:
            for index, record in enumerate(batch):
                detector.process(
                    StreamRecord(
                        data=record.data.encode(),
                        decode_error=None,
                        stream_name=record.camera_id,
                        shard_id="shardId-000000000000",
                        sequence_number=str(number * BATCH_SIZE + index),
                        arrived_at=case.start + record.offset_seconds,
                    )
                )
        for per_reason in tally.not_alerted.values():
            for reason, count in per_reason.items():
                reasons[reason.value] += count
    return CaseOutcome(case=case, alerts=_queued_alerts(session, stack.alert_queue_url), reasons=reasons)


def print_outcome(outcome: CaseOutcome, stream: TextIO) -> None:
    case = outcome.case
    mark = "as expected" if outcome.as_expected else "NOT AS EXPECTED"
    print(f"  {case.name}: {case.title} ({mark})", file=stream)
    policy = SitePolicy.model_validate_json(policy_text(case))
    for rule in policy.rules:
        raised = sum(n for key, n in outcome.alerts.items() if key.endswith(f"/{rule.id}"))
        print(f"    rule {rule.id} ({rule.type}): {raised} alert(s)", file=stream)
    reasons = ", ".join(f"{reason} {count}" for reason, count in outcome.reasons.most_common()) or "none"
    print(f"    faces without an alert, by reason: {reasons}", file=stream)


def run_policy_cases(session: boto3.session.Session, stream: TextIO | None = None) -> list[CaseOutcome]:
    """Replays every case and prints its outcome; returns the outcomes."""
    out = stream or sys.stdout
    print("\nAlert policies: each recorded case under its policy (events/scenarios/policy-*.jsonl)", file=out)
    outcomes = []
    level = logger.log_level
    logger.setLevel("WARNING")  # the detector's per-alert log lines are not the demo's output
    try:
        for case in CASES:
            outcome = replay_case(session, case)
            print_outcome(outcome, out)
            outcomes.append(outcome)
    finally:
        logger.setLevel(level)
    return outcomes


def run_in_emulation(region: str, stream: TextIO | None = None) -> bool:
    """The policy section on an emulation of its own (moto's server on 127.0.0.1): True when every case
    gave its expected outcome."""
    with emulated_aws(region):
        outcomes = run_policy_cases(boto3.session.Session(region_name=region), stream)
    return all(outcome.as_expected for outcome in outcomes)
