"""`facewatch cameras add|list|remove`: the camera registry that alerts and the site proxies read."""

from __future__ import annotations

import argparse
from typing import Any

from pydantic import ValidationError

from facewatch.adapters.camera_registry import REGISTRY_CACHE_SECONDS
from facewatch.domain.cameras import CameraPlace, camera_id_problem
from facewatch_cli import clients, output, stack_outputs
from facewatch_cli.main import CommandError
from facewatch_cli.registry import STREAM_NAME, CameraTable, RegisteredCamera, RtspUrlSecret, validation_message


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("cameras", help="register cameras: where each one is, for alerts and proxies")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="register a camera (its id is its Kinesis video stream name)")
    add.add_argument("camera_id", metavar="CAMERA_ID", help="the camera's Kinesis video stream name")
    add.add_argument("--site", required=True, help="office or site, e.g. SEOUL-HQ (alert filters and proxies use it)")
    add.add_argument("--floor")
    add.add_argument("--zone")
    add.add_argument("--display-name", help="what people call the camera, e.g. 'Lobby entrance'")
    add.add_argument("--timezone", required=True, help="IANA time zone of the camera, e.g. Asia/Seoul")
    add.add_argument(
        "--rtsp-url-secret",
        metavar="SECRET",
        help="Secrets Manager secret (name or ARN) or ssm:PARAMETER holding the camera's RTSP URL",
    )
    add.add_argument("--replace", action="store_true", help="overwrite the camera if it is already registered")
    stack_outputs.add_arguments(add, stack_outputs.CAMERA_TABLE)
    add.set_defaults(run=add_camera)

    list_ = commands.add_parser("list", help="list registered cameras")
    list_.add_argument("--site", help="only this site's cameras")
    list_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stack_outputs.add_arguments(list_, stack_outputs.CAMERA_TABLE)
    list_.set_defaults(run=list_cameras)

    remove = commands.add_parser("remove", help="unregister a camera (it still alerts, by its stream name)")
    remove.add_argument("camera_id", metavar="CAMERA_ID")
    stack_outputs.add_arguments(remove, stack_outputs.CAMERA_TABLE)
    remove.set_defaults(run=remove_camera)


def camera_table(args: argparse.Namespace, outputs: stack_outputs.StackOutputs | None = None) -> CameraTable:
    table_name = (outputs or stack_outputs.StackOutputs(args)).require(stack_outputs.CAMERA_TABLE)
    return CameraTable(clients.dynamodb(args), table_name)


def registered_cameras(
    args: argparse.Namespace, outputs: stack_outputs.StackOutputs | None = None
) -> list[RegisteredCamera]:
    """Every usable camera in the registry; an entry that is not is named on stderr and left out."""
    cameras, unusable = camera_table(args, outputs).scan()
    for camera_id, reason in sorted(unusable.items()):
        output.warn(f"registry entry {camera_id} is invalid, left out: {reason}")
    return cameras


def camera_from_arguments(args: argparse.Namespace) -> RegisteredCamera:
    if not STREAM_NAME.fullmatch(args.camera_id):
        raise CommandError(
            f"camera id {args.camera_id!r} is not a Kinesis video stream name (1-256 of a-z A-Z 0-9 _ . -)"
        )
    problem = camera_id_problem(args.camera_id)  # the rule the detector quarantines records by
    if problem is not None:
        raise CommandError(f"camera id {args.camera_id!r} {problem}: it would not be a safe path segment")
    try:
        place = CameraPlace(
            camera_id=args.camera_id,
            display_name=args.display_name,
            site=args.site,
            floor=args.floor,
            zone=args.zone,
            timezone=args.timezone,
        )
    except ValidationError as error:
        raise CommandError(f"camera {args.camera_id} not registered: {validation_message(error)}") from error
    try:
        secret = RtspUrlSecret.parse(args.rtsp_url_secret) if args.rtsp_url_secret else None
    except ValueError as error:
        raise CommandError(f"--rtsp-url-secret: {error}") from error
    return RegisteredCamera(place, secret)


def add_camera(args: argparse.Namespace) -> int:
    camera = camera_from_arguments(args)
    table = camera_table(args)
    table.put(camera, replace=args.replace)
    place = camera.place
    print(
        f"Registered {place.label} at {place.where}, {place.timezone} time. "
        f"Alerts use it within {REGISTRY_CACHE_SECONDS // 60} minutes."
    )
    if camera.rtsp_url_secret is None:
        print("No --rtsp-url-secret: `facewatch proxy config` cannot stream this camera until it has one.")
    return 0


def camera_record(camera: RegisteredCamera) -> dict[str, Any]:
    record: dict[str, Any] = camera.place.model_dump()
    record["rtsp_url_secret"] = camera.rtsp_url_secret.reference if camera.rtsp_url_secret else None
    return record


def list_cameras(args: argparse.Namespace) -> int:
    cameras = registered_cameras(args)
    if args.site:
        cameras = [camera for camera in cameras if camera.place.site == args.site]
    if args.json:
        output.print_json([camera_record(camera) for camera in cameras])
        return 0
    rows = [
        [
            camera.camera_id,
            camera.place.display_name or "-",
            camera.place.site or "-",
            camera.place.floor or "-",
            camera.place.zone or "-",
            camera.place.timezone,
            camera.rtsp_url_secret.reference if camera.rtsp_url_secret else "-",
        ]
        for camera in cameras
    ]
    print(output.table(["CAMERA", "NAME", "SITE", "FLOOR", "ZONE", "TIME ZONE", "RTSP URL SECRET"], rows))
    print(f"{len(cameras)} camera(s)")
    return 0


def remove_camera(args: argparse.Namespace) -> int:
    table = camera_table(args)
    if not table.delete(args.camera_id):
        raise CommandError(f"camera {args.camera_id} is not registered in {table.name}")
    print(f"Removed camera {args.camera_id} from {table.name}. It still alerts, known by its stream name, in UTC.")
    return 0
