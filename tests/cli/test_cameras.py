"""`facewatch cameras add|list|remove` against CameraTable as template.yaml defines it (moto)."""

from __future__ import annotations

import json

import boto3
import pytest
from tests.cli.support import AwsClients, Cli

LOBBY = [
    "seoul-hq-lobby-01",
    "--site", "SEOUL-HQ",
    "--floor", "1",
    "--zone", "lobby",
    "--display-name", "Lobby entrance",
    "--timezone", "Asia/Seoul",
    "--rtsp-url-secret", "facewatch/SEOUL-HQ/seoul-hq-lobby-01/rtsp-url",
]  # fmt: skip


def item(aws: boto3.session.Session, table: str, camera_id: str) -> dict[str, str] | None:
    found = aws.client("dynamodb").get_item(TableName=table, Key={"camera_id": {"S": camera_id}}).get("Item")
    return {name: value["S"] for name, value in found.items()} if found else None


def test_add_writes_the_camera_with_the_attributes_the_alerter_reads(cli: Cli, aws, camera_table: str) -> None:
    run = cli("cameras", "add", *LOBBY, "--table", camera_table)

    assert run.code == 0, run.err
    assert item(aws, camera_table, "seoul-hq-lobby-01") == {
        "camera_id": "seoul-hq-lobby-01",
        "display_name": "Lobby entrance",
        "site": "SEOUL-HQ",
        "floor": "1",
        "zone": "lobby",
        "timezone": "Asia/Seoul",
        "rtsp_url_secret": "facewatch/SEOUL-HQ/seoul-hq-lobby-01/rtsp-url",
    }
    assert run.out.splitlines() == [
        "Registered Lobby entrance (seoul-hq-lobby-01) at SEOUL-HQ, floor 1, zone lobby, Asia/Seoul time. "
        "Alerts use it within 5 minutes."
    ]


def test_add_leaves_out_the_attributes_not_given(cli: Cli, aws, camera_table: str) -> None:
    run = cli("cameras", "add", "dock-02", "--site", "BUSAN", "--timezone", "Asia/Seoul", "--table", camera_table)

    assert run.code == 0, run.err
    assert item(aws, camera_table, "dock-02") == {"camera_id": "dock-02", "site": "BUSAN", "timezone": "Asia/Seoul"}
    assert "cannot stream this camera until it has one" in run.out


def test_add_refuses_an_unknown_time_zone_and_writes_nothing(cli: Cli, aws, camera_table: str) -> None:
    run = cli("cameras", "add", "lobby", "--site", "SEOUL-HQ", "--timezone", "Asia/Seol", "--table", camera_table)

    assert run.code == 1
    assert run.err.strip() == (
        "facewatch: camera lobby not registered: timezone: Value error, unknown IANA time zone 'Asia/Seol'"
    )
    assert item(aws, camera_table, "lobby") is None


def test_add_refuses_a_camera_id_that_is_not_a_stream_name(cli: Cli, camera_table: str) -> None:
    run = cli("cameras", "add", "lobby cam", "--site", "S", "--timezone", "UTC", "--table", camera_table)

    assert run.code == 1
    assert "is not a Kinesis video stream name" in run.err


@pytest.mark.parametrize("camera_id", [".", "..", "c" * 256])
def test_add_refuses_a_camera_id_that_is_not_a_safe_path_segment(
    cli: Cli, aws, camera_table: str, camera_id: str
) -> None:
    run = cli("cameras", "add", camera_id, "--site", "S", "--timezone", "UTC", "--table", camera_table)

    assert run.code == 1
    assert "it would not be a safe path segment" in run.err
    assert item(aws, camera_table, camera_id) is None


@pytest.mark.parametrize(
    "secret",
    ["rtsp://viewer:hunter2@10.0.0.7:554/stream1", "ssm:", "has spaces"],
)
def test_add_refuses_an_rtsp_secret_that_is_not_a_secret_name(cli: Cli, aws, camera_table: str, secret: str) -> None:
    run = cli("cameras", "add", "lobby", "--site", "S", "--timezone", "UTC", "--rtsp-url-secret", secret,
              "--table", camera_table)  # fmt: skip

    assert run.code == 1
    assert run.err.startswith("facewatch: --rtsp-url-secret: ")
    assert "hunter2" not in json.dumps(item(aws, camera_table, "lobby"))


def test_add_takes_an_ssm_parameter_as_the_rtsp_secret(cli: Cli, aws, camera_table: str) -> None:
    run = cli("cameras", "add", "lobby", "--site", "S", "--timezone", "UTC",
              "--rtsp-url-secret", "ssm:/facewatch/lobby/rtsp-url", "--table", camera_table)  # fmt: skip

    assert run.code == 0, run.err
    assert item(aws, camera_table, "lobby")["rtsp_url_secret"] == "ssm:/facewatch/lobby/rtsp-url"  # type: ignore[index]


