"""Call economy: the AWS calls both stages make per 1,000 records, counted on the real handlers over moto.

Two traffic scenarios (benchmarks/workload.py), each delivered the way Lambda's Kinesis event source
mapping would deliver it, as the template configures it:

- live: one data stream per camera (a face-search stream processor writes to a stream of its own), the
  template's record filter (frames without a face never reach the detector), and a batch per stream closed
  by BatchSize or MaximumBatchingWindowInSeconds (Lambda polls a shard about once a second anyway);
- backlog: the same records in full BatchSize batches, as after an outage or on a stream read late.

The detector runs in one warm container (its window cache persists between batches). Every alert job it
queues is then handed to the alert handler (one job per invocation, one warm container) with a clock at
the job's frame time, so the camera-registry cache expires as it would in real time. Calls are counted on
the functions' own clients with botocore's event hooks (tests/support/aws.py); moto answers, and its speed
does not matter here. OpenSearch, which moto lacks, is a counting stand-in.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, cast

import boto3
from facewatch_local.cfn import load_template
from facewatch_local.lambda_runtime import RecordFilter, event_source_properties
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack
from facewatch_testkit.aws import AwsCall, CallLog, receive_visible, suppressed_count_updates, window_claims
from facewatch_testkit.kinesis import kinesis_record, sequence_number
from facewatch_testkit.lambda_context import FakeLambdaContext
from facewatch_testkit.records import T0, frame_time
from facewatch_testkit.sqs import sqs_event, sqs_record
from moto import mock_aws

from benchmarks.harness import captured_output, factory_answers
from benchmarks.report import Table, number, verdict
from benchmarks.workload import Frame, camera_fleet, lingering_person
from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.quarantine import Quarantine
from facewatch.adapters.search_index import AlertIndex
from facewatch.config import AlertSettings, DetectorSettings
from facewatch.handlers import alerter as alerter_handler
from facewatch.handlers import detector as detector_handler
from facewatch.services.alert import AlertStage
from facewatch.services.detect import Detector
from facewatch.services.index import IndexStage

REGION = "us-east-1"
# Lambda polls each shard about once a second, whatever the batching window.
POLL_INTERVAL_SECONDS = 1.0
# Comparing arrival times that are sums of floats: a record exactly one window after the first is out.
_EPSILON_SECONDS = 1e-6
# When the alert stage sees a job, relative to the frame: the detector's delay (post-roll + ingest margin).
ALERT_STAGE_LAG_SECONDS = 20.0
SEARCH_URL = "https://search-facewatch.invalid:443"
# Receives of ten from IndexQueue: more than any workload here queues.
MAX_INDEX_RECEIVES = 1_000
KVS_SERVICES = ("kinesisvideo", "kinesis-video-archived-media")
DYNAMODB_WRITES = ("UpdateItem", "PutItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems")
TARGET_DYNAMODB_WRITES_PER_ALERT = 2.0
COLUMNS_PER_1000 = ("DynamoDB", "SQS", "SNS", "S3", "KVS", "OpenSearch")


@dataclass(frozen=True, slots=True)
class Batching:
    name: str
    batch_size: int
    window_seconds: float | None  # None: every batch is full (a backlog)


@dataclass(frozen=True, slots=True)
class Delivery:
    """How the template's event source mapping delivers records to the detector."""

    live: Batching
    backlog: Batching
    record_filter: RecordFilter

    @classmethod
    def from_template(cls) -> Delivery:
        properties = event_source_properties(load_template(), "DetectorFunction", "Kinesis")
        size = int(properties.get("BatchSize", 100))
        window = max(float(properties.get("MaximumBatchingWindowInSeconds", 0)), POLL_INTERVAL_SECONDS)
        return cls(
            live=Batching("live", size, window),
            backlog=Batching("backlog", size, None),
            record_filter=RecordFilter.from_criteria(properties.get("FilterCriteria")),
        )


