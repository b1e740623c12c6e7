"""Enrolment that records a legal basis, and offboarding that deletes and verifies, end to end on the
emulation: the stack's PrivacyTable and an audit bucket on moto, badge photos in S3, and a stateful stand-in
for the Rekognition collection (tests/cli/fake_collection.py: moto has no face collection)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from facewatch_cli import retention
from tests.cli.fake_collection import FakeCollection
from tests.cli.support import AwsClients, Cli

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

COLLECTION = "facewatch-employees"
PHOTOS = "badge-photos"
AUDIT = "facewatch-audit"


@pytest.fixture
def world(stack: EmulatedStack, aws_clients: AwsClients) -> dict[str, Any]:
    s3 = aws_clients.client("s3")
    s3.create_bucket(Bucket=PHOTOS)
    s3.create_bucket(Bucket=AUDIT, ObjectLockEnabledForBucket=True)
    for key in ("staff/E100.jpg", "staff/E100_2.jpg", "staff/E200.jpg"):
        s3.put_object(Bucket=PHOTOS, Key=key, Body=b"\xff\xd8\xff\xe0photo")
    collection = FakeCollection(COLLECTION)
    aws_clients.put("rekognition", collection.attach(aws_clients.new_client("rekognition")))
    return {"collection": collection, "s3": s3, "dynamodb": aws_clients.client("dynamodb"), "stack": stack}


def enrol(cli: Cli, stack: EmulatedStack, *basis: str) -> Any:
    return cli(
        "faces", "enroll", "--from-s3", f"s3://{PHOTOS}/staff/", *basis,
        "--collection-id", COLLECTION, "--privacy-table", stack.privacy_table_name,
    )  # fmt: skip


def person(world: dict[str, Any], employee_id: str) -> dict[str, Any]:
    item = world["dynamodb"].get_item(
        TableName=world["stack"].privacy_table_name, Key={"pk": {"S": f"person#{employee_id}"}}
    )
    return {name: next(iter(value.values())) for name, value in item.get("Item", {}).items()}


def audit_entries(world: dict[str, Any]) -> list[dict[str, Any]]:
    s3 = world["s3"]
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket=AUDIT).get("Contents", [])]
    return [json.loads(s3.get_object(Bucket=AUDIT, Key=key)["Body"].read()) for key in keys]


def test_enrolment_without_a_legal_basis_is_refused_before_any_call(cli: Cli, world: dict[str, Any]) -> None:
    run = enrol(cli, world["stack"])

    assert run.code == 1
    assert "give --legal-basis consent|contract|legitimate-interest" in run.err
    assert world["collection"].faces == []


def test_consent_without_its_reference_is_refused(cli: Cli, world: dict[str, Any]) -> None:
    run = enrol(cli, world["stack"], "--legal-basis", "consent")

    assert run.code == 1
    assert "consent needs --consent-ref" in run.err


def test_an_illinois_site_refuses_a_contract_basis(cli: Cli, world: dict[str, Any]) -> None:
    stack = world["stack"]
    cli("compliance", "site", "set", "--site", "chicago", "--profile", "us-il", "--confirm", "legal",
        "--privacy-table", stack.privacy_table_name)  # fmt: skip

    run = enrol(cli, stack, "--legal-basis", "contract", "--basis-note", "employment contract")

    assert run.code == 1
    assert "not accepted by the profile(s) in force: us-il" in run.err


def test_enrolment_records_each_persons_basis_outside_rekognition(
    cli: Cli, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    run = enrol(cli, world["stack"], "--legal-basis", "consent", "--consent-ref", "HR/consent/2026-11")

    assert run.code == 0, run.err
    e100 = person(world, "E100")
    assert (e100["legal_basis"], e100["reference"]) == ("consent", "HR/consent/2026-11")
    assert e100["enrolled_at"] == e100["refreshed_at"]
    listed = cli("faces", "list", "--collection-id", COLLECTION, "--privacy-table", world["stack"].privacy_table_name)
    assert [line.split()[:3] for line in listed.out.splitlines()[1:3]] == [
        ["E100", "2", "consent"],
        ["E200", "1", "consent"],
    ]


def test_list_stale_finds_people_not_refreshed_for_days(
    cli: Cli, world: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    enrol(cli, world["stack"], "--legal-basis", "contract")
    from datetime import UTC, datetime, timedelta

    moved = datetime.now(UTC) + timedelta(days=400)
    monkeypatch.setattr(retention, "now", lambda: moved)
    table = world["stack"].privacy_table_name

    stale = cli("faces", "list", "--stale", "365", "--collection-id", COLLECTION, "--privacy-table", table)
    fresh = cli("faces", "list", "--stale", "500", "--collection-id", COLLECTION, "--privacy-table", table)

    assert stale.out.splitlines()[-1] == (
        f"2 employee(s) not refreshed for 365 days, 3 face(s) in collection {COLLECTION}"
    )
    assert (
        fresh.out.splitlines()[-1] == f"0 employee(s) not refreshed for 500 days, 0 face(s) in collection {COLLECTION}"
    )


def test_offboarding_deletes_faces_user_and_photos_verifies_and_audits(cli: Cli, world: dict[str, Any]) -> None:
    stack, collection = world["stack"], world["collection"]
    enrol(cli, stack, "--legal-basis", "consent", "--consent-ref", "HR/consent/2026-11")
    assert collection.users == {"E100", "E200"}  # enrolment makes one Rekognition user per employee

    run = cli(
        "faces", "remove", "--employee", "E100", "--photos", f"s3://{PHOTOS}/staff/",
        "--collection-id", COLLECTION, "--privacy-table", stack.privacy_table_name, "--audit-bucket", AUDIT,
    )  # fmt: skip

    assert run.code == 0, run.out + run.err
    assert [face["ExternalImageId"] for face in collection.faces] == ["E200"]
    assert collection.users == {"E200"}
    remaining = [item["Key"] for item in world["s3"].list_objects_v2(Bucket=PHOTOS)["Contents"]]
    assert remaining == ["staff/E200.jpg"]
    row = run.out.splitlines()[2].split()
    assert row[:5] == ["E100", "2", "removed", "2", "yes"]
    assert "a search with 2 stored photo(s) matches none of theirs" in run.out
    record = person(world, "E100")
    assert record["offboarding_verified"] is True
    assert "reference" not in record
    (entry,) = audit_entries(world)
    assert (entry["action"], entry["target"]) == ("faces.offboard", "E100")
    assert entry["detail"]["verified"] is True
    assert entry["actor"].startswith("arn:aws:")


def test_offboarding_from_an_hr_export_reports_per_person(cli: Cli, world: dict[str, Any], tmp_path: Path) -> None:
    stack = world["stack"]
    enrol(cli, stack, "--legal-basis", "contract")
    export = tmp_path / "leavers.csv"
    export.write_text("name,employee_id\nAda,E100\nBob,E200\nCyd,E300\n", encoding="utf-8")

    run = cli(
        "faces", "remove", "--from-file", str(export),
        "--collection-id", COLLECTION, "--privacy-table", stack.privacy_table_name, "--audit-bucket", AUDIT,
    )  # fmt: skip

    assert run.code == 0, run.out
    assert world["collection"].faces == []
    rows = {line.split()[0]: line.split()[1:5] for line in run.out.splitlines()[2:5]}
    assert rows == {
        "E100": ["2", "removed", "0", "yes"],  # the users enrolment made
        "E200": ["1", "removed", "0", "yes"],
        "E300": ["0", "none", "0", "yes"],  # never enrolled
    }
    assert run.out.splitlines()[-1] == "3 of 3 person(s) removed and verified."
    assert sorted(entry["target"] for entry in audit_entries(world)) == ["E100", "E200", "E300"]


def test_a_face_the_service_keeps_fails_the_verification_and_keeps_the_photos(cli: Cli, world: dict[str, Any]) -> None:
    stack, collection = world["stack"], world["collection"]
    enrol(cli, stack, "--legal-basis", "contract")
    original = collection._DeleteFaces
    collection._DeleteFaces = lambda params: {
        "UnsuccessfulFaceDeletions": [
            {"FaceId": face_id, "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]} for face_id in params["FaceIds"]
        ]
    }

    run = cli(
        "faces", "remove", "--employee", "E200", "--photos", f"s3://{PHOTOS}/staff/",
        "--collection-id", COLLECTION, "--privacy-table", stack.privacy_table_name, "--audit-bucket", AUDIT,
    )  # fmt: skip

    collection._DeleteFaces = original
    assert run.code == 3
    assert "1 face(s) still listed" in run.out
    assert "E200: kept " in run.out
    assert "ASSOCIATED_TO_AN_EXISTING_USER" in run.out
    assert "staff/E200.jpg" in [item["Key"] for item in world["s3"].list_objects_v2(Bucket=PHOTOS)["Contents"]]
    assert person(world, "E200")["offboarding_verified"] is False
