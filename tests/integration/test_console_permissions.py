"""The console's roles, as template.yaml grants them, evaluated by moto's IAM: they append audit entries but
cannot delete, re-lock or read them, and read only the alert media of the clip bucket."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from facewatch_local.cfn import PhysicalResource, load_template
from facewatch_local.console_stack import EmulatedAudit, deploy_audit_bucket
from moto import settings as moto_settings
from moto.core.authorization import ActionAuthenticatorMixin
from tests.template.reading import resolver

from facewatch.adapters.audit_log import AuditLog
from facewatch.domain.audit import AuditEntry

ROLES = ("ConsolePagesFunctionRole", "ConsoleActionsFunctionRole")
CLIP_BUCKET = "facewatch-clips"


def _arn(name: str, kind: str) -> PhysicalResource:
    return PhysicalResource(name, {"Arn": f"arn:aws:{kind}:::{name}"})


def role_policy(role: str, audit_bucket: str) -> dict[str, Any]:
    """The role's policy document, resolved as a deployment with these buckets would resolve it."""
    resources = {
        "AuditBucket": PhysicalResource(audit_bucket, {"Arn": f"arn:aws:s3:::{audit_bucket}"}),
        "ClipBucket": PhysicalResource(CLIP_BUCKET, {"Arn": f"arn:aws:s3:::{CLIP_BUCKET}"}),
        "AlertRecordTable": _arn("alert-records", "dynamodb"),
        "ConsolePagesFunctionLogGroup": _arn("pages-logs", "logs"),
        "ConsoleActionsFunctionLogGroup": _arn("actions-logs", "logs"),
        "EmployeeCollection": PhysicalResource("facewatch-employees"),
    }
    template = load_template()
    (policy,) = template["Resources"][role]["Properties"]["Policies"]
    return resolver(template, resources=resources).resolve(policy["PolicyDocument"])  # type: ignore[no-any-return]


@pytest.fixture
def audit(aws: boto3.session.Session) -> EmulatedAudit:
    audit = deploy_audit_bucket(aws)
    aws.client("s3").create_bucket(Bucket=CLIP_BUCKET)
    for key in ("clips/lobby/2026/12/03/a1.mp4", "snapshots/lobby/2026/12/03/a1-crop.jpg", "quarantine/x.json"):
        aws.client("s3").put_object(Bucket=CLIP_BUCKET, Key=key, Body=b"x")
    return audit


@pytest.fixture(params=ROLES)
def role_s3(request: pytest.FixtureRequest, aws: boto3.session.Session, audit: EmulatedAudit) -> Iterator[Any]:
    """An S3 client with the role's credentials, IAM enforced from here on."""
    iam = aws.client("iam")
    trust = {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
    arn = iam.create_role(RoleName=request.param, AssumeRolePolicyDocument=json.dumps(trust))["Role"]["Arn"]
    iam.put_role_policy(
        RoleName=request.param,
        PolicyName="console",
        PolicyDocument=json.dumps(role_policy(request.param, audit.bucket_name)),
    )
    credentials = aws.client("sts").assume_role(RoleArn=arn, RoleSessionName="console")["Credentials"]
    previous = moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count
    moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = 0, 0
    try:
        yield boto3.client(
            "s3",
            region_name="us-east-1",
            aws_access_key_id=credentials["AccessKeyId"],
            aws_secret_access_key=credentials["SecretAccessKey"],
            aws_session_token=credentials["SessionToken"],
        )
    finally:
        moto_settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = previous


def _code(call: Any) -> str:
    with pytest.raises(ClientError) as refused:
        call()
    return str(refused.value.response["Error"]["Code"])


def test_the_console_role_appends_an_audit_entry_but_cannot_delete_it(role_s3: Any, audit: EmulatedAudit) -> None:
    # given: an entry the role wrote
    key = AuditLog(audit.bucket_name, s3=role_s3).append(
        AuditEntry(at=datetime.now(UTC), actor="alice", action="alert.view", target="alert/a1")
    )
    # when / then: neither the object nor a version of it may be deleted, or read back
    assert _code(lambda: role_s3.delete_object(Bucket=audit.bucket_name, Key=key)) in ("AccessDenied", "403")
    assert _code(lambda: role_s3.delete_object(Bucket=audit.bucket_name, Key=key, VersionId="any")) in (
        "AccessDenied",
        "403",
    )
    # (PutObjectRetention: moto's IAM maps it to s3:PutObject; tests/template/test_audit_store.py checks the grant)
    assert _code(lambda: role_s3.get_object(Bucket=audit.bucket_name, Key=key)) in ("AccessDenied", "403")


def test_the_console_role_reads_only_alert_media(role_s3: Any, audit: EmulatedAudit) -> None:
    # then
    assert role_s3.get_object(Bucket=CLIP_BUCKET, Key="clips/lobby/2026/12/03/a1.mp4")["Body"].read() == b"x"
    assert role_s3.get_object(Bucket=CLIP_BUCKET, Key="snapshots/lobby/2026/12/03/a1-crop.jpg")["Body"].read() == b"x"
    assert _code(lambda: role_s3.get_object(Bucket=CLIP_BUCKET, Key="quarantine/x.json")) in ("AccessDenied", "403")
    assert _code(lambda: role_s3.put_object(Bucket=CLIP_BUCKET, Key="clips/new.mp4", Body=b"x")) in (
        "AccessDenied",
        "403",
    )
