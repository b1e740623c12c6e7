"""`make demo`: the whole pipeline on an embedded AWS emulation, replaying a recorded morning at Seoul HQ.

1. moto's server starts on a free 127.0.0.1 port; every AWS client reaches it through AWS_ENDPOINT_URL.
2. The stack's resources are created from template.yaml (facewatch_local.stack), plus a Kinesis video
   stream per camera, the camera registry entries, and an SQS queue subscribed to the alert topic (the
   security team's inbox).
3. The scenario's records are re-stamped (the newest frame NEWEST_FRAME_AGE_SECONDS ago, each camera's
   StreamArn the emulated one) and put on the face-search stream.
4. The detector and the alerter run as Lambda would run them (facewatch_local.lambda_runtime): the
   template's event source mappings, filters and batch sizes, real Kinesis and SQS events.
5. Each alert is printed as the security team gets it, then a summary; the exit status is 1 if any
   function or record failed.

`run()` is the same code path for tests/integration/test_demo.py.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import boto3

from facewatch_local.cfn import TEMPLATE_PATH, load_template
from facewatch_local.lambda_runtime import (
    FunctionConfig,
    Invocation,
    KinesisEventSourceMapping,
    KinesisMappingReport,
    KinesisMappingSettings,
    LocalFunction,
    SqsEventSourceMapping,
    SqsMappingReport,
    SqsMappingSettings,
    event_source_properties,
)
from facewatch_local.moto_server import emulated_aws, published_messages
from facewatch_local.scenario import (
    DEMO_CAMERAS,
    RECORDED_AT_EPOCH_SECONDS,
    SCENARIO_PATH,
    DemoCamera,
    Scenario,
    frame_time_of,
    load_scenario,
    restamp,
)
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_sqs import SQSClient

    from facewatch.domain.alert_job import AlertJob

DEMO_REGION: Final = "ap-northeast-2"
STACK_NAME: Final = "facewatch"
# The newest replayed frame is this old: the clip's post-roll (10 s) plus KVS's ingest margin has passed,
# so the detector's SQS delay works out to 0 s and GetClip ranges lie in the past, as for a live camera.
NEWEST_FRAME_AGE_SECONDS: Final = 20.0
KVS_RETENTION_HOURS: Final = 24
# Kinesis PutRecords takes at most 500 records per call.
PUT_RECORDS_MAX: Final = 500
DETECTOR_TIMEOUT_SECONDS: Final = 20.0
# Long enough for the detector's longest SQS delay (ALERT_DELAY_SECONDS, 15 s) and one clip retry.
ALERTER_TIMEOUT_SECONDS: Final = 30.0
INBOX_QUEUE_NAME: Final = "facewatch-demo-security-team"
# Bound on the receives that read a queue back (10 messages each).
MAX_RECEIVES: Final = 20
DEFAULT_LOG_PATH: Final = Path(tempfile.gettempdir()) / "facewatch-demo" / "functions.log"
# `make demo` sets it (epoch seconds) before it creates the virtualenv: the summary then says how long a fresh
# clone takes to print its first alert, installation included.
MAKE_STARTED_AT_VARIABLE: Final = "FACEWATCH_DEMO_STARTED_AT"
FIRST_ALERT_TARGET_SECONDS: Final = 60.0


@dataclass(frozen=True, slots=True)
class AlertReport:
    """One alert, from what landed: the ledger, S3, SNS's deliveries, and the search document."""

    alert_id: str
    camera_id: str
    frame_time: float  # re-stamped frame time
    clip_status: str
    clip_uri: str | None
    clip_bytes: int
    sns_message_id: str | None
    email_subject: str | None
    email_text: str | None
    delivered_to_sqs: bool  # the inbox queue received the structured notice
    document: Mapping[str, Any]
    index_target: str | None  # where the alerter indexed it; None when OpenSearch is not configured
    recorded_lag_seconds: float  # frame -> record on the stream, as recorded
    pipeline_seconds: float  # record put -> SNS publish, measured in this run

    @property
    def latency_seconds(self) -> float:
        """Frame to notification in scenario time: the recorded result lag plus this run's pipeline time."""
        return self.recorded_lag_seconds + self.pipeline_seconds


