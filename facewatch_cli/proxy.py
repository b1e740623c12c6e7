"""`facewatch proxy config --site SITE`: the kit a site's proxy host runs to push its cameras into KVS and, in
image mode, to sample their frames. The kit is namespaced by <stack>-<site>: several stacks' or sites' kits
share one host without touching each other's units."""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from facewatch_cli import clients, proxy_kit, stack_outputs
from facewatch_cli.aws import session_for
from facewatch_cli.cameras import registered_cameras
from facewatch_cli.main import CommandError
from facewatch_cli.proxy_kit import KitFile, ProxySettings, SamplerSettings
from facewatch_cli.registry import RegisteredCamera

# The template's SamplerMetricsNamespace default, for a stack that predates the output.
DEFAULT_METRICS_NAMESPACE = "Facewatch/Sampler"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "proxy", help="site proxy kit: systemd units that push RTSP cameras into KVS (and sample them, image mode)"
    )
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    config = commands.add_parser(
        "config",
        help="print (or write, --out DIR) the proxy kit for one site's registered cameras",
        description="Renders, for every camera registered at --site, a systemd unit running GStreamer + kvssink "
        "and, in image mode, a sampler unit with its environment file; the scripts they use, a health check timer "
        "and install.sh. Every unit and path is namespaced by the kit's name (<stack>-<site>), and install.sh "
        "manages only its own units. The RTSP URLs stay in Secrets Manager/SSM.",
    )
    config.add_argument("--site", required=True, help="the site whose cameras the proxy streams (as registered)")
    config.add_argument("--out", type=Path, metavar="DIR", help="write the kit to DIR instead of printing it")
    config.add_argument("--force", action="store_true", help="replace DIR if it holds an earlier kit")
    config.add_argument(
        "--credentials",
        choices=proxy_kit.CREDENTIALS_SOURCES,
        default="iot-certificate",
        help="where the proxy gets temporary AWS credentials: its AWS IoT certificate (kvssink iot-certificate; "
        "default, for hosts in an office) or its IAM role (instance profile, for a host in EC2)",
    )
    config.add_argument(
        "--iot-endpoint",
        metavar="HOST",
        help="the account's IoT credentials provider endpoint (default: asked from AWS IoT DescribeEndpoint)",
    )
    config.add_argument(
        "--iot-thing-name", metavar="NAME", help="the proxy's IoT thing (default: facewatch-proxy-<site>)"
    )
    config.add_argument(
        "--kvssink-dir",
        default=proxy_kit.DEFAULT_KVSSINK_DIR,
        metavar="DIR",
        help="where the proxy host has libgstkvssink.so (GST_PLUGIN_PATH)",
    )
    config.add_argument(
        "--kit-name",
        metavar="NAME",
        help="namespace of the kit's units and paths on the host (default: facewatch-<stack>-<site>, lowercase)",
    )
    config.add_argument(
        stack_outputs.DETECTION_MODE.flag,
        dest=stack_outputs.DETECTION_MODE.dest,
        choices=proxy_kit.DETECTION_MODES,
        help="image: add a sampler per camera; stream: kvssink only (default: --stack's DetectionMode, else stream)",
    )
    config.add_argument(
        "--sampler-command",
        default=proxy_kit.DEFAULT_SAMPLER_COMMAND,
        metavar="PATH",
        help="the `facewatch` command of the sampler's environment on the host (image mode)",
    )
    stack_outputs.add_arguments(
        config,
        stack_outputs.CAMERA_TABLE,
        stack_outputs.PROXY_ROLE_ALIAS,
        stack_outputs.FACE_SEARCH_STREAM,
        stack_outputs.EMPLOYEE_COLLECTION,
        stack_outputs.FACE_MATCH_THRESHOLD,
        stack_outputs.SAMPLER_METRICS_NAMESPACE,
    )
    config.set_defaults(run=proxy_config)


def site_cameras(args: argparse.Namespace, cameras: list[RegisteredCamera]) -> list[RegisteredCamera]:
    at_site = [camera for camera in cameras if camera.place.site == args.site]
    if not at_site:
        sites = sorted({camera.place.site for camera in cameras if camera.place.site})
        raise CommandError(f"no camera registered at site {args.site} (sites: {', '.join(sites) or 'none'})")
    missing = [camera.camera_id for camera in at_site if camera.rtsp_url_secret is None]
    if missing:
        raise CommandError(
            f"no RTSP URL secret for {', '.join(missing)}: register it with "
            "`facewatch cameras add CAMERA_ID ... --rtsp-url-secret SECRET --replace`"
        )
    return at_site


