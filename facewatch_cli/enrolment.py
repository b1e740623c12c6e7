"""Enrolment photos and what Rekognition made of them.

A photo is a local JPEG/PNG file (sent as bytes: IndexFaces takes at most 5 MB that way) or an S3
object (Rekognition reads it itself: at most 15 MB, same Region as the collection). In a bulk folder or
S3 prefix, the employee id comes from the path:

- `E123.jpg`, `E123_2.jpg`, `E123_15.png`  -> E123  (a trailing `_<number>` counts photos of one person)
- `E123/front.jpg`, `E123/side.png`        -> E123  (a sub-folder per employee; any file names)

An id that itself ends in `_<number>` (`ops_7`) needs the sub-folder form or a counter (`ops_7_1.jpg`).

Each employee also gets one Rekognition user (UserId = employee id) with their indexed faces associated
(CreateUser, AssociateFaces): image mode's SearchUsersByImage matches against the user's aggregated
vector, which Rekognition documents as more accurate than single faces.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Literal

from facewatch.domain.enrolment import (
    EMPLOYEE_ID,
    EXCEEDS_MAX_FACES,
    MAX_IMAGE_BYTES,
    MAX_S3_IMAGE_BYTES,
    image_problem,
    indexed_face,
    is_employee_id,
)

if TYPE_CHECKING:
    from mypy_boto3_rekognition.type_defs import ImageTypeDef, IndexFacesResponseTypeDef
    from mypy_boto3_s3 import S3Client

IMAGE_SUFFIXES = frozenset({".jpg", ".jpeg", ".png"})
_PHOTO_COUNTER = re.compile(r"_\d+$")
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# Rekognition UserId: 1-128 of [a-zA-Z0-9_.\-:] (CreateUser); AssociateFaces takes 1-100 face ids, and a
# user holds at most 100 faces.
MAX_USER_ID_LENGTH = 128
MAX_FACES_PER_ASSOCIATION = 100


__all__ = ["EMPLOYEE_ID", "EXCEEDS_MAX_FACES", "MAX_IMAGE_BYTES", "MAX_S3_IMAGE_BYTES", "is_employee_id"]


class PhotoError(Exception):
    """A photo that cannot be sent to IndexFaces (too big, not JPEG/PNG, unreadable)."""


def employee_id_from_path(relative: PurePosixPath) -> str | None:
    """The employee a photo shows, from its path inside the bulk folder or prefix (None: cannot tell)."""
    if len(relative.parts) == 2:
        candidate = relative.parts[0]
    elif len(relative.parts) == 1:
        candidate = _PHOTO_COUNTER.sub("", relative.stem)
    else:
        return None
    return candidate if is_employee_id(candidate) else None


@dataclass(frozen=True, slots=True)
class Photo:
    """One enrolment photo of one employee, local (`path`) or in S3 (`bucket`, `key`)."""

    employee_id: str
    label: str
    path: Path | None = None
    bucket: str | None = None
    key: str | None = None

    def image(self) -> ImageTypeDef:
        if self.bucket is not None and self.key is not None:
            return {"S3Object": {"Bucket": self.bucket, "Name": self.key}}
        assert self.path is not None
        return {"Bytes": read_image_bytes(self.path)}


def read_image_bytes(path: Path) -> bytes:
    try:
        size = path.stat().st_size
        if size > MAX_IMAGE_BYTES:
            raise PhotoError(
                f"{size / 1024 / 1024:.1f} MB is over IndexFaces' 5 MB limit for uploaded bytes: "
                "shrink it, or put it in S3 and enrol it from there (up to 15 MB)"
            )
        data = path.read_bytes()
    except OSError as error:
        raise PhotoError(f"cannot read it: {error.strerror or error}") from error
    problem = image_problem(data)
    if problem:
        raise PhotoError(problem)
    return data


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """(bucket, key or prefix) of `s3://bucket/key`; ValueError if it is not one."""
    if not uri.startswith("s3://"):
        raise ValueError(f"{uri!r} is not an s3://bucket/key URI")
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket:
        raise ValueError(f"{uri!r} has no bucket")
    return bucket, key


def photos_of(employee_id: str, sources: Sequence[str]) -> list[Photo]:
    """Photos named on the command line (local paths or s3:// URIs), all of one employee."""
    photos: list[Photo] = []
    for source in sources:
        if source.startswith("s3://"):
            bucket, key = parse_s3_uri(source)
            if not key:
                raise ValueError(f"{source!r} names a bucket, not a photo (use --from-s3 for a prefix)")
            photos.append(Photo(employee_id, source, bucket=bucket, key=key))
        else:
            photos.append(Photo(employee_id, source, path=Path(source)))
    return photos


@dataclass(slots=True)
class Inventory:
    """The photos found in a bulk source, and the files left out with the reason."""

    photos: list[Photo] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)

    def add(
        self,
        relative: PurePosixPath,
        label: str,
        *,
        path: Path | None = None,
        bucket: str | None = None,
        key: str | None = None,
    ) -> None:
        if relative.suffix.lower() not in IMAGE_SUFFIXES:
            self.skipped[label] = "not a .jpg, .jpeg or .png file"
            return
        employee_id = employee_id_from_path(relative)
        if employee_id is None:
            self.skipped[label] = "cannot tell the employee id from the name (see `facewatch faces enroll --help`)"
            return
        self.photos.append(Photo(employee_id, label, path=path, bucket=bucket, key=key))


def photos_in_directory(directory: Path) -> Inventory:
    if not directory.is_dir():
        raise ValueError(f"{directory} is not a directory")
    inventory = Inventory()
    for path in sorted(directory.rglob("*")):
        if path.is_file() and not path.name.startswith("."):
            relative = PurePosixPath(path.relative_to(directory).as_posix())
            inventory.add(relative, str(path), path=path)
    return inventory


