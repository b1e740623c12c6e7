"""`facewatch sampler run`: image mode for one camera, on the site proxy beside its KVS producer.

Every option can also come from the environment (FACEWATCH_SAMPLER_<OPTION>, e.g.
FACEWATCH_SAMPLER_STACK), which is how deploy/systemd/facewatch-sampler@.service passes them. With --stack
the face-search stream, the collection, the threshold and the fleet's size come from the deployed stack. The
camera's RTSP URL carries a password: rather than --source, give the secret the KVS producer's unit reads
(FACEWATCH_RTSP_URL_STORE=secretsmanager|ssm and FACEWATCH_RTSP_URL_SECRET), as the proxy kit does.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError
from facewatch_sampler.settings import DetectFacesMode, LocalDetectorKind, SamplerSettings, SearchMode
from facewatch_sampler.urls import is_live_url

from facewatch.adapters.aws import error_code
from facewatch_cli.aws import session_for
from facewatch_cli.clients import aws_errors, describe
from facewatch_cli.main import CommandError
from facewatch_cli.stack_outputs import STACK_ENV_VAR

if TYPE_CHECKING:
    from facewatch_sampler.runner import Sampler

ENV_PREFIX = "FACEWATCH_SAMPLER_"
RTSP_URL_STORE_ENV = "FACEWATCH_RTSP_URL_STORE"
RTSP_URL_SECRET_ENV = "FACEWATCH_RTSP_URL_SECRET"  # noqa: S105 (a variable name, not a secret)
STATUS_FILE_NAME = "status.json"
FACE_SEARCH_STREAM_OUTPUT = "FaceSearchStreamArn"
EMPLOYEE_COLLECTION_OUTPUT = "EmployeeCollectionId"
# The namespace the stack's camera-offline alarms read CameraOnline from.
METRICS_NAMESPACE_OUTPUT = "SamplerMetricsNamespace"
# A stack parameter the sampler honours when the template has it (an optional part of the contract).
ACCOUNT_TPS_PARAMETER = "RekognitionAccountTps"
DEFAULTS = SamplerSettings(camera_id="x", source="x", stream_name="x", collection_id="x")


def _env_name(flag: str) -> str:
    return ENV_PREFIX + flag.lstrip("-").replace("-", "_").upper()


def _option(parser: argparse.ArgumentParser, flag: str, *, help: str, **kwargs: Any) -> None:
    """An option whose default is FACEWATCH_SAMPLER_<FLAG> when set (argparse converts string defaults)."""
    env = _env_name(flag)
    if env in os.environ:
        kwargs["default"] = os.environ[env]
        kwargs.pop("required", None)
    parser.add_argument(flag, help=f"{help} [env {env}]", **kwargs)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "sampler", help="image mode: camera frames -> face-search records, for accounts without Rekognition streaming"
    )
    commands = group.add_subparsers(dest="sampler_command", required=True, metavar="COMMAND")
    run = commands.add_parser(
        "run",
        help="sample one camera until stopped (a long-running process; see deploy/systemd/facewatch-sampler@.service)",
        description="Reads frames from the camera, finds faces locally, asks Rekognition Image about them (inside "
        "the camera's share of the account's Rekognition TPS) and writes one face-search record per analysed "
        "frame to the stack's face-search Kinesis data stream (FaceSearchStream), which the detector reads. "
        "Exits 1 with one line when the source cannot be read or the stream cannot be written.",
    )
    _option(run, "--camera", required=True, help="camera id = the name of its Kinesis video stream")
    _option(run, "--source", help="rtsp://... URL, or a video file or URL (default: the camera's RTSP URL secret)")
    _option(
        run,
        "--stack",
        default=os.environ.get(STACK_ENV_VAR),
        help="the deployed facewatch stack: its outputs name the stream and collection, its parameters the "
        f"threshold, the cameras sharing the Rekognition quota and the account TPS (default: ${STACK_ENV_VAR})",
    )
    _option(
        run,
        "--stream-name",
        help="the stack's face-search Kinesis data stream (FaceSearchStream; every camera of the stack writes to "
        "it, the detector reads it) (default: --stack's FaceSearchStreamArn output)",
    )
    _option(
        run,
        "--collection-id",
        help="the employee face collection to search (default: --stack's EmployeeCollectionId output)",
    )
    _option(run, "--kvs-stream-arn", help="the camera's Kinesis video stream ARN (default: DescribeStream)")
    _option(
        run,
        "--policy-file",
        help="the site's alert policy file (docs/policies.md): faces outside the camera's zones are dropped "
        "before Rekognition is asked (default: none, every face)",
    )
    _option(
        run,
        "--snapshot-bucket",
        help="the stack's ClipBucketName: each analysed frame goes to edge/<camera>/ there, the alert's snapshot",
    )
    _option(run, "--fps", type=float, default=DEFAULTS.frames_per_second, help="frames sampled per second")
    _option(
        run,
        "--face-match-threshold",
        type=float,
        help="lowest similarity (50-100) SearchFacesByImage reports; below the stack's EmployeeMatchThreshold a "
        "match is a near miss (default: --stack's FaceMatchThreshold, "
        f"else {DEFAULTS.face_match_threshold:g})",
    )
    _option(
        run,
        "--detect-faces",
        choices=[mode.value for mode in DetectFacesMode],
        default=DEFAULTS.detect_faces.value,
        help="'always': DetectFaces per frame with faces, then a search per new face; 'never': search the local "
        "detector's boxes only (one call fewer, no pose or quality: keep the stack's quality gates off)",
    )
    _option(
        run,
        "--search",
        choices=[mode.value for mode in SearchMode],
        default=DEFAULTS.search.value,
        help="'users': SearchUsersByImage against the employees' Rekognition users (enrolment creates them), "
        "falling back to faces when the collection has no users; 'faces': SearchFacesByImage only",
    )
    _option(
        run,
        "--local-detector",
        choices=[kind.value for kind in LocalDetectorKind],
        default=DEFAULTS.local_detector.value,
        help="the face detector run on every sampled frame (docs/image-mode-detector.md compares them)",
    )
    _option(
        run,
        "--max-calls-per-minute",
        type=int,
        default=DEFAULTS.max_calls_per_minute,
        help="budget guard: Rekognition calls this camera may make in any minute; frames beyond it are dropped",
    )
    _option(
        run,
        "--account-tps",
        type=float,
        help="the account's Rekognition Image TPS quota (Service Quotas) that every camera shares (default: "
        "--stack's RekognitionAccountTps parameter, else the Region's documented default: 50 in us-east-1, "
        "us-west-2, eu-west-1, 5 elsewhere)",
    )
    _option(
        run,
        "--fleet-cameras",
        type=int,
        help="cameras sharing the account's quota; this camera uses 1/N of it (default: --stack's CameraNames, else 1)",
    )
    _option(
        run,
        "--quota-utilisation",
        type=float,
        default=DEFAULTS.quota_utilisation,
        help="share of the quota the fleet plans to use (the rest: enrolment, the CLI, clock skew)",
    )
    _option(
        run,
        "--research-after",
        type=float,
        default=DEFAULTS.research_after_seconds,
        metavar="SECONDS",
        help="track cache: a face tracked across frames is searched again after this long (0 = every frame)",
    )
    _option(
        run,
        "--detect-width",
        type=int,
        default=DEFAULTS.detect_width_px,
        metavar="PIXELS",
        help="frame width the local detector works at (smaller is faster, misses smaller faces)",
    )
    _option(
        run,
        "--max-image-side",
        type=int,
        default=DEFAULTS.max_image_side_px,
        metavar="PIXELS",
        help="longest side of the JPEGs sent to Rekognition",
    )
    _option(run, "--status-file", type=Path, help="JSON status rewritten every minute (default: $RUNTIME_DIRECTORY)")
    _option(
        run,
        "--metrics-namespace",
        default="",
        help="CloudWatch namespace for per-camera metrics, CameraOnline included (default: --stack's "
        "SamplerMetricsNamespace output, which its camera-offline alarms read; else off)",
    )
    _option(run, "--max-frames", type=int, help="stop after sampling this many frames (trials)")
    _option(run, "--duration", type=float, metavar="SECONDS", help="stop after this long (trials)")
    run.set_defaults(run=run_sampler)


@dataclass(frozen=True, slots=True)
class StackSettings:
    """What `--stack` supplies: outputs and parameters of the deployed stack (None: not there)."""

    stream_name: str | None = None
    collection_id: str | None = None
    face_match_threshold: float | None = None
    account_tps: float | None = None
    fleet_cameras: int | None = None
    metrics_namespace: str | None = None


@aws_errors
def stack_settings(session: boto3.session.Session, stack_name: str) -> StackSettings:
    stack = session.client("cloudformation").describe_stacks(StackName=stack_name)["Stacks"][0]
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", []) if "OutputValue" in o}
    parameters = {
        p["ParameterKey"]: p.get("ResolvedValue", p.get("ParameterValue", ""))
        for p in stack.get("Parameters", [])
        if "ParameterKey" in p
    }
    stream_arn = outputs.get(FACE_SEARCH_STREAM_OUTPUT)
    cameras = [name for name in parameters.get("CameraNames", "").split(",") if name.strip()]
    return StackSettings(
        stream_name=stream_arn.rsplit("/", 1)[-1] if stream_arn else None,
        collection_id=outputs.get(EMPLOYEE_COLLECTION_OUTPUT),
        face_match_threshold=_number(outputs.get("FaceMatchThreshold") or parameters.get("FaceMatchThreshold")),
        account_tps=_number(parameters.get(ACCOUNT_TPS_PARAMETER)),
        fleet_cameras=len(cameras) or None,
        metrics_namespace=outputs.get(METRICS_NAMESPACE_OUTPUT) or None,
    )


def _number(value: str | None) -> float | None:
    try:
        return float(value) if value else None
    except ValueError:
        return None


@aws_errors
def resolve_source(args: argparse.Namespace, session: boto3.session.Session) -> str:
    if args.source:
        return str(args.source)
    store, secret = os.environ.get(RTSP_URL_STORE_ENV), os.environ.get(RTSP_URL_SECRET_ENV)
    if not store or not secret:
        raise CommandError(f"give --source, or {RTSP_URL_STORE_ENV} and {RTSP_URL_SECRET_ENV}")
    if store == "secretsmanager":
        url = session.client("secretsmanager").get_secret_value(SecretId=secret)["SecretString"]
    elif store == "ssm":
        url = session.client("ssm").get_parameter(Name=secret, WithDecryption=True)["Parameter"]["Value"]
    else:
        raise CommandError(f"{RTSP_URL_STORE_ENV} must be secretsmanager or ssm, not {store!r}")
    if not is_live_url(url):
        raise CommandError(f"secret {secret} does not hold a camera URL")
    return url


def settings_from(args: argparse.Namespace, source: str, stack: StackSettings = StackSettings()) -> SamplerSettings:
    stream_name = args.stream_name or stack.stream_name
    collection_id = args.collection_id or stack.collection_id
    if not stream_name or not collection_id:
        missing = [
            flag for flag, value in (("--stream-name", stream_name), ("--collection-id", collection_id)) if not value
        ]
        where = f"stack {args.stack} has no such output" if args.stack else "or --stack NAME"
        raise CommandError(f"give {' and '.join(missing)} ({where})")
    try:
        return SamplerSettings(
            camera_id=args.camera,
            source=source,
            stream_name=stream_name,
            collection_id=collection_id,
            kvs_stream_arn=args.kvs_stream_arn or None,
            snapshot_bucket=args.snapshot_bucket or None,
            frames_per_second=args.fps,
            face_match_threshold=_first(args.face_match_threshold, stack.face_match_threshold)
            or DEFAULTS.face_match_threshold,
            detect_faces=DetectFacesMode(args.detect_faces),
            search=SearchMode(args.search),
            local_detector=LocalDetectorKind(args.local_detector),
            max_calls_per_minute=args.max_calls_per_minute,
            account_tps=_first(args.account_tps, stack.account_tps),
            fleet_cameras=int(_first(args.fleet_cameras, stack.fleet_cameras) or 1),
            quota_utilisation=args.quota_utilisation,
            research_after_seconds=args.research_after,
            detect_width_px=args.detect_width,
            max_image_side_px=args.max_image_side,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error


def _first(*values: float | None) -> float | None:
    return next((value for value in values if value is not None), None)


def check_source(source: str) -> None:
    """A trial's file must exist: the sampler would otherwise have nothing to read."""
    if not is_live_url(source) and "://" not in source and not Path(source).is_file():
        raise CommandError(f"cannot read --source {source}: no such file")


