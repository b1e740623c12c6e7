"""`facewatch faces enroll|list|remove`: the employee face collection the stream processors search.

Each indexed face carries ExternalImageId = the employee id, so a match in a face-search record names
the employee, and offboarding finds every face of one person.
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters.aws import error_code
from facewatch.domain.enrolment import QUALITY_FILTERS, index_faces_request
from facewatch_cli import clients, enrolment, output, stack_outputs
from facewatch_cli.enrolment import EnrolmentSummary, Inventory, Photo, PhotoError, PhotoOutcome
from facewatch_cli.main import CommandError
from facewatch_cli.progress import ProgressBar

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_rekognition.literals import QualityFilterType

# IndexFaces errors that concern one photo; any other error (no such collection, access denied, expired
# credentials) would fail every photo alike, so it stops the run.
PHOTO_ERRORS = frozenset(
    {
        "InvalidImageFormatException",
        "ImageTooLargeException",
        "InvalidS3ObjectException",
        "InvalidParameterException",
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
    }
)
# ListFaces returns at most 4096 faces a page; DeleteFaces takes at most 4096 ids a call.
LIST_FACES_PAGE_SIZE = 4096
DELETE_FACES_BATCH = 4096
NO_EMPLOYEE_ID = "(no id)"

ENROLL_EPILOG = """\
photos: local JPEG/PNG files (up to 5 MB, sent as bytes) or s3://bucket/key objects (up to 15 MB, read by
Rekognition from S3 in the collection's Region).

