"""`facewatch proxy config` for image mode, and kits sharing a host: each camera gets a sampler unit and its
environment file beside its kvssink unit, with what the stack's outputs say; two stacks' (or sites') kits
on one host never touch each other's units: their install.sh scripts run here against a scratch root
directory with a recording `systemctl`."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from facewatch_cli import proxy_kit
from facewatch_cli.proxy import write_kit
from facewatch_cli.proxy_kit import ProxySettings, SamplerSettings
from facewatch_cli.registry import RegisteredCamera, RtspUrlSecret
from tests.cli.support import AwsClients, Cli, provide_camera

from facewatch.domain.cameras import CameraPlace

STACK = "facewatch-seoul"
KIT = "facewatch-seoul-seoul-hq"
LOBBY, DOCK, GATE = f"{STACK}_Lobby01", f"{STACK}_Dock02", f"{STACK}_Gate03"
STREAM_ARN = f"arn:aws:kinesis:us-east-1:123456789012:stream/{STACK}-FaceSearchStream-AbC123"
IOT_ENDPOINT = "c1a2b3c4d5e6f7.credentials.iot.us-east-1.amazonaws.com"


@pytest.fixture
def seoul(cli: Cli, aws, aws_clients: AwsClients, camera_table: str) -> str:
    """Two cameras at SEOUL-HQ and one at BUSAN in the registry; the stack's outputs (image mode)."""
    for camera_id, site in ((LOBBY, "SEOUL-HQ"), (DOCK, "SEOUL-HQ"), (GATE, "BUSAN")):
        secret = f"{STACK}/{camera_id}/rtsp-url"
        provide_camera(aws, camera_id, secret)
        run = cli("cameras", "add", camera_id, "--site", site, "--timezone", "Asia/Seoul",
                  "--rtsp-url-secret", secret, "--table", camera_table)  # fmt: skip
        assert run.code == 0, run.err
    outputs = {
        "CameraTableName": camera_table,
        "DetectionMode": "image",
        "FaceSearchStreamArn": STREAM_ARN,
        "EmployeeCollectionId": f"{STACK}-employees",
        "FaceMatchThreshold": "85",
        "SamplerMetricsNamespace": "Facewatch/Sampler",
        "ProxyRoleAliasName": f"{STACK}-proxy",
    }
    aws_clients.stub("cloudformation").add_response(
        "describe_stacks",
        {"Stacks": [{"StackName": STACK, "CreationTime": "2025-11-22T00:00:00Z", "StackStatus": "CREATE_COMPLETE",
                     "Outputs": [{"OutputKey": k, "OutputValue": v} for k, v in outputs.items()]}]},
    )  # fmt: skip
    return camera_table


def kit(out: Path) -> dict[str, str]:
    return {str(path.relative_to(out)): path.read_text() for path in sorted(out.rglob("*")) if path.is_file()}


def test_an_image_mode_stack_gets_a_sampler_unit_and_env_file_per_camera(cli: Cli, seoul: str, tmp_path: Path) -> None:
    run = cli("proxy", "config", "--site", "SEOUL-HQ", "--stack", STACK, "--iot-endpoint", IOT_ENDPOINT,
              "--out", str(tmp_path / "kit"))  # fmt: skip

    assert run.code == 0, run.err
    assert run.out.splitlines()[0] == (
        f"Wrote the SEOUL-HQ proxy kit {KIT} (image mode: kvssink and a sampler per camera) for 2 camera(s) "
        f"to {tmp_path / 'kit'}/:"
    )
    files = kit(tmp_path / "kit")
    env = files[f"root/etc/facewatch-proxy/{KIT}/sampler/{LOBBY}.env"].splitlines()
    assert [line for line in env if not line.startswith("#")] == [
        f"FACEWATCH_SAMPLER_CAMERA={LOBBY}",
        f"FACEWATCH_SAMPLER_STREAM_NAME={STACK}-FaceSearchStream-AbC123",
        f"FACEWATCH_SAMPLER_COLLECTION_ID={STACK}-employees",
        "FACEWATCH_SAMPLER_FACE_MATCH_THRESHOLD=85",
        "FACEWATCH_SAMPLER_FLEET_CAMERAS=3",
        "FACEWATCH_SAMPLER_METRICS_NAMESPACE=Facewatch/Sampler",
        "FACEWATCH_RTSP_URL_STORE=secretsmanager",
        f"FACEWATCH_RTSP_URL_SECRET={STACK}/{LOBBY}/rtsp-url",
    ]
    unit = files[f"root/etc/systemd/system/{KIT}-sampler-{LOBBY}.service"].splitlines()
    assert f"After=network-online.target {KIT}-camera-{LOBBY}.service" in unit
    assert f"EnvironmentFile=/etc/facewatch-proxy/{KIT}/proxy.env" in unit
    assert f"EnvironmentFile=/etc/facewatch-proxy/{KIT}/sampler/{LOBBY}.env" in unit
    assert "ExecStart=/opt/facewatch-sampler/bin/facewatch sampler run" in unit
    assert "Restart=always" in unit
    assert files[f"root/etc/facewatch-proxy/{KIT}/units"].split() == [
        f"{KIT}-camera-{DOCK}.service",
        f"{KIT}-camera-{LOBBY}.service",
        f"{KIT}-sampler-{DOCK}.service",
        f"{KIT}-sampler-{LOBBY}.service",
    ]
    assert "FACEWATCH_DETECTION_MODE=image" in files[f"root/etc/facewatch-proxy/{KIT}/proxy.env"].splitlines()
    assert not any(GATE in name for name in files)