@dataclass(frozen=True, slots=True)
class Invocation:
    at: float  # seconds after the footage's start when Lambda invokes the function
    camera_id: str
    frames: tuple[Frame, ...]
    first_sequence: int

    def sequences(self) -> list[str]:
        return [sequence_number(self.first_sequence + n) for n in range(len(self.frames))]


def invocations(frames: Sequence[Frame], batching: Batching, record_filter: RecordFilter) -> list[Invocation]:
    """The detector's invocations: per camera stream, in arrival order, filtered, then batched."""
    delivered: dict[tuple[str, int], bool] = {}  # the filter's answer depends on the record's shape only

    def passes(frame: Frame) -> bool:
        shape = (frame.kind.value, len(frame.record["FaceSearchResponse"]))
        if shape not in delivered:
            delivered[shape] = record_filter.matches({"data": frame.record})
        return delivered[shape]

    streams: dict[str, list[Frame]] = {}
    for frame in sorted(frames, key=lambda f: f.arrival):
        streams.setdefault(frame.camera_id, [])
        if passes(frame):
            streams[frame.camera_id].append(frame)
    result: list[Invocation] = []
    for camera_id, stream in streams.items():
        sequence = 1
        for batch in _batches(stream, batching):
            full = len(batch) >= batching.batch_size or batching.window_seconds is None
            at = batch[-1].arrival if full else batch[0].arrival + (batching.window_seconds or 0.0)
            result.append(Invocation(at, camera_id, tuple(batch), sequence))
            sequence += len(batch)
    return sorted(result, key=lambda invocation: (invocation.at, invocation.camera_id))


def _batches(stream: Sequence[Frame], batching: Batching) -> Iterator[list[Frame]]:
    """A stream's records cut into batches: at BatchSize, or when the batching window since the first ends."""
    window = batching.window_seconds
    batch: list[Frame] = []
    for frame in stream:
        window_over = (
            window is not None and bool(batch) and frame.arrival >= batch[0].arrival + window - _EPSILON_SECONDS
        )
        if batch and (len(batch) >= batching.batch_size or window_over):
            yield batch
            batch = []
        batch.append(frame)
    if batch:
        yield batch


