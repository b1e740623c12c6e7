"""`facewatch audit export`: the entries of a range for the compliance team, the export itself audited."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest
from facewatch_local.console_stack import EmulatedAudit, deploy_audit_bucket
from tests.cli.support import AwsClients, Cli

from facewatch.adapters.audit_log import AuditLog
from facewatch.domain.audit import AuditAction, AuditEntry


@pytest.fixture
def audit(aws: boto3.session.Session, aws_clients: AwsClients) -> EmulatedAudit:
    return deploy_audit_bucket(aws)


def _seed(aws: boto3.session.Session, bucket: str, *hours_ago: float) -> None:
    log = AuditLog(bucket, s3=aws.client("s3"))
    now = datetime.now(UTC)
    for hours in hours_ago:
        log.append(
            AuditEntry(
                at=now - timedelta(hours=hours),
                actor="alice",
                action=AuditAction.VIEW_ALERT,
                target=f"alert/{hours:g}h",
                source_ip="198.51.100.7",
            )
        )


def test_export_prints_the_range_as_json_lines_and_audits_itself(
    aws: boto3.session.Session, audit: EmulatedAudit, cli: Cli
) -> None:
    # given
    _seed(aws, audit.bucket_name, 30, 5, 1)
    # when
    run = cli("audit", "export", "--bucket", audit.bucket_name, "--since", "24h")
    # then
    assert run.code == 0, run.err
    lines = [json.loads(line) for line in run.out.splitlines()]
    assert [line["target"] for line in lines] == ["alert/5h", "alert/1h", "audit"]
    export = lines[-1]
    assert export["action"] == "audit.export"
    assert export["actor"].startswith("arn:aws:")
    assert "3 audit entries exported." in run.err


def test_export_writes_csv_to_a_file(
    aws: boto3.session.Session, audit: EmulatedAudit, cli: Cli, tmp_path: Path
) -> None:
    # given
    _seed(aws, audit.bucket_name, 2)
    out = tmp_path / "audit.csv"
    # when
    run = cli(
        "audit", "export", "--bucket", audit.bucket_name, "--since", "3h", "--format", "csv", "--output", str(out)
    )
    # then
    assert run.code == 0, run.err
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert next((row["actor"], row["action"], row["source_ip"]) for row in rows) == (
        "alice",
        "alert.view",
        "198.51.100.7",
    )
    assert rows[-1]["action"] == "audit.export"


def test_export_refuses_an_empty_range(audit: EmulatedAudit, cli: Cli) -> None:
    # when
    run = cli("audit", "export", "--bucket", audit.bucket_name, "--since", "1h", "--until", "2h")
    # then
    assert run.code == 1
    assert "--since must be before --until" in run.err


def test_export_stops_when_the_export_cannot_be_audited(
    aws_clients: AwsClients, aws: boto3.session.Session, cli: Cli
) -> None:
    # when: no such bucket
    run = cli("audit", "export", "--bucket", "no-such-audit-bucket", "--since", "1h")
    # then
    assert run.code == 1
    assert "could not be audited" in run.err
    assert run.out == ""
