"""`facewatch faces enroll|list|remove` with Rekognition stubbed (botocore Stubber: the real service
model checks every request and response) and S3 on moto."""

from __future__ import annotations

import io
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any

import pytest
from botocore.stub import Stubber
from facewatch_cli.enrolment import employee_id_from_path
from facewatch_cli.progress import ProgressBar
from tests.cli.support import AwsClients, Cli

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

COLLECTION = "facewatch-seoul-employees"
AUDIT = "facewatch-audit"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
BOX = {"Width": 0.3, "Height": 0.4, "Left": 0.35, "Top": 0.2}


def indexed(employee_id: str, face_id: str, *others: list[str]) -> dict[str, Any]:
    """IndexFaces indexing one face; each of `others` is an unindexed face's reasons."""
    return {
        "FaceRecords": [
            {
                "Face": {"FaceId": face_id, "ImageId": f"img-{face_id}", "ExternalImageId": employee_id,
                         "BoundingBox": BOX, "Confidence": 99.9},
                "FaceDetail": {"BoundingBox": BOX, "Confidence": 99.9},
            }
        ],
        "UnindexedFaces": [{"Reasons": reasons, "FaceDetail": {"BoundingBox": BOX}} for reasons in others],
        "FaceModelVersion": "7.0",
    }  # fmt: skip


def rejected(*faces: list[str]) -> dict[str, Any]:
    return {
        "FaceRecords": [],
        "UnindexedFaces": [{"Reasons": reasons, "FaceDetail": {"BoundingBox": BOX}} for reasons in faces],
        "FaceModelVersion": "7.0",
    }


def index_request(employee_id: str, image: dict[str, Any], quality: str = "AUTO") -> dict[str, Any]:
    return {
        "CollectionId": COLLECTION,
        "Image": image,
        "ExternalImageId": employee_id,
        "MaxFaces": 1,
        "QualityFilter": quality,
        "DetectionAttributes": ["DEFAULT"],
    }


@pytest.fixture
def rekognition(aws_clients: AwsClients) -> Stubber:
    return aws_clients.stub("rekognition")


@pytest.fixture
def photos(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    return tmp_path


def photo(path: Path, data: bytes = JPEG) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


@pytest.fixture(autouse=True)
def privacy_table(stack: EmulatedStack) -> str:
    """The stack's PrivacyTable on moto: enrolment records each person's legal basis there."""
    return stack.privacy_table_name


def enroll(cli: Cli, *arguments: str, users: bool = False) -> Any:
    """`faces enroll`; without `users`, with --no-users (the tests of indexing leave the users step out)."""
    return cli(
        "faces", "enroll", *arguments, "--collection-id", COLLECTION,
        "--legal-basis", "contract", "--privacy-table", "facewatch-privacy", *([] if users else ["--no-users"]),
    )  # fmt: skip


def expect_user(rekognition: Stubber, employee_id: str, face_ids: list[str], *, exists: bool = False) -> None:
    if exists:
        rekognition.add_client_error("create_user", "ConflictException", "User already exists")
    else:
        rekognition.add_response("create_user", {}, {"CollectionId": COLLECTION, "UserId": employee_id})
    rekognition.add_response(
        "associate_faces",
        {"AssociatedFaces": [{"FaceId": face_id} for face_id in face_ids], "UnsuccessfulFaceAssociations": [],
         "UserStatus": "UPDATING"},
        {"CollectionId": COLLECTION, "UserId": employee_id, "FaceIds": face_ids},
    )  # fmt: skip


def test_enroll_indexes_each_photo_as_the_employee(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "E123.jpg")
    photo(photos / "E123-side.png", PNG)
    rekognition.add_response("index_faces", indexed("E123", "f-1"), index_request("E123", {"Bytes": JPEG}))
    rekognition.add_response("index_faces", indexed("E123", "f-2"), index_request("E123", {"Bytes": PNG}))

    run = enroll(cli, "--employee-id", "E123", "E123.jpg", "E123-side.png")

    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"Enrolled 2 of 2 photo(s) into collection {COLLECTION}: 2 face(s) of 1 employee(s).",
    ]
    assert run.err.splitlines()[-1] == "[####################] 2/2 E123-side.png"