@clients.aws_errors
def iot_credentials_endpoint(args: argparse.Namespace) -> str:
    return clients.iot(args).describe_endpoint(endpointType="iot:CredentialProvider")["endpointAddress"]


def sampler_settings(
    args: argparse.Namespace, outputs: stack_outputs.StackOutputs, fleet_cameras: int
) -> SamplerSettings | None:
    """What the kit's samplers are told, in image mode; None in stream mode (kvssink only)."""
    mode = outputs.optional(stack_outputs.DETECTION_MODE) or "stream"
    if mode not in proxy_kit.DETECTION_MODES:
        raise CommandError(f"unknown detection mode {mode!r} (image or stream)")
    if mode == "stream":
        return None
    stream = outputs.require(stack_outputs.FACE_SEARCH_STREAM)
    return SamplerSettings(
        stream_name=stream.rsplit("stream/", 1)[-1],
        collection_id=outputs.require(stack_outputs.EMPLOYEE_COLLECTION),
        face_match_threshold=outputs.require(stack_outputs.FACE_MATCH_THRESHOLD),
        metrics_namespace=outputs.optional(stack_outputs.SAMPLER_METRICS_NAMESPACE) or DEFAULT_METRICS_NAMESPACE,
        fleet_cameras=fleet_cameras,
        command=args.sampler_command,
    )


def settings_from_arguments(
    args: argparse.Namespace, outputs: stack_outputs.StackOutputs, fleet_cameras: int = 1
) -> ProxySettings:
    region = session_for(args).region_name
    if not region:
        raise CommandError("no AWS Region configured (use --region or set AWS_REGION)")
    kit = args.kit_name or proxy_kit.kit_name(outputs.stack_name, args.site)
    sampler = sampler_settings(args, outputs, fleet_cameras)
    if args.credentials == "instance-profile":
        return ProxySettings(
            args.site, region, "instance-profile", kvssink_dir=args.kvssink_dir, kit=kit, sampler=sampler
        )
    return ProxySettings(
        args.site,
        region,
        "iot-certificate",
        iot_endpoint=args.iot_endpoint or iot_credentials_endpoint(args),
        iot_role_alias=outputs.require(stack_outputs.PROXY_ROLE_ALIAS),
        iot_thing_name=args.iot_thing_name or proxy_kit.default_thing_name(args.site),
        kvssink_dir=args.kvssink_dir,
        kit=kit,
        sampler=sampler,
    )


def write_kit(files: list[KitFile], directory: Path, *, force: bool) -> None:
    if directory.exists() and any(directory.iterdir()):
        if not (directory / proxy_kit.MARKER_FILE).exists():
            raise CommandError(f"{directory} is not empty and holds no proxy kit: choose another --out")
        if not force:
            raise CommandError(f"{directory} holds an earlier proxy kit: add --force to replace it")
        shutil.rmtree(directory)
    for kit_file in files:
        path = directory / kit_file.path
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(kit_file.text)
        path.chmod(0o755 if kit_file.executable else 0o644)
    (directory / proxy_kit.MARKER_FILE).write_text("written by `facewatch proxy config`\n")


def proxy_config(args: argparse.Namespace) -> int:
    outputs = stack_outputs.StackOutputs(args)
    registered = registered_cameras(args, outputs)
    cameras = site_cameras(args, registered)
    # The samplers share the account's Rekognition TPS among every camera of the stack, not only this site's.
    settings = settings_from_arguments(args, outputs, fleet_cameras=len(registered))
    files = proxy_kit.render_kit(cameras, settings)
    if args.out is None:
        for kit_file in files:
            print(f"==> {kit_file.path} <==")
            print(kit_file.text)
        return 0
    write_kit(files, args.out, force=args.force)
    mode = "image mode: kvssink and a sampler per camera" if settings.sampler else "stream mode: kvssink per camera"
    print(f"Wrote the {args.site} proxy kit {settings.name} ({mode}) for {len(cameras)} camera(s) to {args.out}/:")
    for kit_file in files:
        print(f"  {kit_file.path}")
    print(proxy_kit.bandwidth_line(len(cameras)))
    print(f"Next: copy {args.out}/ to the proxy host and run `sudo ./install.sh` there (see its README.txt).")
    return 0
