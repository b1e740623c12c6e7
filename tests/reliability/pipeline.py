"""The whole pipeline on moto, run the way Lambda runs it, and what became of each alert.

One `Pipeline` is one deployment of template.yaml's data resources (under its own name prefix, so pipelines
share one moto), its cameras' video streams, and the two functions in local containers fed by the template's
event source mappings (facewatch_local.lambda_runtime): Kinesis redelivers from the lowest failed sequence
number up to MaximumRetryAttempts and then sends the batch's place to DetectorDeadLetterQueue; SQS redelivers
after the visibility timeout (or the alerter's backoff) until maxReceiveCount, then redrives to
AlertDeadLetterQueue. OpenSearch is a local HTTP server.

`Outcome.violations()` are the invariants every run must keep, whatever was injected: each expected alert is
notified exactly once or sits in a dead-letter queue with its full payload; no alert is notified twice; a
notified alert is indexed or its job waits in AlertDeadLetterQueue; neither the shard nor the queue is retried
past its limit.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import boto3
from facewatch_local.cfn import resolve_parameters
from facewatch_local.demo import create_cameras, local_function
from facewatch_local.lambda_runtime import (
    KinesisEventSourceMapping,
    KinesisMappingSettings,
    SqsEventSourceMapping,
    SqsMappingSettings,
    event_source_properties,
)
from facewatch_local.moto_server import PublishedMessage, published_messages
from facewatch_local.scenario import DemoCamera
from facewatch_local.stack import deploy_emulated_stack
from tests.reliability.faults import FaultInjector, RestartingFunction, SqsTime
from tests.support.aws import QueuedMessage, queued_message, receive_visible
from tests.support.local_domain import LocalDomain, Recorded, document_api
from tests.support.records import T0, employee_face, encode_record, fragment_number, frame_at, unknown_face

from facewatch.domain.dedup import alert_id_for
from facewatch.domain.records import parse_face_frame
from facewatch.domain.sightings import FaceGates, judge_frame

DETECTOR, ALERTER = "DetectorFunction", "AlertFunction"
# The scenario raises this many alerts.
ALERTS = 4
# Bounds on every loop: a pipeline that needs more is itself a failure.
DETECTOR_TIMEOUT_SECONDS = 60.0
DETECTOR_MAX_INVOCATIONS = 200
# Simulated time (SqsTime): ten receives 360 s apart plus the clip backoff fit easily.
ALERTER_TIMEOUT_SECONDS = 6 * 3600.0
ALERTER_MAX_INVOCATIONS = 300
MAX_REREAD_RECORDS = 10_000
MAX_PEEK_RECEIVES = 50
# The scenario's footage ends this long before it is put on the stream.
FOOTAGE_AGE_SECONDS = 120.0


class FaultyOpenSearch(LocalDomain):
    """The local domain, failing the requests a test names: with `status`, or by closing the connection
    after the document was written (the response is lost). It keeps the document writes it answered."""

    def __init__(self) -> None:
        super().__init__(self._answer)
        self.failing: set[int] = set()
        self.failing_status = 503
        self.lost: set[int] = set()
        self.documents: list[str] = []  # alert ids written (answered 2xx, or written and the answer lost)
        self._seen = 0
        # A handler that raises makes the server close the connection without an answer; say nothing of it.
        self._server.handle_error = lambda request, client_address: None  # type: ignore[method-assign]

    def _answer(self, request: Recorded) -> tuple[int, Any]:
        self._seen += 1
        if self._seen in self.failing:
            return self.failing_status, {"error": {"type": "injected"}, "status": self.failing_status}
        status, body = document_api(request)
        if "/_doc/" in request.path and status < 300:
            self.documents.append(request.path.rsplit("/", 1)[-1])
        if self._seen in self.lost:
            raise ConnectionAbortedError("injected: the response is lost")
        return status, body


@dataclass(frozen=True, slots=True)
class Sent:
    """A record put on the face-search stream."""

    name: str
    data: bytes
    alert_id: str | None  # the alert it must raise (None: suppressed, or no unknown face)
    sequence_number: str = ""


@dataclass
class Outcome:
    expected: dict[str, str]  # alert id -> camera name
    notified: Counter[str]  # the alert's last message (the clip, phase 2) accepted by SNS
    first_notified: Counter[str]  # its first message (the snapshot, phase 1) accepted by SNS
    clip_status: dict[str, str]
    alert_dead_letters: list[QueuedMessage]
    index_dead_letters: list[QueuedMessage]  # documents of notified alerts OpenSearch never took
    detector_dead_letters: list[dict[str, Any]]  # KinesisBatchInfo
    reread: list[bytes]  # the records the detector's dead letters point at, read back from the stream
    indexed: Counter[str]
    jobs_sent: list[str]  # alert-job bodies SQS accepted from the detector
    deliveries: Counter[str]  # sequence number -> times the detector got the record
    detector_drained: list[bool]
    detector_invocations: int
    alerter_invocations: int
    alerter_drained: bool
    max_receive_count: int
    retry_limit: int
    receive_limit: int
    sent: Sequence[Sent]

    def dead_lettered_alerts(self) -> set[str]:
        return {message.body.get("alert_id", "") for message in self.alert_dead_letters}

    def dead_lettered_documents(self) -> set[str]:
        return {message.body.get("alert_id", "") for message in self.index_dead_letters}

    def recoverable_alerts(self) -> set[str]:
        """Alerts whose opening record the detector's dead letters point at (re-readable from the stream)."""
        return {record.alert_id for record in self.sent if record.alert_id and record.data in self.reread}

    def count(self, alerts: set[str]) -> int:
        return len(alerts & set(self.expected))

    def violations(self) -> list[str]:
        found = []
        name = self.expected.get
        jobs = [json.loads(body) for body in self.jobs_sent]
        in_alert_dlq = self.dead_lettered_alerts()
        recoverable = self.recoverable_alerts()
        found += [f"{name(a, a)} notified {n} times" for a, n in self.notified.items() if n > 1]
        found += [f"{name(a, a)} first message sent {n} times" for a, n in self.first_notified.items() if n > 1]
        for alert, camera in self.expected.items():
            if self.notified[alert] == 1 and self.first_notified[alert] != 1 and alert not in in_alert_dlq:
                found.append(f"{camera}: first message lost, and no copy of its job in a dead-letter queue")
        found += [f"unexpected alert {a} notified" for a in self.notified if a not in self.expected]
        for alert, camera in self.expected.items():
            if self.notified[alert] != 1 and alert not in in_alert_dlq and alert not in recoverable:
                found.append(f"{camera} lost: not notified and in no dead-letter queue")
        in_index_dlq = self.dead_lettered_documents()
        for alert in self.notified:
            if not self.indexed[alert] and alert not in in_alert_dlq | in_index_dlq:
                found.append(
                    f"{name(alert, alert)} notified but neither indexed nor waiting in a dead-letter queue"
                    " (AlertDeadLetterQueue, IndexDeadLetterQueue)"
                )
        for message in self.index_dead_letters:
            if not message.message_attributes.get("reason"):
                found.append("IndexDeadLetterQueue holds a document without its reason")
        for message in self.alert_dead_letters:
            if message.body not in jobs:
                found.append(f"AlertDeadLetterQueue holds a job that is not one the detector queued: {message.body}")
        for info in self.detector_dead_letters:
            start, end = int(info["startSequenceNumber"]), int(info["endSequenceNumber"])
            covered = [r for r in self.sent if r.sequence_number and start <= int(r.sequence_number) <= end]
            if len(covered) != info["batchSize"]:
                found.append(f"DetectorDeadLetterQueue batch {start}..{end} does not hold its {info['batchSize']}")
        if not all(self.detector_drained):
            found.append("the detector's shard was not read to its end")
        if self.deliveries and max(self.deliveries.values()) > 1 + self.retry_limit:
            found.append(f"a record was delivered {max(self.deliveries.values())} times (limit 1 + {self.retry_limit})")
        if any(r.sequence_number not in self.deliveries for r in self.sent):
            found.append("a record put on the stream never reached the detector (shard blocked)")
        if not self.alerter_drained:
            found.append("the alert queue still holds jobs (in flight or delayed) at the end")
        if self.max_receive_count > self.receive_limit:
            found.append(f"a job was received {self.max_receive_count} times (maxReceiveCount {self.receive_limit})")
        return found


