"""The audit log on moto: entries land one object each, read back by time range, and cannot be replaced
or deleted while their Object Lock retention runs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from facewatch_local.console_stack import EmulatedAudit, deploy_audit_bucket

from facewatch.adapters.audit_log import AuditLog, AuditWriteError
from facewatch.domain.audit import AuditAction, AuditEntry, audit_key

T0 = datetime(2026, 12, 3, 18, 0, tzinfo=UTC)


@pytest.fixture
def audit(aws: boto3.session.Session) -> EmulatedAudit:
    return deploy_audit_bucket(aws)


def entry(minutes: float, action: str = AuditAction.VIEW_ALERT, target: str = "alert/a1") -> AuditEntry:
    return AuditEntry(
        at=T0 + timedelta(minutes=minutes), actor="alice", action=action, target=target, source_ip="203.0.113.7"
    )


def test_an_entry_is_stored_under_a_key_that_sorts_by_time(aws: boto3.session.Session, audit: EmulatedAudit) -> None:
    # given
    s3 = aws.client("s3")
    log = AuditLog(audit.bucket_name, s3=s3)
    # when
    key = log.append(entry(0))
    # then
    assert key.startswith("audit/2026/12/03/2026-12-03T18:00:00.000000Z-")
    stored = AuditEntry.model_validate_json(s3.get_object(Bucket=audit.bucket_name, Key=key)["Body"].read())
    assert (stored.actor, stored.action, stored.target, stored.source_ip) == (
        "alice",
        "alert.view",
        "alert/a1",
        "203.0.113.7",
    )


def test_an_entry_is_locked_for_the_retention_the_template_sets(
    aws: boto3.session.Session, audit: EmulatedAudit
) -> None:
    # given
    s3 = aws.client("s3")
    key = AuditLog(audit.bucket_name, s3=s3).append(entry(0))
    # when (HeadObject: moto answers GetObjectRetention with an internal error)
    head = s3.head_object(Bucket=audit.bucket_name, Key=key)
    # then
    assert head["ObjectLockMode"] == audit.lock_mode == "COMPLIANCE"
    locked_for = head["ObjectLockRetainUntilDate"] - datetime.now(UTC)
    assert timedelta(days=audit.retention_days - 1) < locked_for <= timedelta(days=audit.retention_days)


def test_a_read_returns_the_entries_of_the_range_oldest_first_across_days(
    aws: boto3.session.Session, audit: EmulatedAudit
) -> None:
    # given: entries on two days, appended out of order
    log = AuditLog(audit.bucket_name, s3=aws.client("s3"))
    for minutes in (30, -10, 10, 24 * 60 + 5, 0):
        log.append(entry(minutes, target=f"alert/{minutes}"))
    # when
    read = list(log.read(T0, T0 + timedelta(days=1, minutes=5)))
    # then: the end is exclusive, the start inclusive
    assert [e.target for e in read] == ["alert/0", "alert/10", "alert/30"]
    assert [e.target for e in log.read(T0 + timedelta(minutes=20))] == ["alert/30", f"alert/{24 * 60 + 5}"]


def test_an_entry_is_never_replaced(aws: boto3.session.Session, audit: EmulatedAudit) -> None:
    # given
    s3 = aws.client("s3")
    log = AuditLog(audit.bucket_name, s3=s3)
    first = entry(0)
    log.append(first)
    # when: the same entry (same key) again
    with pytest.raises(AuditWriteError, match="PreconditionFailed"):
        log.append(first)
    # then
    versions = s3.list_object_versions(Bucket=audit.bucket_name, Prefix=audit_key(first))["Versions"]
    assert len(versions) == 1


def test_the_bucket_policy_refuses_deleting_an_entry_to_every_principal(
    aws: boto3.session.Session, audit: EmulatedAudit
) -> None:
    # given
    s3 = aws.client("s3")
    key = AuditLog(audit.bucket_name, s3=s3).append(entry(0))
    version = s3.head_object(Bucket=audit.bucket_name, Key=key)["VersionId"]
    # when: the bucket owner asks (moto answers a bucket-policy denial with a bare 403)
    deletes: tuple[dict[str, Any], ...] = ({}, {"VersionId": version})
    for versioned in deletes:
        with pytest.raises(ClientError) as refused:
            s3.delete_object(Bucket=audit.bucket_name, Key=key, **versioned)
        # then
        assert refused.value.response["Error"]["Code"] in ("403", "AccessDenied")
    assert s3.get_object(Bucket=audit.bucket_name, Key=key, VersionId=version)["ContentLength"] > 0


def test_without_the_policy_the_object_lock_still_refuses_deleting_an_entry(
    aws: boto3.session.Session, audit: EmulatedAudit
) -> None:
    # given: someone removed the bucket policy
    s3 = aws.client("s3")
    key = AuditLog(audit.bucket_name, s3=s3).append(entry(0))
    version = s3.head_object(Bucket=audit.bucket_name, Key=key)["VersionId"]
    s3.delete_bucket_policy(Bucket=audit.bucket_name)
    # when
    with pytest.raises(ClientError) as refused:
        s3.delete_object(Bucket=audit.bucket_name, Key=key, VersionId=version)
    # then
    assert refused.value.response["Error"]["Code"] == "AccessDenied"
    assert s3.get_object(Bucket=audit.bucket_name, Key=key, VersionId=version)["ContentLength"] > 0


def test_a_failed_write_is_reported_not_swallowed(aws: boto3.session.Session) -> None:
    # given: a bucket that does not exist
    log = AuditLog("no-such-audit-bucket", s3=aws.client("s3"))
    # then
    with pytest.raises(AuditWriteError, match="NoSuchBucket"):
        log.append(entry(0))
