"""Offboarding that deletes: every face and the Rekognition user of a person, their stored enrolment
photos, then a verification that nothing of them matches any more, recorded per person.

Order matters: the stored photos are the verification's probe, so they are searched with after the faces
are gone and deleted last. Without a stored photo the verification lists the collection instead.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from facewatch.adapters.aws import error_code
from facewatch_cli import enrolment

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_s3 import S3Client

# DeleteFaces takes at most 4096 ids a call.
DELETE_FACES_BATCH = 4096
# The verification search: any match of the person's face at all counts (the lowest threshold).
VERIFY_FACE_MATCH_THRESHOLD = 0.0
VERIFY_MAX_FACES = 4096


@dataclass
class Offboarded:
    """What offboarding did for one person."""

    employee_id: str
    faces_removed: int = 0
    faces_kept: list[str] = field(default_factory=list)
    user_removed: bool = False
    photos_deleted: int = 0
    verification: str = ""
    verified: bool = False

    @property
    def complete(self) -> bool:
        return self.verified and not self.faces_kept


def employee_ids_from_file(path: Path) -> list[str]:
    """Ids from an HR export: one per line, or a CSV whose header has an `employee_id` column."""
    import csv

    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except OSError as error:
        raise ValueError(f"cannot read {path}: {error.strerror or error}") from error
    rows = [line for line in lines if line.strip() and not line.lstrip().startswith("#")]
    if rows and "," in rows[0]:
        reader = csv.DictReader(rows)
        column = next((name for name in reader.fieldnames or [] if name.strip().lower() == "employee_id"), None)
        if column is None:
            raise ValueError(
                f"{path}: a CSV needs an employee_id column (columns: {', '.join(reader.fieldnames or [])})"
            )
        ids = [(row.get(column) or "").strip() for row in reader]
    else:
        ids = [row.strip() for row in rows]
    bad = [value for value in ids if not enrolment.is_employee_id(value)]
    if bad:
        raise ValueError(f"{path}: not employee ids: {', '.join(repr(b) for b in bad[:5])}")
    return list(dict.fromkeys(ids))


def stored_photos(s3: S3Client, uri: str, employee_id: str) -> list[tuple[str, str]]:
    """(bucket, key) of the person's photos under an enrolment prefix (same naming as `faces enroll`)."""
    bucket, prefix = enrolment.parse_s3_uri(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    found = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            key = item["Key"]
            if not key.endswith("/") and enrolment.employee_id_from_path(PurePosixPath(key.removeprefix(prefix))) == (
                employee_id
            ):
                found.append((bucket, key))
    return found


def offboard(
    rekognition: RekognitionClient,
    collection_id: str,
    employee_id: str,
    face_ids: Sequence[str],
    *,
    s3: S3Client | None,
    photos: Sequence[tuple[str, str]],
) -> Offboarded:
    result = Offboarded(employee_id)
    result.user_removed = _delete_user(rekognition, collection_id, employee_id)
    for batch in itertools.batched(face_ids, DELETE_FACES_BATCH):
        response = rekognition.delete_faces(CollectionId=collection_id, FaceIds=list(batch))
        result.faces_removed += len(response.get("DeletedFaces", []))
        result.faces_kept += [
            f"{failure.get('FaceId', '?')}: {', '.join(failure.get('Reasons', [])) or 'no reason given'}"
            for failure in response.get("UnsuccessfulFaceDeletions", [])
        ]
    _verify(rekognition, collection_id, result, photos)
    if s3 is not None and result.verified:
        for bucket, key in photos:
            s3.delete_object(Bucket=bucket, Key=key)
            result.photos_deleted += 1
    return result


def _delete_user(rekognition: RekognitionClient, collection_id: str, employee_id: str) -> bool:
    """DeleteUser disassociates the user's faces first; a person enrolled before users existed has none.
    The collection exists (its faces were just listed), so "not found" is about the user."""
    try:
        rekognition.delete_user(CollectionId=collection_id, UserId=employee_id)
    except ClientError as error:
        if error_code(error) == "ResourceNotFoundException":
            return False
        raise
    return True


def _verify(
    rekognition: RekognitionClient, collection_id: str, result: Offboarded, photos: Sequence[tuple[str, str]]
) -> None:
    remaining = [
        face.get("FaceId", "?")
        for page in rekognition.get_paginator("list_faces").paginate(CollectionId=collection_id)
        for face in page.get("Faces", [])
        if face.get("ExternalImageId") == result.employee_id
    ]
    if remaining:
        result.verification = f"{len(remaining)} face(s) still listed"
        return
    matched = 0
    for bucket, key in photos:
        try:
            response = rekognition.search_faces_by_image(
                CollectionId=collection_id,
                Image={"S3Object": {"Bucket": bucket, "Name": key}},
                FaceMatchThreshold=VERIFY_FACE_MATCH_THRESHOLD,
                MaxFaces=VERIFY_MAX_FACES,
            )
        except ClientError as error:
            if error_code(error) != "InvalidParameterException":  # no face in the photo
                raise
            continue
        matched += sum(
            1
            for match in response.get("FaceMatches", [])
            if match.get("Face", {}).get("ExternalImageId") == result.employee_id
        )
    if matched:
        result.verification = f"a search with their photo still matches {matched} face(s) of theirs"
        return
    result.verified = True
    result.verification = (
        f"no face listed; a search with {len(photos)} stored photo(s) matches none of theirs"
        if photos
        else "no face listed (no stored photo to search with)"
    )
