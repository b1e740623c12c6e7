"""`facewatch faces enroll|list|remove`: the employee face collection the stream processors and image mode search.

Each indexed face carries ExternalImageId = the employee id, so a match in a face-search record names
the employee, and offboarding finds every face of one person. Enrolment records the person's legal basis
in PrivacyTable (outside Rekognition); offboarding deletes faces, user and stored photos and verifies it.
"""

from __future__ import annotations

import argparse
import itertools
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters.aws import error_code
from facewatch.adapters.privacy_records import PersonRecord, PrivacyRecords
from facewatch.domain.enrolment import QUALITY_FILTERS as QUALITY_FILTERS
from facewatch.domain.enrolment import index_faces_request
from facewatch.domain.privacy import LegalBasis, PrivacyError, check_legal_basis, load_profiles
from facewatch.domain.watchlists import parse_watchlist_image_id
from facewatch_cli import audit_trail, clients, enrolment, offboarding, output, retention, stack_outputs
from facewatch_cli.enrolment import EnrolmentSummary, Inventory, Photo, PhotoError, PhotoOutcome, UserOutcome
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

Then each employee gets one Rekognition user (UserId = employee id; CreateUser) and the faces indexed now
are associated with it (AssociateFaces), for image mode's SearchUsersByImage. A face the user refuses
(LOW_MATCH_CONFIDENCE: it may be someone else's) is listed, exit code 3. --no-users skips this step.
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
    enroll.add_argument(
        "--no-users",
        dest="users",
        action="store_false",
        help="index faces only: no Rekognition user per employee (image mode then searches faces)",
    )
    enroll.add_argument(
        "--legal-basis",
        choices=[basis.value for basis in LegalBasis],
        help="required: why this person's biometric data may be processed (recorded in PrivacyTable)",
    )
    enroll.add_argument("--consent-ref", metavar="REF", help="with consent: where the signed consent/release is kept")
    enroll.add_argument("--basis-note", metavar="TEXT", help="with legitimate-interest (or contract): the reasoning")
    stack_outputs.add_arguments(enroll, stack_outputs.EMPLOYEE_COLLECTION, retention.PRIVACY_TABLE)
    enroll.set_defaults(run=enroll_faces)

    list_ = commands.add_parser("list", help="employees in the collection, their faces and legal basis")
    list_.add_argument("--json", action="store_true", help="print JSON instead of a table")
    list_.add_argument(
        "--stale",
        type=int,
        metavar="DAYS",
        help="only people not enrolled or refreshed for DAYS days (or with no recorded legal basis)",
    )
    stack_outputs.add_arguments(list_, stack_outputs.EMPLOYEE_COLLECTION, retention.PRIVACY_TABLE)
    list_.set_defaults(run=list_faces)

    remove = commands.add_parser(
        "remove",
        help="offboarding: delete every face and the user of a person, their stored photos, and verify",
        description="Exit code 0: every person removed and verified; 3: something was kept (listed).",
    )
    who = remove.add_mutually_exclusive_group(required=True)
    who.add_argument("--employee", "--employee-id", dest="employee_id", metavar="ID", help="one person")
    who.add_argument(
        "--from-file", type=Path, metavar="FILE", help="an HR export: one id a line, or CSV with employee_id"
    )
    remove.add_argument(
        "--photos", metavar="S3_URI", help="where enrolment photos are kept (as for --from-s3): theirs are deleted"
    )
    stack_outputs.add_arguments(remove, stack_outputs.EMPLOYEE_COLLECTION, retention.PRIVACY_TABLE)
    audit_trail.add_arguments(remove)
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
    rekognition: RekognitionClient,
    collection_id: str,
    photo: Photo,
    quality: QualityFilterType,
    request: Callable[[str, Any, str, str], dict[str, Any]] = index_faces_request,
) -> PhotoOutcome:
    """`request` builds IndexFaces' parameters: an employee's by default, a watchlist entry's for watchlists."""
    try:
        image = photo.image()
    except PhotoError as error:
        return enrolment.failed(photo, str(error))
    try:
        response = rekognition.index_faces(**request(collection_id, image, photo.employee_id, quality))
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
    basis = legal_basis_of(args)
    collection_id = collection_of(args)
    rekognition = clients.rekognition(args)
    progress = ProgressBar(len(inventory.photos))
    outcomes: list[PhotoOutcome] = []
    try:
        for done, photo in enumerate(inventory.photos, start=1):
            outcomes.append(index_photo(rekognition, collection_id, photo, args.quality_filter))
            progress.update(done, Path(photo.label).name)
    except (ClientError, BotoCoreError) as error:
        record_legal_basis(args, basis, outcomes)
        print("\n".join(EnrolmentSummary(tuple(outcomes), inventory.skipped).lines(collection_id)))
        if isinstance(error, ClientError) and error_code(error) == "ResourceNotFoundException":
            raise CommandError(
                f"collection {collection_id} does not exist (deployed stack? --collection-id?)"
            ) from error
        raise CommandError(f"stopped after {len(outcomes)} photo(s): {clients.describe(error)}") from error
    record_legal_basis(args, basis, outcomes)
    users = associate_users(rekognition, collection_id, enrolment.faces_per_employee(outcomes)) if args.users else []
    summary = EnrolmentSummary(tuple(outcomes), inventory.skipped, tuple(users))
    print("\n".join(summary.lines(collection_id)))
    return output.EXIT_ATTENTION if summary.needs_attention else 0


