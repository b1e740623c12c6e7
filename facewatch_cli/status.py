"""`facewatch status`: is every camera watched? Per camera, the face-search stream processor's state,
how long ago its data stream last received a record, and the detector's iterator age.

The age of the last record comes from CloudWatch (AWS/Kinesis IncomingRecords, per minute), one
GetMetricData call for every camera. Reading the stream cannot answer it: an iterator at LATEST returns
only records written after it was made, and one at TRIM_HORIZON reads the whole retention. CloudWatch's
answer has a minute's resolution and arrives a minute or two late, well inside a 5-minute --quiet-after.

Which processors are this stack's: those whose output data stream the detector reads (its Kinesis event
source mappings), and those whose input video stream is a registered camera. A processor's camera is
its input Kinesis video stream's name.
"""

from __future__ import annotations

import argparse
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters.aws import error_code
from facewatch.domain.cameras import CameraPlace
from facewatch_cli import clients, output, stack_outputs
from facewatch_cli.cameras import registered_cameras
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_rekognition import RekognitionClient

RUNNING = "RUNNING"
NO_PROCESSOR = "no stream processor reads this camera's video stream"
METRIC_PERIOD_SECONDS = 60
# How far back a quiet stream's last record is looked for.
LOOKBACK = timedelta(hours=3)
# GetMetricData: at most 500 queries a call.
MAX_METRIC_QUERIES = 500
_DURATION = re.compile(r"^(\d+)\s*([smh]?)$")
_UNIT_SECONDS = {"": 60, "s": 1, "m": 60, "h": 3600}


def duration(value: str) -> timedelta:
    """`90s`, `5m`, `1h`, or a bare number of minutes."""
    match = _DURATION.match(value.strip())
    if not match or int(match.group(1)) == 0:
        raise argparse.ArgumentTypeError(f"{value!r} is not a duration like 90s, 5m or 1h")
    return timedelta(seconds=int(match.group(1)) * _UNIT_SECONDS[match.group(2)])


def utcnow() -> datetime:
    return datetime.now(UTC)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    status = subparsers.add_parser(
        "status",
        help="per camera: stream processor state, last record's age, detector lag",
        description="Flags each camera whose stream processor is not RUNNING or whose data stream has gone "
        "quiet, and the detector when it lags. Exit code 3 when anything needs attention.",
    )
    status.add_argument(
        "--quiet-after",
        type=duration,
        default=timedelta(minutes=5),
        metavar="DURATION",
        help="flag a camera whose data stream received no record for this long (default 5m)",
    )
    status.add_argument(
        "--max-iterator-age",
        type=duration,
        default=timedelta(minutes=1),
        metavar="DURATION",
        help="flag the detector when its iterator age (how far it lags the stream) exceeds this (default 1m)",
    )
    status.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stack_outputs.add_arguments(status, stack_outputs.CAMERA_TABLE, stack_outputs.DETECTOR_FUNCTION)
    status.set_defaults(run=show_status)


def resource_name(arn: str) -> str:
    """`stream/NAME` (Kinesis) or `stream/NAME/CREATION` (Kinesis Video) or `function:NAME` -> NAME."""
    if ":function:" in arn:
        return arn.split(":function:", 1)[1].split(":", 1)[0]
    resource = arn.split(":", 5)[-1]
    parts = resource.split("/")
    return parts[1] if len(parts) > 1 else resource


@dataclass(frozen=True, slots=True)
class Processor:
    name: str
    status: str
    status_message: str | None
    camera_id: str
    data_stream_arn: str

    @property
    def data_stream(self) -> str:
        return resource_name(self.data_stream_arn)


@dataclass(frozen=True, slots=True)
class Detector:
    function_name: str
    # Kinesis event source mappings: stream ARN -> state ("Enabled", "Disabled", ...).
    mappings: Mapping[str, str]
    iterator_age_ms: float | None = None
    iterator_age_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CameraHealth:
    camera_id: str
    place: CameraPlace | None
    processor: Processor | None
    last_record_at: datetime | None
    problems: tuple[str, ...] = field(default=())


def describe_age(age: timedelta) -> str:
    seconds = max(0, int(age.total_seconds()))
    if seconds < 60:
        return f"{seconds} s"
    if seconds < 3600:
        return f"{seconds // 60} min"
    hours, minutes = seconds // 3600, seconds % 3600 // 60
    return f"{hours} h {minutes} min" if minutes else f"{hours} h"


