"""`facewatch sampler run` as an operator (or the systemd unit) runs it."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import boto3
import pytest
from facewatch_cli.main import main
from tests.sampler.scene import write_video

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
        (["--face-match-threshold", "70"], "face match threshold must be in [80, 100]"),
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