def test_enroll_reports_a_rejected_face_with_the_services_reasons(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "E124.jpg")
    rekognition.add_response("index_faces", rejected(["LOW_SHARPNESS", "LOW_BRIGHTNESS"]))

    run = enroll(cli, "--employee-id", "E124", "E124.jpg")

    assert run.code == 3
    assert run.out.splitlines() == [
        f"Enrolled 0 of 1 photo(s) into collection {COLLECTION}: 0 face(s) of 0 employee(s).",
        "Rejected 1 photo(s), no face indexed:",
        "  E124.jpg (E124): LOW_BRIGHTNESS, LOW_SHARPNESS",
    ]


def test_enroll_flags_a_photo_whose_other_faces_exceeded_max_faces(
    cli: Cli, rekognition: Stubber, photos: Path
) -> None:
    photo(photos / "team.jpg")
    rekognition.add_response(
        "index_faces", indexed("E125", "f-9", ["EXCEEDS_MAX_FACES"], ["EXCEEDS_MAX_FACES", "SMALL_BOUNDING_BOX"])
    )

    run = enroll(cli, "--employee-id", "E125", "team.jpg")

    assert run.code == 3
    assert run.out.splitlines()[1:] == [
        "Check 1 photo(s) with more than one face (only the largest was indexed):",
        "  team.jpg (E125): face f-9 indexed, 2 other face(s) not (EXCEEDS_MAX_FACES)",
    ]


def test_a_photo_without_a_face_is_rejected_as_such(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "wall.jpg")
    rekognition.add_response("index_faces", rejected())

    run = enroll(cli, "--employee-id", "E1", "wall.jpg")

    assert run.code == 3
    assert "  wall.jpg (E1): no face detected" in run.out.splitlines()


def test_the_quality_filter_is_passed_on(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "E1.jpg")
    rekognition.add_response("index_faces", indexed("E1", "f-1"), index_request("E1", {"Bytes": JPEG}, "HIGH"))

    run = enroll(cli, "--employee-id", "E1", "E1.jpg", "--quality-filter", "HIGH")

    assert run.code == 0, run.err


def test_a_photo_over_5_mb_fails_without_a_call_and_the_rest_go_on(
    cli: Cli, rekognition: Stubber, photos: Path
) -> None:
    photo(photos / "huge.jpg", JPEG + b"\x00" * (5 * 1024 * 1024))
    photo(photos / "small.jpg")
    rekognition.add_response("index_faces", indexed("E1", "f-1"), index_request("E1", {"Bytes": JPEG}))

    run = enroll(cli, "--employee-id", "E1", "huge.jpg", "small.jpg")

    assert run.code == 3
    assert run.out.splitlines()[1:] == [
        "Failed 1 photo(s):",
        "  huge.jpg (E1): 5.0 MB is over IndexFaces' 5 MB limit for uploaded bytes: shrink it, or put it in S3 "
        "and enrol it from there (up to 15 MB)",
    ]


def test_a_file_that_is_not_jpeg_or_png_fails_without_a_call(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "E1.jpg", b"GIF89a....")

    run = enroll(cli, "--employee-id", "E1", "E1.jpg")

    assert run.code == 3
    assert "  E1.jpg (E1): not a JPEG or PNG image (IndexFaces takes only those)" in run.out.splitlines()


def test_an_image_the_service_refuses_fails_that_photo_only(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "a.jpg")
    photo(photos / "b.jpg")
    rekognition.add_client_error("index_faces", "InvalidImageFormatException", "Request has invalid image format")
    rekognition.add_response("index_faces", indexed("E1", "f-2"))

    run = enroll(cli, "--employee-id", "E1", "a.jpg", "b.jpg")

    assert run.code == 3
    assert run.out.splitlines() == [
        f"Enrolled 1 of 2 photo(s) into collection {COLLECTION}: 1 face(s) of 1 employee(s).",
        "Failed 1 photo(s):",
        "  a.jpg (E1): IndexFaces failed: InvalidImageFormatException: Request has invalid image format",
    ]


def test_a_missing_collection_stops_the_run(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "a.jpg")
    photo(photos / "b.jpg")
    rekognition.add_client_error("index_faces", "ResourceNotFoundException", "The collection id: x does not exist")

    run = enroll(cli, "--employee-id", "E1", "a.jpg", "b.jpg")

    assert run.code == 1
    assert run.err.splitlines()[-1] == (
        f"facewatch: collection {COLLECTION} does not exist (deployed stack? --collection-id?)"
    )