@dataclass(frozen=True)
class Expect:
    """How a run ends, counted over the scenario's alerts."""

    notified: int = ALERTS  # SNS accepted exactly once
    alert_dlq: int = 0  # whole job in AlertDeadLetterQueue
    index_dlq: int = 0  # the notified alert's document in IndexDeadLetterQueue, with the reason
    detector_dlq: int = 0  # opening record re-readable from what DetectorDeadLetterQueue points at
    clips_ok: int = ALERTS
    indexed: int = ALERTS


def counts(outcome: Outcome) -> Expect:
    return Expect(
        notified=outcome.count({a for a, n in outcome.notified.items() if n == 1}),
        alert_dlq=outcome.count(outcome.dead_lettered_alerts()),
        index_dlq=outcome.count(outcome.dead_lettered_documents()),
        detector_dlq=outcome.count(outcome.recoverable_alerts()),
        clips_ok=outcome.count({a for a, status in outcome.clip_status.items() if status == "ok"}),
        indexed=outcome.count(set(outcome.indexed)),
    )


# The columns a table of pipeline runs shows after those naming its cell, and each run's cells under them.
OUTCOME_COLUMNS = (
    "notified",
    "AlertDLQ",
    "DetectorDLQ",
    "clips",
    "indexed",
    "IndexDLQ",
    "invocations det/alert",
    "invariants",
)


