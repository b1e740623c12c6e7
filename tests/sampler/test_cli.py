"""`facewatch sampler run` as an operator (or the systemd unit) runs it."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber
from facewatch_cli.main import build_parser, main
from facewatch_cli.sampler import settings_from, stack_settings
from facewatch_local.moto_server import emulated_aws
from tests.sampler.scene import write_video
from tests.support.local_domain import closed_port

CAMERA_ID = "lobby-01"
STREAM_NAME = "lobby-01-faces"


@pytest.fixture
def empty_room(tmp_path: Path) -> Path:
    """3 s of an empty room: the local detector finds no face, so Rekognition is never asked."""
    return write_video(tmp_path / "empty.avi", scene=(), duration=3.0)


def test_run_samples_a_file_into_the_cameras_stream_and_prints_a_summary(
    aws: boto3.session.Session,
    empty_room: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # given the camera's video and data streams, and settings from the unit's environment
    aws.client("kinesisvideo").create_stream(StreamName=CAMERA_ID, DataRetentionInHours=24)
    aws.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)
    monkeypatch.setenv("FACEWATCH_SAMPLER_STREAM_NAME", STREAM_NAME)
    monkeypatch.setenv("RUNTIME_DIRECTORY", str(tmp_path))

    # when
    code = main(
        [
            "sampler",
            "run",
            "--camera",
            CAMERA_ID,
            "--source",
            str(empty_room),
            "--collection-id",
            "employees",
            "--duration",
            "30",
        ]
    )

    # then
    assert code == 0
    # the summary is the last line (the sampler's JSON log lines go to stdout too, for journald)
    summary = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert summary["frames_sampled"] == 6
    assert summary["frames_without_face"] == 6
    assert summary["rekognition_calls"] == {}
    assert json.loads((tmp_path / "status.json").read_text())["camera_id"] == CAMERA_ID


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--face-match-threshold", "40"], "face match threshold must be in [50, 100]"),
        (["--camera", "lobby 01"], "camera must be a Kinesis video stream name"),
    ],
)
def test_bad_settings_end_the_command_with_one_line(
    arguments: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    base = ["--camera", CAMERA_ID, "--source", "rtsp://cam/1", "--stream-name", STREAM_NAME, "--collection-id", "e"]

    code = main(["sampler", "run", *base, *arguments])

    assert code == 1
    assert message in capsys.readouterr().err


def test_without_a_source_the_camera_url_comes_from_its_secret(
    aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    aws.client("secretsmanager").create_secret(Name="facewatch/lobby-01/rtsp", SecretString="ftp://not-a-camera")
    monkeypatch.setenv("FACEWATCH_RTSP_URL_STORE", "secretsmanager")
    monkeypatch.setenv("FACEWATCH_RTSP_URL_SECRET", "facewatch/lobby-01/rtsp")

    code = main(["sampler", "run", "--camera", CAMERA_ID, "--stream-name", STREAM_NAME, "--collection-id", "e"])

    assert code == 1
    assert "does not hold a camera URL" in capsys.readouterr().err


def test_on_a_host_without_opencv_the_cli_still_works_and_the_sampler_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # given an operator's laptop: the facewatch CLI installed, OpenCV not
    for name in [name for name in sys.modules if name.startswith("facewatch_sampler.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "cv2", None)

    # when (the parser of every command group is built on the way)
    code = main(
        ["sampler", "run", "--camera", CAMERA_ID, "--source", "a.avi", "--stream-name", "s", "--collection-id", "c"]
    )

    # then
    assert code == 1
    assert "image mode needs cv2: pip install 'facewatch[sampler]' on this host" in capsys.readouterr().err


def test_a_trial_whose_source_file_is_missing_exits_1_at_once_with_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    # given a --source that does not exist (it used to be retried for the whole run, then exit 0)
    missing = tmp_path / "lobby.mp4"

    # when
    code = main(["sampler", "run", "--camera", CAMERA_ID, "--source", str(missing), "--stream-name", STREAM_NAME,
                 "--collection-id", "e", "--duration", "60"])  # fmt: skip

    # then
    assert code == 1
    assert capsys.readouterr().err.splitlines() == [f"facewatch: cannot read --source {missing}: no such file"]


def test_a_trial_with_a_wrong_stream_name_exits_1_before_reading_the_camera(
    aws: boto3.session.Session, empty_room: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # given no data stream of that name (it used to log ResourceNotFoundException and exit 0)
    code = main(["sampler", "run", "--camera", CAMERA_ID, "--source", str(empty_room), "--stream-name", "lobby-01",
                 "--collection-id", "e", "--duration", "30"])  # fmt: skip

    # then
    assert code == 1
    err = capsys.readouterr().err.splitlines()
    assert err == [
        "facewatch: Kinesis data stream lobby-01 not found in us-east-1: give the stack's face-search stream "
        "(--stack NAME, or the name in its FaceSearchStreamArn output)"
    ]


def test_a_source_that_cannot_be_decoded_ends_the_run_with_one_line_and_no_ffmpeg_chatter(
    tmp_path: Path, empty_room: Path
) -> None:
    # given a file FFmpeg complains about ("[avi @ 0x...] Something went wrong during header parsing"),
    # run as the systemd unit runs it: a separate process, stderr and stdout as journald gets them
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00AVI LIST" + bytes(range(256)) * 20)
    with emulated_aws("us-east-1"):
        session = boto3.session.Session()
        session.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)
        arn = session.client("kinesisvideo").create_stream(StreamName=CAMERA_ID, DataRetentionInHours=24)["StreamARN"]
        env = {name: value for name, value in os.environ.items() if not name.startswith("OPENCV_")}

        # when
        result = subprocess.run(
            [sys.executable, "-m", "facewatch_cli", "sampler", "run", "--camera", CAMERA_ID, "--source", str(broken),
             "--stream-name", STREAM_NAME, "--collection-id", "e", "--kvs-stream-arn", arn, "--duration", "20"],
            capture_output=True, text=True, timeout=60, env=env, check=False,
        )  # fmt: skip

    # then: exit 1, one line on stderr, and stdout is JSON lines only (the log, then the summary)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"facewatch: cannot decode video file {broken}"]
    logs = [json.loads(line) for line in result.stdout.splitlines()]
    assert any(entry.get("message") == "sampler stopped" for entry in logs)


def test_stack_supplies_the_stream_the_collection_the_threshold_and_the_fleet_size(
    aws: boto3.session.Session,
) -> None:
    # given a deployed stack's description, as CloudFormation returns it
    stack = {
        "StackName": "facewatch-seoul",
        "CreationTime": "2026-12-01T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [
            {
                "OutputKey": "FaceSearchStreamArn",
                "OutputValue": "arn:aws:kinesis:us-east-1:123456789012:stream/facewatch-seoul-FaceSearchStream-AbC",
            },
            {"OutputKey": "EmployeeCollectionId", "OutputValue": "facewatch-seoul-employees"},
            {"OutputKey": "FaceMatchThreshold", "OutputValue": "92"},
            {"OutputKey": "SamplerMetricsNamespace", "OutputValue": "Facewatch/Sampler"},
        ],
        "Parameters": [
            {"ParameterKey": "CameraNames", "ParameterValue": "Lobby01,Floor3East,Garage"},
        ],
    }
    client = aws.client("cloudformation")
    stubber = Stubber(client)
    stubber.add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "facewatch-seoul"})
    session = _SessionWith(aws, client)

    # when
    with stubber:
        found = stack_settings(session, "facewatch-seoul")  # type: ignore[arg-type]
    parser = build_parser()
    args = parser.parse_args(["sampler", "run", "--camera", CAMERA_ID, "--stack", "facewatch-seoul"])
    settings = settings_from(args, "rtsp://cam/1", found)

    # then
    assert settings.stream_name == "facewatch-seoul-FaceSearchStream-AbC"
    assert settings.collection_id == "facewatch-seoul-employees"
    assert settings.face_match_threshold == 92.0
    assert settings.fleet_cameras == 3
    assert settings.account_tps is None  # the template has no RekognitionAccountTps: the Region's default
    assert found.metrics_namespace == "Facewatch/Sampler"  # CameraOnline where the offline alarms look


class _SessionWith:
    """A session whose CloudFormation client is the stubbed one."""

    def __init__(self, session: boto3.session.Session, client: object) -> None:
        self._session = session
        self._client = client

    def client(self, name: str, **kwargs: object) -> object:
        return self._client if name == "cloudformation" else self._session.client(name)  # type: ignore[call-overload]


def _subcommand(parser: argparse.ArgumentParser, name: str) -> argparse.ArgumentParser:
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    chosen: argparse.ArgumentParser = commands.choices[name]
    return chosen


def test_the_help_names_the_stacks_face_search_stream() -> None:
    run = _subcommand(_subcommand(build_parser(), "sampler"), "run")
    help_text = " ".join(run.format_help().split())

    assert "the camera's Kinesis data stream" not in help_text
    assert "FaceSearchStream" in help_text


def test_a_trial_whose_camera_never_answers_exits_1_with_the_reason(
    aws: boto3.session.Session, capsys: pytest.CaptureFixture[str]
) -> None:
    # given a camera URL nothing listens on (a closed port on 127.0.0.1)
    aws.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)
    url = f"rtsp://127.0.0.1:{closed_port()}/Streaming/Channels/101"
    arn = f"arn:aws:kinesisvideo:us-east-1:123456789012:stream/{CAMERA_ID}/1598784211076"

    # when a 2 s trial runs (a service would go on reconnecting)
    code = main(["sampler", "run", "--camera", CAMERA_ID, "--source", url, "--stream-name", STREAM_NAME,
                 "--collection-id", "e", "--kvs-stream-arn", arn, "--duration", "2"])  # fmt: skip

    # then
    assert code == 1
    # (the last line: in this process the sampler's JSON log may go to an earlier test's captured stream)
    assert capsys.readouterr().err.splitlines()[-1] == f"facewatch: camera {CAMERA_ID} sent no frame: cannot open {url}"
