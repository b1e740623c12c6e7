"""What a deployed facewatch keeps and for how long, read from the resources themselves (bucket lifecycle
rules, table TTL, video stream retention, log group retention, the search index's lifecycle policy), and
what it holds that is older than a limit. `facewatch compliance verify/notice/report` build on it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from botocore.exceptions import ClientError

from facewatch.adapters.alert_ledger import ALERT_ITEM_TTL_SECONDS
from facewatch.adapters.aws import error_code
from facewatch.adapters.dedup_windows import WINDOW_ITEM_TTL_SECONDS
from facewatch.domain.index_lifecycle import index_policy_id, policy_retention_days
from facewatch.domain.privacy import Artefact
from facewatch_cli import clients, stack_outputs
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

SECONDS_PER_DAY = 86_400
# S3 lifecycle and DynamoDB TTL delete asynchronously (typically within a day or two of expiry): an
# object is reported as over age only this long after its limit.
DELETION_GRACE_DAYS = 2.0
CLIP_PREFIX = "clips/"
SNAPSHOT_PREFIX = "snapshots/"

CLIP_BUCKET = stack_outputs.StackResource("--clip-bucket", "ClipBucketName", "the clip bucket (ClipBucket)")
QUARANTINE_BUCKET = stack_outputs.StackResource(
    "--quarantine-bucket", "QuarantineBucketName", "the quarantine bucket (QuarantineBucket)"
)
DEDUP_TABLE = stack_outputs.StackResource("--dedup-table", "DedupTableName", "the alert and window table (DedupTable)")
PRIVACY_TABLE = stack_outputs.StackResource(
    "--privacy-table", "PrivacyTableName", "the site profile and legal basis table (PrivacyTable)"
)
CONTROLLER_CONTACT = stack_outputs.StackResource(
    "--controller-contact", "PrivacyControllerContact", "who is responsible and how to reach them"
)
AUDIT_BUCKET = stack_outputs.StackResource("--audit-bucket", "AuditBucketName", "the audit log bucket (AuditBucket)")
AUDIT_PREFIX = "audit/"
RESOURCES = (CLIP_BUCKET, QUARANTINE_BUCKET, DEDUP_TABLE, stack_outputs.CAMERA_TABLE, PRIVACY_TABLE, AUDIT_BUCKET)


def now() -> datetime:
    """The CLI's clock (tests move it)."""
    return datetime.now(UTC)