def privacy_records(args: argparse.Namespace) -> PrivacyRecords:
    table = stack_outputs.StackOutputs(args).require(retention.PRIVACY_TABLE)
    return PrivacyRecords(table, clients.dynamodb(args))


@clients.aws_errors
def legal_basis_of(args: argparse.Namespace) -> LegalBasis:
    """The basis given, complete and accepted by the privacy profile of every assigned site (a person is
    matched at every site of the deployment)."""
    if not args.legal_basis:
        raise CommandError(
            "give --legal-basis consent|contract|legitimate-interest: enrolment records why this person's "
            "biometric data may be processed (see docs/privacy.md)"
        )
    basis = LegalBasis(args.legal_basis)
    profiles = load_profiles()
    in_force = {assignment.profile for assignment in privacy_records(args).sites().values()}
    try:
        check_legal_basis(
            basis,
            reference=args.consent_ref,
            note=args.basis_note,
            profiles=[profiles[name] for name in sorted(in_force) if name in profiles],
        )
    except PrivacyError as error:
        raise CommandError(str(error)) from error
    return basis


def record_legal_basis(args: argparse.Namespace, basis: LegalBasis, outcomes: list[PhotoOutcome]) -> None:
    """One record per person with a face indexed, also when the run stopped part-way."""
    records = privacy_records(args)
    at = retention.now().isoformat()
    for employee_id in sorted({o.photo.employee_id for o in outcomes if o.status == "indexed"}):
        records.record_enrolment(employee_id, basis, reference=args.consent_ref, note=args.basis_note, at=at)


@clients.aws_errors
def associate_users(
    rekognition: RekognitionClient, collection_id: str, faces: dict[str, list[str]]
) -> list[UserOutcome]:
    """One user per employee (made if missing), with the faces indexed now associated to it."""
    users = []
    for employee_id, face_ids in faces.items():
        if not enrolment.can_be_user_id(employee_id):
            users.append(
                UserOutcome(employee_id, created=False, error="longer than Rekognition's 128-character UserId")
            )
            continue
        created = True
        try:
            rekognition.create_user(CollectionId=collection_id, UserId=employee_id)
        except ClientError as error:
            if error_code(error) != "ConflictException":  # ConflictException: the user exists already
                users.append(UserOutcome(employee_id, created=False, error=clients.describe(error)))
                continue
            created = False
        associated = 0
        refused: list[str] = []
        for batch in itertools.batched(face_ids, enrolment.MAX_FACES_PER_ASSOCIATION):
            response = rekognition.associate_faces(CollectionId=collection_id, UserId=employee_id, FaceIds=list(batch))
            associated += len(response.get("AssociatedFaces", []))
            refused += [
                f"{failure.get('FaceId', '?')}: {', '.join(failure.get('Reasons', [])) or 'no reason given'}"
                for failure in response.get("UnsuccessfulFaceAssociations", [])
            ]
        users.append(UserOutcome(employee_id, created=created, associated=associated, refused=tuple(refused)))
    return users


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
    listed = faces_by_employee(clients.rekognition(args), collection_id)
    # Watchlist faces share the collection; `facewatch watchlist list` shows them.
    faces = {image_id: ids for image_id, ids in listed.items() if parse_watchlist_image_id(image_id) is None}
    people = {p.employee_id: p for p in people_records(args)}
    employees = sorted(faces)
    if args.stale is not None:
        cutoff = retention.now().timestamp() - args.stale * retention.SECONDS_PER_DAY
        employees = [e for e in employees if (_refreshed(people.get(e)) or 0.0) < cutoff]
    if args.json:
        records: list[dict[str, Any]] = [
            {
                "employee_id": e,
                "faces": len(faces[e]),
                "face_ids": sorted(faces[e]),
                "legal_basis": _basis(people.get(e)),
                "reference": getattr(people.get(e), "reference", None),
                "note": getattr(people.get(e), "note", None),
                "enrolled_at": getattr(people.get(e), "enrolled_at", None),
                "refreshed_at": getattr(people.get(e), "refreshed_at", None),
            }
            for e in employees
        ]
        output.print_json({"collection_id": collection_id, "employees": records})
        return 0
    rows = [
        [
            e,
            str(len(faces[e])),
            _basis(people.get(e)) or "NONE RECORDED",
            (getattr(people.get(e), "refreshed_at", None) or "-")[:10],
        ]
        for e in employees
    ]
    print(output.table(["EMPLOYEE", "FACES", "LEGAL BASIS", "REFRESHED"], rows))
    total = sum(len(faces[e]) for e in employees)
    which = f" not refreshed for {args.stale} days" if args.stale is not None else ""
    print(f"{len(employees)} employee(s){which}, {total} face(s) in collection {collection_id}")
    missing = [e for e in employees if _basis(people.get(e)) is None]
    if missing:
        print(f"{len(missing)} employee(s) without a recorded legal basis: enrol them again with --legal-basis.")
    return 0


