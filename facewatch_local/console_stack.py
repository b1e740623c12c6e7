"""The console's resources, emulated from template.yaml next to the pipeline's (facewatch_local.stack):
the audit bucket (versioning, Object Lock default retention, bucket policy).

Separate from facewatch_local.stack so the console can be emulated without changing what the pipeline's
emulation creates.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3

from facewatch_local.cfn import PhysicalResource, Resolver, load_template, prop, resolve_parameters, resource

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


@dataclass(frozen=True, slots=True)
class EmulatedAudit:
    bucket_name: str
    retention_days: int
    lock_mode: str


def _resolver(
    session: boto3.session.Session, name_prefix: str, overrides: Mapping[str, str] | None
) -> tuple[dict[str, Any], Resolver]:
    template = load_template(parameter_overrides=overrides)
    account_id = session.client("sts").get_caller_identity()["Account"]
    return template, Resolver(
        template,
        resolve_parameters(template, overrides),
        pseudo_parameters={
            "AWS::Region": session.region_name or "us-east-1",
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": name_prefix,
            "AWS::URLSuffix": "amazonaws.com",
        },
    )


def deploy_audit_bucket(
    session: boto3.session.Session,
    *,
    name_prefix: str = "facewatch",
    parameter_overrides: Mapping[str, str] | None = None,
) -> EmulatedAudit:
    """AuditBucket and AuditBucketPolicy as the template defines them."""
    template, resolver = _resolver(session, name_prefix, parameter_overrides)
    s3: S3Client = session.client("s3")
    name = f"{name_prefix}-audit"
    definition = resource(template, "AuditBucket", "AWS::S3::Bucket")
    lock = resolver.resolve(prop(definition, "AuditBucket", "ObjectLockConfiguration"))
    retention = lock["Rule"]["DefaultRetention"]
    region = session.region_name or "us-east-1"
    extra: dict[str, Any] = (
        {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
    )
    # Object Lock can only be switched on when the bucket is created; it turns versioning on with it.
    s3.create_bucket(Bucket=name, ObjectLockEnabledForBucket=True, **extra)
    s3.put_bucket_versioning(
        Bucket=name,
        VersioningConfiguration={"Status": prop(definition, "AuditBucket", "VersioningConfiguration")["Status"]},
    )
    s3.put_object_lock_configuration(
        Bucket=name,
        ObjectLockConfiguration={
            "ObjectLockEnabled": lock["ObjectLockEnabled"],
            "Rule": {"DefaultRetention": {"Mode": retention["Mode"], "Days": int(retention["Days"])}},
        },
    )
    resolver.resources["AuditBucket"] = PhysicalResource(ref=name, attributes={"Arn": f"arn:aws:s3:::{name}"})
    policy = resolver.resolve(
        prop(resource(template, "AuditBucketPolicy", "AWS::S3::BucketPolicy"), "AuditBucketPolicy", "PolicyDocument")
    )
    # moto evaluates a bucket policy's Deny statements without the request's condition keys (secure
    # transport, If-None-Match), so a conditional Deny would refuse every request: only the unconditional
    # statements are emulated. The overwrite the conditional one guards against is refused by the
    # conditional write itself, which moto enforces (tests/integration/test_audit_log.py).
    policy["Statement"] = [statement for statement in policy["Statement"] if "Condition" not in statement]
    s3.put_bucket_policy(Bucket=name, Policy=json.dumps(policy))
    return EmulatedAudit(bucket_name=name, retention_days=int(retention["Days"]), lock_mode=str(retention["Mode"]))