Bulk (--from-dir DIR or --from-s3 s3://bucket/prefix/): the employee id comes from each path:
  E123.jpg, E123_2.jpg      -> E123   (a trailing _<number> counts photos of one person)
  E123/front.jpg            -> E123   (one sub-folder per employee, any file names)
Ids are 1-255 of a-z A-Z 0-9 _ . - : (Rekognition's ExternalImageId).

Each photo is indexed with MaxFaces=1 (the largest face) and the quality filter; the summary lists photos
whose face Rekognition rejected (with its reasons, e.g. LOW_SHARPNESS), photos with other faces that
were left out (EXCEEDS_MAX_FACES: check the right face was indexed), and failures. Exit code 3 when any.
"""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("faces", help="the employee face collection: enrol, list, offboard")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    enroll = commands.add_parser(
        "enroll",
        help="index employee photos into the collection",
        epilog=ENROLL_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    enroll.add_argument("photos", nargs="*", metavar="PHOTO", help="photos of the one employee --employee-id names")
    enroll.add_argument("--employee-id", metavar="ID", help="the employee the PHOTOs show")
    bulk = enroll.add_mutually_exclusive_group()
    bulk.add_argument("--from-dir", type=Path, metavar="DIR", help="enrol every photo in DIR (ids from names)")
    bulk.add_argument("--from-s3", metavar="S3_URI", help="enrol every photo under s3://bucket/prefix/")
    enroll.add_argument(
        "--quality-filter",
        choices=QUALITY_FILTERS,
        default="AUTO",
        help="IndexFaces QualityFilter: faces below this quality are rejected (default AUTO)",
    )
    enroll.add_argument("--dry-run", action="store_true", help="list the photos and employee ids, index nothing")
    stack_outputs.add_arguments(enroll, stack_outputs.EMPLOYEE_COLLECTION)
    enroll.set_defaults(run=enroll_faces)

    list_ = commands.add_parser("list", help="employees in the collection and how many faces each has")
    list_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    stack_outputs.add_arguments(list_, stack_outputs.EMPLOYEE_COLLECTION)
    list_.set_defaults(run=list_faces)

    remove = commands.add_parser("remove", help="offboarding: remove every face of an employee")
    remove.add_argument("--employee-id", metavar="ID", required=True)
    stack_outputs.add_arguments(remove, stack_outputs.EMPLOYEE_COLLECTION)
    remove.set_defaults(run=remove_faces)


def employee_id_argument(value: str) -> str:
    if not enrolment.is_employee_id(value):
        raise CommandError(
            f"employee id {value!r} must be 1-255 of a-z A-Z 0-9 _ . - : (Rekognition's ExternalImageId)"
        )
    return value


def collection_of(args: argparse.Namespace) -> str:
    return stack_outputs.StackOutputs(args).require(stack_outputs.EMPLOYEE_COLLECTION)


def inventory_from_arguments(args: argparse.Namespace) -> Inventory:
    try:
        if args.from_dir is not None or args.from_s3 is not None:
            if args.photos or args.employee_id:
                raise CommandError(
                    "--from-dir/--from-s3 take the employee ids from the file names: drop PHOTO and --employee-id"
                )
            if args.from_dir is not None:
                return enrolment.photos_in_directory(args.from_dir)
            return clients.aws_errors(enrolment.photos_in_s3)(clients.s3(args), args.from_s3)
        if not args.photos or not args.employee_id:
            raise CommandError(
                "give --employee-id ID and its PHOTOs, or --from-dir DIR, or --from-s3 s3://bucket/prefix/"
            )
        return Inventory(photos=enrolment.photos_of(employee_id_argument(args.employee_id), args.photos))
    except ValueError as error:
        raise CommandError(str(error)) from error


def index_photo(
    rekognition: RekognitionClient, collection_id: str, photo: Photo, quality: QualityFilterType
) -> PhotoOutcome:
    try:
        image = photo.image()
    except PhotoError as error:
        return enrolment.failed(photo, str(error))
    try:
        response = rekognition.index_faces(**index_faces_request(collection_id, image, photo.employee_id, quality))
    except ClientError as error:
        if error_code(error) not in PHOTO_ERRORS:
            raise
        return enrolment.failed(photo, clients.describe(error))
    return enrolment.outcome_of(photo, response)


def enroll_faces(args: argparse.Namespace) -> int:
    inventory = inventory_from_arguments(args)
    if not inventory.photos:
        print("\n".join(["No photo to enrol.", *enrolment.skipped_lines(inventory.skipped)]))
        return output.EXIT_ATTENTION
    if args.dry_run:
        print(output.table(["EMPLOYEE", "PHOTO"], [[p.employee_id, p.label] for p in inventory.photos]))
        employees = {photo.employee_id for photo in inventory.photos}
        print(f"{len(inventory.photos)} photo(s) of {len(employees)} employee(s); nothing indexed (--dry-run).")
        for line in enrolment.skipped_lines(inventory.skipped):
            print(line)
        return 0
    collection_id = collection_of(args)
    rekognition = clients.rekognition(args)
    progress = ProgressBar(len(inventory.photos))
    outcomes: list[PhotoOutcome] = []
    try:
        for done, photo in enumerate(inventory.photos, start=1):
            outcomes.append(index_photo(rekognition, collection_id, photo, args.quality_filter))
            progress.update(done, Path(photo.label).name)
    except (ClientError, BotoCoreError) as error:
        print("\n".join(EnrolmentSummary(tuple(outcomes), inventory.skipped).lines(collection_id)))
        if isinstance(error, ClientError) and error_code(error) == "ResourceNotFoundException":
            raise CommandError(
                f"collection {collection_id} does not exist (deployed stack? --collection-id?)"
            ) from error
        raise CommandError(f"stopped after {len(outcomes)} photo(s): {clients.describe(error)}") from error
    summary = EnrolmentSummary(tuple(outcomes), inventory.skipped)
    print("\n".join(summary.lines(collection_id)))
    return output.EXIT_ATTENTION if summary.needs_attention else 0


@clients.aws_errors
def faces_by_employee(rekognition: RekognitionClient, collection_id: str) -> dict[str, list[str]]:
    """Face ids per employee id. ListFaces filters by UserId or FaceIds only, not ExternalImageId: page
    through the whole collection."""
    faces: dict[str, list[str]] = defaultdict(list)
    pages = rekognition.get_paginator("list_faces").paginate(
        CollectionId=collection_id, PaginationConfig={"PageSize": LIST_FACES_PAGE_SIZE}
    )
    for page in pages:
        for face in page.get("Faces", []):
            if "FaceId" in face:
                faces[face.get("ExternalImageId", NO_EMPLOYEE_ID)].append(face["FaceId"])
    return dict(faces)


def list_faces(args: argparse.Namespace) -> int:
    collection_id = collection_of(args)
    faces = faces_by_employee(clients.rekognition(args), collection_id)
    employees = sorted(faces)
    if args.json:
        records: list[dict[str, Any]] = [
            {"employee_id": e, "faces": len(faces[e]), "face_ids": sorted(faces[e])} for e in employees
        ]
        output.print_json({"collection_id": collection_id, "employees": records})
        return 0
    print(output.table(["EMPLOYEE", "FACES"], [[e, str(len(faces[e]))] for e in employees]))
    total = sum(len(ids) for ids in faces.values())
    print(f"{len(employees)} employee(s), {total} face(s) in collection {collection_id}")
    return 0


@clients.aws_errors
def remove_faces(args: argparse.Namespace) -> int:
    employee_id = employee_id_argument(args.employee_id)
    collection_id = collection_of(args)
    rekognition = clients.rekognition(args)
    face_ids = faces_by_employee(rekognition, collection_id).get(employee_id, [])
    if not face_ids:
        print(f"No face of {employee_id} in collection {collection_id}: nothing to remove.")
        return 0
    deleted = 0
    refused: list[str] = []
    for batch in itertools.batched(face_ids, DELETE_FACES_BATCH):
        response = rekognition.delete_faces(CollectionId=collection_id, FaceIds=list(batch))
        deleted += len(response.get("DeletedFaces", []))
        refused += [
            f"  {failure.get('FaceId', '?')}: {', '.join(failure.get('Reasons', [])) or 'no reason given'}"
            for failure in response.get("UnsuccessfulFaceDeletions", [])
        ]
    print(f"Removed {deleted} face(s) of {employee_id} from collection {collection_id}.")
    if refused:
        print(
            f"Could not remove {len(refused)} face(s) (a face tied to a Rekognition user must be disassociated first):"
        )
        print("\n".join(refused))
        return output.EXIT_ATTENTION
    return 0