@pytest.mark.parametrize("employee_id", ["E 123", "E123/../x", "x" * 256])
def test_an_employee_id_rekognition_would_refuse_is_refused_first(cli: Cli, photos: Path, employee_id: str) -> None:
    photo(photos / "a.jpg")

    run = enroll(cli, "--employee-id", employee_id, "a.jpg")

    assert run.code == 1
    assert run.err.strip() == (
        f"facewatch: employee id {employee_id!r} must be 1-255 of a-z A-Z 0-9 _ . - : (Rekognition's ExternalImageId)"
    )


@pytest.mark.parametrize(
    ("path", "employee_id"),
    [
        ("E123.jpg", "E123"),
        ("E123_2.jpg", "E123"),
        ("E123_15.PNG", "E123"),
        ("ops_7_1.jpg", "ops_7"),
        ("ops_7.jpg", "ops"),  # documented: an id ending in _<number> needs a counter or a sub-folder
        ("emp.42:x.jpeg", "emp.42:x"),
        ("E124/front.jpg", "E124"),
        ("ops_7/1.jpg", "ops_7"),
        ("a/b/c.jpg", None),
        ("bad name.jpg", None),
    ],
)
def test_the_employee_id_of_a_bulk_photo_comes_from_its_path(path: str, employee_id: str | None) -> None:
    assert employee_id_from_path(PurePosixPath(path)) == employee_id


def test_the_progress_bar_in_a_log_writes_a_line_per_tenth() -> None:
    stream = io.StringIO()
    bar = ProgressBar(40, stream)

    for done in range(1, 41):
        bar.update(done, f"E{done}.jpg")

    lines = stream.getvalue().splitlines()
    assert len(lines) == 11
    assert lines[0] == "[--------------------] 1/40 E1.jpg"
    assert lines[5] == "[##########----------] 20/40 E20.jpg"
    assert lines[-1] == "[####################] 40/40 E40.jpg"


def test_from_dir_takes_each_employee_id_from_the_file_name(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "new" / "E123.jpg")
    photo(photos / "new" / "E123_2.jpg")
    photo(photos / "new" / "E124" / "front.png", PNG)
    photo(photos / "new" / "notes.txt", b"hello")
    photo(photos / "new" / "bad name.jpg")
    for employee_id, image in [("E123", JPEG), ("E123", JPEG), ("E124", PNG)]:
        rekognition.add_response(
            "index_faces", indexed(employee_id, f"f-{employee_id}"), index_request(employee_id, {"Bytes": image})
        )

    run = enroll(cli, "--from-dir", "new")

    assert run.code == 3  # two files skipped
    assert run.out.splitlines() == [
        f"Enrolled 3 of 3 photo(s) into collection {COLLECTION}: 3 face(s) of 2 employee(s).",
        "Skipped 2 file(s):",
        "  new/bad name.jpg: cannot tell the employee id from the name (see `facewatch faces enroll --help`)",
        "  new/notes.txt: not a .jpg, .jpeg or .png file",
    ]


def test_from_s3_indexes_the_objects_in_place(cli: Cli, aws, rekognition: Stubber) -> None:
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="acme-hr-photos")
    for key in ["badges/2025-11/E200.jpg", "badges/2025-11/E201_1.png", "badges/2025-11/README.md", "other/E9.jpg"]:
        s3.put_object(Bucket="acme-hr-photos", Key=key, Body=JPEG)
    for employee_id, key in [("E200", "badges/2025-11/E200.jpg"), ("E201", "badges/2025-11/E201_1.png")]:
        rekognition.add_response(
            "index_faces",
            indexed(employee_id, f"f-{employee_id}"),
            index_request(employee_id, {"S3Object": {"Bucket": "acme-hr-photos", "Name": key}}),
        )

    run = enroll(cli, "--from-s3", "s3://acme-hr-photos/badges/2025-11")

    assert run.code == 3  # README.md skipped
    assert (
        run.out.splitlines()[0] == f"Enrolled 2 of 2 photo(s) into collection {COLLECTION}: 2 face(s) of 2 employee(s)."
    )
    assert "  s3://acme-hr-photos/badges/2025-11/README.md: not a .jpg, .jpeg or .png file" in run.out.splitlines()