def outcome_cells(outcome: Outcome, found: Expect, problems: list[str]) -> tuple[object, ...]:
    return (
        f"{found.notified}/{ALERTS}",
        found.alert_dlq,
        found.detector_dlq,
        f"{found.clips_ok} ok",
        found.indexed,
        found.index_dlq,
        f"{outcome.detector_invocations}/{outcome.alerter_invocations}",
        "hold" if not problems else "BROKEN: " + "; ".join(problems),
    )


def claims(params: Mapping[str, Any]) -> bool:
    """The detector's conditional write that opens a camera window."""
    return "window_end =" in str(params.get("UpdateExpression", ""))


def alert_jobs(params: Mapping[str, Any]) -> bool:
    """The detector's SendMessage to AlertQueue (the emulated stack names it <prefix>-alerts)."""
    return str(params.get("QueueUrl", "")).endswith("-alerts")


def index_jobs(params: Mapping[str, Any]) -> bool:
    """The alerter's SendMessage of a notified alert's document to IndexQueue (<prefix>-index)."""
    return str(params.get("QueueUrl", "")).endswith("-index")


def ledger(expression: str) -> Callable[[Mapping[str, Any]], bool]:
    """The alert ledger's UpdateItem whose expression starts so ("SET clip": notify begins, "SET notified_at")."""
    return lambda params: str(params.get("UpdateExpression", "")).startswith(expression)


def opening_alert_id(data: bytes) -> str:
    """The alert id the detector gives the first sighting of this frame."""
    frame = parse_face_frame(data)
    [first, *_] = judge_frame(frame, FaceGates()).sightings
    return alert_id_for(frame.source, first.face_index)


