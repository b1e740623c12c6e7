"""`facewatch compliance`: site profiles, retention verified against the deployed resources (moto, from
template.yaml), notices and the DPIA report."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from facewatch_cli import retention
from facewatch_local.cfn import load_template
from tests.cli.support import AwsClients, Cli

from facewatch.domain.privacy import BUILTIN_PROFILES, RETENTION_PARAMETERS, Artefact, parameter_overrides

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

CAMERA = "berlin-lobby-1"


@pytest.fixture
def deployment(stack: EmulatedStack, aws_clients: AwsClients) -> list[str]:
    """The stack's resources on moto with one camera (its video stream kept 24 h) at site berlin."""
    aws_clients.client("kinesisvideo").create_stream(StreamName=CAMERA, DataRetentionInHours=24)
    aws_clients.client("dynamodb").put_item(
        TableName=stack.camera_table_name,
        Item={"camera_id": {"S": CAMERA}, "site": {"S": "berlin"}, "display_name": {"S": "Lobby"}},
    )
    return [
        "--clip-bucket", stack.clip_bucket_name,
        "--quarantine-bucket", stack.quarantine_bucket_name,
        "--dedup-table", stack.dedup_table_name,
        "--table", stack.camera_table_name,
        "--privacy-table", stack.privacy_table_name,
    ]  # fmt: skip


def later(monkeypatch: pytest.MonkeyPatch, days: float) -> None:
    moved = datetime.now(UTC) + timedelta(days=days)
    monkeypatch.setattr(retention, "now", lambda: moved)


def test_an_eu_site_needs_its_uncertain_figures_confirmed(cli: Cli, deployment: list[str]) -> None:
    refused = cli("compliance", "site", "set", "--site", "berlin", "--profile", "eu", *deployment[-2:])
    confirmed = cli(
        "compliance", "site", "set", "--site", "berlin", "--profile", "eu", "--confirm", "dpo", *deployment[-2:]
    )
    listed = cli("compliance", "site", "list", *deployment[-4:])

    assert refused.code == 1
    assert "confirm them (--confirm)" in refused.err
    assert confirmed.code == 0, confirmed.err
    assert "Figures the law does not fix confirmed by dpo:" in confirmed.out
    assert listed.out.splitlines()[1].split() == ["berlin", "eu", "unknown-faces", "1", "dpo"]


def test_verify_passes_on_the_template_defaults_for_an_eu_site(cli: Cli, deployment: list[str]) -> None:
    cli("compliance", "site", "set", "--site", "berlin", "--profile", "eu", "--confirm", "dpo", *deployment[-2:])

    run = cli("compliance", "verify", *deployment)

    assert "Profiles in force: eu (1 site(s))" in run.out
    assert "function logs (CloudWatch Logs): give --stack to read the stack's log groups" in run.out
    # No snapshot rule yet in this deployment would be a finding; the template's rules cover the rest.
    findings = [line for line in run.out.splitlines() if line.startswith("  - ")]
    assert all("snapshots" in line for line in findings), run.out