def test_dry_run_lists_the_photos_and_calls_nothing(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    photo(photos / "new" / "E123.jpg")
    photo(photos / "new" / "E123_2.jpg")

    run = cli("faces", "enroll", "--from-dir", "new", "--dry-run")

    assert run.code == 0
    assert run.out.splitlines() == [
        "EMPLOYEE  PHOTO",
        "E123      new/E123.jpg",
        "E123      new/E123_2.jpg",
        "2 photo(s) of 1 employee(s); nothing indexed (--dry-run).",
    ]


def test_bulk_and_single_employee_forms_do_not_mix(cli: Cli, photos: Path) -> None:
    run = enroll(cli, "--from-dir", ".", "--employee-id", "E1")

    assert run.code == 1
    assert "take the employee ids from the file names" in run.err


def faces_page(*faces: tuple[str, str], next_token: str | None = None) -> dict[str, Any]:
    page: dict[str, Any] = {
        "Faces": [{"FaceId": face_id, "ExternalImageId": employee, "ImageId": "i", "Confidence": 99.0}
                  for face_id, employee in faces],
        "FaceModelVersion": "7.0",
    }  # fmt: skip
    if next_token:
        page["NextToken"] = next_token
    return page


def list_request(next_token: str | None = None) -> dict[str, Any]:
    request: dict[str, Any] = {"CollectionId": COLLECTION, "MaxResults": 4096}
    if next_token:
        request["NextToken"] = next_token
    return request


def test_list_counts_faces_per_employee_over_every_page(cli: Cli, rekognition: Stubber) -> None:
    rekognition.add_response("list_faces", faces_page(("a", "E123"), ("b", "E124"), next_token="t1"), list_request())
    rekognition.add_response("list_faces", faces_page(("c", "E123")), list_request("t1"))

    run = cli("faces", "list", "--collection-id", COLLECTION)

    assert run.code == 0
    assert run.out.splitlines() == [
        "EMPLOYEE  FACES  LEGAL BASIS    REFRESHED",
        "E123      2      NONE RECORDED  -",
        "E124      1      NONE RECORDED  -",
        f"2 employee(s), 3 face(s) in collection {COLLECTION}",
        "2 employee(s) without a recorded legal basis: enrol them again with --legal-basis.",
    ]


def test_list_json(cli: Cli, rekognition: Stubber) -> None:
    rekognition.add_response("list_faces", faces_page(("b", "E123"), ("a", "E123")))

    run = cli("faces", "list", "--json", "--collection-id", COLLECTION)

    assert run.code == 0
    assert '"face_ids": [\n        "a",\n        "b"\n      ]' in run.out


def remove(cli: Cli, employee_id: str) -> Any:
    return cli(
        "faces", "remove", "--employee", employee_id, "--collection-id", COLLECTION,
        "--privacy-table", "facewatch-privacy", "--audit-bucket", AUDIT,
    )  # fmt: skip


@pytest.fixture
def audit_bucket(aws_clients: AwsClients) -> str:
    aws_clients.client("s3").create_bucket(Bucket=AUDIT, ObjectLockEnabledForBucket=True)
    return AUDIT


def no_user(rekognition: Stubber, employee_id: str) -> None:
    rekognition.add_client_error(
        "delete_user",
        "ResourceNotFoundException",
        "The user does not exist",
        expected_params={"CollectionId": COLLECTION, "UserId": employee_id},
    )


def test_remove_deletes_every_face_of_the_employee(cli: Cli, rekognition: Stubber, audit_bucket: str) -> None:
    rekognition.add_response("list_faces", faces_page(("a", "E123"), ("b", "E124"), next_token="t1"))
    rekognition.add_response("list_faces", faces_page(("c", "E123")))
    no_user(rekognition, "E123")
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": ["a", "c"]}, {"CollectionId": COLLECTION, "FaceIds": ["a", "c"]}
    )
    rekognition.add_response("list_faces", faces_page(("b", "E124")))

    run = remove(cli, "E123")

    assert run.code == 0, run.err
    assert run.out.splitlines()[2].split()[:5] == ["E123", "2", "none", "0", "yes"]
    assert run.out.splitlines()[-1] == "1 of 1 person(s) removed and verified."


def test_remove_deletes_in_batches_of_4096(cli: Cli, rekognition: Stubber, audit_bucket: str) -> None:
    face_ids = [f"f{n:05d}" for n in range(4097)]
    rekognition.add_response("list_faces", faces_page(*[(face_id, "E1") for face_id in face_ids]))
    no_user(rekognition, "E1")
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": face_ids[:4096]}, {"CollectionId": COLLECTION, "FaceIds": face_ids[:4096]}
    )
    rekognition.add_response(
        "delete_faces", {"DeletedFaces": face_ids[4096:]}, {"CollectionId": COLLECTION, "FaceIds": face_ids[4096:]}
    )
    rekognition.add_response("list_faces", faces_page())

    run = remove(cli, "E1")

    assert run.code == 0, run.err
    assert run.out.splitlines()[2].split()[:2] == ["E1", "4097"]