class Pipeline:
    """One deployment, its cameras and both functions with their event source mappings (module docstring)."""

    def __init__(
        self,
        session: boto3.session.Session,
        template: Mapping[str, Any],
        prefix: str,
        *,
        opensearch: FaultyOpenSearch,
        injector: FaultInjector,
        sqs_time: SqsTime,
        opensearch_url: str | None = None,
    ) -> None:
        overrides = {"OpenSearchEndpoint": opensearch_url or opensearch.url}
        parameters = resolve_parameters(template, overrides)
        self.retry_limit = int(parameters["DetectorMaximumRetryAttempts"])
        self.receive_limit = int(parameters["AlertMaxReceiveCount"])
        self.session = session
        self.opensearch = opensearch
        self.injector = injector
        self.account_id = session.client("sts").get_caller_identity()["Account"]
        self.stack = stack = deploy_emulated_stack(session, name_prefix=prefix, parameter_overrides=overrides)
        self.cameras = {name: f"{prefix}-{name}" for name in ("lobby", "garage", "corridor", "yard")}
        self.stream_arns = create_cameras(
            session, stack, [DemoCamera(camera, name, "HQ", "1", name, "UTC") for name, camera in self.cameras.items()]
        )
        self.detector = RestartingFunction(
            local_function(template, "DetectorFunction", stack.detector_env(), stack, self.account_id).config
        )
        self.alerter = RestartingFunction(
            local_function(template, "AlertFunction", stack.alert_env(), stack, self.account_id).config
        )
        self.kinesis = session.client("kinesis")
        self.sqs = session.client("sqs")
        self.kinesis_mapping = KinesisEventSourceMapping(
            self.detector,
            stack.face_search_stream_arn,
            KinesisMappingSettings.from_properties(
                event_source_properties(template, "DetectorFunction", "Kinesis", overrides)
            ),
            kinesis=self.kinesis,
            sqs=self.sqs,
            on_failure_queue_url=stack.detector_dead_letter_queue_url,
        )
        self.kinesis_mapping.start()  # StartingPosition LATEST: the mapping exists before the records
        self.sqs_mapping = SqsEventSourceMapping(
            self.alerter,
            stack.alert_queue_url,
            SqsMappingSettings.from_properties(
                event_source_properties(template, "AlertFunction", "SQS", overrides, event_name="AlertJobs")
            ),
            sqs=self.sqs,
            clock=sqs_time.now,
        )
        self.index_mapping = SqsEventSourceMapping(
            self.alerter,
            stack.index_queue_url,
            SqsMappingSettings.from_properties(
                event_source_properties(template, "AlertFunction", "SQS", overrides, event_name="IndexJobs")
            ),
            sqs=self.sqs,
            clock=sqs_time.now,
        )
        # Recent footage, as a live camera's: records reach Kinesis after their frames, and the clip's
        # post-roll is over, so the detector queues jobs without delay.
        self._shift = time.time() - FOOTAGE_AGE_SECONDS - T0
        self.sent: list[Sent] = []
        self.detector_drained: list[bool] = []
        self.alerter_drained = True

    def frame(self, name: str, seconds: float, faces: Sequence[Mapping[str, Any]] | None = None) -> bytes:
        """A frame `seconds` into footage that ended FOOTAGE_AGE_SECONDS ago, on the camera's video stream."""
        record = frame_at(seconds, faces, camera_id=self.cameras[name])
        video = record["InputInformation"]["KinesisVideo"]
        video["StreamArn"] = self.stream_arns[self.cameras[name]]
        for key in ("ProducerTimestamp", "ServerTimestamp"):
            video[key] = round(video[key] + self._shift, 3)
        video["FragmentNumber"] = fragment_number(video["ProducerTimestamp"])
        return encode_record(record)

    def scenario(self) -> tuple[list[Sent], list[Sent]]:
        """A batch with three alerts, a sighting suppressed by its camera's window and an employee; then a
        later record on the same shard, which must get through whatever happened to the batch."""
        lobby, garage = self.frame("lobby", 10.0), self.frame("garage", 10.0)
        corridor = self.frame("corridor", 10.0, [employee_face(), unknown_face()])
        yard = self.frame("yard", 10.0)
        batch = [
            Sent("lobby", lobby, opening_alert_id(lobby)),
            Sent("garage", garage, opening_alert_id(garage)),
            Sent("lobby, 2 s later", self.frame("lobby", 12.0), None),
            Sent("corridor", corridor, opening_alert_id(corridor)),
            Sent("lobby, an employee", self.frame("lobby", 14.0, [employee_face()]), None),
        ]
        return batch, [Sent("yard", yard, opening_alert_id(yard))]

    def put(self, records: Sequence[Sent]) -> list[Sent]:
        response = self.kinesis.put_records(
            StreamName=self.stack.face_search_stream_name,
            Records=[{"Data": record.data, "PartitionKey": f"key-{i}"} for i, record in enumerate(records)],
        )
        assert not response.get("FailedRecordCount"), response
        return [
            Sent(record.name, record.data, record.alert_id, result["SequenceNumber"])
            for record, result in zip(records, response["Records"], strict=True)
        ]

    def run(self) -> Outcome:
        """The scenario: the batch, read to the end of the shard, then the later record, then the alert queue."""
        batch, later = self.scenario()
        self.sent += self.put(batch)
        self.detector_drained.append(self.run_detector())
        self.sent += self.put(later)
        self.detector_drained.append(self.run_detector())
        self.run_alerter()
        return self.outcome()

    def run_detector(self) -> bool:
        """Lambda's poller on the face-search stream until it finds no new record; whether it got there."""
        return self.kinesis_mapping.run(
            timeout_seconds=DETECTOR_TIMEOUT_SECONDS, max_invocations=DETECTOR_MAX_INVOCATIONS
        ).drained

    def run_alerter(self) -> None:
        """Lambda's pollers on AlertQueue, then on IndexQueue, until each holds nothing, visible, delayed or in
        flight."""
        alerts = self.sqs_mapping.run(timeout_seconds=ALERTER_TIMEOUT_SECONDS, max_invocations=ALERTER_MAX_INVOCATIONS)
        documents = self.index_mapping.run(
            timeout_seconds=ALERTER_TIMEOUT_SECONDS, max_invocations=ALERTER_MAX_INVOCATIONS
        )
        self.alerter_drained = alerts.drained and documents.drained

    def published(self) -> list[PublishedMessage]:
        """Every publish AlertTopic accepted."""
        return published_messages(self.account_id, self.stack.region, self.stack.alert_topic_arn)

    def notices(self) -> list[dict[str, Any]]:
        """The structured alert of every accepted publish (the "sqs" message of the JSON structure)."""
        return [json.loads(json.loads(message.message)["sqs"]) for message in self.published()]

    def outcome(self) -> Outcome:
        """What became of the alerts so far (the dead-letter queues are read, and left as they were)."""
        stack, sent = self.stack, self.sent
        notices = self.notices()
        detector_dead = [m.body["KinesisBatchInfo"] for m in peek_all(self.sqs, stack.detector_dead_letter_queue_url)]
        reread = [data for info in detector_dead for data in reread_batch(self.kinesis, info)]
        deliveries: Counter[str] = Counter(
            record["kinesis"]["sequenceNumber"] for i in self.detector.invocations for record in i.event["Records"]
        )
        receive_counts = [
            int(record["attributes"]["ApproximateReceiveCount"])
            for invocation in self.alerter.invocations
            for record in invocation.event["Records"]
        ]
        jobs_sent = [
            str(call.params["MessageBody"])
            for call in self.injector.accepted
            if call.function.endswith("-DetectorFunction")
            and (call.service, call.operation) == ("sqs", "SendMessage")
            and call.params.get("QueueUrl") == stack.alert_queue_url
        ]
        return Outcome(
            expected={r.alert_id: r.name for r in sent if r.alert_id},
            notified=Counter(notice["alert_id"] for notice in notices if notice["event_type"] == "alert_clip"),
            first_notified=Counter(
                notice["alert_id"] for notice in notices if notice["event_type"] == "alert_snapshot"
            ),
            clip_status={
                notice["alert_id"]: notice["clip"]["status"]
                for notice in notices
                if notice["event_type"] == "alert_clip"
            },
            alert_dead_letters=peek_all(self.sqs, stack.alert_dead_letter_queue_url),
            index_dead_letters=peek_all(self.sqs, stack.index_dead_letter_queue_url),
            detector_dead_letters=detector_dead,
            reread=reread,
            indexed=Counter(self.opensearch.documents),
            jobs_sent=jobs_sent,
            deliveries=deliveries,
            detector_drained=self.detector_drained,
            detector_invocations=len(self.detector.invocations),
            alerter_invocations=len(self.alerter.invocations),
            alerter_drained=self.alerter_drained,
            max_receive_count=max(receive_counts, default=0),
            retry_limit=self.retry_limit,
            receive_limit=self.receive_limit,
            sent=sent,
        )