def test_adding_a_registered_camera_again_needs_replace(cli: Cli, aws, camera_table: str) -> None:
    cli("cameras", "add", *LOBBY, "--table", camera_table)

    again = cli(
        "cameras", "add", "seoul-hq-lobby-01", "--site", "SEOUL-HQ", "--timezone", "UTC", "--table", camera_table
    )
    replaced = cli("cameras", "add", "seoul-hq-lobby-01", "--site", "SEOUL-HQ", "--timezone", "UTC",
                   "--table", camera_table, "--replace")  # fmt: skip

    assert again.code == 1
    assert "already registered; add --replace" in again.err
    assert replaced.code == 0
    assert item(aws, camera_table, "seoul-hq-lobby-01") == {
        "camera_id": "seoul-hq-lobby-01",
        "site": "SEOUL-HQ",
        "timezone": "UTC",
    }


def test_list_prints_a_table_sorted_by_site(cli: Cli, camera_table: str) -> None:
    cli("cameras", "add", *LOBBY, "--table", camera_table)
    cli("cameras", "add", "busan-dock-02", "--site", "BUSAN", "--timezone", "Asia/Seoul", "--table", camera_table)

    run = cli("cameras", "list", "--table", camera_table)

    assert run.code == 0
    assert run.out.splitlines() == [
        "CAMERA             NAME            SITE      FLOOR  ZONE   TIME ZONE   RTSP URL SECRET",
        "busan-dock-02      -               BUSAN     -      -      Asia/Seoul  -",
        "seoul-hq-lobby-01  Lobby entrance  SEOUL-HQ  1      lobby  Asia/Seoul  "
        "facewatch/SEOUL-HQ/seoul-hq-lobby-01/rtsp-url",
        "2 camera(s)",
    ]


def test_list_json_of_one_site(cli: Cli, camera_table: str) -> None:
    cli("cameras", "add", *LOBBY, "--table", camera_table)
    cli("cameras", "add", "busan-dock-02", "--site", "BUSAN", "--timezone", "Asia/Seoul", "--table", camera_table)

    run = cli("cameras", "list", "--site", "SEOUL-HQ", "--json", "--table", camera_table)

    assert json.loads(run.out) == [
        {
            "camera_id": "seoul-hq-lobby-01",
            "display_name": "Lobby entrance",
            "site": "SEOUL-HQ",
            "floor": "1",
            "zone": "lobby",
            "timezone": "Asia/Seoul",
            "rtsp_url_secret": "facewatch/SEOUL-HQ/seoul-hq-lobby-01/rtsp-url",
        }
    ]


def test_list_warns_about_an_entry_alerts_ignore(cli: Cli, aws, camera_table: str) -> None:
    aws.client("dynamodb").put_item(
        TableName=camera_table, Item={"camera_id": {"S": "roof"}, "timezone": {"S": "Mars/Olympus"}}
    )

    run = cli("cameras", "list", "--table", camera_table)

    assert run.code == 0
    assert "registry entry roof is invalid, left out: timezone: Value error, unknown IANA time zone" in run.err
    assert run.out.splitlines()[-1] == "0 camera(s)"


def test_remove_deletes_the_camera(cli: Cli, aws, camera_table: str) -> None:
    cli("cameras", "add", *LOBBY, "--table", camera_table)

    run = cli("cameras", "remove", "seoul-hq-lobby-01", "--table", camera_table)

    assert run.code == 0
    assert item(aws, camera_table, "seoul-hq-lobby-01") is None
    assert "It still alerts, known by its stream name" in run.out


def test_removing_an_unregistered_camera_fails(cli: Cli, camera_table: str) -> None:
    run = cli("cameras", "remove", "nowhere", "--table", camera_table)

    assert run.code == 1
    assert run.err.strip() == f"facewatch: camera nowhere is not registered in {camera_table}"


def test_the_table_comes_from_the_stack_outputs(cli: Cli, aws_clients: AwsClients, camera_table: str) -> None:
    cloudformation = aws_clients.stub("cloudformation")
    cloudformation.add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "facewatch", "CreationTime": "2025-11-22T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
                     "Outputs": [{"OutputKey": "CameraTableName", "OutputValue": camera_table}]}]},
        {"StackName": "facewatch"},
    )  # fmt: skip

    run = cli("cameras", "list", "--stack", "facewatch")

    assert run.code == 0, run.err
    assert run.out.splitlines()[-1] == "0 camera(s)"


def test_a_stack_without_the_output_is_reported(cli: Cli, aws_clients: AwsClients) -> None:
    aws_clients.stub("cloudformation").add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "old", "CreationTime": "2025-11-22T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
                     "Outputs": [{"OutputKey": "AlertTopicArn", "OutputValue": "arn:aws:sns:us-east-1:1:t"}]}]},
    )  # fmt: skip

    run = cli("cameras", "list", "--stack", "old")

    assert run.code == 1
    assert (
        run.err.strip()
        == "facewatch: stack old has no output CameraTableName; give --table NAME (outputs: AlertTopicArn)"
    )


def test_a_missing_stack_is_one_line(cli: Cli, aws_clients: AwsClients) -> None:
    aws_clients.stub("cloudformation").add_client_error(
        "describe_stacks", "ValidationError", "Stack with id gone does not exist"
    )

    run = cli("cameras", "list", "--stack", "gone")

    assert run.code == 1
    assert run.err.strip() == "facewatch: DescribeStacks failed: ValidationError: Stack with id gone does not exist"


def test_without_table_or_stack_the_command_says_what_to_give(cli: Cli) -> None:
    run = cli("cameras", "list")

    assert run.code == 1
    assert "give --table NAME or --stack STACK" in run.err