@dataclass(frozen=True, slots=True)
class DemoSummary:
    records_put: int
    records_read: int
    records_filtered_out: int
    records_processed: int
    sightings: int
    alerts_raised: int
    suppressed: int
    malformed: int
    faces_dropped: Mapping[str, int]
    quarantined: Mapping[str, str]  # S3 key -> reason
    alert_jobs_received: int
    alerts: tuple[AlertReport, ...]
    alert_dead_letters: int
    detector_failure_destination_messages: int
    function_errors: int
    failed_items: int
    drained: bool
    elapsed_seconds: float
    log_path: Path
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def _ensure_code_importable(code_root: Path) -> None:
    """The demo reads results with facewatch's own adapters and models (the functions' CodeUri)."""
    if str(code_root) not in sys.path:
        sys.path.append(str(code_root))


class _Output:
    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._live = stream.isatty()
        self._pending = False

    def line(self, text: str = "") -> None:
        if self._pending:
            self._stream.write("\n")
            self._pending = False
        self._stream.write(text + "\n")
        self._stream.flush()

    def progress(self, text: str) -> None:
        """A progress line, rewritten in place on a terminal."""
        if self._live:
            self._stream.write("\r" + text.ljust(100))
            self._pending = True
            self._stream.flush()
        else:
            self.line(text)


def local_function(
    template: Mapping[str, Any],
    logical_id: str,
    environment: Mapping[str, str],
    stack: EmulatedStack,
    account_id: str,
    on_invoke: Callable[[Invocation], None] | None = None,
) -> LocalFunction:
    """The template's function, in its own local container, with `environment`."""
    config = FunctionConfig.from_template(
        template,
        logical_id,
        environment,
        template_dir=TEMPLATE_PATH.parent,
        stack_name=STACK_NAME,
        region=stack.region,
        account_id=account_id,
    )
    return LocalFunction(config, on_invoke=on_invoke)


def create_cameras(
    session: boto3.session.Session, stack: EmulatedStack, cameras: Sequence[DemoCamera]
) -> dict[str, str]:
    """A KVS stream per camera (GetClip needs retention) and its camera-registry entry; camera -> ARN."""
    kinesisvideo = session.client("kinesisvideo")
    dynamodb = session.client("dynamodb")
    arns = {}
    for camera in cameras:
        arns[camera.camera_id] = kinesisvideo.create_stream(
            StreamName=camera.camera_id, DataRetentionInHours=KVS_RETENTION_HOURS, MediaType="video/h264"
        )["StreamARN"]
        dynamodb.put_item(
            TableName=stack.camera_table_name,
            Item={
                "camera_id": {"S": camera.camera_id},
                "display_name": {"S": camera.display_name},
                "site": {"S": camera.site},
                "floor": {"S": camera.floor},
                "zone": {"S": camera.zone},
                "timezone": {"S": camera.timezone},
            },
        )
    return arns