class CountingOpenSearch:
    """Stands in for opensearchpy.OpenSearch (moto has no OpenSearch): counts the requests."""

    def __init__(self) -> None:
        self.requests: Counter[str] = Counter()
        outer = self

        class _Indices:
            def put_index_template(self, name: str, body: Mapping[str, Any]) -> dict[str, Any]:
                outer.requests["PutIndexTemplate"] += 1
                return {"acknowledged": True}

        self.indices = _Indices()

    def index(self, index: str, id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        self.requests["Index"] += 1
        return {"_index": index, "_id": id, "result": "created"}


@dataclass
class SimulatedClock:
    """Epoch seconds in the footage's time: what the functions' clocks read during the replay."""

    now: float = T0

    def __call__(self) -> float:
        return self.now


def _retargeted(frame: Frame, stream_arns: Mapping[str, str]) -> dict[str, Any]:
    """The record naming the camera's emulated video stream, so the alert stage can fetch its clip."""
    record = frame.record
    source = record["InputInformation"]
    video = {**source["KinesisVideo"], "StreamArn": stream_arns[frame.camera_id]}
    return {**record, "InputInformation": {**source, "KinesisVideo": video}}


def _create_cameras(session: boto3.session.Session, stack: EmulatedStack, cameras: Iterable[str]) -> dict[str, str]:
    """A KVS stream per camera (GetClip needs retention) and its registry entry; camera -> stream ARN."""
    kinesisvideo = session.client("kinesisvideo")
    dynamodb = session.client("dynamodb")
    arns = {}
    for camera_id in sorted(set(cameras)):
        arns[camera_id] = kinesisvideo.create_stream(StreamName=camera_id, DataRetentionInHours=24)["StreamARN"]
        dynamodb.put_item(
            TableName=stack.camera_table_name,
            Item={"camera_id": {"S": camera_id}, "display_name": {"S": camera_id}, "timezone": {"S": "UTC"}},
        )
    return arns


class WireCalls(CallLog):
    """A CallLog that leaves out presigned URLs: botocore builds their parameters as for a call (so the
    before-parameter-build hook fires) but sends nothing."""

    def watch[C](self, client: C) -> C:
        events = client.meta.events  # type: ignore[attr-defined]
        service = client.meta.service_model.service_name  # type: ignore[attr-defined]

        def record(params: dict[str, Any], model: Any, context: Mapping[str, Any] | None = None, **_: Any) -> None:
            if not (context or {}).get("is_presign_request"):
                self.calls.append(AwsCall(service, model.name, dict(params)))

        events.register(f"before-parameter-build.{service}", record)
        return client


def _by_operation(calls: Iterable[AwsCall]) -> Counter[str]:
    return Counter(f"{call.service}.{call.operation}" for call in calls)


def replay(frames: Sequence[Frame], batching: Batching, record_filter: RecordFilter) -> dict[str, Any]:
    """Both stages over the records, on moto; every call the functions make, counted."""
    planned = invocations(frames, batching, record_filter)
    context = FakeLambdaContext()
    clock = SimulatedClock()
    with mock_aws(), captured_output():
        session = boto3.session.Session(region_name=REGION)
        stack = deploy_emulated_stack(session)
        stream_arns = _create_cameras(session, stack, (f.camera_id for f in frames))
        log = WireCalls()
        clients: dict[str, Any] = {
            name: log.watch(session.client(name)) for name in ("dynamodb", "sqs", "s3", "sns", "kinesisvideo")
        }
        dynamodb, sqs, s3, sns, kinesisvideo = clients.values()
        settings = DetectorSettings.from_environ(stack.detector_env())
        detector = Detector(
            settings=settings,
            windows=DedupWindows(settings.dedup_table_name, dynamodb),
            queue=AlertQueue(settings.alert_queue_url, sqs),
            quarantine=Quarantine(settings.quarantine_bucket_name, s3),
            clock=clock,
        )
        quiet_calls = quiet_records = 0
        with factory_answers(detector_handler, "detector", detector):
            for invocation in planned:
                clock.now = T0 + invocation.at
                event = {
                    "Records": [
                        _kinesis_record(_retargeted(frame, stream_arns), invocation, n)
                        for n, frame in enumerate(invocation.frames)
                    ]
                }
                mark = log.mark()
                response = detector_handler.lambda_handler(event, context)
                if response["batchItemFailures"]:
                    raise AssertionError(f"the detector failed records: {response}")
                if not any(frame.kind.is_sighting for frame in invocation.frames):
                    quiet_calls += len(log.since(mark))
                    quiet_records += len(invocation.frames)
        detector_calls = list(log.calls)
        jobs = [
            json.loads(call.params["MessageBody"])
            for call in detector_calls
            if call.operation == "SendMessage" and call.params["QueueUrl"] == stack.alert_queue_url
        ]
        search = CountingOpenSearch()
        stage = _alert_stage(session, stack, log, clock, dynamodb, sqs, s3, sns, kinesisvideo, search)
        queue_arn = sqs.get_queue_attributes(QueueUrl=stack.alert_queue_url, AttributeNames=["QueueArn"])
        mark = log.mark()
        # The handler reads its settings before any record (and routes a batch by its queue with them).
        alert_settings = AlertSettings.from_environ(stack.alert_env())
        with (
            factory_answers(alerter_handler, "settings", alert_settings),
            factory_answers(alerter_handler, "alert_stage", stage),
        ):
            for number, job in enumerate(jobs):
                clock.now = job["frame_time"] + ALERT_STAGE_LAG_SECONDS
                record = sqs_record(
                    json.dumps(job),
                    message_id=f"job-{number:06d}",
                    receipt_handle=f"receipt-{number:06d}",
                    queue_arn=queue_arn["Attributes"]["QueueArn"],
                )
                response = alerter_handler.lambda_handler(sqs_event(record), context)
                if response["batchItemFailures"]:
                    raise AssertionError(f"the alert stage failed a job: {response}")
        # The documents, from the alerter's second event source (read with a client of its own: not counted).
        index_arn = sqs.get_queue_attributes(QueueUrl=stack.index_queue_url, AttributeNames=["QueueArn"])
        documents = receive_visible(session.client("sqs"), stack.index_queue_url, MAX_INDEX_RECEIVES)
        with (
            factory_answers(alerter_handler, "settings", alert_settings),
            factory_answers(alerter_handler, "index_stage", _index_stage(stack, sqs, search)),
        ):
            for document in documents:
                record = sqs_record(
                    document["Body"],
                    message_id=document["MessageId"],
                    receipt_handle=document["ReceiptHandle"],
                    queue_arn=index_arn["Attributes"]["QueueArn"],
                )
                response = alerter_handler.lambda_handler(sqs_event(record), context)
                if response["batchItemFailures"]:
                    raise AssertionError(f"the index stage failed a document: {response}")
        alerter_calls = [call for call in log.since(mark) if call.operation != "GetQueueAttributes"]
        stored = _stored_suppressed_counts(session.client("dynamodb"), stack.dedup_table_name)
    writes = _count_writes_implied(planned, jobs, settings.dedup_window_seconds)
    return _summary(
        frames, planned, detector_calls, alerter_calls, search, jobs, quiet_calls, quiet_records, stored, writes
    )


def _stored_suppressed_counts(dynamodb: Any, table: str) -> int:
    """The suppressed_count attributes in DedupTable, summed (read with a client of its own: not counted)."""
    pages = dynamodb.get_paginator("scan").paginate(TableName=table, ProjectionExpression="suppressed_count")
    return sum(int(item["suppressed_count"]["N"]) for page in pages for item in page["Items"] if item)


def _kinesis_record(record: dict[str, Any], invocation: Invocation, n: int) -> dict[str, Any]:
    return kinesis_record(
        record, sequence=invocation.first_sequence + n, stream_name=f"facewatch-face-search-{invocation.camera_id}"
    )


def _alert_stage(
    session: boto3.session.Session,
    stack: EmulatedStack,
    log: CallLog,
    clock: SimulatedClock,
    dynamodb: Any,
    sqs: Any,
    s3: Any,
    sns: Any,
    kinesisvideo: Any,
    search: CountingOpenSearch,
) -> AlertStage:
    settings = AlertSettings.from_environ(stack.alert_env())

    def archived_media(endpoint_url: str) -> Any:
        return log.watch(session.client("kinesis-video-archived-media", endpoint_url=endpoint_url))

    return AlertStage(
        settings,
        ledger=AlertLedger(settings.dedup_table_name, dynamodb),
        clips=ClipStore(
            settings.clip_bucket_name, kinesisvideo=kinesisvideo, s3=s3, archived_media_factory=archived_media
        ),
        cameras=CameraRegistry(settings.camera_table_name, dynamodb, clock=clock),
        notifier=AlertNotifier(settings.alert_topic_arn, sns),
        index_queue=IndexQueue(settings.index_queue_url, sqs),
        queue=JobQueue(settings.alert_dead_letter_queue_url, sqs),
        clock=clock,
    )


def _index_stage(stack: EmulatedStack, sqs: Any, search: CountingOpenSearch) -> IndexStage:
    settings = AlertSettings.from_environ(stack.alert_env())
    index = AlertIndex(SEARCH_URL, settings.opensearch_index, settings.aws_region, client=cast(Any, search))
    return IndexStage(index, JobQueue(settings.index_dead_letter_queue_url, sqs))


def _summary(
    frames: Sequence[Frame],
    planned: Sequence[Invocation],
    detector_calls: Sequence[AwsCall],
    alerter_calls: Sequence[AwsCall],
    search: CountingOpenSearch,
    jobs: Sequence[Mapping[str, Any]],
    quiet_calls: int,
    quiet_records: int,
    stored_suppressed: int,
    implied_writes: Sequence[int],
) -> dict[str, Any]:
    records = len(frames)
    alerts = len(jobs)
    claims = len(window_claims(list(detector_calls)))
    count_writes = len(suppressed_count_updates(list(detector_calls)))
    calls = _by_operation([*detector_calls, *alerter_calls])
    opensearch = sum(search.requests.values())

    def service_total(*services: str) -> int:
        return sum(n for name, n in calls.items() if name.split(".")[0] in services)

    totals = {
        "DynamoDB": service_total("dynamodb"),
        "SQS": service_total("sqs"),
        "SNS": service_total("sns"),
        "S3": service_total("s3"),
        "KVS": service_total(*KVS_SERVICES),
        "OpenSearch": opensearch,
    }
    writes = sum(n for name, n in calls.items() if name.removeprefix("dynamodb.") in DYNAMODB_WRITES)
    return {
        "records": records,
        "records_delivered": sum(len(invocation.frames) for invocation in planned),
        "sightings": sum(1 for f in frames if f.kind.is_sighting),
        "detector_invocations": len(planned),
        "alerts": alerts,
        "calls_detector": dict(_by_operation(detector_calls)),
        "calls_alert_stage": dict(_by_operation(alerter_calls)),
        "opensearch_requests": dict(search.requests),
        "calls_per_1000_records": {name: round(n * 1000 / records, 2) for name, n in totals.items()},
        "window_claims": claims,
        "suppressed_count_writes": count_writes,
        "suppressed_count_writes_expected": len(implied_writes),
        "suppressed_count_stored": stored_suppressed,
        "suppressed_count_stored_expected": sum(implied_writes),
        "dynamodb_writes_per_alert_detector": round((claims + count_writes) / alerts, 2) if alerts else None,
        "dynamodb_writes_per_alert_pipeline": round(writes / alerts, 2) if alerts else None,
        "dynamodb_claims_per_alert": round(claims / alerts, 3) if alerts else None,
        "calls_per_record_without_sighting": round(quiet_calls / quiet_records, 6) if quiet_records else 0.0,
        "records_in_batches_without_sighting": quiet_records,
    }


@dataclass(slots=True)
class _Window:
    end: float
    unwritten: int = 0  # sightings suppressed in it and not yet written to its alert's item


def _count_writes_implied(
    planned: Sequence[Invocation], jobs: Sequence[Mapping[str, Any]], window_seconds: float
) -> list[int]:
    """The suppressed-count writes the detector must make, as the delivered records and the alert jobs imply
    (each write's count, in order).

    A window's count is written once the window has ended in event time: right before its camera's next
    window is claimed, or at the end of an invocation whose newest sighting (on any camera: the container's
    counts span the streams it is handed) is at or after the window's end. A camera's last window, not
    ended by any later sighting, is still counted in the container when the replay stops.
    """
    openers = {(job["camera_id"], job["kinesis_sequence_number"]) for job in jobs}
    current: dict[str, _Window] = {}
    writes: list[int] = []

    def write(window: _Window) -> None:
        if window.unwritten:
            writes.append(window.unwritten)
            window.unwritten = 0

    for invocation in planned:
        newest = -math.inf
        for frame, sequence in zip(invocation.frames, invocation.sequences(), strict=True):
            if not frame.kind.is_sighting:
                continue
            seen_at = frame_time(frame.record)
            newest = max(newest, seen_at)
            if (invocation.camera_id, sequence) in openers:
                if invocation.camera_id in current:
                    write(current[invocation.camera_id])
                current[invocation.camera_id] = _Window(end=seen_at + window_seconds)
            else:
                current[invocation.camera_id].unwritten += 1
        for window in current.values():
            if window.end <= newest:
                write(window)
    return writes


@dataclass(frozen=True, slots=True)
class Scenario:
    name: str
    description: str
    frames: list[Frame]


def scenarios(quick: bool) -> list[Scenario]:
    if quick:
        return [
            Scenario(
                "lingering", "1 camera, a person in every frame, 2 min at 5 records/s", lingering_person(minutes=2)
            ),
            Scenario(
                "fleet",
                "10 cameras at 2 records/s, 2 min, 4 % sightings (enough for windows to end)",
                camera_fleet(cameras=10, minutes=2, sighting_share=0.04),
            ),
        ]
    return [
        Scenario("lingering", "1 camera, a person in every frame, 10 min at 5 records/s", lingering_person()),
        Scenario(
            "fleet",
            "100 cameras at 2 records/s, 5 min, 1 % sightings (10 s visits)",
            camera_fleet(cameras=100, minutes=5),
        ),
    ]


def run(quick: bool = False) -> dict[str, Any]:
    delivery = Delivery.from_template()
    cases = []
    for scenario in scenarios(quick):
        for batching in (delivery.live, delivery.backlog):
            summary = replay(scenario.frames, batching, delivery.record_filter)
            case = {"scenario": scenario.name, "description": scenario.description, "batching": batching.name}
            cases.append(case | summary)
    worst_detector = max(c["dynamodb_writes_per_alert_detector"] or 0.0 for c in cases)
    worst_pipeline = max(c["dynamodb_writes_per_alert_pipeline"] or 0.0 for c in cases)
    return {
        "method": __doc__.split("\n\n")[0] if __doc__ else "",
        "delivery": {
            "batch_size": delivery.live.batch_size,
            "batching_window_seconds": delivery.live.window_seconds,
            "record_filter_patterns": len(delivery.record_filter.patterns),
        },
        "cases": cases,
        "targets": {
            "dynamodb_writes_per_alert_detector_max": worst_detector,
            "dynamodb_writes_per_alert_pipeline_max": worst_pipeline,
            "calls_per_record_without_sighting_max": max(c["calls_per_record_without_sighting"] for c in cases),
            "dynamodb_claims_per_alert_max": max(c["dynamodb_claims_per_alert"] or 0.0 for c in cases),
        },
    }


def tables(result: Mapping[str, Any]) -> list[Table]:
    table = Table(
        "Call economy (AWS calls per 1,000 records, both stages, counted on the functions' own clients over moto)",
        [
            "scenario",
            "batching",
            "records",
            "invocations",
            "alerts",
            *COLUMNS_PER_1000,
            "DDB writes / alert (detector)",
            "DDB writes / alert (pipeline)",
            "calls / record without sighting",
        ],
    )
    for case in result["cases"]:
        per = case["calls_per_1000_records"]
        table.add(
            case["scenario"],
            case["batching"],
            f"{case['records']:,}",
            f"{case['detector_invocations']:,}",
            case["alerts"],
            *(number(per[name], 2) for name in COLUMNS_PER_1000),
            case["dynamodb_writes_per_alert_detector"],
            case["dynamodb_writes_per_alert_pipeline"],
            case["calls_per_record_without_sighting"],
        )
    delivery = result["delivery"]
    table.notes += [
        f"live = one stream per camera, the template's record filter, batches closed at {delivery['batch_size']} "
        f"records or {delivery['batching_window_seconds']:g} s; backlog = full batches of {delivery['batch_size']}. "
        "One warm container per function.",
        "detector DynamoDB writes per alert = window claims (exactly one per alert) + suppressed-count writes (at "
        "most one per window, onto its alert's item once the window has ended; a camera's last window is still "
        "counted in the container when the replay stops); pipeline adds the alert stage's two ledger writes.",
        f"target: DynamoDB writes per alert <= {TARGET_DYNAMODB_WRITES_PER_ALERT:g} (the detector's, as in the targets "
        "table): "
        + verdict(result["targets"]["dynamodb_writes_per_alert_detector_max"] <= TARGET_DYNAMODB_WRITES_PER_ALERT)
        + "; calls per record with no sighting = 0: "
        + verdict(result["targets"]["calls_per_record_without_sighting_max"] == 0),
    ]
    return [table]
