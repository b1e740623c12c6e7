"""The audit store is append-only: Object Lock on every version, and a bucket policy that denies every
principal deleting, re-locking or overwriting an entry."""

from __future__ import annotations

from typing import Any

from tests.template.reading import properties
from tests.template.test_data_protection import bucket_policy

DESTRUCTIVE_ACTIONS = {
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
    "s3:PutObjectRetention",
    "s3:PutObjectLegalHold",
    "s3:BypassGovernanceRetention",
}


def test_every_version_is_locked_for_the_retention_parameter(template: dict[str, Any]) -> None:
    # when
    bucket = properties(template, "AuditBucket")
    # then
    assert bucket["ObjectLockEnabled"] is True
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    assert bucket["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": {"Ref": "AuditLockMode"}, "Days": {"Ref": "AuditRetentionDays"}}},
    }
    assert template["Parameters"]["AuditLockMode"]["Default"] == "COMPLIANCE"


def test_entries_expire_once_their_retention_has_run_out(template: dict[str, Any]) -> None:
    # when
    rules = properties(template, "AuditBucket")["LifecycleConfiguration"]["Rules"]
    # then
    (expiry,) = (rule for rule in rules if "ExpirationInDays" in rule)
    assert expiry["ExpirationInDays"] == {"Ref": "AuditRetentionDays"}
    assert expiry["NoncurrentVersionExpiration"] == {"NoncurrentDays": 1}


def test_the_bucket_is_kept_when_the_stack_is_deleted(template: dict[str, Any]) -> None:
    bucket = template["Resources"]["AuditBucket"]
    assert bucket["DeletionPolicy"] == bucket["UpdateReplacePolicy"] == "Retain"


def test_no_principal_may_delete_or_unlock_an_entry(template: dict[str, Any]) -> None:
    # when
    statements = bucket_policy(template, "AuditBucket")["Statement"]
    # then
    denied = {
        action
        for statement in statements
        if statement["Effect"] == "Deny" and statement["Principal"] == "*" and "Condition" not in statement
        if statement["Resource"] == {"Fn::Sub": "${AuditBucket.Arn}/*"}
        for action in statement["Action"]
    }
    assert denied >= DESTRUCTIVE_ACTIONS


def test_only_a_conditional_write_may_create_an_entry(template: dict[str, Any]) -> None:
    # when
    statements = bucket_policy(template, "AuditBucket")["Statement"]
    # then
    (overwrite,) = (s for s in statements if s.get("Sid") == "DenyOverwritingEntries")
    assert overwrite["Effect"] == "Deny"
    assert overwrite["Principal"] == "*"
    assert overwrite["Action"] == "s3:PutObject"
    assert overwrite["Condition"] == {"Null": {"s3:if-none-match": "true"}}


def test_the_console_roles_may_only_put_objects_under_audit(template: dict[str, Any]) -> None:
    # given
    grants = [
        statement
        for role in ("ConsolePagesFunctionRole", "ConsoleActionsFunctionRole")
        for statement in properties(template, role)["Policies"][0]["PolicyDocument"]["Statement"]
        if "AuditBucket" in str(statement.get("Resource"))
    ]
    # then: one grant each, PutObject under audit/ (no delete, retention, legal hold, bypass or read)
    assert (
        grants
        == [
            {
                "Sid": "AppendAudit",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": {"Fn::Sub": "${AuditBucket.Arn}/audit/*"},
            }
        ]
        * 2
    )
