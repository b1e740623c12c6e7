"""`facewatch status`: is every camera watched? Per stream-mode camera, the face-search stream processor's
state, how long ago its data stream last received a record, and the detector's iterator age. Per
image-mode camera (no processor), its sampler's heartbeat: when it last reported, whether the camera is
online, its share of the Rekognition budget used, frames it could not afford, and its last record.

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
from facewatch_cli import clients, compliance, output, retention, stack_outputs
from facewatch_cli.cameras import registered_cameras
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import MetricDataQueryTypeDef
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_rekognition import RekognitionClient

RUNNING = "RUNNING"
NO_PROCESSOR = "no stream processor reads this camera's video stream, and no sampler reports for it"
DEFAULT_SAMPLER_NAMESPACE = "Facewatch/Sampler"
# The sampler's per-camera metrics (facewatch_sampler/metrics.py: names are a contract, never renamed).
HEARTBEAT = "CameraOnline"
SAMPLER_METRICS = {
    HEARTBEAT: "Maximum",
    "RecordsWritten": "Sum",
    "RekognitionBudgetUse": "Maximum",
    "FramesOverBudget": "Sum",
    "FramesDropped": "Sum",
}
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
        "quiet, each image-mode camera whose sampler reports it offline, has stopped reporting or skipped frames "
        "over its Rekognition budget, and the detector when it lags. Exit code 3 when anything needs attention.",
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
    status.add_argument(
        stack_outputs.DETECTION_MODE.flag,
        dest=stack_outputs.DETECTION_MODE.dest,
        choices=("image", "stream"),
        help="image: every camera is checked by its sampler's heartbeat, no stream processor is looked for "
        "(default: --stack's DetectionMode; without it, a camera without a processor is checked by its heartbeat)",
    )
    stack_outputs.add_arguments(
        status,
        stack_outputs.CAMERA_TABLE,
        stack_outputs.DETECTOR_FUNCTION,
        stack_outputs.SAMPLER_METRICS_NAMESPACE,
        retention.PRIVACY_TABLE,
    )
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
class SamplerHeartbeat:
    """An image-mode camera's sampler as its metrics tell it (None: no datapoint in the window)."""

    last_heartbeat_at: datetime | None = None
    online: bool | None = None
    last_record_at: datetime | None = None
    budget_use_percent: float | None = None  # the highest in the last quiet-after window
    frames_over_budget: int = 0  # in the last quiet-after window
    frames_dropped: int = 0


@dataclass(frozen=True, slots=True)
class CameraHealth:
    camera_id: str
    place: CameraPlace | None
    processor: Processor | None
    last_record_at: datetime | None
    problems: tuple[str, ...] = field(default=())
    sampler: SamplerHeartbeat | None = None


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


def sampler_problems(heartbeat: SamplerHeartbeat, now: datetime, quiet_after: timedelta) -> list[str]:
    last = heartbeat.last_heartbeat_at
    if last is None:
        return [f"no sampler heartbeat in the last {describe_age(LOOKBACK)} (is its sampler running?)"]
    problems = []
    if now - last > quiet_after:
        problems.append(f"sampler silent for {describe_age(now - last)} (over {describe_age(quiet_after)})")
    elif heartbeat.online is False:
        problems.append("camera offline: its sampler cannot read it")
    if heartbeat.frames_over_budget:
        problems.append(
            f"{heartbeat.frames_over_budget} frame(s) with a face skipped over the Rekognition budget "
            f"in the last {describe_age(quiet_after)}"
        )
    return problems