def test_a_stream_mode_kit_has_no_sampler(cli: Cli, seoul: str) -> None:
    run = cli("proxy", "config", "--site", "SEOUL-HQ", "--stack", STACK, "--iot-endpoint", IOT_ENDPOINT,
              "--detection-mode", "stream")  # fmt: skip

    assert run.code == 0, run.err
    files = [line for line in run.out.splitlines() if line.startswith("==> ")]
    assert f"==> root/etc/systemd/system/{KIT}-camera-{LOBBY}.service <==" in files
    assert not [name for name in files if "sampler" in name]
    assert "FACEWATCH_DETECTION_MODE=stream" in run.out.splitlines()


def camera(camera_id: str) -> RegisteredCamera:
    return RegisteredCamera(
        CameraPlace(camera_id=camera_id, site="SEOUL-HQ", timezone="Asia/Seoul"),
        RtspUrlSecret.parse(f"{camera_id}/rtsp-url"),
    )


def settings(stack: str, sampler: bool) -> ProxySettings:
    samplers = SamplerSettings("face-search", "employees", "80", "Facewatch/Sampler", 3) if sampler else None
    return ProxySettings(
        "SEOUL-HQ", "us-east-1", "instance-profile", kit=proxy_kit.kit_name(stack, "SEOUL-HQ"), sampler=samplers
    )


def install(kit_dir: Path, root: Path, log: Path) -> list[list[str]]:
    """Runs the kit's install.sh against `root`, with `systemctl` (and the user tools) recording their calls."""
    fake_bin = root.parent / "bin"
    fake_bin.mkdir(exist_ok=True)
    for tool in ("systemctl", "id", "useradd", "chown"):
        (fake_bin / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> "{log}"\n')
        (fake_bin / tool).chmod(0o755)
    log.write_text("")
    environment = {**os.environ, "PATH": f"{fake_bin}:{os.environ['PATH']}", "FACEWATCH_ROOT": str(root)}
    result = subprocess.run(["sh", str(kit_dir / "install.sh")], env=environment, capture_output=True, text=True,
                            timeout=30, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr
    return [line.split() for line in log.read_text().splitlines() if line.startswith("systemctl ")]


def test_two_stacks_kits_share_a_host_without_touching_each_others_units(tmp_path: Path) -> None:
    root, log = tmp_path / "host", tmp_path / "calls.log"
    sampler = root / "opt/facewatch-sampler/bin/facewatch"
    sampler.parent.mkdir(parents=True)
    sampler.write_text("#!/bin/sh\n")
    sampler.chmod(0o755)
    a, b = settings("facewatch-seoul-a", sampler=True), settings("facewatch-seoul-b", sampler=False)
    write_kit(proxy_kit.render_kit([camera("a_Lobby01"), camera("a_Dock02")], a), tmp_path / "kit-a", force=False)
    write_kit(proxy_kit.render_kit([camera("b_Gate01")], b), tmp_path / "kit-b", force=False)
    install(tmp_path / "kit-a", root, log)
    install(tmp_path / "kit-b", root, log)
    # Stack A drops a camera: its kit is regenerated and installed again.
    write_kit(proxy_kit.render_kit([camera("a_Lobby01")], a), tmp_path / "kit-a", force=True)

    calls = install(tmp_path / "kit-a", root, log)

    disabled = [call[-1] for call in calls if call[1] == "disable"]
    assert disabled == [f"{a.name}-camera-a_Dock02.service", f"{a.name}-sampler-a_Dock02.service"]
    assert not any(b.name in word for call in calls for word in call)
    units = sorted(path.name for path in (root / "etc/systemd/system").iterdir())
    assert f"{b.name}-camera-b_Gate01.service" in units
    assert f"{a.name}-camera-a_Dock02.service" not in units
    assert (root / f"etc/facewatch-proxy/{b.name}/proxy.env").exists()


def test_an_image_mode_kit_refuses_to_install_without_the_sampler(tmp_path: Path) -> None:
    kit_dir = tmp_path / "kit"
    write_kit(proxy_kit.render_kit([camera("a_Lobby01")], settings("facewatch-seoul-a", sampler=True)), kit_dir,
              force=False)  # fmt: skip

    result = subprocess.run(["sh", str(kit_dir / "install.sh")], env={**os.environ, "FACEWATCH_ROOT": str(tmp_path)},
                            capture_output=True, text=True, timeout=30, check=False)  # fmt: skip

    assert result.returncode == 1
    assert "install the sampler first (/opt/facewatch-sampler/bin/facewatch)" in result.stderr


def test_kit_names_keep_stacks_and_sites_apart() -> None:
    assert proxy_kit.kit_name("facewatch-seoul", "SEOUL-HQ") == "facewatch-seoul-seoul-hq"
    assert proxy_kit.kit_name("acme", "Busan Port") == "facewatch-acme-busan-port"
    assert proxy_kit.kit_name(None, "SEOUL-HQ") == "facewatch-seoul-hq"
    assert proxy_kit.kit_name("facewatch-seoul-a", "HQ") != proxy_kit.kit_name("facewatch-seoul-b", "HQ")
