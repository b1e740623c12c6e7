"""`facewatch proxy config`: the site proxy kit rendered from the registry (moto), its shell scripts
checked by `sh -n` (and shellcheck, `systemd-analyze verify` where installed)."""

from __future__ import annotations

import os
import re
import shutil
import stat
import subprocess
from pathlib import Path

import pytest
from facewatch_cli import proxy_kit
from facewatch_cli.proxy_kit import ProxySettings, SamplerSettings
from facewatch_cli.registry import RegisteredCamera, RtspUrlSecret
from tests.cli.support import AwsClients, Cli, provide_camera

from facewatch.domain.cameras import CameraPlace

LOBBY = "facewatch-seoul_Lobby01"
DOCK = "facewatch-seoul_Dock02"
ROLE_ALIAS = "facewatch-seoul-proxy"
IOT_ENDPOINT = "c1a2b3c4d5e6f7.credentials.iot.us-east-1.amazonaws.com"
SYSTEM_UNITS = Path("/usr/lib/systemd/system")
# The kit's namespace: facewatch-<stack>-<site>, here without --stack.
KIT = "facewatch-seoul-hq"
CONF = f"root/etc/facewatch-proxy/{KIT}"
LIB = f"root/usr/local/lib/facewatch-proxy/{KIT}"
UNITS = "root/etc/systemd/system"
SCRIPTS = ["install.sh", f"{LIB}/stream-camera", f"{LIB}/health-check"]


@pytest.fixture
def seoul(cli: Cli, aws, camera_table: str) -> str:
    provide_camera(aws, LOBBY, f"facewatch/SEOUL-HQ/{LOBBY}/rtsp-url")
    provide_camera(aws, DOCK, f"ssm:/facewatch/{DOCK}/rtsp-url")
    provide_camera(aws, "facewatch-busan_Gate1", "busan/gate1")
    provide_camera(aws, "facewatch-seoul_Roof03")
    cameras = [
        [LOBBY, "--floor", "1", "--zone", "lobby", "--display-name", "Lobby entrance",
         "--rtsp-url-secret", f"facewatch/SEOUL-HQ/{LOBBY}/rtsp-url"],
        [DOCK, "--display-name", "Loading dock (100% coverage)",
         "--rtsp-url-secret", f"ssm:/facewatch/{DOCK}/rtsp-url"],
    ]  # fmt: skip
    for camera in cameras:
        assert (
            cli(
                "cameras", "add", *camera, "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul", "--table", camera_table
            ).code
            == 0
        )
    assert cli("cameras", "add", "facewatch-busan_Gate1", "--site", "BUSAN", "--timezone", "Asia/Seoul",
               "--rtsp-url-secret", "busan/gate1", "--table", camera_table).code == 0  # fmt: skip
    return camera_table


def config(cli: Cli, table: str, *arguments: str):
    return cli("proxy", "config", "--site", "SEOUL-HQ", "--table", table, *arguments)


def kit(out: Path) -> dict[str, str]:
    return {str(path.relative_to(out)): path.read_text() for path in sorted(out.rglob("*")) if path.is_file()}


def test_each_camera_of_the_site_gets_a_unit_that_restarts_and_fetches_its_url(
    cli: Cli, seoul: str, tmp_path: Path
) -> None:
    run = config(
        cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", str(tmp_path / "kit")
    )

    assert run.code == 0, run.err
    files = kit(tmp_path / "kit")
    lobby = files[f"{UNITS}/{KIT}-camera-{LOBBY}.service"]
    assert f"Environment=FACEWATCH_STREAM_NAME={LOBBY}" in lobby.splitlines()
    assert "Environment=FACEWATCH_RTSP_URL_STORE=secretsmanager" in lobby.splitlines()
    assert f"Environment=FACEWATCH_RTSP_URL_SECRET=facewatch/SEOUL-HQ/{LOBBY}/rtsp-url" in lobby.splitlines()
    assert "Restart=always" in lobby.splitlines()
    assert f"ExecStart=/usr/local/lib/facewatch-proxy/{KIT}/stream-camera" in lobby.splitlines()
    dock = files[f"{UNITS}/{KIT}-camera-{DOCK}.service"]
    assert "Environment=FACEWATCH_RTSP_URL_STORE=ssm" in dock.splitlines()
    assert f"Environment=FACEWATCH_RTSP_URL_SECRET=/facewatch/{DOCK}/rtsp-url" in dock.splitlines()
    assert "Loading dock (100%% coverage)" in dock  # systemd would expand a lone % as a specifier
    assert files[f"{CONF}/cameras"] == f"{DOCK}\n{LOBBY}\n"
    assert not any("busan" in name.lower() for name in files)