def _subscribe_inbox(session: boto3.session.Session, topic_arn: str) -> str:
    """An SQS queue subscribed to the alert topic (raw delivery off: SNS's JSON envelope, as in AWS)."""
    sqs = session.client("sqs")
    queue_url = sqs.create_queue(QueueName=INBOX_QUEUE_NAME)["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    session.client("sns").subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=queue_arn)
    return queue_url


@dataclass(frozen=True, slots=True)
class _PutRecord:
    put_at: float
    recorded_lag_seconds: float


def _replay(
    kinesis: KinesisClient,
    stream_name: str,
    scenario: Scenario,
    stream_arns: Mapping[str, str],
    now: float,
    output: _Output,
) -> dict[str, _PutRecord]:
    """Puts the re-stamped records in arrival order; returns sequence number -> when and how late."""
    shift = now - NEWEST_FRAME_AGE_SECONDS - scenario.newest_frame_time()
    put: dict[str, _PutRecord] = {}
    records = scenario.records
    for start in range(0, len(records), PUT_RECORDS_MAX):
        chunk = records[start : start + PUT_RECORDS_MAX]
        response = kinesis.put_records(
            StreamName=stream_name,
            Records=[
                {"Data": restamp(r.data, shift, stream_arns).encode(), "PartitionKey": r.partition_key} for r in chunk
            ],
        )
        if response.get("FailedRecordCount"):
            raise RuntimeError(f"Kinesis refused {response['FailedRecordCount']} records")
        put_at = time.time()
        for record, result in zip(chunk, response["Records"], strict=True):
            frame_time = frame_time_of(record.data)
            lag = RECORDED_AT_EPOCH_SECONDS + record.offset_seconds - frame_time if frame_time is not None else 0.0
            put[result["SequenceNumber"]] = _PutRecord(put_at=put_at, recorded_lag_seconds=lag)
        output.progress(f"  replay    {start + len(chunk)}/{len(records)} records put on {stream_name}")
    return put


def _progress(output: _Output, label: str) -> Callable[[Invocation], None]:
    totals = {"invocations": 0, "records": 0, "failed": 0}

    def report(invocation: Invocation) -> None:
        totals["invocations"] += 1
        totals["records"] += len(invocation.event.get("Records", []))
        totals["failed"] += len(invocation.batch_item_failures) + (1 if invocation.error else 0)
        output.progress(
            f"  {label:<9} {totals['invocations']} invocation(s), {totals['records']} records in, "
            f"{totals['failed']} failed"
        )

    return report


def receive_all(sqs: SQSClient, queue_url: str) -> list[dict[str, Any]]:
    """Every message visible on the queue now (bounded), deleted as it is read."""
    messages: list[dict[str, Any]] = []
    for _ in range(MAX_RECEIVES):
        batch = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            break
        messages.extend(dict(message) for message in batch)
        sqs.delete_message_batch(
            QueueUrl=queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(batch)],
        )
    return messages


def _published_emails(account_id: str, region: str, topic_arn: str) -> dict[str, tuple[str | None, str]]:
    """SNS message id -> (subject, email text): the message's "email" key (else "default"), exactly what
    SNS sends an email subscriber of a MessageStructure=json publish."""
    emails = {}
    for published in published_messages(account_id, region, topic_arn):
        structure = json.loads(published.message)
        emails[published.message_id] = (published.subject, structure.get("email") or structure["default"])
    return emails


def _alert_jobs(alerter: LocalFunction) -> dict[str, AlertJob]:
    from facewatch.domain.alert_job import AlertJob

    jobs: dict[str, AlertJob] = {}
    for invocation in alerter.invocations:
        for record in invocation.event.get("Records", []):
            try:
                job = AlertJob.model_validate_json(record["body"])
            except ValueError:
                continue  # the alerter dead-letters what is not a job
            jobs.setdefault(job.alert_id, job)
    return jobs