def test_verify_fails_on_a_planted_over_age_clip_and_passes_once_it_is_gone(
    cli: Cli, deployment: list[str], stack: EmulatedStack, aws_clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    s3 = aws_clients.client("s3")
    s3.put_bucket_lifecycle_configuration(  # a rule for snapshots/ too, as the two-phase alert adds
        Bucket=stack.clip_bucket_name,
        LifecycleConfiguration={
            "Rules": [
                {"ID": "clips", "Status": "Enabled", "Filter": {"Prefix": "clips/"}, "Expiration": {"Days": 30}},
                {"ID": "snaps", "Status": "Enabled", "Filter": {"Prefix": "snapshots/"}, "Expiration": {"Days": 30}},
            ]
        },
    )
    key = f"clips/{CAMERA}/2026/09/01/a1.mp4"
    s3.put_object(Bucket=stack.clip_bucket_name, Key=key, Body=b"\x00\x00\x00\x18ftypmp42")
    later(monkeypatch, 30 + retention.DELETION_GRACE_DAYS + 1)

    failing = cli("compliance", "verify", *deployment)
    s3.delete_object(Bucket=stack.clip_bucket_name, Key=key)
    passing = cli("compliance", "verify", *deployment)

    assert failing.code == 3, failing.out
    assert f"alert clips (S3, clips/): 1 over-age item(s) in s3://{stack.clip_bucket_name}/clips/" in failing.out
    assert passing.code == 0, passing.out
    assert "OK: every artefact is kept within every site's limit" in passing.out


def test_verify_flags_a_clip_retention_above_the_strictest_profile(
    cli: Cli, deployment: list[str], stack: EmulatedStack, aws_clients: AwsClients
) -> None:
    aws_clients.client("s3").put_bucket_lifecycle_configuration(
        Bucket=stack.clip_bucket_name,
        LifecycleConfiguration={
            "Rules": [{"ID": "all", "Status": "Enabled", "Filter": {"Prefix": ""}, "Expiration": {"Days": 90}}]
        },
    )
    cli("compliance", "site", "set", "--site", "berlin", "--profile", "eu", "--confirm", "dpo", *deployment[-2:])

    run = cli("compliance", "verify", *deployment)

    assert run.code == 3
    assert "alert clips (S3, clips/): kept 90 days, over the 30-day limit of default, eu" not in run.out
    assert "alert clips (S3, clips/): kept 90 days, over the 30-day limit of eu" in run.out


def test_an_expired_alert_item_that_ttl_left_behind_is_a_finding(
    cli: Cli, deployment: list[str], stack: EmulatedStack, aws_clients: AwsClients, monkeypatch: pytest.MonkeyPatch
) -> None:
    expired = int((datetime.now(UTC) - timedelta(days=5)).timestamp())
    aws_clients.client("dynamodb").put_item(
        TableName=stack.dedup_table_name, Item={"pk": {"S": "alert#a1"}, "expires_at": {"N": str(expired)}}
    )

    run = cli("compliance", "verify", *deployment)

    assert run.code == 3
    assert f"1 over-age item(s) in DynamoDB table {stack.dedup_table_name}" in run.out


def test_the_notice_names_the_controller_the_cameras_and_the_deployed_retention(
    cli: Cli, deployment: list[str]
) -> None:
    run = cli(
        "compliance", "notice", "--site", "berlin", "--controller-contact", "ACME GmbH, privacy@acme.example",
        *deployment,
    )  # fmt: skip

    assert run.code == 0, run.err
    assert "Controller and contact: ACME GmbH, privacy@acme.example" in run.out
    assert f"Cameras: {CAMERA}" in run.out
    assert "  - alert clips (S3, clips/): 30 days" in run.out
    assert "  - camera video in Kinesis Video Streams: 1 days" in run.out


def test_a_notice_without_a_controller_contact_says_it_is_missing(cli: Cli, deployment: list[str]) -> None:
    run = cli("compliance", "notice", "--site", "berlin", *deployment)

    assert run.code == 3
    assert "MISSING: set the stack's PrivacyControllerContact parameter" in run.out


def test_the_report_lists_what_is_stored_and_on_what_basis(
    cli: Cli, deployment: list[str], stack: EmulatedStack, aws_clients: AwsClients
) -> None:
    table = aws_clients.client("dynamodb")
    for employee, basis in (("E1", "consent"), ("E2", "contract"), ("E3", "consent")):
        table.put_item(
            TableName=stack.privacy_table_name,
            Item={"pk": {"S": f"person#{employee}"}, "legal_basis": {"S": basis}, "refreshed_at": {"S": "2026-11-01"}},
        )

    run = cli("compliance", "report", "--json", *deployment)

    report = json.loads(run.out)
    assert report["legal_bases"] == {"consent": 2, "contract": 1}
    assert report["sites"] == {"berlin": {"profile": "default", "matching": "unknown-faces"}}
    clips = next(row for row in report["stored"] if row["artefact"] == "clips")
    assert (clips["kept_days"], clips["limit_days"]) == (30.0, 30.0)


@pytest.mark.parametrize("profile", sorted(BUILTIN_PROFILES))
def test_each_profiles_retention_lands_in_the_expanded_template(profile: str) -> None:
    declared = load_template()["Parameters"]
    overrides = parameter_overrides([BUILTIN_PROFILES[profile]], declared)

    template = load_template(parameter_overrides=overrides)

    resources = template["Resources"]
    limits = BUILTIN_PROFILES[profile].retention
    clip_rules = resources["ClipBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    assert {"Ref": "ClipRetentionDays"} in [rule.get("ExpirationInDays") for rule in clip_rules]
    for artefact, (parameter, days_per_unit) in RETENTION_PARAMETERS.items():
        if parameter not in declared:
            continue
        value = float(overrides[parameter]) * days_per_unit
        assert value <= limits[artefact].days, (artefact, value)
        assert value >= min(limits[artefact].days, 1), (artefact, value)
    assert int(overrides["ClipRetentionDays"]) == int(limits[Artefact.CLIPS].days)


def test_compliance_parameters_prints_the_overrides_for_sam_deploy(cli: Cli) -> None:
    run = cli("compliance", "parameters", "--profile", "eu", "--profile", "us-il")

    pairs = dict(pair.split("=") for pair in run.out.split())
    assert pairs["ClipRetentionDays"] == "30"
    assert pairs["QuarantineRetentionDays"] == "7"
    assert pairs["CameraVideoRetentionHours"] == "72"
    assert pairs["LogRetentionDays"] == "30"


def test_the_privacy_page_shows_the_profiles_as_the_cli_prints_them(cli: Cli) -> None:
    run = cli("compliance", "profiles", "--markdown")

    page = (Path(__file__).resolve().parents[2] / "docs" / "privacy.md").read_text(encoding="utf-8")
    assert run.code == 0
    assert run.out in page
