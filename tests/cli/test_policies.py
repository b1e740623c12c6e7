"""`facewatch policy|watchlist|snooze` against PolicyTable as template.yaml defines it (moto), with the
employee collection as a stateful stand-in (tests/cli/fake_collection.py: moto has no IndexFaces)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import pytest
from facewatch_cli import stack_outputs
from facewatch_local.console_stack import deploy_audit_bucket
from facewatch_local.stack import EmulatedStack
from tests.cli.fake_collection import FakeCollection, Outcome, photo_bytes
from tests.cli.support import AwsClients, Cli

from facewatch.adapters.audit_log import AuditLog
from facewatch.adapters.policy_store import PolicyStore
from facewatch.domain.policy_rules import PolicySnapshot

COLLECTION = "facewatch-employees"
POLICY: dict[str, Any] = {
    "schema": 1,
    "site": "seoul-hq",
    "timezone": "Asia/Seoul",
    "cameras": {
        "seoul-hq-lobby-01": {"zones": [{"name": "door", "polygon": [[0.4, 0], [1, 0], [1, 1], [0.4, 1]]}]},
        "seoul-hq-parking-b1": {},
    },
    "rules": [
        {"type": "unknown_face", "id": "strangers", "confirm_sightings": 2, "confirm_seconds": 10},
        {"type": "watchlist", "id": "banned", "list": "banned", "severity": "critical"},
        {"type": "watchlist", "id": "contractors", "list": "contractors", "action": "ignore"},
    ],
    "caps": {"max_alerts": 20, "per_minutes": 10},
    "max_snooze_minutes": 120,
}


# Enrolment records each person's legal basis in the stack's PrivacyTable (docs/privacy.md).
LEGAL_BASIS = ("--legal-basis", "contract", "--privacy-table", "facewatch-privacy")


@pytest.fixture
def audit_bucket(aws: boto3.session.Session, aws_clients: AwsClients) -> str:
    return deploy_audit_bucket(aws).bucket_name


@pytest.fixture
def table(stack: EmulatedStack, audit_bucket: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """PolicyTable; the audit bucket comes from the stack's outputs as a deployed stack's would."""
    monkeypatch.setattr(
        "facewatch_cli.stack_outputs._describe_outputs",
        lambda _args, _name: {"PolicyTableName": stack.policy_table_name, "AuditBucketName": audit_bucket},
    )
    monkeypatch.setenv(stack_outputs.STACK_ENV_VAR, "facewatch")
    return stack.policy_table_name


@pytest.fixture
def collection(aws_clients: AwsClients) -> FakeCollection:
    fake = FakeCollection(COLLECTION, {"blurry.jpg": Outcome(indexed=False, unindexed=(("LOW_SHARPNESS",),))})
    aws_clients.put("rekognition", fake.attach(aws_clients.new_client("rekognition")))
    return fake


def write(path: Path, document: dict[str, Any]) -> Path:
    path.write_text(json.dumps(document))
    return path


def photo(tmp_path: Path, name: str) -> str:
    path = tmp_path / name
    path.write_bytes(photo_bytes(name))
    return str(path)


def stored(aws: boto3.session.Session, table: str) -> PolicySnapshot:
    items = PolicyStore(table, aws.client("dynamodb")).load_current()
    return PolicySnapshot(policies=items.policies, entries=items.entries, snoozes=items.snoozes)


def audit(aws: boto3.session.Session, bucket: str) -> list[dict[str, Any]]:
    """The audit log's entries, oldest first, as plain dicts."""
    since = datetime.now(UTC) - timedelta(hours=1)
    return [
        {"action": e.action, "actor": e.actor, "target": e.target, **e.detail}
        for e in AuditLog(bucket, s3=aws.client("s3")).read(since)
    ]


# --- policy ---


def test_validate_reads_the_file_only_and_summarises_it(cli: Cli, tmp_path: Path) -> None:
    run = cli("policy", "validate", str(write(tmp_path / "seoul.json", POLICY)))

    assert run.code == 0, run.err
    assert "site seoul-hq (Asia/Seoul): 2 camera(s), 3 rule(s)" in run.out
    assert "  banned: watchlist [on] critical, armed always, every camera" in run.out


def test_validate_names_every_problem_of_a_bad_file(cli: Cli, tmp_path: Path) -> None:
    bad = {**POLICY, "timezone": "Asia/Seol", "rules": [{"type": "after_hours", "id": "night"}]}

    run = cli("policy", "validate", str(write(tmp_path / "bad.json", bad)))

    assert run.code == 1
    assert "is not a valid policy" in run.err
    assert "timezone: Value error, unknown IANA time zone 'Asia/Seol'" in run.err
    assert "rules.0.after_hours: Value error, an after_hours rule needs a schedule" in run.err