@dataclass
class DeployedRetention:
    """Days each artefact is kept as deployed (None: without limit); `unchecked` says what could not be
    read and why (not deployed, or no permission)."""

    days: dict[Artefact, float | None] = field(default_factory=dict)
    unchecked: dict[Artefact, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class OverAge:
    artefact: Artefact
    where: str
    count: int
    oldest: datetime | None

    @property
    def message(self) -> str:
        oldest = f", oldest {self.oldest:%Y-%m-%d}" if self.oldest else ""
        return f"{self.count} over-age item(s) in {self.where}{oldest}"


def lifecycle_days(s3: S3Client, bucket: str, prefix: str) -> float | None:
    """The expiration of the enabled rule that covers `prefix` (the shortest if several do)."""
    try:
        rules = s3.get_bucket_lifecycle_configuration(Bucket=bucket).get("Rules", [])
    except ClientError as error:
        if error_code(error) == "NoSuchLifecycleConfiguration":
            return None
        raise
    days: list[float] = []
    for rule in rules:
        rule_any: Mapping[str, Any] = rule
        if rule_any.get("Status") != "Enabled" or "Days" not in rule_any.get("Expiration", {}):
            continue
        filter_ = rule_any.get("Filter", {})
        rule_prefix = str(rule_any.get("Prefix", filter_.get("Prefix", filter_.get("And", {}).get("Prefix", ""))))
        if prefix.startswith(rule_prefix):
            days.append(float(rule_any["Expiration"]["Days"]))
    return min(days) if days else None


def read_deployed_retention(args: argparse.Namespace, outputs: stack_outputs.StackOutputs) -> DeployedRetention:
    deployed = DeployedRetention()
    s3 = clients.s3(args)
    clip_bucket = outputs.require(CLIP_BUCKET)
    deployed.days[Artefact.CLIPS] = lifecycle_days(s3, clip_bucket, CLIP_PREFIX)
    deployed.days[Artefact.SNAPSHOTS] = lifecycle_days(s3, clip_bucket, SNAPSHOT_PREFIX)
    deployed.days[Artefact.QUARANTINE] = lifecycle_days(s3, outputs.require(QUARANTINE_BUCKET), "")
    audit_bucket = outputs.optional(AUDIT_BUCKET)
    if audit_bucket:
        deployed.days[Artefact.AUDIT] = lifecycle_days(s3, audit_bucket, AUDIT_PREFIX)
    else:
        deployed.unchecked[Artefact.AUDIT] = "no audit bucket (give --audit-bucket or --stack)"

    ttl = clients.dynamodb(args).describe_time_to_live(TableName=outputs.require(DEDUP_TABLE))
    ttl_on = ttl.get("TimeToLiveDescription", {}).get("TimeToLiveStatus") in ("ENABLED", "ENABLING")
    # The functions write expires_at = the item's time + these constants (alert_ledger, dedup_windows).
    deployed.days[Artefact.ALERT_RECORDS] = ALERT_ITEM_TTL_SECONDS / SECONDS_PER_DAY if ttl_on else None
    deployed.days[Artefact.DEDUP_ITEMS] = WINDOW_ITEM_TTL_SECONDS / SECONDS_PER_DAY if ttl_on else None

    _read_video(args, outputs, deployed)
    _read_logs(args, outputs, deployed)
    _read_search_index(args, outputs, deployed)
    return deployed


def camera_sites(args: argparse.Namespace, outputs: stack_outputs.StackOutputs) -> dict[str, str]:
    """camera id -> site ("" when the camera has none) from the camera registry."""
    pages = (
        clients.dynamodb(args)
        .get_paginator("scan")
        .paginate(TableName=outputs.require(stack_outputs.CAMERA_TABLE), ProjectionExpression="camera_id, site")
    )
    cameras: dict[str, str] = {}
    for page in pages:
        for item in page.get("Items", []):
            camera = item.get("camera_id", {}).get("S")
            if camera:
                cameras[camera] = str(item.get("site", {}).get("S", ""))
    return cameras


def _read_video(args: argparse.Namespace, outputs: stack_outputs.StackOutputs, deployed: DeployedRetention) -> None:
    cameras = camera_sites(args, outputs)
    if not cameras:
        deployed.unchecked[Artefact.VIDEO] = "no camera registered"
        return
    kvs = clients.client_factory(args, "kinesisvideo")
    hours: list[float] = []
    missing: list[str] = []
    for camera in sorted(cameras):
        try:
            info = kvs.describe_stream(StreamName=camera)["StreamInfo"]
        except ClientError as error:
            if error_code(error) != "ResourceNotFoundException":
                raise
            missing.append(camera)
            continue
        hours.append(float(info.get("DataRetentionInHours", 0)))
    if hours:
        # 0 hours = the stream keeps no data; the longest camera sets what the deployment keeps.
        deployed.days[Artefact.VIDEO] = max(hours) / 24
    if missing:
        deployed.unchecked[Artefact.VIDEO] = f"no video stream for camera(s) {', '.join(missing)}"


def _read_logs(args: argparse.Namespace, outputs: stack_outputs.StackOutputs, deployed: DeployedRetention) -> None:
    if outputs.stack_name is None:
        deployed.unchecked[Artefact.LOGS] = "give --stack to read the stack's log groups"
        return
    resources = clients.cloudformation(args).describe_stack_resources(StackName=outputs.stack_name)
    groups = [
        r["PhysicalResourceId"]
        for r in resources.get("StackResources", [])
        if r.get("ResourceType") == "AWS::Logs::LogGroup" and r.get("PhysicalResourceId")
    ]
    if not groups:
        deployed.unchecked[Artefact.LOGS] = "the stack has no log group"
        return
    logs = clients.client_factory(args, "logs")
    days: list[float | None] = []
    for name in groups:
        for group in logs.describe_log_groups(logGroupNamePrefix=name).get("logGroups", []):
            if group.get("logGroupName") == name:
                retention = group.get("retentionInDays")
                days.append(float(retention) if retention else None)
    deployed.days[Artefact.LOGS] = None if None in days else max((d for d in days if d is not None), default=None)


def _read_search_index(
    args: argparse.Namespace, outputs: stack_outputs.StackOutputs, deployed: DeployedRetention
) -> None:
    from facewatch_cli import opensearch_http

    if not outputs.optional(opensearch_http.OPENSEARCH_ENDPOINT):
        deployed.unchecked[Artefact.SEARCH_INDEX] = "no search domain (give --endpoint to check one)"
        return
    domain = opensearch_http.connect(args)
    try:
        policy = domain.get(f"/_plugins/_ism/policies/{index_policy_id(args.index_prefix)}")
    except CommandError as error:
        if "HTTP 404" not in str(error):
            raise
        policy = None
    deployed.days[Artefact.SEARCH_INDEX] = policy_retention_days(policy)


def over_age(
    args: argparse.Namespace, outputs: stack_outputs.StackOutputs, limits: Mapping[Artefact, float]
) -> list[OverAge]:
    """Objects, items and documents older than their artefact's limit (plus the deletion grace)."""
    found: list[OverAge] = []
    s3 = clients.s3(args)
    clip_bucket = outputs.require(CLIP_BUCKET)
    for artefact, bucket, prefix in (
        (Artefact.CLIPS, clip_bucket, CLIP_PREFIX),
        (Artefact.SNAPSHOTS, clip_bucket, SNAPSHOT_PREFIX),
        (Artefact.QUARANTINE, outputs.require(QUARANTINE_BUCKET), ""),
    ):
        if artefact in limits:
            cutoff = now() - timedelta(days=limits[artefact] + DELETION_GRACE_DAYS)
            old = [modified for modified in _object_times(s3, bucket, prefix) if modified < cutoff]
            if old:
                found.append(OverAge(artefact, f"s3://{bucket}/{prefix}", len(old), min(old)))
    found.extend(_expired_items(args, outputs))
    if Artefact.SEARCH_INDEX in limits:
        found.extend(_old_documents(args, outputs, limits[Artefact.SEARCH_INDEX]))
    return found


def _object_times(s3: S3Client, bucket: str, prefix: str) -> Iterator[datetime]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            if "LastModified" in item:
                yield item["LastModified"]


def _expired_items(args: argparse.Namespace, outputs: stack_outputs.StackOutputs) -> list[OverAge]:
    """Alert and window items past their expires_at by more than the grace (TTL did not delete them), or
    without one (nothing would ever delete them)."""
    table = outputs.require(DEDUP_TABLE)
    cutoff = (now() - timedelta(days=DELETION_GRACE_DAYS)).timestamp()
    pages = (
        clients.dynamodb(args)
        .get_paginator("scan")
        .paginate(
            TableName=table,
            FilterExpression="attribute_not_exists(expires_at) OR expires_at < :cutoff",
            ExpressionAttributeValues={":cutoff": {"N": str(int(cutoff))}},
            ProjectionExpression="pk, expires_at",
        )
    )
    expiries: list[float | None] = []
    for page in pages:
        for item in page.get("Items", []):
            value = item.get("expires_at", {}).get("N")
            expiries.append(float(value) if value is not None else None)
    if not expiries:
        return []
    known = [e for e in expiries if e is not None]
    oldest = datetime.fromtimestamp(min(known), UTC) if known else None
    return [OverAge(Artefact.ALERT_RECORDS, f"DynamoDB table {table}", len(expiries), oldest)]


def _old_documents(args: argparse.Namespace, outputs: stack_outputs.StackOutputs, limit_days: float) -> list[OverAge]:
    from facewatch_cli import opensearch_http

    if not outputs.optional(opensearch_http.OPENSEARCH_ENDPOINT):
        return []
    cutoff = now() - timedelta(days=limit_days + DELETION_GRACE_DAYS)
    pattern = f"{args.index_prefix}-*"
    body = {"query": {"range": {"timestamp": {"lt": cutoff.isoformat()}}}}
    count = int(opensearch_http.connect(args).count(pattern, body).get("count", 0))
    return [OverAge(Artefact.SEARCH_INDEX, f"OpenSearch {pattern}", count, None)] if count else []