def people_records(args: argparse.Namespace) -> list[PersonRecord]:
    """The legal-basis records, when the stack has a PrivacyTable (an older stack has none)."""
    table = stack_outputs.StackOutputs(args).optional(retention.PRIVACY_TABLE)
    return PrivacyRecords(table, clients.dynamodb(args)).people() if table else []


def _basis(person: PersonRecord | None) -> str | None:
    return person.legal_basis.value if person is not None and person.legal_basis is not None and person.active else None


def _refreshed(person: PersonRecord | None) -> float | None:
    from datetime import datetime

    if person is None or not person.active or not person.refreshed_at:
        return None
    return datetime.fromisoformat(person.refreshed_at).timestamp()


@clients.aws_errors
def remove_faces(args: argparse.Namespace) -> int:
    if args.from_file is not None:
        try:
            employee_ids = offboarding.employee_ids_from_file(args.from_file)
        except ValueError as error:
            raise CommandError(str(error)) from error
    else:
        employee_ids = [employee_id_argument(args.employee_id)]
    collection_id = collection_of(args)
    rekognition = clients.rekognition(args)
    s3 = clients.s3(args) if args.photos else None
    records = privacy_records(args)
    faces = faces_by_employee(rekognition, collection_id)
    results: list[offboarding.Offboarded] = []
    for employee_id in employee_ids:
        photos = offboarding.stored_photos(s3, args.photos, employee_id) if s3 is not None else []
        result = offboarding.offboard(
            rekognition, collection_id, employee_id, faces.get(employee_id, []), s3=s3, photos=photos
        )
        records.record_offboarding(employee_id, at=retention.now().isoformat(), verified=result.complete)
        audit_trail.record(
            args,
            action="faces.offboard",
            target=employee_id,
            detail={
                "faces_removed": result.faces_removed,
                "user_removed": result.user_removed,
                "photos_deleted": result.photos_deleted,
                "verified": result.complete,
                "verification": result.verification,
            },
        )
        results.append(result)
    rows = [
        [
            r.employee_id,
            str(r.faces_removed),
            "removed" if r.user_removed else "none",
            str(r.photos_deleted),
            "yes" if r.complete else "NO",
            r.verification,
        ]
        for r in results
    ]
    print(f"Offboarding in collection {collection_id}:")
    print(output.table(["EMPLOYEE", "FACES REMOVED", "USER", "PHOTOS DELETED", "VERIFIED", "VERIFICATION"], rows))
    kept = [r for r in results if not r.complete]
    for r in kept:
        for line in r.faces_kept:
            print(f"  {r.employee_id}: kept {line}")
    print(f"{len(results) - len(kept)} of {len(results)} person(s) removed and verified.")
    return output.EXIT_ATTENTION if kept else 0