def test_apply_stores_versions_and_makes_the_latest_current(
    cli: Cli, aws, table: str, audit_bucket: str, tmp_path: Path
) -> None:
    policy_file = str(write(tmp_path / "p.json", POLICY))
    first = cli("policy", "apply", policy_file, "--policy-table", table, "--note", "first policy")
    changed = {**POLICY, "caps": {"max_alerts": 5, "per_minutes": 10}}
    second = cli("policy", "apply", str(write(tmp_path / "p.json", changed)), "--policy-table", table)

    assert (first.code, second.code) == (0, 0), first.err + second.err
    assert first.out.startswith("Applied version 1 of seoul-hq's policy.")
    assert second.out.startswith("Applied version 2 of seoul-hq's policy.")
    policy = stored(aws, table).policies["seoul-hq"]
    assert policy.caps is not None
    assert policy.caps.max_alerts == 5
    versions = cli("policy", "versions", "seoul-hq", "--policy-table", table)
    lines = versions.out.splitlines()
    assert lines[0].split() == ["VERSION", "APPLIED", "BY", "NOTE"]
    assert lines[1].split()[0] == "1"
    assert lines[1].split()[4].startswith("arn:aws:"), "the caller's AWS identity"
    assert lines[1].endswith("first policy")
    assert lines[2].split()[0] == "2"
    old = cli("policy", "versions", "seoul-hq", "--show", "1", "--policy-table", table)
    assert json.loads(old.out)["caps"] == {"max_alerts": 20, "per_minutes": 10}
    shown = cli("policy", "show", "seoul-hq", "--policy-table", table)
    assert json.loads(shown.out)["version"] == 2
    assert [a["action"] for a in audit(aws, audit_bucket)] == ["policy.apply", "policy.apply"]


def test_show_of_a_site_without_a_policy_says_so(cli: Cli, table: str) -> None:
    run = cli("policy", "show", "busan", "--policy-table", table)

    assert run.code == 1
    assert "no policy for site busan" in run.err


# --- watchlist ---


def test_watchlist_add_indexes_the_photos_under_the_watchlist_namespace_and_records_reason_and_expiry(
    cli: Cli, aws, table: str, audit_bucket: str, collection: FakeCollection, tmp_path: Path
) -> None:
    run = cli("watchlist", "add", "banned", "case-118", photo(tmp_path, "front.jpg"), photo(tmp_path, "blurry.jpg"),
              "--reason", "trespass notice 2025-11-03", "--days", "90", "--policy-table", table,
              "--collection-id", COLLECTION)  # fmt: skip

    assert run.code == 3, "one photo was rejected"
    assert "blurry.jpg: rejected: LOW_SHARPNESS" in run.out
    assert "Added case-118 to banned (1 face(s))" in run.out
    assert [face["ExternalImageId"] for face in collection.faces] == ["wl:banned:case-118"]
    entry = stored(aws, table).entries[("banned", "case-118")]
    assert entry.reason == "trespass notice 2025-11-03"
    assert entry.face_ids == (collection.faces[0]["FaceId"],)
    assert 89.9 * 86_400 < entry.expires_at - entry.added_at <= 90 * 86_400
    [added] = audit(aws, audit_bucket)
    assert (added["action"], added["target"], added["reason"]) == (
        "watchlist.add",
        "watchlist/banned/case-118",
        "trespass notice 2025-11-03",
    )
    assert added["actor"].startswith("arn:aws:"), "the caller's AWS identity"


@pytest.mark.parametrize("missing", ["--reason", "--days"])
def test_watchlist_add_without_a_reason_or_an_expiry_is_a_usage_error(
    cli: Cli, table: str, collection: FakeCollection, tmp_path: Path, missing: str
) -> None:
    given = {"--reason": ["--reason", "trespass"], "--days": ["--days", "90"]}
    arguments = [part for option, parts in given.items() if option != missing for part in parts]

    with pytest.raises(SystemExit) as exit_:
        cli("watchlist", "add", "banned", "case-9", photo(tmp_path, "a.jpg"), *arguments, "--policy-table", table)

    assert exit_.value.code == 2
    assert collection.faces == [], "nothing indexed"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--reason", "trespass", "--days", "400"], "--days must be 1-366"),
        (["--reason", "no", "--days", "9"], "at least 3 characters"),
        (["--reason", "trespass", "--expires", "2001-01-01"], "is in the past"),
    ],
)
def test_watchlist_add_refuses_an_unbounded_expiry_or_an_empty_reason(
    cli: Cli, table: str, collection: FakeCollection, tmp_path: Path, arguments: list[str], message: str
) -> None:
    run = cli("watchlist", "add", "banned", "case-9", photo(tmp_path, "a.jpg"), *arguments,
              "--policy-table", table, "--collection-id", COLLECTION)  # fmt: skip

    assert run.code == 1
    assert message in run.err
    assert collection.faces == [], "nothing indexed"