def _alert_reports(
    session: boto3.session.Session,
    stack: EmulatedStack,
    alerter: LocalFunction,
    inbox: list[dict[str, Any]],
    put: Mapping[str, _PutRecord],
    account_id: str,
) -> list[AlertReport]:
    from facewatch.adapters.alert_ledger import AlertLedger
    from facewatch.adapters.camera_registry import CameraRegistry
    from facewatch.domain.clip import ClipOutcome
    from facewatch.domain.document import alert_document, index_name
    from facewatch.domain.notification import AlertContext

    alert_env = stack.alert_env()
    dynamodb = session.client("dynamodb")
    s3 = session.client("s3")
    ledger = AlertLedger(stack.dedup_table_name, dynamodb=dynamodb)
    cameras = CameraRegistry(stack.camera_table_name, dynamodb=dynamodb)
    emails = _published_emails(account_id, stack.region, stack.alert_topic_arn)
    delivered = set()
    for message in inbox:
        envelope = json.loads(message["Body"])
        delivered.add(json.loads(envelope["Message"]).get("alert_id"))
    reports = []
    for job in sorted(_alert_jobs(alerter).values(), key=lambda job: job.frame_time):
        progress = ledger.load(job.alert_id)
        clip = progress.clip or ClipOutcome.missing("no clip outcome recorded")
        clip_bytes = 0
        if clip.status == "ok" and clip.bucket and clip.key:
            clip_bytes = s3.head_object(Bucket=clip.bucket, Key=clip.key)["ContentLength"]
        subject, email = emails.get(progress.sns_message_id or "", (None, None))
        notified_at = progress.notified_at or time.time()
        context = AlertContext(
            job=job, place=cameras.place_of(job.camera_id), clip=clip, link=None, notified_at=notified_at
        )
        replayed = put.get(job.kinesis_sequence_number)
        index_prefix = alert_env.get("OPENSEARCH_INDEX") or "face-alerts"
        reports.append(
            AlertReport(
                alert_id=job.alert_id,
                camera_id=job.camera_id,
                frame_time=job.frame_time,
                clip_status=clip.status,
                clip_uri=clip.s3_uri,
                clip_bytes=clip_bytes,
                sns_message_id=progress.sns_message_id,
                email_subject=subject,
                email_text=email,
                delivered_to_sqs=job.alert_id in delivered,
                document=alert_document(context),
                index_target=(
                    f"{alert_env['OPENSEARCH_ENDPOINT']}/{index_name(index_prefix, job.frame_time)}"
                    if alert_env.get("OPENSEARCH_ENDPOINT")
                    else None
                ),
                recorded_lag_seconds=replayed.recorded_lag_seconds if replayed else 0.0,
                pipeline_seconds=notified_at - replayed.put_at if replayed else 0.0,
            )
        )
    return reports


def _quarantined(session: boto3.session.Session, bucket: str) -> dict[str, str]:
    s3 = session.client("s3")
    found = {}
    for item in s3.list_objects_v2(Bucket=bucket).get("Contents", []):
        envelope = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
        found[item["Key"]] = str(envelope.get("reason"))
    return found


