"""`facewatch status` for image-mode cameras: it reads each camera's sampler heartbeat from CloudWatch (moto),
as the real sampler publishes it (facewatch_sampler.metrics.SamplerMetrics), looks for no stream processor,
and exits 0 when every camera is online and within its budget."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from facewatch_cli import status as status_command
from facewatch_sampler.metrics import SamplerMetrics
from facewatch_sampler.stats import SamplerStats
from tests.cli.support import AwsClients, Cli

STACK = "facewatch-seoul"
LOBBY, DOCK, ROOF = f"{STACK}_Lobby01", f"{STACK}_Dock02", f"{STACK}_Roof03"
NAMESPACE = "Facewatch/Sampler"


@pytest.fixture
def registered(cli: Cli, aws_clients: AwsClients, camera_table: str) -> str:
    for camera_id in (LOBBY, DOCK, ROOF):
        run = cli("cameras", "add", camera_id, "--site", "SEOUL-HQ", "--display-name", camera_id.split("_")[1],
                  "--timezone", "Asia/Seoul", "--table", camera_table, "--no-verify")  # fmt: skip
        assert run.code == 0, run.err
    # An image-mode stack: status must not look for stream processors (a new account cannot list them).
    aws_clients.stub("rekognition")
    return camera_table


@pytest.fixture(autouse=True)
def _checked_after_the_heartbeats(monkeypatch: pytest.MonkeyPatch) -> None:
    # The check runs a little after the samplers published (CloudWatch's EndTime is exclusive).
    monkeypatch.setattr(status_command, "utcnow", lambda: datetime.now(UTC) + timedelta(seconds=30))


def heartbeat(aws_clients: AwsClients, camera_id: str, *, online: bool, calls: int = 0, records: int = 0) -> None:
    """One status interval of the camera's sampler, published by the sampler's own code."""
    stats = SamplerStats(camera_id=camera_id, online=online, records_written=records)
    stats.rekognition_calls["DetectFaces"] = calls
    SamplerMetrics(NAMESPACE, camera_id, client=aws_clients.new_client("cloudwatch")).publish(stats)


def status(cli: Cli, table: str, *more: str):
    return cli("status", "--table", table, "--detection-mode", "image", *more)


def row(out: str, camera_id: str) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(camera_id + " ")]
    return " ".join(line.split())


def test_online_cameras_are_healthy_and_status_exits_0(cli: Cli, aws_clients: AwsClients, registered: str) -> None:
    aws_clients.client("dynamodb").delete_item(TableName=registered, Key={"camera_id": {"S": ROOF}})
    heartbeat(aws_clients, LOBBY, online=True, calls=12, records=3)
    heartbeat(aws_clients, DOCK, online=True)

    run = status(cli, registered)

    assert run.code == 0, run.out + run.err
    assert row(run.out, LOBBY).startswith(f"{LOBBY} Lobby01 SEOUL-HQ sampler ONLINE")
    assert row(run.out, LOBBY).endswith(" ago OK")  # its last record
    assert "no stream processor" not in run.out
    assert run.out.splitlines()[-1] == "All 2 camera(s) OK."


def test_an_offline_camera_and_a_silent_sampler_need_attention(
    cli: Cli, aws_clients: AwsClients, registered: str
) -> None:
    heartbeat(aws_clients, LOBBY, online=True, records=1)
    heartbeat(aws_clients, DOCK, online=False)

    run = status(cli, registered)

    assert run.code == 3
    assert row(run.out, LOBBY).endswith("OK")
    assert row(run.out, DOCK).endswith("sampler OFFLINE - camera offline: its sampler cannot read it")
    assert row(run.out, ROOF).endswith("no sampler heartbeat in the last 3 h (is its sampler running?)")
    assert run.out.splitlines()[-1] == "2 of 3 camera(s) need attention."


def test_frames_skipped_over_the_budget_need_attention_and_budget_use_is_shown(
    cli: Cli, aws_clients: AwsClients, registered: str
) -> None:
    aws_clients.client("dynamodb").delete_item(TableName=registered, Key={"camera_id": {"S": ROOF}})
    heartbeat(aws_clients, LOBBY, online=True)
    heartbeat(aws_clients, DOCK, online=True)
    # What the sampler adds each interval when it knows its share of the account's TPS (metrics contract).
    dimensions = [{"Name": "CameraId", "Value": DOCK}]
    aws_clients.new_client("cloudwatch").put_metric_data(
        Namespace=NAMESPACE,
        MetricData=[
            {"MetricName": "RekognitionBudgetUse", "Dimensions": dimensions, "Value": 100.0, "Unit": "Percent"},
            {"MetricName": "FramesOverBudget", "Dimensions": dimensions, "Value": 7.0, "Unit": "Count"},
        ],
    )

    run = status(cli, registered, "--json")

    assert run.code == 3
    [dock] = [camera for camera in json.loads(run.out)["cameras"] if camera["camera_id"] == DOCK]
    assert dock["mode"] == "image"
    assert dock["sampler"]["online"] is True
    assert dock["sampler"]["rekognition_budget_use_percent"] == 100.0
    assert dock["sampler"]["frames_over_budget"] == 7
    assert dock["problems"] == ["7 frame(s) with a face skipped over the Rekognition budget in the last 5 min"]
    last = datetime.fromisoformat(dock["sampler"]["last_heartbeat_minute"])
    assert (datetime.now(UTC) - last).total_seconds() < 180


def test_a_site_whose_profile_turns_matching_off_says_so_and_stays_healthy(
    cli: Cli, aws_clients: AwsClients, registered: str, stack
) -> None:
    # given a site whose privacy profile allows no matching, its cameras online
    privacy = ("--privacy-table", stack.privacy_table_name)
    assigned = cli(
        "compliance", "site", "set", "--site", "SEOUL-HQ", "--profile", "kr", "--matching", "off", "--confirm", "dpo",
        *privacy,
    )  # fmt: skip
    for camera_id in (LOBBY, DOCK, ROOF):
        heartbeat(aws_clients, camera_id, online=True)

    run = status(cli, registered, *privacy)

    # then status names the site and why its cameras raise nothing; that is no fault
    assert assigned.code == 0, assigned.err
    assert run.code == 0, run.out + run.err
    assert run.out.splitlines()[-1] == (
        f"Site SEOUL-HQ: matching off (privacy profile kr): no alert at all from 3 camera(s): {DOCK}, {LOBBY}, {ROOF}."
    )