def test_kvssink_gets_its_credentials_from_the_iot_certificate(cli: Cli, seoul: str, tmp_path: Path) -> None:
    config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", str(tmp_path / "kit"))

    files = kit(tmp_path / "kit")
    env = files[f"{CONF}/proxy.env"].splitlines()
    assert "AWS_REGION=us-east-1" in env
    assert f"IOT_CREDENTIAL_ENDPOINT={IOT_ENDPOINT}" in env
    assert f"IOT_ROLE_ALIAS={ROLE_ALIAS}" in env
    assert "IOT_THING_NAME=facewatch-proxy-seoul-hq" in env
    stream_camera = files[f"{LIB}/stream-camera"]
    assert 'set -- iot-certificate="$iot"' in stream_camera
    assert 'kvssink stream-name="$FACEWATCH_STREAM_NAME"' in stream_camera
    assert f"credential_process = /usr/local/lib/facewatch-proxy/{KIT}/iot-credentials" in files[f"{CONF}/aws-config"]


def test_no_secret_or_long_lived_key_is_in_the_kit(cli: Cli, seoul: str, tmp_path: Path) -> None:
    config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", str(tmp_path / "kit"))

    text = "\n".join(kit(tmp_path / "kit").values())
    assert not re.search(r"rtsps?://[^*\s]", text)  # only the script's `rtsp://*` pattern
    for forbidden in ["AKIA", "ASIA", "aws_secret_access_key", "access-key=", "secret-key="]:
        assert forbidden not in text


def test_the_iot_endpoint_defaults_to_the_accounts_credentials_provider(cli: Cli, seoul: str) -> None:
    run = config(cli, seoul, "--iot-role-alias", ROLE_ALIAS)

    assert run.code == 0, run.err
    # moto's DescribeEndpoint makes up a new prefix on each call.
    assert re.search(r"^IOT_CREDENTIAL_ENDPOINT=[a-z0-9]+\.credentials\.iot\.us-east-1\.amazonaws\.com$", run.out, re.M)


def test_the_role_alias_comes_from_the_stack(cli: Cli, aws_clients: AwsClients, seoul: str) -> None:
    aws_clients.stub("cloudformation").add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": "facewatch-seoul", "CreationTime": "2025-11-22T00:00:00Z",
                     "StackStatus": "CREATE_COMPLETE",
                     "Outputs": [{"OutputKey": "CameraTableName", "OutputValue": seoul},
                                 {"OutputKey": "ProxyRoleAliasName", "OutputValue": "from-the-stack"}]}]},
    )  # fmt: skip

    run = cli("proxy", "config", "--site", "SEOUL-HQ", "--stack", "facewatch-seoul", "--iot-endpoint", IOT_ENDPOINT)

    assert run.code == 0, run.err
    assert "IOT_ROLE_ALIAS=from-the-stack" in run.out.splitlines()


def test_without_a_role_alias_the_iot_kit_says_what_to_give(cli: Cli, seoul: str) -> None:
    run = config(cli, seoul, "--iot-endpoint", IOT_ENDPOINT)

    assert run.code == 1
    assert "give --iot-role-alias NAME or --stack STACK" in run.err


def test_an_instance_profile_kit_refreshes_temporary_credentials_for_kvssink(
    cli: Cli, seoul: str, tmp_path: Path
) -> None:
    run = config(cli, seoul, "--credentials", "instance-profile", "--out", str(tmp_path / "kit"))

    assert run.code == 0, run.err
    files = kit(tmp_path / "kit")
    assert f"KVS_CREDENTIAL_FILE=/run/facewatch-proxy/{KIT}/kvs-credential" in files[f"{CONF}/proxy.env"]
    assert not any(line.startswith("IOT_") for line in files[f"{CONF}/proxy.env"].splitlines())
    assert f"{UNITS}/{KIT}-kvs-credentials.timer" in files
    assert "refusing long-lived keys" in files[f"{LIB}/refresh-kvs-credentials"]
    lobby = files[f"{UNITS}/{KIT}-camera-{LOBBY}.service"]
    assert f"After=network-online.target {KIT}-kvs-credentials.service" in lobby.splitlines()
    assert f"{KIT}-kvs-credentials.timer {KIT}-health.timer" in files["install.sh"]


def test_printed_kit_names_each_file(cli: Cli, seoul: str) -> None:
    run = config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT)

    headers = [line for line in run.out.splitlines() if line.startswith("==> ")]
    assert headers[:2] == ["==> README.txt <==", "==> install.sh <=="]
    assert f"==> {UNITS}/{KIT}-camera-{LOBBY}.service <==" in headers


def test_written_scripts_are_executable(cli: Cli, seoul: str, tmp_path: Path) -> None:
    config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", str(tmp_path / "kit"))

    for script in [*SCRIPTS, f"{LIB}/iot-credentials"]:
        assert (tmp_path / "kit" / script).stat().st_mode & stat.S_IXUSR, script
    assert not (tmp_path / "kit" / CONF / "proxy.env").stat().st_mode & stat.S_IXUSR


