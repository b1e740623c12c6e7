"""A camera registered with `facewatch cameras add` is what the alert stage reads (CameraRegistry, on
moto) and what the security team sees: email text in the camera's local time, OpenSearch location, SNS
attributes. A camera removed again still alerts, by its stream name, in UTC."""

from __future__ import annotations

import boto3
import pytest
from scripts.make_alert_events import CAMERA_ID, sample_job
from tests.cli.support import Cli, provide_camera

from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.domain.cameras import CameraPlace
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.document import alert_document
from facewatch.domain.notification import AlertContext, Phase, compose_email, message_attributes

NO_CLIP = ClipOutcome.missing("the video was still not available after 5 attempts (ResourceNotFoundException)")


def email_for(place: CameraPlace) -> str:
    first_message = AlertContext(
        job=sample_job(), place=place, clip=None, link=None, notified_at=1763776851.0, phase=Phase.SNAPSHOT
    )
    return compose_email(first_message)


@pytest.fixture(autouse=True)
def _stream_and_secret(aws: boto3.session.Session) -> None:
    provide_camera(aws, CAMERA_ID, "facewatch/SEOUL-HQ/lobby/rtsp-url")


def registered_place(aws: boto3.session.Session, table: str) -> CameraPlace:
    return CameraRegistry(table, dynamodb=aws.client("dynamodb")).place_of(CAMERA_ID)


def test_a_camera_added_by_the_cli_names_its_place_in_the_alert_email(cli: Cli, aws, camera_table: str) -> None:
    run = cli(
        "cameras", "add", CAMERA_ID, "--site", "SEOUL-HQ", "--floor", "1", "--zone", "lobby",
        "--display-name", "Lobby entrance", "--timezone", "Asia/Seoul",
        "--rtsp-url-secret", "facewatch/SEOUL-HQ/lobby/rtsp-url", "--table", camera_table,
    )  # fmt: skip
    assert run.code == 0, run.err

    email = email_for(registered_place(aws, camera_table))

    assert email.splitlines()[:5] == [
        f"A face that matches no employee was seen on camera Lobby entrance ({CAMERA_ID}).",
        "",
        f"Camera:     Lobby entrance ({CAMERA_ID})",
        "Where:      SEOUL-HQ, floor 1, zone lobby",
        "When:       2025-11-22 11:00:01 KST (Asia/Seoul) = 2025-11-22 02:00:01 UTC",
    ]


def test_a_camera_added_by_the_cli_locates_the_search_document_and_the_sns_attributes(
    cli: Cli, aws, camera_table: str
) -> None:
    cli("cameras", "add", CAMERA_ID, "--site", "SEOUL-HQ", "--zone", "lobby", "--timezone", "Asia/Seoul",
        "--table", camera_table)  # fmt: skip
    place = registered_place(aws, camera_table)

    document = alert_document(AlertContext(job=sample_job(), place=place, clip=NO_CLIP, link=None, notified_at=0))

    assert document["location"] == {"site": "SEOUL-HQ", "zone": "lobby", "timezone": "Asia/Seoul"}
    assert message_attributes(place)["site"] == {"DataType": "String", "StringValue": "SEOUL-HQ"}


def test_a_removed_camera_still_alerts_by_its_stream_name_in_utc(cli: Cli, aws, camera_table: str) -> None:
    cli("cameras", "add", CAMERA_ID, "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul", "--table", camera_table)
    cli("cameras", "remove", CAMERA_ID, "--table", camera_table)

    email = email_for(registered_place(aws, camera_table))

    assert f"Camera:     {CAMERA_ID}" in email.splitlines()
    assert "Where:" not in email
    assert "When:       2025-11-22 02:00:01 UTC (UTC) = 2025-11-22 02:00:01 UTC" in email.splitlines()