def _queue_depth(sqs: SQSClient, queue_url: str) -> int:
    attributes = sqs.get_queue_attributes(
        QueueUrl=queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return sum(int(value) for value in attributes.values())


def _problems(
    detector: LocalFunction,
    alerter: LocalFunction,
    kinesis_report: KinesisMappingReport,
    sqs_report: SqsMappingReport,
    alerts: Sequence[AlertReport],
    dead_letters: int,
    failure_destination: int,
) -> tuple[str, ...]:
    problems = []
    for function in (detector, alerter):
        for invocation in function.invocations:
            if invocation.error:
                problems.append(f"{function.config.logical_id} raised: {invocation.error}")
            if invocation.batch_item_failures:
                problems.append(
                    f"{function.config.logical_id} reported {len(invocation.batch_item_failures)} failed record(s)"
                )
    if not kinesis_report.drained:
        problems.append("the detector did not reach the end of the stream in time")
    if not sqs_report.drained:
        problems.append(
            f"the alert queue was not drained in time ({sqs_report.left_delayed} delayed, "
            f"{sqs_report.left_in_flight} in flight awaiting redelivery)"
        )
    if dead_letters:
        problems.append(f"{dead_letters} alert job(s) in the alert dead-letter queue")
    if failure_destination:
        problems.append(f"{failure_destination} Kinesis batch(es) given up on (detector dead-letter queue)")
    problems.extend(f"alert {a.alert_id} was not notified" for a in alerts if not a.sns_message_id)
    return tuple(problems)


def _index_problems(index_report: SqsMappingReport, dead_letters: int) -> tuple[str, ...]:
    problems = []
    if not index_report.drained:
        problems.append("the index queue was not drained in time")
    if dead_letters:
        problems.append(f"{dead_letters} document(s) in the index dead-letter queue")
    return tuple(problems)


def _write_logs(path: Path, functions: Sequence[LocalFunction]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as log:
        for function in functions:
            for invocation in function.invocations:
                log.write(f"--- {function.config.function_name} {invocation.request_id}\n{invocation.output}")


def run(
    *,
    scenario_path: Path = SCENARIO_PATH,
    region: str = DEMO_REGION,
    opensearch_endpoint: str | None = None,
    log_path: Path = DEFAULT_LOG_PATH,
    stream: TextIO | None = None,
    alerter_timeout_seconds: float = ALERTER_TIMEOUT_SECONDS,
) -> DemoSummary:
    """Runs the demo and prints it to `stream` (stdout by default); returns what it measured."""
    started = time.monotonic()
    demo_started_at = time.time()
    output = _Output(stream or sys.stdout)
    scenario = load_scenario(scenario_path)
    template = load_template(TEMPLATE_PATH)
    overrides = {"OpenSearchEndpoint": opensearch_endpoint} if opensearch_endpoint else {}
    with emulated_aws(region) as endpoint_url:
        output.line(f"facewatch demo: AWS emulated by moto at {endpoint_url} (region {region}, in this process)")
        session = boto3.session.Session(region_name=region)
        account_id = session.client("sts").get_caller_identity()["Account"]
        stack = deploy_emulated_stack(session, name_prefix=STACK_NAME, parameter_overrides=overrides)
        stream_arns = create_cameras(session, stack, DEMO_CAMERAS)
        inbox_url = _subscribe_inbox(session, stack.alert_topic_arn)
        output.line(
            f"  stack     {stack.face_search_stream_name}, {len(stream_arns)} camera video streams, "
            f"alert topic with an SQS subscriber ({INBOX_QUEUE_NAME})"
        )

        detector = local_function(
            template,
            "DetectorFunction",
            stack.detector_env(),
            stack,
            account_id,
            _progress(output, "detector"),
        )
        alerter = local_function(
            template, "AlertFunction", stack.alert_env(), stack, account_id, _progress(output, "alerter")
        )
        _ensure_code_importable(detector.config.code_root)
        kinesis = session.client("kinesis")
        sqs = session.client("sqs")
        kinesis_mapping = KinesisEventSourceMapping(
            detector,
            stack.face_search_stream_arn,
            KinesisMappingSettings.from_properties(
                event_source_properties(template, "DetectorFunction", "Kinesis", overrides)
            ),
            kinesis=kinesis,
            sqs=sqs,
            on_failure_queue_url=stack.detector_dead_letter_queue_url,
        )
        kinesis_mapping.start()  # the mapping exists before the records arrive (StartingPosition LATEST)
        put = _replay(kinesis, stack.face_search_stream_name, scenario, stream_arns, time.time(), output)
        kinesis_report = kinesis_mapping.run(timeout_seconds=DETECTOR_TIMEOUT_SECONDS)
        sqs_report = SqsEventSourceMapping(
            alerter,
            stack.alert_queue_url,
            SqsMappingSettings.from_properties(
                event_source_properties(template, "AlertFunction", "SQS", overrides, event_name="AlertJobs")
            ),
            sqs=sqs,
        ).run(timeout_seconds=alerter_timeout_seconds)
        # The alerter's second event source: the documents of the notified alerts, into OpenSearch.
        index_report = SqsEventSourceMapping(
            alerter,
            stack.index_queue_url,
            SqsMappingSettings.from_properties(
                event_source_properties(template, "AlertFunction", "SQS", overrides, event_name="IndexJobs")
            ),
            sqs=sqs,
        ).run(timeout_seconds=alerter_timeout_seconds)
        output.line()

        inbox = receive_all(sqs, inbox_url)
        alerts = _alert_reports(session, stack, alerter, inbox, put, account_id)
        quarantined = _quarantined(session, stack.quarantine_bucket_name)
        dead_letters = _queue_depth(sqs, stack.alert_dead_letter_queue_url)
        failure_destination = _queue_depth(sqs, stack.detector_dead_letter_queue_url)
        metrics = detector.metrics()
        summary = DemoSummary(
            records_put=len(scenario.records),
            records_read=kinesis_report.records_read,
            records_filtered_out=kinesis_report.records_filtered_out,
            records_processed=int(metrics.get("RecordsProcessed", 0)),
            sightings=int(metrics.get("Sightings", 0)),
            alerts_raised=int(metrics.get("AlertsRaised", 0)),
            suppressed=int(metrics.get("SuppressedByWindow", 0)),
            malformed=int(metrics.get("MalformedRecords", 0)),
            faces_dropped={
                name.removeprefix("FacesDropped_"): int(value)
                for name, value in sorted(metrics.items())
                if name.startswith("FacesDropped_") and value
            },
            quarantined=quarantined,
            alert_jobs_received=sqs_report.messages_received,
            alerts=tuple(alerts),
            alert_dead_letters=dead_letters,
            detector_failure_destination_messages=failure_destination,
            function_errors=kinesis_report.function_errors + sqs_report.function_errors + index_report.function_errors,
            failed_items=sum(len(i.batch_item_failures) for f in (detector, alerter) for i in f.invocations),
            drained=kinesis_report.drained and sqs_report.drained and index_report.drained,
            elapsed_seconds=time.monotonic() - started,
            log_path=log_path,
            problems=_problems(detector, alerter, kinesis_report, sqs_report, alerts, dead_letters, failure_destination)
            + _index_problems(index_report, _queue_depth(sqs, stack.index_dead_letter_queue_url)),
        )
        _write_logs(log_path, (detector, alerter))
        first_printed_at = _print_alerts(output, summary, stack)
        _print_summary(
            output, summary, kinesis_report, time_to_first_alert(first_printed_at, demo_started_at, _make_started_at())
        )
    return summary


def _make_started_at() -> float | None:
    try:
        return float(os.environ[MAKE_STARTED_AT_VARIABLE])
    except (KeyError, ValueError):
        return None


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%H:%M:%S")


def _print_alerts(output: _Output, summary: DemoSummary, stack: EmulatedStack) -> float | None:
    """Prints each alert; returns when the first one was printed (time.time()), None without alerts."""
    first_printed_at = None
    for number, alert in enumerate(summary.alerts, start=1):
        output.line(
            f"=== Alert {number} of {len(summary.alerts)}: {alert.camera_id}, frame at {_utc(alert.frame_time)} UTC"
        )
        first_printed_at = first_printed_at or time.time()
        if alert.email_text is not None:
            output.line("Email (SNS 'email' message; moto records the publish and sends no mail):")
            output.line(f"  Subject: {alert.email_subject}")
            for text in alert.email_text.splitlines():
                output.line(f"  | {text}" if text else "  |")
        else:
            output.line("Email: nothing was published for this alert")
        sqs_state = "delivered" if alert.delivered_to_sqs else "NOT delivered"
        output.line(f"SQS subscriber: structured alert (SNS 'sqs' message) {sqs_state} to {INBOX_QUEUE_NAME}")
        clip = f"{alert.clip_uri} ({alert.clip_bytes} bytes)" if alert.clip_uri else "none"
        output.line(f"S3 clip: {alert.clip_status}, {clip}")
        if alert.index_target:
            output.line(f"OpenSearch: indexed in {alert.index_target} as document {alert.alert_id}")
        else:
            output.line(
                "OpenSearch: not configured (set OPENSEARCH_ENDPOINT to index for real); "
                "the document it would have written:"
            )
            for name, value in alert.document.items():
                output.line(f"  {name}: {json.dumps(value)}")
        output.line()
    return first_printed_at


def time_to_first_alert(first_printed_at: float | None, demo_started_at: float, make_started_at: float | None) -> str:
    """The summary's 'first alert' line: from `make demo` (FACEWATCH_DEMO_STARTED_AT, which the Makefile sets when
    it starts, before it creates the virtualenv and installs) when known, and from this process's start."""
    if first_printed_at is None:
        return "first alert  none printed"
    in_demo = first_printed_at - demo_started_at
    if make_started_at is None or make_started_at > demo_started_at:
        return f"first alert  printed {in_demo:.1f} s after the demo started"
    setup = demo_started_at - make_started_at
    return (
        f"first alert  printed {first_printed_at - make_started_at:.1f} s after `make demo` started "
        f"(virtualenv and install {setup:.1f} s, demo {in_demo:.1f} s; target < {FIRST_ALERT_TARGET_SECONDS:.0f} s "
        "from a fresh clone)"
    )


def _print_summary(
    output: _Output, summary: DemoSummary, kinesis_report: KinesisMappingReport, first_alert: str
) -> None:
    output.line("=== Summary")
    output.line(
        f"records      {summary.records_put} put, {summary.records_read} read by the detector's event source "
        f"mapping, {summary.records_filtered_out} filtered out (frames without a face), "
        f"{summary.records_processed} processed"
    )
    dropped = ", ".join(f"{count} {reason.replace('_', ' ')}" for reason, count in summary.faces_dropped.items())
    output.line(f"faces        {summary.sightings} sightings of unknown faces; dropped: {dropped or 'none'}")
    output.line(
        f"alerts       {summary.alerts_raised} raised, {summary.suppressed} sightings suppressed by the dedup window"
    )
    output.line(f"quarantined  {len(summary.quarantined)} ({summary.malformed} malformed record(s))")
    for key, reason in summary.quarantined.items():
        output.line(f"             {key}: {reason}")
    output.line(
        f"dead letters {summary.alert_dead_letters} alert job(s), "
        f"{summary.detector_failure_destination_messages} Kinesis batch(es)"
    )
    output.line(
        "latency      frame -> notification in scenario time = the record's lag as recorded + put -> publish now"
    )
    for alert in summary.alerts:
        output.line(
            f"  {alert.alert_id[:12]}  {alert.camera_id:<20} clip {alert.clip_status:<7} "
            f"sns {'yes' if alert.sns_message_id else 'NO':<3}  {alert.latency_seconds:5.1f} s "
            f"= {alert.recorded_lag_seconds:.1f} s + {alert.pipeline_seconds:.1f} s"
        )
    output.line(
        "             (a document's alert_latency_seconds counts from the re-stamped frame time, so it also holds"
    )
    output.line("             the minutes of recording the replay puts on the stream at once)")
    output.line(f"function logs {summary.log_path}")
    output.line(first_alert)
    status = "ok" if summary.ok else "FAILED: " + "; ".join(summary.problems)
    output.line(f"done in {summary.elapsed_seconds:.1f} s: {status}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Run facewatch on an embedded AWS emulation (moto).")
    parser.add_argument("--scenario", type=Path, default=SCENARIO_PATH, help="recorded records (.jsonl)")
    parser.add_argument("--log-file", type=Path, default=DEFAULT_LOG_PATH, help="where the functions' logs go")
    args = parser.parse_args(argv)
    summary = run(
        scenario_path=args.scenario,
        opensearch_endpoint=os.environ.get("OPENSEARCH_ENDPOINT") or None,
        log_path=args.log_file,
    )
    return 0 if summary.ok else 1


if __name__ == "__main__":
    sys.exit(main())