def peek_all(sqs: Any, queue_url: str) -> list[QueuedMessage]:
    """Every message on the queue, each made visible again once read (a dead-letter queue's stay put)."""
    messages = receive_visible(sqs, queue_url, MAX_PEEK_RECEIVES)
    for message in messages:
        sqs.change_message_visibility(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0)
    return [queued_message(message) for message in messages]


def reread_batch(kinesis: Any, info: Mapping[str, Any]) -> list[bytes]:
    """The records a Kinesis on-failure destination message points at, read back from the stream (the
    runbook for DetectorDeadLetterQueue: get-shard-iterator AT_SEQUENCE_NUMBER, then get-records)."""
    stream_name = str(info["streamArn"]).rsplit("/", 1)[-1]
    iterator = kinesis.get_shard_iterator(
        StreamName=stream_name,
        ShardId=info["shardId"],
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=info["startSequenceNumber"],
    )["ShardIterator"]
    end, wanted = int(info["endSequenceNumber"]), int(info["batchSize"])
    records: list[bytes] = []
    while iterator and len(records) < min(wanted, MAX_REREAD_RECORDS):
        response = kinesis.get_records(ShardIterator=iterator, Limit=wanted - len(records))
        batch = response["Records"]
        records += [r["Data"] for r in batch if int(r["SequenceNumber"]) <= end]
        if not batch or int(batch[-1]["SequenceNumber"]) >= end:
            break
        iterator = response.get("NextShardIterator")
    return records