def test_remove_reports_faces_the_service_kept(cli: Cli, rekognition: Stubber, audit_bucket: str) -> None:
    rekognition.add_response("list_faces", faces_page(("a", "E1"), ("b", "E1")))
    no_user(rekognition, "E1")
    rekognition.add_response(
        "delete_faces",
        {
            "DeletedFaces": ["a"],
            "UnsuccessfulFaceDeletions": [
                {"FaceId": "b", "UserId": "u1", "Reasons": ["ASSOCIATED_TO_AN_EXISTING_USER"]}
            ],
        },
    )
    rekognition.add_response("list_faces", faces_page(("b", "E1")))

    run = remove(cli, "E1")

    assert run.code == 3
    assert run.out.splitlines()[2].split()[:5] == ["E1", "1", "none", "0", "NO"]
    assert "  E1: kept b: ASSOCIATED_TO_AN_EXISTING_USER" in run.out.splitlines()


def test_removing_an_employee_without_faces_verifies_that_none_is_left(
    cli: Cli, rekognition: Stubber, audit_bucket: str
) -> None:
    rekognition.add_response("list_faces", faces_page(("a", "E2")))
    no_user(rekognition, "E1")
    rekognition.add_response("list_faces", faces_page(("a", "E2")))

    run = remove(cli, "E1")

    assert run.code == 0
    assert run.out.splitlines()[2].split()[:5] == ["E1", "0", "none", "0", "yes"]


def test_a_folder_without_photos_enrols_nothing_and_says_why(cli: Cli, photos: Path) -> None:
    photo(photos / "empty" / "notes.txt", b"hello")

    run = enroll(cli, "--from-dir", "empty")

    assert run.code == 3
    assert run.out.splitlines() == [
        "No photo to enrol.",
        "Skipped 1 file(s):",
        "  empty/notes.txt: not a .jpg, .jpeg or .png file",
    ]


def test_enroll_makes_one_rekognition_user_per_employee_with_their_new_faces(
    cli: Cli, rekognition: Stubber, photos: Path
) -> None:
    # given two photos of E123 (no user yet) and one of E124 (a user from an earlier enrolment)
    photo(photos / "new" / "E123.jpg")
    photo(photos / "new" / "E123_2.jpg")
    photo(photos / "new" / "E124.jpg")
    for employee_id, face_id in [("E123", "f-1"), ("E123", "f-2"), ("E124", "f-3")]:
        rekognition.add_response("index_faces", indexed(employee_id, face_id))
    expect_user(rekognition, "E123", ["f-1", "f-2"])
    expect_user(rekognition, "E124", ["f-3"], exists=True)

    # when
    run = enroll(cli, "--from-dir", "new", users=True)

    # then
    assert run.code == 0, run.err
    assert run.out.splitlines() == [
        f"Enrolled 3 of 3 photo(s) into collection {COLLECTION}: 3 face(s) of 2 employee(s).",
        "Rekognition users: 3 face(s) associated with 2 employee(s)' users (1 new).",
    ]


def test_a_face_the_employees_user_refuses_is_listed_for_a_check(cli: Cli, rekognition: Stubber, photos: Path) -> None:
    # given a second photo that AssociateFaces finds unlike the employee's first face
    photo(photos / "E1.jpg")
    photo(photos / "E1_2.jpg")
    rekognition.add_response("index_faces", indexed("E1", "f-1"))
    rekognition.add_response("index_faces", indexed("E1", "f-2"))
    rekognition.add_response("create_user", {}, {"CollectionId": COLLECTION, "UserId": "E1"})
    rekognition.add_response(
        "associate_faces",
        {
            "AssociatedFaces": [{"FaceId": "f-1"}],
            "UnsuccessfulFaceAssociations": [{"FaceId": "f-2", "Reasons": ["LOW_MATCH_CONFIDENCE"]}],
        },
    )

    # when
    run = enroll(cli, "--employee-id", "E1", "E1.jpg", "E1_2.jpg", users=True)

    # then
    assert run.code == 3
    assert run.out.splitlines()[1:] == [
        "Rekognition users: 1 face(s) associated with 1 employee(s)' users (1 new).",
        "  E1: not associated: f-2: LOW_MATCH_CONFIDENCE",
    ]