def check_stream(session: boto3.session.Session, stream_name: str) -> None:
    """The data stream must exist before the camera is read. A role that may not describe it (the proxy
    role need not) leaves the check to the first PutRecord, which ends the run the same way."""
    try:
        session.client("kinesis").describe_stream_summary(StreamName=stream_name)
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceNotFoundException":
            raise CommandError(
                f"Kinesis data stream {stream_name} not found in {session.region_name}: give the stack's "
                "face-search stream (--stack NAME, or the name in its FaceSearchStreamArn output)"
            ) from error
        if code != "AccessDeniedException":
            raise CommandError(describe(error)) from error


def status_file(args: argparse.Namespace) -> Path | None:
    if args.status_file:
        return Path(args.status_file)
    runtime_directory = os.environ.get("RUNTIME_DIRECTORY")  # systemd's RuntimeDirectory=
    return Path(runtime_directory) / STATUS_FILE_NAME if runtime_directory else None


@contextmanager
def stopped_by_signals(sampler: Sampler) -> Iterator[None]:
    """SIGTERM (systemctl stop) and SIGINT end the run cleanly: the frame in hand, then the summary."""

    def stop(signum: int, frame: FrameType | None) -> None:
        sampler.stop()

    previous = {signum: signal.signal(signum, stop) for signum in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_sampler(args: argparse.Namespace) -> int:
    # Imported here: OpenCV is installed on proxy hosts (the `sampler` extra), not wherever the CLI is.
    try:
        from facewatch_sampler.app import Reporting, build_sampler
        from facewatch_sampler.local_detector import LocalDetectorUnavailable
        from facewatch_sampler.zones import ZonePolicyError, camera_zones
    except ModuleNotFoundError as error:
        raise CommandError(f"image mode needs {error.name}: pip install 'facewatch[sampler]' on this host") from error
    session = session_for(args)
    if args.source:
        check_source(str(args.source))
    stack = stack_settings(session, args.stack) if args.stack else StackSettings()
    settings = settings_from(args, resolve_source(args, session), stack)
    check_stream(session, settings.stream_name)
    reporting = Reporting(
        status_file=status_file(args), metrics_namespace=args.metrics_namespace or stack.metrics_namespace
    )
    try:
        zones = camera_zones(Path(args.policy_file), settings.camera_id) if args.policy_file else ()
    except ZonePolicyError as error:
        raise CommandError(str(error)) from error
    try:
        sampler = aws_errors(build_sampler)(settings, session, reporting=reporting, zones=zones)
    except LocalDetectorUnavailable as error:
        raise CommandError(str(error)) from error
    with stopped_by_signals(sampler):
        stats = sampler.run(max_frames=args.max_frames, max_seconds=args.duration)
    print(json.dumps(stats.snapshot(), sort_keys=True), file=sys.stdout)
    if sampler.failure is not None:
        raise CommandError(sampler.failure)
    trial = args.max_frames is not None or args.duration is not None
    if trial and stats.frames_read == 0:
        raise CommandError(
            f"camera {settings.camera_id} sent no frame: {stats.offline_reason or 'nothing read before the end'}"
        )
    return 0