def test_faces_enroll_refuses_an_employee_id_in_the_watchlist_namespace(
    cli: Cli, collection: FakeCollection, tmp_path: Path
) -> None:
    run = cli("faces", "enroll", photo(tmp_path, "x.jpg"), "--employee-id", "wl:banned:x",
              "--collection-id", COLLECTION, *LEGAL_BASIS)  # fmt: skip

    assert run.code == 1
    assert "wl:banned:x" in run.err
    assert collection.faces == []


def test_watchlist_list_and_remove(
    cli: Cli, aws, table: str, audit_bucket: str, collection: FakeCollection, tmp_path: Path
) -> None:
    common = ["--policy-table", table, "--collection-id", COLLECTION]
    cli("watchlist", "add", "contractors", "acme-plumber", photo(tmp_path, "p.jpg"), "--reason", "fixes the pipes",
        "--days", "14", *common)  # fmt: skip
    employee = {"FaceId": "0b9c4e2a-1d3f-4a5b-8c6d-7e8f9a0b1c2d", "ImageId": "1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f",
                "ExternalImageId": "E10442", "BoundingBox": {"Width": 0.3, "Height": 0.4, "Left": 0.3, "Top": 0.2},
                "Confidence": 99.9}  # fmt: skip
    collection.faces.append(employee)  # enrolled earlier with `facewatch faces enroll`

    listed = cli("watchlist", "list", "--policy-table", table)
    employees = cli("faces", "list", "--collection-id", COLLECTION)
    removed = cli("watchlist", "remove", "contractors", "acme-plumber", "--reason", "job done", *common)

    assert "contractors  acme-plumber  active" in listed.out
    assert "fixes the pipes" in listed.out
    assert "E10442" in employees.out
    assert "wl:" not in employees.out, "watchlist faces are not employees"
    assert removed.code == 0, removed.err
    assert "entry deleted, 1 face(s) deleted" in removed.out
    assert [face["ExternalImageId"] for face in collection.faces] == ["E10442"]
    assert stored(aws, table).entries == {}
    assert [a["action"] for a in audit(aws, audit_bucket)] == ["watchlist.add", "watchlist.remove"]


# --- snooze ---


def test_snooze_is_bounded_by_the_policy_audited_and_ends(
    cli: Cli, aws, table: str, audit_bucket: str, tmp_path: Path
) -> None:
    cli("policy", "apply", str(write(tmp_path / "p.json", POLICY)), "--policy-table", table)
    common = ["--policy-table", table]

    too_long = cli("snooze", "add", "camera", "seoul-hq-lobby-01", "--minutes", "180", "--reason", "cleaning", *common)
    added = cli("snooze", "add", "camera", "seoul-hq-lobby-01", "--minutes", "30", "--reason", "cleaning", *common)
    listed = cli("snooze", "list", "--json", "--policy-table", table)

    assert too_long.code == 1
    assert "at most 120 minutes" in too_long.err
    assert added.code == 0, added.err
    [snooze] = json.loads(listed.out)
    assert (snooze["scope"], snooze["target"], snooze["reason"]) == ("camera", "seoul-hq-lobby-01", "cleaning")
    assert snooze["by"].startswith("arn:aws:")
    assert 29.9 * 60 < snooze["until"] - snooze["starts_at"] <= 30 * 60
    ended = cli("snooze", "end", snooze["snooze_id"], *common)
    assert ended.code == 0
    assert stored(aws, table).snoozes == ()
    assert [a["action"] for a in audit(aws, audit_bucket)] == ["policy.apply", "snooze.add", "snooze.end"]
    again = cli("snooze", "end", snooze["snooze_id"], *common)
    assert again.code == 1


def test_a_snooze_that_cannot_be_audited_is_not_made(cli: Cli, aws, table: str) -> None:
    run = cli("snooze", "add", "site", "seoul-hq", "--minutes", "10", "--reason", "drill",
              "--policy-table", table, "--audit-bucket", "no-such-bucket")  # fmt: skip

    assert run.code == 1
    assert "the audit log did not take the entry" in run.err
    assert stored(aws, table).snoozes == ()


def test_a_policy_may_not_enable_what_the_sites_privacy_profile_forbids(
    cli: Cli, stack: EmulatedStack, table: str, tmp_path: Path
) -> None:
    privacy = ("--privacy-table", stack.privacy_table_name)
    cli("compliance", "site", "set", "--site", "seoul-hq", "--profile", "kr", "--confirm", "dpo", *privacy)
    policy_file = str(write(tmp_path / "p.json", POLICY))

    refused = cli("policy", "apply", policy_file, "--policy-table", table, *privacy)
    watchlists_only = {**POLICY, "rules": [rule for rule in POLICY["rules"] if rule["type"] == "watchlist"]}
    applied = cli(
        "policy", "apply", str(write(tmp_path / "w.json", watchlists_only)), "--policy-table", table, *privacy
    )

    assert refused.code == 1
    assert "matching watchlist-only) does not allow: rule strangers (unknown_face)" in refused.err
    assert applied.code == 0, applied.err
