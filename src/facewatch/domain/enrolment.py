"""Enrolling a face for an employee: the checks and the IndexFaces request shared by `facewatch faces
enroll` and the console's "resolve as employee", and what Rekognition's answer means.

A face is enrolled only if Rekognition's quality filter accepts it (MaxFaces=1: the largest face in the
image); when it refuses, its reasons (LOW_SHARPNESS, SMALL_BOUNDING_BOX, ...) are what the user sees.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from facewatch.domain.policy import WATCHLIST_PREFIX

# IndexFaces ExternalImageId: 1-255 of [a-zA-Z0-9_.\-:].
EMPLOYEE_ID = re.compile(r"^[a-zA-Z0-9_.\-:]{1,255}$")
# IndexFaces limits (Rekognition quotas; the botocore model's ImageBlob max is 5242880 bytes).
MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_S3_IMAGE_BYTES = 15 * 1024 * 1024
QUALITY_FILTERS = ("NONE", "AUTO", "LOW", "MEDIUM", "HIGH")
DEFAULT_QUALITY_FILTER = "AUTO"
_JPEG_MAGIC = b"\xff\xd8\xff"
_PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The face that Rekognition indexes is the largest; this says why others were not.
EXCEEDS_MAX_FACES = "EXCEEDS_MAX_FACES"
NO_FACE = "no face detected"


def is_employee_id(value: str) -> bool:
    # `wl:...` names a watchlist face (facewatch watchlist add): the detector never counts it as an employee.
    return bool(EMPLOYEE_ID.match(value)) and not value.startswith(WATCHLIST_PREFIX)


def image_problem(data: bytes) -> str | None:
    """Why these bytes cannot go to IndexFaces, or None."""
    if len(data) > MAX_IMAGE_BYTES:
        return (
            f"{len(data) / 1024 / 1024:.1f} MB is over IndexFaces' 5 MB limit for uploaded bytes: "
            "shrink it, or put it in S3 and enrol it from there (up to 15 MB)"
        )
    if not (data.startswith(_JPEG_MAGIC) or data.startswith(_PNG_MAGIC)):
        return "not a JPEG or PNG image (IndexFaces takes only those)"
    return None


def index_faces_request(collection_id: str, image: Any, employee_id: str, quality_filter: str) -> dict[str, Any]:
    """The IndexFaces parameters every enrolment uses: the largest face only, under the quality filter."""
    # Rekognition's format only: watchlist entries (wl:...) are indexed with this request too.
    if not EMPLOYEE_ID.match(employee_id):
        raise ValueError(
            f"face id {employee_id!r} must be 1-255 of a-z A-Z 0-9 _ . - : (Rekognition's ExternalImageId)"
        )
    return index_request(collection_id, image, employee_id, quality_filter)


def index_request(collection_id: str, image: Any, external_image_id: str, quality_filter: str) -> dict[str, Any]:
    """The same for any face of the collection: an employee's, or a watchlist entry's (`wl:<list>:<entry>`)."""
    if not EMPLOYEE_ID.match(external_image_id):
        raise ValueError(f"{external_image_id!r} is not an ExternalImageId (1-255 of a-z A-Z 0-9 _ . - :)")
    if quality_filter not in QUALITY_FILTERS:
        raise ValueError(f"quality filter {quality_filter!r} is not one of {', '.join(QUALITY_FILTERS)}")
    return {
        "CollectionId": collection_id,
        "Image": image,
        "ExternalImageId": external_image_id,
        "MaxFaces": 1,
        "QualityFilter": quality_filter,
        "DetectionAttributes": ["DEFAULT"],
    }


@dataclass(frozen=True, slots=True)
class IndexedFace:
    """IndexFaces' answer: indexed (face_id) or rejected (Rekognition's reasons); other_faces counts the
    faces left out because only the largest is indexed."""

    status: Literal["indexed", "rejected"]
    face_id: str | None = None
    reasons: tuple[str, ...] = ()
    other_faces: int = 0


def indexed_face(response: Any) -> IndexedFace:
    unindexed = response.get("UnindexedFaces", [])
    records = response.get("FaceRecords", [])
    if records:
        return IndexedFace("indexed", face_id=records[0].get("Face", {}).get("FaceId"), other_faces=len(unindexed))
    reasons = sorted({reason for face in unindexed for reason in face.get("Reasons", [])})
    return IndexedFace("rejected", reasons=tuple(reasons) or (NO_FACE,))
