"""`facewatch cameras import FILE` and the checks `cameras add` makes: bulk registration from one file, every
entry validated with its position named, nothing written when one is wrong, idempotent re-runs; a camera
whose video stream or RTSP URL secret does not exist is refused (moto)."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from tests.cli.support import Cli, provide_camera

STACK = "facewatch-seoul"
LOBBY, DOCK, ROOF = f"{STACK}_Lobby01", f"{STACK}_Dock02", f"{STACK}_Roof03"
CAMERAS_YAML = f"""\
cameras:
  - id: {LOBBY}
    display_name: Lobby entrance
    site: SEOUL-HQ
    floor: 1
    zone: lobby
    timezone: Asia/Seoul
    rtsp_url_secret: {STACK}/Lobby01/rtsp-url
  - id: {DOCK}
    display_name: Loading dock
    site: SEOUL-HQ
    floor: B1
    zone: dock
    timezone: Asia/Seoul
    rtsp_url_secret: ssm:/{STACK}/Dock02/rtsp-url
"""


@pytest.fixture
def provided(aws: boto3.session.Session) -> None:
    provide_camera(aws, LOBBY, f"{STACK}/Lobby01/rtsp-url")
    provide_camera(aws, DOCK, f"ssm:/{STACK}/Dock02/rtsp-url")
    provide_camera(aws, ROOF)


def write(tmp_path: Path, text: str, name: str = "cameras.yaml") -> str:
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def registry(aws: boto3.session.Session, table: str) -> dict[str, dict[str, str]]:
    items = aws.client("dynamodb").scan(TableName=table)["Items"]
    return {item["camera_id"]["S"]: {name: value["S"] for name, value in item.items()} for item in items}


@pytest.mark.usefixtures("provided")
def test_import_registers_every_camera_of_the_file(cli: Cli, aws, camera_table: str, tmp_path: Path) -> None:
    run = cli("cameras", "import", write(tmp_path, CAMERAS_YAML), "--table", camera_table)

    assert run.code == 0, run.err
    assert registry(aws, camera_table)[LOBBY] == {
        "camera_id": LOBBY,
        "display_name": "Lobby entrance",
        "site": "SEOUL-HQ",
        "floor": "1",
        "zone": "lobby",
        "timezone": "Asia/Seoul",
        "rtsp_url_secret": f"{STACK}/Lobby01/rtsp-url",
    }
    assert registry(aws, camera_table)[DOCK]["rtsp_url_secret"] == f"ssm:/{STACK}/Dock02/rtsp-url"
    assert run.out.splitlines()[-1].startswith(f"Imported cameras.yaml into {camera_table}: 2 created, 0 updated")


@pytest.mark.usefixtures("provided")
def test_importing_the_same_file_again_changes_nothing(cli: Cli, aws, camera_table: str, tmp_path: Path) -> None:
    path = write(tmp_path, CAMERAS_YAML)
    cli("cameras", "import", path, "--table", camera_table)
    before = registry(aws, camera_table)

    again = cli("cameras", "import", path, "--table", camera_table)

    assert again.code == 0, again.err
    assert again.out.splitlines() == [
        f"Imported cameras.yaml into {camera_table}: 0 created, 0 updated, 2 unchanged. "
        "Alerts use them within 5 minutes."
    ]
    assert registry(aws, camera_table) == before


@pytest.mark.usefixtures("provided")
def test_an_edited_file_updates_the_changed_camera_and_adds_the_new_one(
    cli: Cli, aws, camera_table: str, tmp_path: Path
) -> None:
    cli("cameras", "import", write(tmp_path, CAMERAS_YAML), "--table", camera_table)
    edited = CAMERAS_YAML.replace("Loading dock", "Dock gate") + (
        f"  - {{id: {ROOF}, site: SEOUL-HQ, timezone: Asia/Seoul}}\n"
    )

    run = cli("cameras", "import", write(tmp_path, edited), "--table", camera_table)

    assert run.code == 0, run.err
    assert run.out.splitlines()[:2] == [f"Created {ROOF}", f"Updated Dock gate ({DOCK})"]
    assert "1 created, 1 updated, 1 unchanged" in run.out
    assert registry(aws, camera_table)[DOCK]["display_name"] == "Dock gate"


@pytest.mark.usefixtures("provided")
def test_one_bad_entry_names_its_position_and_writes_nothing(cli: Cli, aws, camera_table: str, tmp_path: Path) -> None:
    bad = CAMERAS_YAML.replace(
        "timezone: Asia/Seoul\n    rtsp_url_secret: ssm", "timezone: Asia/Seol\n    rtsp_url_secret: ssm"
    )
    bad += (
        "  - {id: lobby cam, site: X, timezone: UTC}\n  - site: X\n  - {id: x, site: X, timezone: UTC, colour: red}\n"
    )

    run = cli("cameras", "import", write(tmp_path, bad), "--table", camera_table)

    assert run.code == 1
    problems = run.err.splitlines()
    assert problems[:3] == [
        f"facewatch: warning: {tmp_path}/cameras.yaml: camera 4: missing id, timezone",
        f"facewatch: warning: {tmp_path}/cameras.yaml: camera 5: unknown key(s) colour "
        "(known: id, display_name, site, floor, zone, timezone, rtsp_url_secret)",
        f"facewatch: warning: {tmp_path}/cameras.yaml: camera 2 ({DOCK}): camera {DOCK} not registered: "
        "timezone: Value error, unknown IANA time zone 'Asia/Seol'",
    ]
    assert "camera 3 (lobby cam): camera id 'lobby cam' is not a Kinesis video stream name" in problems[3]
    assert problems[-1] == f"facewatch: 4 of 5 camera(s) in {tmp_path}/cameras.yaml are invalid; nothing was registered"
    assert registry(aws, camera_table) == {}


def test_import_refuses_cameras_whose_stream_or_secret_does_not_exist(
    cli: Cli, aws, camera_table: str, tmp_path: Path
) -> None:
    provide_camera(aws, DOCK)  # the stream only: the SSM parameter is missing

    run = cli("cameras", "import", write(tmp_path, CAMERAS_YAML), "--table", camera_table)

    assert run.code == 1
    assert f"camera 1 ({LOBBY}): no Kinesis video stream {LOBBY}: deploy it with the stack's CameraNames" in run.err
    assert f"camera 2 ({DOCK}): no SSM parameter /{STACK}/Dock02/rtsp-url" in run.err
    assert registry(aws, camera_table) == {}


def test_a_json_file_and_a_bare_list_are_read_too(cli: Cli, aws, camera_table: str, tmp_path: Path) -> None:
    path = write(tmp_path, f'[{{"id": "{ROOF}", "site": "SEOUL-HQ", "timezone": "UTC"}}]', "cameras.json")

    run = cli("cameras", "import", path, "--table", camera_table, "--no-verify")

    assert run.code == 0, run.err
    assert registry(aws, camera_table)[ROOF]["timezone"] == "UTC"


@pytest.mark.parametrize(
    ("text", "message"),
    [("cameras: {}\n", "expected a list of cameras"), ("- [unclosed\n", "not YAML")],
)
def test_a_file_that_is_no_camera_list_is_refused(
    cli: Cli, camera_table: str, tmp_path: Path, text: str, message: str
) -> None:
    run = cli("cameras", "import", write(tmp_path, text), "--table", camera_table)

    assert run.code == 1
    assert message in run.err


def test_add_refuses_a_camera_whose_video_stream_does_not_exist(cli: Cli, aws, camera_table: str) -> None:
    run = cli("cameras", "add", ROOF, "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul", "--table", camera_table)

    assert run.code == 1
    assert run.err.strip() == (
        f"facewatch: camera {ROOF} not registered: no Kinesis video stream {ROOF}: deploy it with the stack's "
        f"CameraNames, or `aws kinesisvideo create-stream --stream-name {ROOF} --data-retention-in-hours 24` "
        "(or add --no-verify)"
    )
    assert registry(aws, camera_table) == {}


def test_add_refuses_a_camera_whose_secret_does_not_exist(cli: Cli, aws, camera_table: str) -> None:
    provide_camera(aws, ROOF)

    run = cli("cameras", "add", ROOF, "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul",
              "--rtsp-url-secret", f"{STACK}/Roof03/rtsp-url", "--table", camera_table)  # fmt: skip

    assert run.code == 1
    assert f"no Secrets Manager secret {STACK}/Roof03/rtsp-url" in run.err
    assert registry(aws, camera_table) == {}
