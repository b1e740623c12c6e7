"""`facewatch sampler run`: image mode for one camera, on the site proxy beside its KVS producer.

Every option can also come from the environment (FACEWATCH_SAMPLER_<OPTION>, e.g.
FACEWATCH_SAMPLER_STREAM_NAME), which is how deploy/systemd/facewatch-sampler@.service passes them. The
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
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

import boto3
from facewatch_sampler.settings import DetectFacesMode, SamplerSettings
from facewatch_sampler.urls import is_live_url

from facewatch_cli.aws import session_for
from facewatch_cli.clients import aws_errors
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from facewatch_sampler.runner import Sampler

ENV_PREFIX = "FACEWATCH_SAMPLER_"
RTSP_URL_STORE_ENV = "FACEWATCH_RTSP_URL_STORE"
RTSP_URL_SECRET_ENV = "FACEWATCH_RTSP_URL_SECRET"  # noqa: S105 (a variable name, not a secret)
STATUS_FILE_NAME = "status.json"
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
        description="Reads frames from the camera, finds faces locally, asks Rekognition Image about them and "
        "writes one face-search record per analysed frame to the camera's Kinesis data stream.",
    )
    _option(run, "--camera", required=True, help="camera id = the name of its Kinesis video stream")
    _option(run, "--source", help="rtsp://... URL, or a video file or URL (default: the camera's RTSP URL secret)")
    _option(run, "--stream-name", required=True, help="the camera's Kinesis data stream (the detector reads it)")
    _option(run, "--collection-id", required=True, help="the employee face collection to search")
    _option(run, "--kvs-stream-arn", help="the camera's Kinesis video stream ARN (default: DescribeStream)")
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
        default=DEFAULTS.face_match_threshold,
        help="lowest similarity (80-100) that counts as an employee; keep it equal to the stack's FaceMatchThreshold",
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
        "--max-calls-per-minute",
        type=int,
        default=DEFAULTS.max_calls_per_minute,
        help="budget guard: Rekognition calls this camera may make in any minute; frames beyond it are dropped",
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
    _option(run, "--metrics-namespace", default="", help="CloudWatch namespace for per-camera metrics (empty = off)")
    _option(run, "--max-frames", type=int, help="stop after sampling this many frames (trials)")
    _option(run, "--duration", type=float, metavar="SECONDS", help="stop after this long (trials)")
    run.set_defaults(run=run_sampler)


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


def settings_from(args: argparse.Namespace, source: str) -> SamplerSettings:
    try:
        return SamplerSettings(
            camera_id=args.camera,
            source=source,
            stream_name=args.stream_name,
            collection_id=args.collection_id,
            kvs_stream_arn=args.kvs_stream_arn or None,
            snapshot_bucket=args.snapshot_bucket or None,
            frames_per_second=args.fps,
            face_match_threshold=args.face_match_threshold,
            detect_faces=DetectFacesMode(args.detect_faces),
            max_calls_per_minute=args.max_calls_per_minute,
            research_after_seconds=args.research_after,
            detect_width_px=args.detect_width,
            max_image_side_px=args.max_image_side,
        )
    except ValueError as error:
        raise CommandError(str(error)) from error


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
    except ModuleNotFoundError as error:
        raise CommandError(f"image mode needs {error.name}: pip install 'facewatch[sampler]' on this host") from error
    session = session_for(args)
    settings = settings_from(args, resolve_source(args, session))
    reporting = Reporting(status_file=status_file(args), metrics_namespace=args.metrics_namespace or None)
    try:
        sampler = aws_errors(build_sampler)(settings, session, reporting=reporting)
    except LocalDetectorUnavailable as error:
        raise CommandError(str(error)) from error
    with stopped_by_signals(sampler):
        stats = sampler.run(max_frames=args.max_frames, max_seconds=args.duration)
    print(json.dumps(stats.snapshot(), sort_keys=True), file=sys.stdout)
    return 0
