"""`facewatch cameras add|import|list|remove`: the camera registry that alerts and the site proxies read."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from facewatch.adapters.camera_registry import REGISTRY_CACHE_SECONDS
from facewatch.domain.cameras import CameraPlace, camera_id_problem
from facewatch_cli import camera_checks, camera_import, clients, output, stack_outputs
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
    add.add_argument(
        "--no-verify", action="store_true", help="register without checking that the video stream and secret exist"
    )
    stack_outputs.add_arguments(add, stack_outputs.CAMERA_TABLE)
    add.set_defaults(run=add_camera)

    import_ = commands.add_parser(
        "import",
        help="register or update cameras in bulk from a YAML (or JSON) file; idempotent",
        description="Each entry: id, site, timezone (required), display_name, floor, zone, rtsp_url_secret. "
        "Every entry is checked (and its video stream and secret must exist) before anything is written.",
    )
    import_.add_argument("file", type=Path, metavar="FILE", help="e.g. cameras.yaml")
    import_.add_argument(
        "--no-verify", action="store_true", help="do not check that the video streams and secrets exist"
    )
    stack_outputs.add_arguments(import_, stack_outputs.CAMERA_TABLE)
    import_.set_defaults(run=import_cameras)

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


def verify_camera(args: argparse.Namespace, camera: RegisteredCamera) -> None:
    if getattr(args, "no_verify", False):
        return
    missing = camera_checks.missing_resources(args, camera)
    if missing:
        raise CommandError(f"camera {camera.camera_id} not registered: {'; '.join(missing)} (or add --no-verify)")


def add_camera(args: argparse.Namespace) -> int:
    camera = camera_from_arguments(args)
    verify_camera(args, camera)
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


def import_cameras(args: argparse.Namespace) -> int:
    entries = camera_import.read_entries(args.file)
    problems: list[str] = [entry for entry in entries if isinstance(entry, str)]
    cameras: list[RegisteredCamera] = []
    seen: dict[str, int] = {}
    for entry in entries:
        if isinstance(entry, str):
            continue
        try:
            camera = camera_from_arguments(camera_import.as_arguments(entry))
            if camera.camera_id in seen:
                raise CommandError(f"the same id as camera {seen[camera.camera_id]}")
            seen[camera.camera_id] = entry.position
            if not args.no_verify:
                missing = camera_checks.missing_resources(args, camera)
                if missing:
                    raise CommandError("; ".join(missing))
        except CommandError as error:
            problems.append(f"{entry.label}: {error}")
            continue
        cameras.append(camera)
    if problems:
        raise camera_import.report_invalid(args.file, problems, len(entries))
    table = camera_table(args)
    registered, _ = table.scan()
    created, updated, unchanged = camera_import.plan(cameras, {camera.camera_id: camera for camera in registered})
    for camera in created:
        table.put(camera, replace=False)
        print(f"Created {camera.place.label}")
    for camera in updated:
        table.put(camera, replace=True)
        print(f"Updated {camera.place.label}")
    print(
        f"Imported {args.file.name} into {table.name}: {len(created)} created, {len(updated)} updated, "
        f"{len(unchanged)} unchanged. Alerts use them within {REGISTRY_CACHE_SECONDS // 60} minutes."
    )
    return 0