def processor_problems(
    processor: Processor, last: datetime | None, detector: Detector | None, now: datetime, quiet_after: timedelta
) -> list[str]:
    problems = []
    if processor.status != RUNNING:
        message = f": {processor.status_message}" if processor.status_message else ""
        problems.append(f"processor {processor.status}{message}")
    if detector is not None:
        state = detector.mappings.get(processor.data_stream_arn)
        if state is None:
            problems.append(f"the detector does not read data stream {processor.data_stream}")
        elif state != "Enabled":
            problems.append(f"the detector's mapping of {processor.data_stream} is {state}")
    if last is None:
        problems.append(f"no record in the last {describe_age(LOOKBACK)}")
    elif now - last > quiet_after:
        problems.append(f"quiet for {describe_age(now - last)} (over {describe_age(quiet_after)})")
    return problems


def assess(
    places: Mapping[str, CameraPlace],
    processors: Sequence[Processor],
    last_records: Mapping[str, datetime | None],
    detector: Detector | None,
    now: datetime,
    quiet_after: timedelta,
) -> list[CameraHealth]:
    """Each camera (registered, or watched by one of the processors) and what is wrong with it."""
    # A camera has one processor, but while a replacement takes over (a new FaceMatchThreshold) it has
    # two for a moment: show the running one.
    by_camera: dict[str, Processor] = {}
    for candidate in sorted(processors, key=lambda p: p.status == RUNNING):
        by_camera[candidate.camera_id] = candidate
    healths = []
    for camera_id in sorted(set(places) | set(by_camera)):
        processor = by_camera.get(camera_id)
        if processor is None:
            health = CameraHealth(camera_id, places.get(camera_id), None, None, (NO_PROCESSOR,))
        else:
            last = last_records.get(processor.data_stream)
            problems = processor_problems(processor, last, detector, now, quiet_after)
            health = CameraHealth(camera_id, places.get(camera_id), processor, last, tuple(problems))
        healths.append(health)
    return healths


def detector_problem(detector: Detector | None, max_iterator_age: timedelta) -> str | None:
    if detector is None or detector.iterator_age_ms is None:
        return None
    if detector.iterator_age_ms / 1000 > max_iterator_age.total_seconds():
        return f"lagging: iterator age over {describe_age(max_iterator_age)}, alerts are late"
    return None


@clients.aws_errors
def event_source_mappings(lambda_client: LambdaClient, function: str) -> dict[str, str]:
    mappings = {}
    for page in lambda_client.get_paginator("list_event_source_mappings").paginate(FunctionName=function):
        for mapping in page.get("EventSourceMappings", []):
            arn = mapping.get("EventSourceArn", "")
            if arn.startswith("arn:") and ":kinesis:" in arn:
                mappings[arn] = mapping.get("State", "Unknown")
    return mappings


@clients.aws_errors
def face_search_processors(rekognition: RekognitionClient) -> list[Processor]:
    """Every stream processor in the account and Region that writes to a Kinesis data stream."""
    processors = []
    for page in rekognition.get_paginator("list_stream_processors").paginate():
        for listed in page.get("StreamProcessors", []):
            try:
                described = rekognition.describe_stream_processor(Name=listed["Name"])
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    continue  # deleted since it was listed
                raise
            video = described.get("Input", {}).get("KinesisVideoStream", {}).get("Arn")
            data = described.get("Output", {}).get("KinesisDataStream", {}).get("Arn")
            if video and data:
                processors.append(
                    Processor(
                        name=described["Name"],
                        status=described.get("Status", "UNKNOWN"),
                        status_message=described.get("StatusMessage") or None,
                        camera_id=resource_name(video),
                        data_stream_arn=data,
                    )
                )
    return processors


def _latest(timestamps: Sequence[datetime], values: Sequence[float]) -> tuple[datetime, float] | None:
    points = [(t, v) for t, v in zip(timestamps, values, strict=True) if v > 0]
    return max(points) if points else None


@clients.aws_errors
def metric_activity(
    cloudwatch: CloudWatchClient, streams: Iterable[str], function_name: str | None, now: datetime
) -> tuple[dict[str, datetime | None], tuple[datetime, float] | None]:
    """The start of the last minute with records, per data stream; the detector's latest iterator age."""
    queries: list[MetricDataQueryTypeDef] = []
    ids: dict[str, str] = {}
    for index, stream in enumerate(sorted(set(streams))):
        ids[f"records{index}"] = stream
        queries.append(_query(f"records{index}", "AWS/Kinesis", "IncomingRecords", "StreamName", stream, "Sum"))
    if function_name:
        queries.append(_query("iteratorage", "AWS/Lambda", "IteratorAge", "FunctionName", function_name, "Maximum"))
    last: dict[str, datetime | None] = dict.fromkeys(ids.values())
    iterator_age = None
    for start in range(0, len(queries), MAX_METRIC_QUERIES):
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries[start : start + MAX_METRIC_QUERIES],
            StartTime=now - LOOKBACK,
            EndTime=now,
            ScanBy="TimestampDescending",
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                latest = _latest(result.get("Timestamps", []), result.get("Values", []))
                if latest is None:
                    continue
                if result.get("Id") == "iteratorage":
                    iterator_age = max(iterator_age or latest, latest)
                elif (name := ids.get(result.get("Id", ""))) is not None:
                    last[name] = max(last[name] or latest[0], latest[0])
    return last, iterator_age