def _s3_objects(s3: S3Client, bucket: str, prefix: str) -> Iterator[tuple[str, int]]:
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for item in page.get("Contents", []):
            yield item["Key"], item.get("Size", 0)


def photos_in_s3(s3: S3Client, uri: str) -> Inventory:
    bucket, prefix = parse_s3_uri(uri)
    if prefix and not prefix.endswith("/"):
        prefix += "/"
    inventory = Inventory()
    for key, size in _s3_objects(s3, bucket, prefix):
        if key.endswith("/"):
            continue  # a folder marker
        label = f"s3://{bucket}/{key}"
        if size > MAX_S3_IMAGE_BYTES:
            inventory.skipped[label] = f"{size / 1024 / 1024:.1f} MB is over IndexFaces' 15 MB limit for S3 images"
            continue
        inventory.add(PurePosixPath(key.removeprefix(prefix)), label, bucket=bucket, key=key)
    return inventory


@dataclass(frozen=True, slots=True)
class PhotoOutcome:
    """What became of one photo: `indexed` (face_id set), `rejected` (no face good enough: reasons)
    or `failed` (the call or the file failed: reasons hold the error)."""

    photo: Photo
    status: Literal["indexed", "rejected", "failed"]
    face_id: str | None = None
    reasons: tuple[str, ...] = ()
    # Other faces in an indexed photo, left out by MaxFaces=1: is the indexed one the employee's?
    other_faces: int = 0


def outcome_of(photo: Photo, response: IndexFacesResponseTypeDef) -> PhotoOutcome:
    face = indexed_face(response)
    return PhotoOutcome(photo, face.status, face_id=face.face_id, reasons=face.reasons, other_faces=face.other_faces)


def failed(photo: Photo, reason: str) -> PhotoOutcome:
    return PhotoOutcome(photo, "failed", reasons=(reason,))


@dataclass(frozen=True, slots=True)
class UserOutcome:
    """One employee's Rekognition user: the faces associated with it now, and those refused with why
    (AssociateFaces' reasons, e.g. LOW_MATCH_CONFIDENCE: the photo may show someone else)."""

    employee_id: str
    created: bool  # False: the user existed (an earlier enrolment)
    associated: int = 0
    refused: tuple[str, ...] = ()  # "face id: REASON, ..." lines
    error: str | None = None  # the user could not be made at all


def faces_per_employee(outcomes: Sequence[PhotoOutcome]) -> dict[str, list[str]]:
    """The face ids indexed now, per employee, in photo order: what to associate with each user."""
    faces: dict[str, list[str]] = {}
    for outcome in outcomes:
        if outcome.status == "indexed" and outcome.face_id:
            faces.setdefault(outcome.photo.employee_id, []).append(outcome.face_id)
    return faces


def can_be_user_id(employee_id: str) -> bool:
    return len(employee_id) <= MAX_USER_ID_LENGTH


@dataclass(frozen=True, slots=True)
class EnrolmentSummary:
    outcomes: tuple[PhotoOutcome, ...]
    skipped: dict[str, str]
    users: tuple[UserOutcome, ...] = ()

    def of(self, status: str) -> list[PhotoOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == status]

    @property
    def needs_attention(self) -> bool:
        return bool(
            self.skipped
            or self.of("rejected")
            or self.of("failed")
            or any(outcome.other_faces for outcome in self.outcomes)
            or any(user.refused or user.error for user in self.users)
        )

    def lines(self, collection_id: str) -> list[str]:
        indexed = self.of("indexed")
        employees = {outcome.photo.employee_id for outcome in indexed}
        lines = [
            f"Enrolled {len(indexed)} of {len(self.outcomes)} photo(s) into collection {collection_id}: "
            f"{len(indexed)} face(s) of {len(employees)} employee(s)."
        ]
        crowded = [outcome for outcome in indexed if outcome.other_faces]
        if crowded:
            lines.append(f"Check {len(crowded)} photo(s) with more than one face (only the largest was indexed):")
            lines += [
                f"  {o.photo.label} ({o.photo.employee_id}): face {o.face_id} indexed, "
                f"{o.other_faces} other face(s) not ({EXCEEDS_MAX_FACES})"
                for o in crowded
            ]
        rejected = self.of("rejected")
        if rejected:
            lines.append(f"Rejected {len(rejected)} photo(s), no face indexed:")
            lines += [f"  {o.photo.label} ({o.photo.employee_id}): {', '.join(o.reasons)}" for o in rejected]
        failures = self.of("failed")
        if failures:
            lines.append(f"Failed {len(failures)} photo(s):")
            lines += [f"  {o.photo.label} ({o.photo.employee_id}): {'; '.join(o.reasons)}" for o in failures]
        return lines + self._user_lines() + skipped_lines(self.skipped)

    def _user_lines(self) -> list[str]:
        if not self.users:
            return []
        associated = sum(user.associated for user in self.users)
        created = sum(1 for user in self.users if user.created)
        lines = [
            f"Rekognition users: {associated} face(s) associated with {len(self.users)} employee(s)' users "
            f"({created} new)."
        ]
        for user in self.users:
            if user.error:
                lines.append(f"  {user.employee_id}: no user: {user.error}")
            lines += [f"  {user.employee_id}: not associated: {refusal}" for refusal in user.refused]
        return lines


def skipped_lines(skipped: dict[str, str]) -> list[str]:
    if not skipped:
        return []
    return [f"Skipped {len(skipped)} file(s):", *(f"  {label}: {reason}" for label, reason in sorted(skipped.items()))]
