"""Cost model: $ per camera per month for the facewatch part, next to Rekognition and KVS for the same camera.

Unit prices are in PRICES, the one table of this file: us-east-1 list prices as published in 2025, written
down from the AWS pricing pages without network access here. They MUST be checked against the pricing
pages (aws.amazon.com/<service>/pricing) before anyone quotes a figure. Free tiers are ignored.

Measured inputs come from the other benchmarks (milliseconds per detector invocation, log bytes per
invocation, DynamoDB writes and calls per alert); deployment inputs (memory, tracing, stream mode, search
domain, retention) from template.yaml; traffic inputs are the assumptions in CameraAssumptions, printed with
the result.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from dataclasses import asdict, dataclass, replace
from typing import Any

from facewatch_local.cfn import load_template, resolve_parameters
from tests.support.records import encode_record

from benchmarks.report import Table, number, verdict
from benchmarks.workload import camera_fleet

PRICES_AS_OF = "as published in 2025, us-east-1, list prices (check them before use)"


@dataclass(frozen=True, slots=True)
class Price:
    usd: float
    unit: str


PRICES: Mapping[str, Price] = {
    "lambda_arm64_gb_second": Price(0.0000133334, "GB-second (arm64)"),
    "lambda_request": Price(0.20 / 1e6, "request"),
    "dynamodb_write_request_unit": Price(0.625 / 1e6, "write request unit (on-demand)"),
    "dynamodb_read_request_unit": Price(0.125 / 1e6, "read request unit (on-demand)"),
    "sqs_request": Price(0.40 / 1e6, "request (standard queue, 64 KB chunk)"),
    "sns_publish": Price(0.50 / 1e6, "publish (64 KB chunk)"),
    "sns_email_delivery": Price(2.00 / 1e5, "email notification"),
    "s3_standard_gb_month": Price(0.023, "GB-month (S3 Standard)"),
    "s3_put_request": Price(0.005 / 1e3, "PUT request"),
    "kinesis_on_demand_stream_hour": Price(0.04, "stream-hour (on-demand)"),
    "kinesis_on_demand_ingest_gb": Price(0.08, "GB ingested (on-demand, records rounded up to 1 KB)"),
    "kinesis_on_demand_retrieval_gb": Price(0.04, "GB retrieved (on-demand)"),
    "kinesis_shard_hour": Price(0.015, "shard-hour (provisioned)"),
    "kinesis_put_payload_unit": Price(0.014 / 1e6, "PUT payload unit (25 KB, provisioned)"),
    "cloudwatch_logs_ingest_gb": Price(0.50, "GB ingested (CloudWatch Logs, standard)"),
    "cloudwatch_custom_metric_month": Price(0.30, "custom metric-month"),
    "xray_trace_recorded": Price(5.00 / 1e6, "trace recorded"),
    "opensearch_t3_small_search_hour": Price(0.036, "instance-hour (t3.small.search)"),
    "opensearch_gp3_gb_month": Price(0.08, "GB-month (gp3, OpenSearch Service)"),
    "kms_key_month": Price(1.00, "customer managed key-month"),
    "rekognition_streaming_face_search_minute": Price(0.12, "minute of streaming video (face search)"),
    "kvs_ingest_gb": Price(0.0085, "GB ingested (Kinesis Video Streams)"),
    "kvs_consumed_gb": Price(0.0085, "GB consumed (Kinesis Video Streams)"),
    "kvs_storage_gb_month": Price(0.023, "GB-month stored (Kinesis Video Streams)"),
}

HOURS_PER_MONTH = 730  # AWS's own monthly convention
SECONDS_PER_MONTH = HOURS_PER_MONTH * 3600
# Lambda gives a function CPU in proportion to memory: one full vCPU at 1,769 MB.
FULL_VCPU_MEMORY_MB = 1769
TARGET_FACEWATCH_SHARE = 0.02


@dataclass(frozen=True, slots=True)
class CameraAssumptions:
    """Traffic of one camera and facts not measured here; printed with the result."""

    records_per_second: float = 2.0  # analysed frames the stream processor writes (the fleet scenario)
    face_record_share: float = 0.3  # frames with a face: what the record filter lets through (fleet scenario)
    alerts_per_hour: float = 1.0
    video_bitrate_mbps: float = 2.0  # a 1080p H.264 security camera
    clip_seconds: float = 19.0  # pre-roll 5 + post-roll 10 + up to one fragment (KVS fragments 2-10 s)
    email_subscribers: int = 1
    cameras_per_stack: int = 100  # shares the stack's fixed costs (search domain, key, metrics, idle polling)
    aws_call_latency_ms: float = 8.0  # one DynamoDB/SQS round trip from Lambda in-Region
    alerter_invocation_ms: float = 1500.0  # GetClip of a few MB, S3 upload, SNS, OpenSearch: network-bound
    platform_log_bytes_per_invocation: int = 400  # Lambda's START/END/REPORT lines
    alerter_log_bytes_per_alert: int = 3000
    xray_sampled_share: float = 0.05  # X-Ray's default rule: 1 request/s per account + 5 % of the rest
    sqs_idle_polls_per_month: float = 650_000  # Lambda's SQS poller on an idle queue (per stack)
    custom_metrics_per_stack: int = 22  # the EMF metric names of both functions (docs/operations.md, Metrics)


@dataclass(frozen=True, slots=True)
class Measured:
    """What the other benchmarks measured; the defaults are only used when they did not run."""

    detector_cpu_ms_per_live_invocation: float = 0.3
    detector_log_bytes_per_invocation: float = 900.0
    detector_calls_per_invocation: float = 0.05
    dynamodb_writes_per_alert: float = 14.0
    dynamodb_reads_per_alert: float = 1.5  # ledger GetItem (strongly consistent) + registry GetItem (eventual)
    record_bytes: float = 800.0  # mean over every record the stream processor writes
    record_kb_billed: float = 1.3  # mean of each record rounded up to 1 KB (Kinesis on-demand billing)


@dataclass(frozen=True, slots=True)
class Deployment:
    """What template.yaml deploys, as far as it costs money."""

    memory_mb: int
    tracing_active: bool
    stream_mode: str
    search_instance_type: str | None
    search_volume_gb: float
    clip_retention_days: float
    video_retention_hours: float

    @classmethod
    def from_template(cls) -> Deployment:
        template = load_template()
        parameters = resolve_parameters(template)
        function = template.get("Globals", {}).get("Function", {})
        streams = list(_resources_of_type(template.get("Resources", {}), "AWS::Kinesis::Stream"))
        modes = {s.get("Properties", {}).get("StreamModeDetails", {}).get("StreamMode", "PROVISIONED") for s in streams}
        domains = list(_resources_of_type(template.get("Resources", {}), "AWS::OpenSearchService::Domain"))
        domain = domains[0].get("Properties", {}) if domains else {}
        return cls(
            memory_mb=int(function.get("MemorySize", 128)),
            tracing_active=function.get("Tracing") == "Active",
            stream_mode=modes.pop() if len(modes) == 1 else "ON_DEMAND",
            search_instance_type=domain.get("ClusterConfig", {}).get("InstanceType"),
            search_volume_gb=float(domain.get("EBSOptions", {}).get("VolumeSize", 0)),
            clip_retention_days=float(parameters.get("ClipRetentionDays", 90)),
            video_retention_hours=float(parameters.get("CameraVideoRetentionHours", 24)),
        )


def _resources_of_type(node: Any, resource_type: str) -> Iterator[Mapping[str, Any]]:
    """Resources of a type anywhere in Resources, including inside Fn::ForEach blocks."""
    if isinstance(node, Mapping):
        if node.get("Type") == resource_type:
            yield node
        for value in node.values():
            yield from _resources_of_type(value, resource_type)
    elif isinstance(node, list):
        for value in node:
            yield from _resources_of_type(value, resource_type)


def typical_record_sizes() -> dict[str, float]:
    """Mean size of the records a camera of the fleet scenario writes, exact and as Kinesis on-demand bills it."""
    sizes = [len(encode_record(f.record)) for f in camera_fleet(cameras=2, minutes=5)]
    return {
        "record_bytes": sum(sizes) / len(sizes),
        "record_kb_billed": sum(math.ceil(size / 1024) for size in sizes) / len(sizes),
    }


def _usd(key: str, quantity: float) -> float:
    return PRICES[key].usd * quantity


def line_items(camera: CameraAssumptions, measured: Measured, deployment: Deployment) -> list[dict[str, Any]]:
    """Every cost of one camera for a month, each with what it is made of."""
    records = camera.records_per_second * SECONDS_PER_MONTH
    delivered_per_second = camera.records_per_second * camera.face_record_share
    # Lambda polls each camera's stream about once a second: one invocation per second with a face record.
    invocations = (1 - math.exp(-delivered_per_second)) * SECONDS_PER_MONTH
    alerts = camera.alerts_per_hour * HOURS_PER_MONTH
    cpu_share = min(1.0, deployment.memory_mb / FULL_VCPU_MEMORY_MB)
    # Billed in whole milliseconds; the few invocations that call AWS also wait for the round trips.
    detector_ms: float = math.ceil(measured.detector_cpu_ms_per_live_invocation / cpu_share)
    detector_ms += measured.detector_calls_per_invocation * camera.aws_call_latency_ms
    gb = deployment.memory_mb / 1024
    clip_gb = camera.video_bitrate_mbps * camera.clip_seconds / 8 / 1024
    video_gb_per_month = camera.video_bitrate_mbps / 8 * SECONDS_PER_MONTH / 1024
    items: list[dict[str, Any]] = []

    def add(group: str, item: str, usd: float, basis: str) -> None:
        items.append({"group": group, "item": item, "usd": usd, "basis": basis})

    add(
        "facewatch",
        "Detector Lambda",
        _usd("lambda_request", invocations) + _usd("lambda_arm64_gb_second", invocations * detector_ms / 1000 * gb),
        f"{invocations / 1e6:.2f} M invocations x {detector_ms:.2f} ms billed x {deployment.memory_mb} MB",
    )
    add(
        "facewatch",
        "Alert Lambda",
        _usd("lambda_request", alerts)
        + _usd("lambda_arm64_gb_second", alerts * camera.alerter_invocation_ms / 1000 * gb),
        f"{alerts:.0f} alerts x {camera.alerter_invocation_ms:.0f} ms",
    )
    if deployment.stream_mode == "ON_DEMAND":
        ingest_gb = records * measured.record_kb_billed / 1024 / 1024
        retrieved_gb = records * measured.record_bytes / 1024**3
        kinesis = (
            _usd("kinesis_on_demand_stream_hour", HOURS_PER_MONTH)
            + _usd("kinesis_on_demand_ingest_gb", ingest_gb)
            + _usd("kinesis_on_demand_retrieval_gb", retrieved_gb)
        )
        basis = f"on-demand stream per camera: {HOURS_PER_MONTH} h + {ingest_gb:.1f} GB in + {retrieved_gb:.1f} GB out"
    else:
        kinesis = _usd("kinesis_shard_hour", HOURS_PER_MONTH) + _usd("kinesis_put_payload_unit", records)
        basis = f"1 provisioned shard per camera + {records / 1e6:.1f} M PUT payload units"
    add("facewatch", "Kinesis data stream", kinesis, basis)
    add(
        "facewatch",
        "DynamoDB",
        _usd("dynamodb_write_request_unit", alerts * measured.dynamodb_writes_per_alert)
        + _usd("dynamodb_read_request_unit", alerts * measured.dynamodb_reads_per_alert),
        f"{measured.dynamodb_writes_per_alert:.1f} writes + {measured.dynamodb_reads_per_alert} reads per alert",
    )
    add("facewatch", "SQS", _usd("sqs_request", alerts * 3), "send + receive + delete per alert job")
    add(
        "facewatch",
        "SNS",
        _usd("sns_publish", alerts) + _usd("sns_email_delivery", alerts * camera.email_subscribers),
        f"1 publish + {camera.email_subscribers} email per alert",
    )
    add(
        "facewatch",
        "S3 clips",
        _usd("s3_standard_gb_month", alerts * clip_gb * deployment.clip_retention_days / 30)
        + _usd("s3_put_request", alerts),
        f"{clip_gb * 1024:.1f} MB per clip kept {deployment.clip_retention_days:.0f} days",
    )
    log_gb = (
        invocations * (measured.detector_log_bytes_per_invocation + camera.platform_log_bytes_per_invocation)
        + alerts * camera.alerter_log_bytes_per_alert
    ) / 1024**3
    add("facewatch", "CloudWatch Logs", _usd("cloudwatch_logs_ingest_gb", log_gb), f"{log_gb:.2f} GB (EMF + platform)")
    if deployment.tracing_active:
        traces = (invocations + alerts) * camera.xray_sampled_share
        add(
            "facewatch",
            "X-Ray (Tracing: Active)",
            _usd("xray_trace_recorded", traces),
            f"{traces / 1e3:.0f} k traces ({camera.xray_sampled_share:.0%} sampled)",
        )
    shared = _usd("kms_key_month", 1) + _usd("sqs_request", camera.sqs_idle_polls_per_month)
    shared += _usd("cloudwatch_custom_metric_month", camera.custom_metrics_per_stack)
    shared_basis = "KMS key, idle SQS polling, custom metrics"
    if deployment.search_instance_type:
        price = f"opensearch_{deployment.search_instance_type.replace('.', '_')}_hour"
        if price not in PRICES:
            raise KeyError(f"no price for OpenSearch instance type {deployment.search_instance_type}: add it to PRICES")
        shared += _usd(price, HOURS_PER_MONTH) + _usd("opensearch_gp3_gb_month", deployment.search_volume_gb)
        shared_basis = f"{deployment.search_instance_type} search domain, " + shared_basis
    add(
        "facewatch",
        "Stack fixed costs, per camera",
        shared / camera.cameras_per_stack,
        f"{shared_basis} / {camera.cameras_per_stack}",
    )
    add(
        "rekognition",
        "Rekognition streaming face search",
        _usd("rekognition_streaming_face_search_minute", SECONDS_PER_MONTH / 60),
        f"{SECONDS_PER_MONTH / 60:,.0f} minutes of video",
    )
    stored_gb = camera.video_bitrate_mbps / 8 * deployment.video_retention_hours * 3600 / 1024
    add(
        "kvs",
        "Kinesis Video Streams",
        _usd("kvs_ingest_gb", video_gb_per_month)
        + _usd("kvs_consumed_gb", video_gb_per_month)
        + _usd("kvs_storage_gb_month", stored_gb),
        f"{video_gb_per_month:.0f} GB in, the same read by Rekognition, {stored_gb:.0f} GB kept "
        f"({deployment.video_retention_hours:.0f} h)",
    )
    return items


def totals(items: list[dict[str, Any]]) -> dict[str, float]:
    facewatch = sum(i["usd"] for i in items if i["group"] == "facewatch")
    total = sum(i["usd"] for i in items)
    return {"facewatch_usd": facewatch, "total_usd": total, "facewatch_share": facewatch / total}


def run(measured: Measured | None = None, camera: CameraAssumptions | None = None) -> dict[str, Any]:
    deployment = Deployment.from_template()
    measured = measured or Measured(**typical_record_sizes())
    camera = camera or CameraAssumptions()
    items = line_items(camera, measured, deployment)
    sensitivity = {
        "10_alerts_per_hour": totals(line_items(replace(camera, alerts_per_hour=10), measured, deployment)),
        "provisioned_streams": totals(line_items(camera, measured, replace(deployment, stream_mode="PROVISIONED"))),
        "10_cameras_per_stack": totals(line_items(replace(camera, cameras_per_stack=10), measured, deployment)),
    }
    return {
        "prices_as_of": PRICES_AS_OF,
        "prices": {key: asdict(price) for key, price in PRICES.items()},
        "camera": asdict(camera),
        "measured": asdict(measured),
        "deployment": asdict(deployment),
        "items": [{**i, "usd": round(i["usd"], 4)} for i in items],
        "totals": {k: round(v, 5) for k, v in totals(items).items()},
        "sensitivity": {name: {k: round(v, 5) for k, v in t.items()} for name, t in sensitivity.items()},
    }


def tables(result: Mapping[str, Any]) -> list[Table]:
    camera = result["camera"]
    table = Table(
        f"Cost per camera per month (USD; prices {result['prices_as_of']})",
        ["part", "item", "$/camera/month", "basis"],
    )
    for item in result["items"]:
        table.add(item["group"], item["item"], number(item["usd"], 2), item["basis"])
    t = result["totals"]
    table.add("", "**facewatch total**", number(t["facewatch_usd"], 2), f"{t['facewatch_share']:.2%} of the total")
    table.add("", "**total per camera**", number(t["total_usd"], 2), "")
    s = result["sensitivity"]
    provisioned = s["provisioned_streams"]
    table.notes += [
        f"Traffic: {camera['records_per_second']:g} records/s, {camera['face_record_share']:.0%} with a face, "
        f"{camera['alerts_per_hour']:g} alert/hour, {camera['video_bitrate_mbps']:g} Mbit/s video, "
        f"{camera['cameras_per_stack']} cameras per stack; measured: detector "
        f"{result['measured']['detector_cpu_ms_per_live_invocation']:.2f} ms CPU per live invocation here (scaled "
        f"to Lambda's CPU share at {result['deployment']['memory_mb']} MB), "
        f"{result['measured']['dynamodb_writes_per_alert']:.1f} DynamoDB writes per alert.",
        f"facewatch share {t['facewatch_share']:.2%}: target < {TARGET_FACEWATCH_SHARE:.0%} "
        + verdict(t["facewatch_share"] < TARGET_FACEWATCH_SHARE)
        + f". At 10 alerts/hour {s['10_alerts_per_hour']['facewatch_share']:.2%}; with provisioned 1-shard streams "
        f"{provisioned['facewatch_share']:.2%} (facewatch ${provisioned['facewatch_usd']:.2f}); "
        f"with 10 cameras per stack {s['10_cameras_per_stack']['facewatch_share']:.2%}.",
    ]
    return [table]
