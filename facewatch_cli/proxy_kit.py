"""The site proxy kit: what an office's proxy host runs to push each camera's RTSP feed into its Kinesis
video stream with the KVS producer SDK's GStreamer element (kvssink) and, in image mode, to sample each
camera's frames (`facewatch sampler run`). Pure: cameras and settings in, files (path -> text) out.

Every path and unit is namespaced by the kit's name (facewatch-<stack>-<site>), so several stacks' or sites' kits
share one host without touching each other: each install.sh manages only the units its own manifest lists.

Layout (paths under root/ are installed at /; KIT is the kit's name):
  install.sh, README.txt
  root/etc/facewatch-proxy/KIT/proxy.env        region, credentials source, kvssink location, mode
  root/etc/facewatch-proxy/KIT/aws-config       the AWS CLI profile the scripts use (never long-lived keys)
  root/etc/facewatch-proxy/KIT/cameras          the camera ids, one a line (the health check's list)
  root/etc/facewatch-proxy/KIT/units            the units this kit installs (install.sh's manifest)
  root/etc/facewatch-proxy/KIT/sampler/<id>.env image mode: each camera's sampler settings
  root/etc/systemd/system/KIT-camera-<id>.service    one per camera, restarted whenever it stops
  root/etc/systemd/system/KIT-sampler-<id>.service   image mode: one per camera, beside it
  root/etc/systemd/system/KIT-health.{service,timer}
  root/usr/local/lib/facewatch-proxy/KIT/stream-camera, health-check (+ the credentials helper)
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from facewatch_cli.registry import RegisteredCamera

CredentialsSource = Literal["iot-certificate", "instance-profile"]
CREDENTIALS_SOURCES: tuple[CredentialsSource, ...] = ("iot-certificate", "instance-profile")
DetectionMode = Literal["image", "stream"]
DETECTION_MODES: tuple[DetectionMode, ...] = ("image", "stream")

UNIT_DIR = "/etc/systemd/system"
SERVICE_USER = "facewatch-proxy"
DEFAULT_KVSSINK_DIR = "/opt/amazon-kinesis-video-streams-producer-sdk-cpp/build"
# Where `pip install` put the sampler on the host (docs/image-mode.md, "Install the sampler").
DEFAULT_SAMPLER_COMMAND = "/opt/facewatch-sampler/bin/facewatch"
SAMPLER_MEMORY_MAX_MB = 512
MARKER_FILE = ".facewatch-proxy-kit"
# 1080p H.264 from a security camera: 2-4 Mbit/s each, sent on unchanged (no transcoding).
UPLINK_MBITS_PER_CAMERA = (2, 4)
# kvssink's in-memory content store (MiB): 180 s of buffer at 4 Mbit/s is ~90 MiB, so a WAN outage of
# a few minutes loses no video.
KVS_STORAGE_SIZE_MB = 128
UNIT_MEMORY_MAX_MB = 384
HEALTH_WINDOW_SECONDS = 300
HEALTH_INTERVAL = "5min"
_UNIT_UNSAFE = re.compile(r"[\x00-\x1f\x7f]")
_NOT_KIT_NAME = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True, slots=True)
class SamplerSettings:
    """What each image-mode sampler of the kit is told (the stack's outputs)."""

    stream_name: str
    collection_id: str
    face_match_threshold: str
    metrics_namespace: str
    fleet_cameras: int
    command: str = DEFAULT_SAMPLER_COMMAND


@dataclass(frozen=True, slots=True)
class ProxySettings:
    site: str
    region: str
    credentials: CredentialsSource
    iot_endpoint: str | None = None
    iot_role_alias: str | None = None
    iot_thing_name: str | None = None
    kvssink_dir: str = DEFAULT_KVSSINK_DIR
    # The namespace of every path and unit (kit_name()); "" keeps the name of the site alone.
    kit: str = ""
    sampler: SamplerSettings | None = None  # image mode when set

    @property
    def name(self) -> str:
        return self.kit or kit_name(None, self.site)

    @property
    def mode(self) -> DetectionMode:
        return "image" if self.sampler is not None else "stream"

    @property
    def config_dir(self) -> str:
        return f"/etc/facewatch-proxy/{self.name}"

    @property
    def lib_dir(self) -> str:
        return f"/usr/local/lib/facewatch-proxy/{self.name}"

    @property
    def kvs_credential_file(self) -> str:
        return f"/run/facewatch-proxy/{self.name}/kvs-credential"

    def unit(self, role: str, camera_id: str | None = None) -> str:
        """<kit>-<role>[-<camera id>].service (or .timer when role ends with it)."""
        suffix = "" if role.endswith((".timer", ".service")) else ".service"
        return f"{self.name}-{role}" + (f"-{camera_id}" if camera_id else "") + suffix


def kit_name(stack: str | None, site: str) -> str:
    """<stack>-<site> in lowercase letters, digits and dashes, starting with facewatch: unique per stack and
    site on a host, e.g. facewatch-seoul-seoul-hq."""
    name = _NOT_KIT_NAME.sub("-", f"{stack or ''}-{site}".lower()).strip("-")
    return name if name.startswith("facewatch") else f"facewatch-{name}"


def unit_name(camera_id: str, settings: ProxySettings) -> str:
    return settings.unit("camera", camera_id)


def sampler_unit_name(camera_id: str, settings: ProxySettings) -> str:
    return settings.unit("sampler", camera_id)


def default_thing_name(site: str) -> str:
    return "facewatch-proxy-" + re.sub(r"[^a-zA-Z0-9_-]", "-", site).lower()


def _unit_text(value: str) -> str:
    """A value safe in a unit file's free text: no control characters, `%` escaped (systemd specifiers)."""
    return _UNIT_UNSAFE.sub(" ", value).replace("%", "%%")


def _describe(camera: RegisteredCamera) -> str:
    place = camera.place
    return f"{place.label}, {place.where}" if place.where else place.label


def camera_unit(camera: RegisteredCamera, settings: ProxySettings) -> str:
    secret = camera.rtsp_url_secret
    assert secret is not None
    after = "network-online.target"
    wants = "network-online.target"
    if settings.credentials == "instance-profile":
        after += " " + settings.unit("kvs-credentials")
        wants += " " + settings.unit("kvs-credentials")
    return f"""\
# facewatch camera {_unit_text(_describe(camera))}
# Generated by `facewatch proxy config --site {_unit_text(settings.site)}` (kit {settings.name}): regenerate it
# rather than edit it.
[Unit]
Description=facewatch {settings.name}: camera {_unit_text(camera.camera_id)} RTSP -> Kinesis video stream
Wants={wants}
After={after}
# Never give up: a camera reboot or a long WAN outage must not leave the unit failed for good.
StartLimitIntervalSec=0

[Service]
Type=exec
User={SERVICE_USER}
Group={SERVICE_USER}
EnvironmentFile={settings.config_dir}/proxy.env
Environment=FACEWATCH_STREAM_NAME={camera.camera_id}
# Where the RTSP URL (with its password) is kept; stream-camera fetches it at each start.
Environment=FACEWATCH_RTSP_URL_STORE={secret.store}
Environment=FACEWATCH_RTSP_URL_SECRET={secret.name}
ExecStart={settings.lib_dir}/stream-camera
# gst-launch exits 0 when the camera ends the stream: restart then too, not only on failure.
Restart=always
RestartSec=10
# kvssink buffers up to {KVS_STORAGE_SIZE_MB} MiB of video in memory while the uplink is down.
MemoryMax={UNIT_MEMORY_MAX_MB}M
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def sampler_unit(camera: RegisteredCamera, settings: ProxySettings) -> str:
    assert settings.sampler is not None
    return f"""\
# facewatch image-mode sampler for camera {_unit_text(_describe(camera))}
# Generated by `facewatch proxy config --site {_unit_text(settings.site)}` (kit {settings.name}): regenerate it
# rather than edit it.
[Unit]
Description=facewatch {settings.name}: sampler for camera {_unit_text(camera.camera_id)} (frames -> face-search records)
Wants=network-online.target
After=network-online.target {unit_name(camera.camera_id, settings)}
# Never give up: a camera reboot or a long outage must not leave the unit failed for good.
StartLimitIntervalSec=0

[Service]
Type=exec
User={SERVICE_USER}
Group={SERVICE_USER}
EnvironmentFile={settings.config_dir}/proxy.env
EnvironmentFile={settings.config_dir}/sampler/{camera.camera_id}.env
ExecStart={settings.sampler.command} sampler run
# The sampler reconnects to the camera itself; this restarts it if it ever exits.
Restart=always
RestartSec=10
# SIGTERM ends the run after the frame in hand and writes what is pending.
TimeoutStopSec=30
# $RUNTIME_DIRECTORY/status.json: online/offline, frames, calls, records (rewritten every minute).
RuntimeDirectory=facewatch-sampler/{settings.name}/{camera.camera_id}
# The video matters more than the sampling: the KVS producer keeps the CPU when the host is busy.
Nice=10
CPUWeight=50
MemoryMax={SAMPLER_MEMORY_MAX_MB}M
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes

[Install]
WantedBy=multi-user.target
"""


def sampler_env(camera: RegisteredCamera, settings: ProxySettings) -> str:
    """The camera's FACEWATCH_SAMPLER_<OPTION> settings (facewatch_cli/sampler.py reads them)."""
    sampler, secret = settings.sampler, camera.rtsp_url_secret
    assert sampler is not None
    assert secret is not None
    return (
        "\n".join(
            [
                f"# facewatch image-mode sampler for camera {camera.camera_id} (kit {settings.name}).",
                "# Every FACEWATCH_SAMPLER_<OPTION> is an option of `facewatch sampler run` (docs/image-mode.md).",
                f"FACEWATCH_SAMPLER_CAMERA={camera.camera_id}",
                f"FACEWATCH_SAMPLER_STREAM_NAME={sampler.stream_name}",
                f"FACEWATCH_SAMPLER_COLLECTION_ID={sampler.collection_id}",
                f"FACEWATCH_SAMPLER_FACE_MATCH_THRESHOLD={sampler.face_match_threshold}",
                "# The stack's cameras share the account's Rekognition TPS: this one uses 1/N of it.",
                f"FACEWATCH_SAMPLER_FLEET_CAMERAS={sampler.fleet_cameras}",
                "# The CameraOnline heartbeat the stack's offline alarm reads, and the other per-camera metrics.",
                f"FACEWATCH_SAMPLER_METRICS_NAMESPACE={sampler.metrics_namespace}",
                "# Where the RTSP URL (with its password) is kept, as for the camera's KVS unit.",
                f"FACEWATCH_RTSP_URL_STORE={secret.store}",
                f"FACEWATCH_RTSP_URL_SECRET={secret.name}",
            ]
        )
        + "\n"
    )


def proxy_env(settings: ProxySettings) -> str:
    lines = [
        f"# facewatch site proxy for {settings.site} (kit {settings.name}): settings every unit and script reads.",
        "# No AWS keys here: credentials are temporary, from "
        + (
            "the AWS IoT credentials provider (the host's certificate)."
            if settings.credentials == "iot-certificate"
            else "the host's IAM role (instance profile)."
        ),
        f"AWS_REGION={settings.region}",
        f"AWS_CONFIG_FILE={settings.config_dir}/aws-config",
        "AWS_SHARED_CREDENTIALS_FILE=/dev/null",
        f"FACEWATCH_CREDENTIALS={settings.credentials}",
        "# Where the KVS producer SDK (built with -DBUILD_GSTREAMER_PLUGIN=ON) put libgstkvssink.so.",
        f"GST_PLUGIN_PATH={settings.kvssink_dir}",
        f"KVS_STORAGE_SIZE_MB={KVS_STORAGE_SIZE_MB}",
        f"FACEWATCH_HEALTH_WINDOW_SECONDS={HEALTH_WINDOW_SECONDS}",
        f"FACEWATCH_KIT={settings.name}",
        f"FACEWATCH_CONFIG_DIR={settings.config_dir}",
        f"FACEWATCH_DETECTION_MODE={settings.mode}",
        "# kvssink reads credential expiry times as local time: keep the services in UTC.",
        "TZ=UTC",
    ]
    if settings.credentials == "iot-certificate":
        lines += [
            f"IOT_CREDENTIAL_ENDPOINT={settings.iot_endpoint}",
            f"IOT_ROLE_ALIAS={settings.iot_role_alias}",
            f"IOT_THING_NAME={settings.iot_thing_name}",
            f"IOT_CERT_PATH={settings.config_dir}/iot/certificate.pem",
            f"IOT_KEY_PATH={settings.config_dir}/iot/private.key",
            f"IOT_CA_PATH={settings.config_dir}/iot/AmazonRootCA1.pem",
        ]
    else:
        lines.append(f"KVS_CREDENTIAL_FILE={settings.kvs_credential_file}")
    return "\n".join(lines) + "\n"


def aws_config(settings: ProxySettings) -> str:
    if settings.credentials == "iot-certificate":
        return f"""\
# The AWS CLI (secret lookup, health check) takes temporary credentials from the IoT credentials provider.
[default]
region = {settings.region}
credential_process = {settings.lib_dir}/iot-credentials
"""
    return f"""\
# The AWS CLI (secret lookup, health check) finds the host's IAM role in the instance metadata.
[default]
region = {settings.region}
"""


STREAM_CAMERA = r"""#!/bin/sh
# Streams one camera into its Kinesis video stream; run by <kit>-camera-<id>.service.
# The RTSP URL is fetched from Secrets Manager / SSM at each start and never written to disk.
set -eu
: "${FACEWATCH_STREAM_NAME:?}" "${FACEWATCH_RTSP_URL_STORE:?}" "${FACEWATCH_RTSP_URL_SECRET:?}"

case "$FACEWATCH_RTSP_URL_STORE" in
  secretsmanager)
    url=$(aws secretsmanager get-secret-value --secret-id "$FACEWATCH_RTSP_URL_SECRET" \
      --query SecretString --output text) ;;
  ssm)
    url=$(aws ssm get-parameter --name "$FACEWATCH_RTSP_URL_SECRET" --with-decryption \
      --query Parameter.Value --output text) ;;
  *)
    echo "unknown FACEWATCH_RTSP_URL_STORE=$FACEWATCH_RTSP_URL_STORE" >&2; exit 2 ;;
esac
case "$url" in
  rtsp://*|rtsps://*) ;;
  *) echo "secret $FACEWATCH_RTSP_URL_SECRET does not hold an rtsp:// URL" >&2; exit 2 ;;
esac

case "$FACEWATCH_CREDENTIALS" in
  iot-certificate)
    iot="iot-certificate,endpoint=$IOT_CREDENTIAL_ENDPOINT,role-aliases=$IOT_ROLE_ALIAS"
    iot="$iot,iot-thing-name=$IOT_THING_NAME,cert-path=$IOT_CERT_PATH,key-path=$IOT_KEY_PATH,ca-path=$IOT_CA_PATH"
    set -- iot-certificate="$iot" ;;
  instance-profile)
    set -- credential-path="$KVS_CREDENTIAL_FILE" ;;
  *)
    echo "unknown FACEWATCH_CREDENTIALS=$FACEWATCH_CREDENTIALS" >&2; exit 2 ;;
esac

# H.264 is passed through as the camera sends it (Rekognition Video reads H.264): no transcoding.
exec gst-launch-1.0 -e \
  rtspsrc location="$url" protocols=tcp latency=200 \
  ! rtph264depay ! h264parse config-interval=-1 \
  ! video/x-h264,stream-format=avc,alignment=au \
  ! kvssink stream-name="$FACEWATCH_STREAM_NAME" aws-region="$AWS_REGION" storage-size="$KVS_STORAGE_SIZE_MB" "$@"
"""

IOT_CREDENTIALS = r"""#!/bin/sh
# AWS CLI credential_process: temporary credentials for the role alias, from the AWS IoT credentials
# provider, authenticated by this host's X.509 certificate.
set -eu
curl --silent --show-error --fail --max-time 10 \
  --cert "$IOT_CERT_PATH" --key "$IOT_KEY_PATH" --cacert "$IOT_CA_PATH" \
  -H "x-amzn-iot-thingname: $IOT_THING_NAME" \
  "https://$IOT_CREDENTIAL_ENDPOINT/role-aliases/$IOT_ROLE_ALIAS/credentials" \
| jq '{Version: 1, AccessKeyId: .credentials.accessKeyId, SecretAccessKey: .credentials.secretAccessKey,
       SessionToken: .credentials.sessionToken, Expiration: .credentials.expiration}'
"""

REFRESH_KVS_CREDENTIALS = r"""#!/bin/sh
# Writes the host role's temporary credentials where kvssink's credential-path reads them (re-read
# before they expire). Format: CREDENTIALS <key id> <expiration, UTC> <secret key> <session token>.
set -eu
umask 077
aws configure export-credentials --format process \
| jq -er 'if .SessionToken == null then error("not temporary credentials: refusing long-lived keys") else
    "CREDENTIALS \(.AccessKeyId) \(.Expiration | sub("(\\.[0-9]+)?(Z|[+]00:00)$"; "Z"))"
    + " \(.SecretAccessKey) \(.SessionToken)"
  end' > "$KVS_CREDENTIAL_FILE.new"
mv "$KVS_CREDENTIAL_FILE.new" "$KVS_CREDENTIAL_FILE"
"""

HEALTH_CHECK = rf"""#!/bin/sh
# For each camera of this kit: is its unit active (and in image mode its sampler's), and did its Kinesis
# video stream receive a fragment in the last FACEWATCH_HEALTH_WINDOW_SECONDS (ListFragments)? A unit that
# runs but sends nothing is restarted. Exit 1 when any camera is unhealthy (the timer's unit then shows
# failed: `systemctl --failed`).
set -u
: "${{FACEWATCH_KIT:?}}" "${{FACEWATCH_CONFIG_DIR:?}}"
window="${{FACEWATCH_HEALTH_WINDOW_SECONDS:-{HEALTH_WINDOW_SECONDS}}}"
now=$(date -u +%s)
start=$(date -u -d "@$((now - window))" +%Y-%m-%dT%H:%M:%SZ)
end=$(date -u -d "@$now" +%Y-%m-%dT%H:%M:%SZ)
status=0
while read -r camera; do
  [ -n "$camera" ] || continue
  unit="$FACEWATCH_KIT-camera-$camera.service"
  if ! systemctl is-active --quiet "$unit"; then
    echo "UNHEALTHY $camera: $unit is $(systemctl is-active "$unit")"; status=1; continue
  fi
  sampler="$FACEWATCH_KIT-sampler-$camera.service"
  if [ "${{FACEWATCH_DETECTION_MODE:-stream}}" = image ] && ! systemctl is-active --quiet "$sampler"; then
    echo "UNHEALTHY $camera: $sampler is $(systemctl is-active "$sampler")"; status=1; continue
  fi
  since=$(date -u -d "$(systemctl show -P ActiveEnterTimestamp "$unit")" +%s)
  if [ $((now - since)) -lt "$window" ]; then
    echo "STARTING $camera: $unit started $((now - since)) s ago"; continue
  fi
  if ! endpoint=$(aws kinesisvideo get-data-endpoint --stream-name "$camera" --api-name LIST_FRAGMENTS \
      --query DataEndpoint --output text); then
    echo "UNKNOWN $camera: GetDataEndpoint failed"; status=1; continue
  fi
  range="StartTimestamp=$start,EndTimestamp=$end"
  if ! fragments=$(aws kinesis-video-archived-media list-fragments --endpoint-url "$endpoint" \
      --stream-name "$camera" --fragment-selector "FragmentSelectorType=SERVER_TIMESTAMP,TimestampRange={{$range}}" \
      --max-items 1 --query 'length(Fragments)' --output text); then
    echo "UNKNOWN $camera: ListFragments failed"; status=1; continue
  fi
  if [ "$fragments" = "0" ]; then
    echo "UNHEALTHY $camera: no fragment reached Kinesis Video Streams in $window s; restarting $unit"
    systemctl restart "$unit"; status=1
  else
    echo "OK $camera"
  fi
done < "$FACEWATCH_CONFIG_DIR/cameras"
exit $status
"""


def health_service(settings: ProxySettings) -> str:
    return f"""\
[Unit]
Description=facewatch {settings.name}: check every camera unit is active and its Kinesis video stream receives video

[Service]
Type=oneshot
# root: it restarts camera units that run but send nothing.
EnvironmentFile={settings.config_dir}/proxy.env
ExecStart={settings.lib_dir}/health-check
"""


def health_timer(settings: ProxySettings) -> str:
    return f"""\
[Unit]
Description=facewatch {settings.name}: camera health check every {HEALTH_INTERVAL}

[Timer]
OnBootSec=10min
OnUnitActiveSec={HEALTH_INTERVAL}

[Install]
WantedBy=timers.target
"""


def credentials_service(settings: ProxySettings) -> str:
    return f"""\
[Unit]
Description=facewatch {settings.name}: refresh kvssink's temporary credentials from the host's IAM role
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
User={SERVICE_USER}
Group={SERVICE_USER}
EnvironmentFile={settings.config_dir}/proxy.env
RuntimeDirectory=facewatch-proxy/{settings.name}
RuntimeDirectoryPreserve=yes
ExecStart={settings.lib_dir}/refresh-kvs-credentials
"""


def credentials_timer(settings: ProxySettings) -> str:
    return f"""\
[Unit]
Description=facewatch {settings.name}: refresh kvssink's temporary credentials every 15 minutes

[Timer]
OnBootSec=0
OnUnitActiveSec=15min

[Install]
WantedBy=timers.target
"""


def camera_units(cameras: list[RegisteredCamera], settings: ProxySettings) -> list[str]:
    """The units install.sh enables per camera: the KVS producer, and in image mode the sampler."""
    units = [unit_name(camera.camera_id, settings) for camera in cameras]
    if settings.sampler is not None:
        units += [sampler_unit_name(camera.camera_id, settings) for camera in cameras]
    return units


def timers(settings: ProxySettings) -> list[str]:
    found = [settings.unit("health.timer")]
    if settings.credentials == "instance-profile":
        found.insert(0, settings.unit("kvs-credentials.timer"))
    return found


def install_script(cameras: list[RegisteredCamera], settings: ProxySettings) -> str:
    units = " ".join(camera_units(cameras, settings))
    config, manifest = f'"$root"{settings.config_dir}', f'"$root"{settings.config_dir}/units'
    sampler_check = ""
    if settings.sampler is not None:
        command = settings.sampler.command
        sampler_check = f"""\
# Image mode: the samplers run `facewatch sampler run` from the sampler's own environment.
if [ ! -x "$root"{command} ]; then
  echo "install the sampler first ({command}): see docs/image-mode.md, 'Install the sampler'" >&2
  exit 1
fi
"""
    return f"""\
#!/bin/sh
# Installs the facewatch proxy kit {settings.name} (site {settings.site}); run as root in the kit's directory.
# Re-run it after regenerating the kit: it stops the units of cameras no longer in the kit. It manages only
# the units its own manifest ({settings.config_dir}/units) lists: other kits on this host are left alone.
# FACEWATCH_ROOT (default: none) installs under another root directory, e.g. an image being built.
set -eu
cd "$(dirname "$0")"
root="${{FACEWATCH_ROOT:-}}"
{sampler_check}id {SERVICE_USER} >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin \\
  {SERVICE_USER}
previous=""
if [ -f {manifest} ]; then previous=$(cat {manifest}); fi
mkdir -p "$root"/
cp -R root/. "$root"/
chmod 0755 "$root"{settings.lib_dir}/*
chmod 0644 {config}/proxy.env {config}/aws-config {config}/cameras {manifest}
# The certificate's private key (and the samplers' settings): readable by root and the units' user only.
for private in {config}/iot {config}/sampler; do
  if [ -d "$private" ]; then
    chown -R root:{SERVICE_USER} "$private"
    chmod 0750 "$private"
    chmod 0640 "$private"/*
  fi
done
keep=" {units} "
for unit in $previous; do
  case "$keep" in
    *" $unit "*) ;;
    *) systemctl disable --now "$unit" || true; rm -f "$root{UNIT_DIR}/$unit" ;;
  esac
done
systemctl daemon-reload
systemctl enable --now {" ".join(timers(settings))}
systemctl enable {units}
systemctl restart {units}
systemctl --no-pager --lines=0 status {units}
"""


def bandwidth_line(camera_count: int) -> str:
    low, high = UPLINK_MBITS_PER_CAMERA
    return (
        f"Uplink: {camera_count} camera(s) x {low}-{high} Mbit/s (1080p H.264) = "
        f"{camera_count * low}-{camera_count * high} Mbit/s sustained, upstream to AWS."
    )


def kit_readme(cameras: list[RegisteredCamera], settings: ProxySettings) -> str:
    sampler_line = ""
    if settings.sampler is not None:
        sampler_line = (
            f", and a sampler {settings.unit('sampler', '<id>')} (image mode: frames -> face-search records, "
            f"settings in {settings.config_dir}/sampler/<id>.env; install the sampler at {settings.sampler.command})"
        )
    rows = "\n".join(
        f"  {camera.camera_id:<32} {_describe(camera)}  (RTSP URL: {camera.rtsp_url_secret.store} "
        f"{camera.rtsp_url_secret.name})"
        for camera in cameras
        if camera.rtsp_url_secret is not None
    )
    if settings.credentials == "iot-certificate":
        credentials = f"""\
Credentials: the AWS IoT credentials provider. Put this host's IoT thing ({settings.iot_thing_name}) certificate,
private key and the Amazon root CA in {settings.config_dir}/iot/ as certificate.pem, private.key and
AmazonRootCA1.pem before running install.sh. The role alias {settings.iot_role_alias} gives temporary
credentials; no AWS keys are stored on this host."""
    else:
        credentials = """\
Credentials: the host's IAM role (instance profile). facewatch-kvs-credentials.timer writes temporary
credentials to a tmpfs file for kvssink every 15 minutes; no AWS keys are stored on this host."""
    return f"""\
facewatch site proxy kit - site {settings.site}, Region {settings.region}

Kit {settings.name}: every unit and path of this kit carries that name, so other kits (other stacks or
sites) on this host are left alone. Detection mode: {settings.mode}.

Cameras ({len(cameras)}), each a systemd unit {settings.unit("camera", "<id>")} streaming to the Kinesis
video stream of the same name{sampler_line}:
{rows}

{bandwidth_line(len(cameras))}

Host: Linux with systemd, GStreamer 1.x (gst-launch-1.0, rtspsrc, rtph264depay, h264parse), the KVS producer
SDK's kvssink built in {settings.kvssink_dir} (or change GST_PLUGIN_PATH in proxy.env), AWS CLI v2, curl,
jq; reaches the cameras on RTSP (TCP 554) and AWS on HTTPS (TCP 443). No transcoding: a small host
(2 vCPU, 1 GiB + {UNIT_MEMORY_MAX_MB} MiB per camera) carries dozens of cameras; the uplink is the limit.

{credentials}

Install: sudo ./install.sh
Check:   systemctl status '{settings.name}-*'; journalctl -u {settings.unit("health")} --since today
"""


@dataclass(frozen=True, slots=True)
class KitFile:
    path: str
    text: str
    executable: bool = False


def render_kit(cameras: list[RegisteredCamera], settings: ProxySettings) -> list[KitFile]:
    """Every file of the kit, in a stable order. Each camera must have an RTSP URL secret."""
    config, lib, units = f"root{settings.config_dir}", f"root{settings.lib_dir}", f"root{UNIT_DIR}"
    manifest = "".join(f"{unit}\n" for unit in camera_units(cameras, settings))
    files = [
        KitFile("README.txt", kit_readme(cameras, settings)),
        KitFile("install.sh", install_script(cameras, settings), executable=True),
        KitFile(f"{config}/proxy.env", proxy_env(settings)),
        KitFile(f"{config}/aws-config", aws_config(settings)),
        KitFile(f"{config}/cameras", "".join(f"{camera.camera_id}\n" for camera in cameras)),
        KitFile(f"{config}/units", manifest),
        KitFile(f"{lib}/stream-camera", STREAM_CAMERA, executable=True),
        KitFile(f"{lib}/health-check", HEALTH_CHECK, executable=True),
        KitFile(f"{units}/{settings.unit('health')}", health_service(settings)),
        KitFile(f"{units}/{settings.unit('health.timer')}", health_timer(settings)),
    ]
    if settings.credentials == "iot-certificate":
        files.append(KitFile(f"{lib}/iot-credentials", IOT_CREDENTIALS, executable=True))
    else:
        files += [
            KitFile(f"{lib}/refresh-kvs-credentials", REFRESH_KVS_CREDENTIALS, executable=True),
            KitFile(f"{units}/{settings.unit('kvs-credentials')}", credentials_service(settings)),
            KitFile(f"{units}/{settings.unit('kvs-credentials.timer')}", credentials_timer(settings)),
        ]
    files += [
        KitFile(f"{units}/{unit_name(camera.camera_id, settings)}", camera_unit(camera, settings)) for camera in cameras
    ]
    if settings.sampler is not None:
        for camera in cameras:
            files.append(KitFile(f"{config}/sampler/{camera.camera_id}.env", sampler_env(camera, settings)))
            files.append(
                KitFile(f"{units}/{sampler_unit_name(camera.camera_id, settings)}", sampler_unit(camera, settings))
            )
    return files