def assess(
    places: Mapping[str, CameraPlace],
    processors: Sequence[Processor],
    last_records: Mapping[str, datetime | None],
    detector: Detector | None,
    now: datetime,
    quiet_after: timedelta,
    heartbeats: Mapping[str, SamplerHeartbeat] | None = None,
    *,
    image_mode: bool = False,
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
        heartbeat = (heartbeats or {}).get(camera_id)
        if processor is None and heartbeat is not None and (heartbeat.last_heartbeat_at or image_mode):
            problems = sampler_problems(heartbeat, now, quiet_after)
            health = CameraHealth(
                camera_id, places.get(camera_id), None, heartbeat.last_record_at, tuple(problems), heartbeat
            )
        elif processor is None:
            health = CameraHealth(camera_id, places.get(camera_id), None, None, (NO_PROCESSOR,), heartbeat)
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
    if not queries:
        return last, None
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


@clients.aws_errors
def sampler_activity(
    cloudwatch: CloudWatchClient, camera_ids: Iterable[str], namespace: str, now: datetime, window: timedelta
) -> dict[str, SamplerHeartbeat]:
    """Each camera's sampler heartbeat over LOOKBACK, with budget use and skipped frames over `window`."""
    queries: list[MetricDataQueryTypeDef] = []
    ids: dict[str, tuple[str, str]] = {}
    cameras = sorted(set(camera_ids))
    for index, camera_id in enumerate(cameras):
        for number, (metric, stat) in enumerate(SAMPLER_METRICS.items()):
            query_id = f"s{index}m{number}"
            ids[query_id] = (camera_id, metric)
            queries.append(_query(query_id, namespace, metric, "CameraId", camera_id, stat))
    series: dict[tuple[str, str], list[tuple[datetime, float]]] = {}
    for start in range(0, len(queries), MAX_METRIC_QUERIES):
        pages = cloudwatch.get_paginator("get_metric_data").paginate(
            MetricDataQueries=queries[start : start + MAX_METRIC_QUERIES],
            StartTime=now - LOOKBACK,
            EndTime=now,
            ScanBy="TimestampDescending",
        )
        for page in pages:
            for result in page.get("MetricDataResults", []):
                key = ids.get(result.get("Id", ""))
                if key is not None:
                    points = zip(result.get("Timestamps", []), result.get("Values", []), strict=True)
                    series.setdefault(key, []).extend(points)
    return {camera_id: _heartbeat(camera_id, series, now - window) for camera_id in cameras}


def _heartbeat(
    camera_id: str, series: Mapping[tuple[str, str], list[tuple[datetime, float]]], since: datetime
) -> SamplerHeartbeat:
    def points(metric: str) -> list[tuple[datetime, float]]:
        return sorted(series.get((camera_id, metric), []))

    beats = points(HEARTBEAT)
    written = _latest([t for t, _ in points("RecordsWritten")], [v for _, v in points("RecordsWritten")])
    recent_use = [value for at, value in points("RekognitionBudgetUse") if at >= since]
    return SamplerHeartbeat(
        last_heartbeat_at=beats[-1][0] if beats else None,
        online=beats[-1][1] >= 1 if beats else None,
        last_record_at=written[0] if written else None,
        budget_use_percent=max(recent_use) if recent_use else None,
        frames_over_budget=int(sum(value for at, value in points("FramesOverBudget") if at >= since)),
        frames_dropped=int(sum(value for at, value in points("FramesDropped") if at >= since)),
    )


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
        source, state = (processor.name, processor.status) if processor else _sampler_cells(health.sampler)
        rows.append(
            [
                health.camera_id,
                (place.display_name or "-") if place else "(unregistered)",
                (place.site or "-") if place else "-",
                source,
                state,
                f"{describe_age(now - health.last_record_at)} ago" if health.last_record_at else "-",
                "; ".join(health.problems) or "OK",
            ]
        )
    return output.table(["CAMERA", "NAME", "SITE", "PROCESSOR", "STATE", "LAST RECORD", "STATUS"], rows)


def _sampler_cells(heartbeat: SamplerHeartbeat | None) -> tuple[str, str]:
    """PROCESSOR and STATE of an image-mode camera: its sampler, online or not, and its budget use."""
    if heartbeat is None or heartbeat.last_heartbeat_at is None:
        return "-", "-"
    state = "ONLINE" if heartbeat.online else "OFFLINE"
    if heartbeat.budget_use_percent is not None:
        state += f", budget {heartbeat.budget_use_percent:.0f}%"
    return "sampler", state


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
        "mode": "stream" if processor else ("image" if health.sampler else None),
        "sampler": _sampler_record(health.sampler, now),
        "problems": list(health.problems),
    }


def _sampler_record(heartbeat: SamplerHeartbeat | None, now: datetime) -> dict[str, Any] | None:
    if heartbeat is None:
        return None
    last = heartbeat.last_heartbeat_at
    return {
        "online": heartbeat.online,
        "last_heartbeat_minute": last.isoformat() if last else None,
        "last_heartbeat_age_seconds": int((now - last).total_seconds()) if last else None,
        "rekognition_budget_use_percent": heartbeat.budget_use_percent,
        "frames_over_budget": heartbeat.frames_over_budget,
        "frames_dropped": heartbeat.frames_dropped,
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
    # Image mode: no stream processors to look for (an account without Rekognition streaming cannot list them).
    image_mode = outputs.optional(stack_outputs.DETECTION_MODE) == "image"
    processors = [
        processor
        for processor in ([] if image_mode else face_search_processors(clients.rekognition(args)))
        if processor.data_stream_arn in mappings or processor.camera_id in places
    ]
    if not processors and not places:
        raise CommandError("no registered camera and no stream processor feeding the detector: nothing to check")
    function_name = resource_name(function) if function else None
    streams = [processor.data_stream for processor in processors]
    cloudwatch = clients.cloudwatch(args)
    last_records, iterator_age = metric_activity(cloudwatch, streams, function_name, now)
    # A camera no processor watches is an image-mode camera: its sampler's heartbeat says how it is.
    unwatched = set(places) - {processor.camera_id for processor in processors}
    namespace = outputs.optional(stack_outputs.SAMPLER_METRICS_NAMESPACE) or DEFAULT_SAMPLER_NAMESPACE
    heartbeats = sampler_activity(cloudwatch, unwatched, namespace, now, args.quiet_after) if unwatched else {}
    detector = None
    if function_name:
        at, age = iterator_age if iterator_age else (None, None)
        detector = Detector(function_name, mappings, iterator_age_ms=age, iterator_age_at=at)
    healths = assess(
        places, processors, last_records, detector, now, args.quiet_after, heartbeats, image_mode=image_mode
    )
    lag = detector_problem(detector, args.max_iterator_age)
    attention = [health for health in healths if health.problems]
    # Sites whose privacy profile limits matching: their cameras run, and raise fewer alerts or none, by design.
    restricted = compliance.restricted_site_lines(args, {camera: place.site for camera, place in places.items()})
    if args.json:
        output.print_json({**status_report(healths, detector, lag, now, args.quiet_after), "privacy": restricted})
    else:
        print(detector_line(detector, lag))
        print(render_table(healths, now))
        summary = f"{len(attention)} of {len(healths)} camera(s) need attention." if attention else None
        print(summary or f"All {len(healths)} camera(s) OK.")
        for line in restricted:
            print(line)
    return output.EXIT_ATTENTION if attention or lag else 0
