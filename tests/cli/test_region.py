"""The CLI's Region: --region before the command group or after any subcommand, else AWS_REGION (which boto3
alone ignores), else the SDK's configuration; without any, one line says what to set."""

from __future__ import annotations

import pytest
from facewatch_cli.main import build_parser
from tests.cli.support import Cli, provide_camera

CAMERA = "facewatch-seoul_Lobby01"


@pytest.fixture
def lobby(cli: Cli, aws, camera_table: str) -> str:
    provide_camera(aws, CAMERA, "facewatch-seoul/Lobby01/rtsp-url")
    run = cli("cameras", "add", CAMERA, "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul",
              "--rtsp-url-secret", "facewatch-seoul/Lobby01/rtsp-url", "--table", camera_table)  # fmt: skip
    assert run.code == 0, run.err
    return camera_table


def proxy_region(cli: Cli, table: str, before: tuple[str, ...] = (), after: tuple[str, ...] = ()) -> str:
    """The Region the kit is rendered for, with these arguments before the command group and after it."""
    run = cli(*before, "proxy", "config", "--site", "SEOUL-HQ", "--table", table,
              "--credentials", "instance-profile", *after)  # fmt: skip
    assert run.code == 0, run.err
    [line] = [line for line in run.out.splitlines() if line.startswith("AWS_REGION=")]
    return line


@pytest.mark.usefixtures("fresh_cli_session")
def test_aws_region_is_honoured_without_aws_default_region(
    cli: Cli, lobby: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("AWS_REGION", "eu-west-1")

    assert proxy_region(cli, lobby) == "AWS_REGION=eu-west-1"


@pytest.mark.usefixtures("fresh_cli_session")
def test_region_after_the_subcommand_is_accepted_and_wins(cli: Cli, lobby: str) -> None:
    assert proxy_region(cli, lobby, after=("--region", "ap-northeast-2")) == "AWS_REGION=ap-northeast-2"


@pytest.mark.usefixtures("fresh_cli_session")
def test_region_before_the_command_group_still_works(cli: Cli, lobby: str) -> None:
    assert proxy_region(cli, lobby, before=("--region=eu-central-1",)) == "AWS_REGION=eu-central-1"


@pytest.mark.usefixtures("fresh_cli_session")
def test_without_any_region_the_error_says_what_to_set(
    cli: Cli, lobby: str, monkeypatch: pytest.MonkeyPatch, tmp_path
) -> None:
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.delenv("AWS_REGION")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))

    run = cli("proxy", "config", "--site", "SEOUL-HQ", "--table", lobby, "--credentials", "instance-profile")

    assert run.code == 1
    assert run.err.strip() == "facewatch: no AWS Region configured (use --region or set AWS_REGION)"


@pytest.mark.parametrize(
    "argv",
    [
        ["status", "--region", "eu-west-1"],
        ["cameras", "list", "--region", "eu-west-1", "--profile", "ops"],
        ["faces", "list", "--region", "eu-west-1"],
        ["sampler", "run", "--camera", "c", "--stream-name", "s", "--collection-id", "x", "--region", "eu-west-1"],
    ],
)
def test_every_subcommand_takes_region_and_profile(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)

    assert args.region == "eu-west-1"