def _query(query_id: str, namespace: str, metric: str, dimension: str, value: str, stat: str) -> MetricDataQueryTypeDef:
    return {
        "Id": query_id,
        "MetricStat": {
            "Metric": {
                "Namespace": namespace,
                "MetricName": metric,
                "Dimensions": [{"Name": dimension, "Value": value}],
            },
            "Period": METRIC_PERIOD_SECONDS,
            "Stat": stat,
        },
        "ReturnData": True,
    }


def render_table(healths: Sequence[CameraHealth], now: datetime) -> str:
    rows = []
    for health in healths:
        place, processor = health.place, health.processor
        rows.append(
            [
                health.camera_id,
                (place.display_name or "-") if place else "(unregistered)",
                (place.site or "-") if place else "-",
                processor.name if processor else "-",
                processor.status if processor else "-",
                f"{describe_age(now - health.last_record_at)} ago" if health.last_record_at else "-",
                "; ".join(health.problems) or "OK",
            ]
        )
    return output.table(["CAMERA", "NAME", "SITE", "PROCESSOR", "STATE", "LAST RECORD", "STATUS"], rows)


def detector_line(detector: Detector | None, problem: str | None) -> str:
    if detector is None:
        return "Detector: not checked (give --detector-function or --stack)"
    if detector.iterator_age_ms is None or detector.iterator_age_at is None:
        age = "no IteratorAge datapoint in the last 3 h (no records to read?)"
    else:
        age = (
            f"iterator age {detector.iterator_age_ms / 1000:.1f} s "
            f"(max in the minute from {detector.iterator_age_at:%H:%M} UTC)"
        )
    return f"Detector {detector.function_name}: {age}" + (f" - {problem.upper()}" if problem else "")


def status_record(health: CameraHealth, now: datetime) -> dict[str, Any]:
    place, processor, last = health.place, health.processor, health.last_record_at
    return {
        "camera_id": health.camera_id,
        "registered": place is not None,
        "display_name": place.display_name if place else None,
        "site": place.site if place else None,
        "processor": processor.name if processor else None,
        "processor_status": processor.status if processor else None,
        "processor_status_message": processor.status_message if processor else None,
        "data_stream": processor.data_stream if processor else None,
        "last_record_minute": last.isoformat() if last else None,
        "last_record_age_seconds": int((now - last).total_seconds()) if last else None,
        "problems": list(health.problems),
    }


def status_report(
    healths: Sequence[CameraHealth], detector: Detector | None, lag: str | None, now: datetime, quiet_after: timedelta
) -> dict[str, Any]:
    return {
        "checked_at": now.isoformat(),
        "quiet_after_seconds": int(quiet_after.total_seconds()),
        "detector": None
        if detector is None
        else {"function_name": detector.function_name, "iterator_age_ms": detector.iterator_age_ms, "problem": lag},
        "cameras": [status_record(health, now) for health in healths],
    }


def show_status(args: argparse.Namespace) -> int:
    now = utcnow()
    outputs = stack_outputs.StackOutputs(args)
    places = {camera.camera_id: camera.place for camera in registered_cameras(args, outputs)}
    function = outputs.optional(stack_outputs.DETECTOR_FUNCTION)
    mappings = event_source_mappings(clients.lambda_(args), function) if function else {}
    processors = [
        processor
        for processor in face_search_processors(clients.rekognition(args))
        if processor.data_stream_arn in mappings or processor.camera_id in places
    ]
    if not processors and not places:
        raise CommandError("no registered camera and no stream processor feeding the detector: nothing to check")
    function_name = resource_name(function) if function else None
    streams = [processor.data_stream for processor in processors]
    last_records, iterator_age = metric_activity(clients.cloudwatch(args), streams, function_name, now)
    detector = None
    if function_name:
        at, age = iterator_age if iterator_age else (None, None)
        detector = Detector(function_name, mappings, iterator_age_ms=age, iterator_age_at=at)
    healths = assess(places, processors, last_records, detector, now, args.quiet_after)
    lag = detector_problem(detector, args.max_iterator_age)
    attention = [health for health in healths if health.problems]
    if args.json:
        output.print_json(status_report(healths, detector, lag, now, args.quiet_after))
    else:
        print(detector_line(detector, lag))
        print(render_table(healths, now))
        summary = f"{len(attention)} of {len(healths)} camera(s) need attention." if attention else None
        print(summary or f"All {len(healths)} camera(s) OK.")
    return output.EXIT_ATTENTION if attention or lag else 0