def test_an_earlier_kit_is_replaced_only_with_force(cli: Cli, seoul: str, tmp_path: Path) -> None:
    out = str(tmp_path / "kit")
    config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", out)

    again = config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", out)
    forced = config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", out, "--force")

    assert again.code == 1
    assert "add --force to replace it" in again.err
    assert forced.code == 0


def test_a_directory_that_is_not_a_kit_is_never_replaced(cli: Cli, seoul: str, tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")

    run = config(
        cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT, "--out", str(tmp_path), "--force"
    )

    assert run.code == 1
    assert (tmp_path / "notes.txt").read_text() == "mine"


def test_a_camera_without_rtsp_secret_is_named(cli: Cli, seoul: str) -> None:
    cli("cameras", "add", "facewatch-seoul_Roof03", "--site", "SEOUL-HQ", "--timezone", "Asia/Seoul", "--table", seoul)

    run = config(cli, seoul, "--iot-role-alias", ROLE_ALIAS, "--iot-endpoint", IOT_ENDPOINT)

    assert run.code == 1
    assert run.err.startswith("facewatch: no RTSP URL secret for facewatch-seoul_Roof03: register it with")


def test_a_site_without_cameras_lists_the_sites(cli: Cli, seoul: str) -> None:
    run = cli("proxy", "config", "--site", "OSLO", "--table", seoul, "--iot-role-alias", ROLE_ALIAS)

    assert run.code == 1
    assert run.err.strip() == "facewatch: no camera registered at site OSLO (sites: BUSAN, SEOUL-HQ)"


def every_kit() -> list[list[proxy_kit.KitFile]]:
    camera = RegisteredCamera(
        CameraPlace(camera_id=LOBBY, display_name="Lobby", site="SEOUL-HQ", timezone="Asia/Seoul"),
        RtspUrlSecret.parse("facewatch/lobby"),
    )
    return [
        proxy_kit.render_kit(
            [camera], ProxySettings("SEOUL-HQ", "us-east-1", "iot-certificate", IOT_ENDPOINT, ROLE_ALIAS, "t")
        ),
        proxy_kit.render_kit([camera], ProxySettings("SEOUL-HQ", "us-east-1", "instance-profile")),
        proxy_kit.render_kit(
            [camera],
            ProxySettings(
                "SEOUL-HQ", "us-east-1", "instance-profile", sampler=SamplerSettings("fs", "emp", "80", "Ns/Sampler", 2)
            ),
        ),
    ]


@pytest.mark.parametrize("files", every_kit(), ids=["iot-certificate", "instance-profile", "image-mode"])
def test_the_scripts_are_valid_shell(files: list[proxy_kit.KitFile], tmp_path: Path) -> None:
    scripts = [kit_file for kit_file in files if kit_file.executable]
    assert len(scripts) >= 4
    for script in scripts:
        path = tmp_path / Path(script.path).name
        path.write_text(script.text)
        assert script.text.startswith("#!/bin/sh\n")
        result = subprocess.run(["sh", "-n", str(path)], capture_output=True, text=True, check=False)
        assert result.returncode == 0, f"{script.path}: {result.stderr}"
        if shutil.which("shellcheck"):
            result = subprocess.run(["shellcheck", "-s", "sh", str(path)], capture_output=True, text=True, check=False)
            assert result.returncode == 0, f"{script.path}: {result.stdout}"


@pytest.mark.skipif(
    not shutil.which("systemd-analyze") or not SYSTEM_UNITS.is_dir(), reason="systemd-analyze is not installed"
)
@pytest.mark.parametrize("files", every_kit(), ids=["iot-certificate", "instance-profile", "image-mode"])
def test_the_units_are_valid_systemd_units(files: list[proxy_kit.KitFile], tmp_path: Path) -> None:
    for kit_file in files:
        path = tmp_path / kit_file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kit_file.text)
        path.chmod(0o755 if kit_file.executable else 0o644)
    # The sampler is installed on the host beside the kit (image mode).
    sampler = tmp_path / "root" / proxy_kit.DEFAULT_SAMPLER_COMMAND.lstrip("/")
    sampler.parent.mkdir(parents=True)
    sampler.write_text("#!/bin/sh\n")
    sampler.chmod(0o755)
    units = sorted(str(path) for path in (tmp_path / "root/etc/systemd/system").iterdir())
    # The units refer to the system's own targets (network-online.target, multi-user.target, ...).
    shutil.copytree(SYSTEM_UNITS, tmp_path / "root" / SYSTEM_UNITS.relative_to("/"))

    result = subprocess.run(
        ["systemd-analyze", "verify", f"--root={tmp_path / 'root'}", "--man=no", *units],
        capture_output=True, text=True, check=False, env={**os.environ, "SYSTEMD_LOG_LEVEL": "warning"},
    )  # fmt: skip

    assert result.returncode == 0, result.stderr
