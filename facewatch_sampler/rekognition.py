"""Rekognition Image, as image mode uses it: DetectFaces on a frame, SearchUsersByImage or
SearchFacesByImage on a face crop.

Owns its client (made lazily, or injected). Errors become RekognitionError, marked throttled or not, and
are never retried here: the caller drops the frame and backs off, so a slow or throttled service never
holds the sampler up for longer than one call's timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters.aws import error_code
from facewatch_sampler.geometry import Box
from facewatch_sampler.records import AnalysedFace, CollectionMatch, HeadPose, ImageQuality, Landmark

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

# Rekognition's "slow down" answers (Rekognition API reference, common errors).
THROTTLING_ERRORS = frozenset(
    {"ThrottlingException", "ProvisionedThroughputExceededException", "LimitExceededException"}
)
# SearchFacesByImage fails with InvalidParameterException "There are no faces in the image" when it finds
# no face in the crop; any other InvalidParameterException is a configuration error and is raised.
NO_FACE_MESSAGE = "no faces"
# The detector treats any listed match as an employee; one is enough, and keeps records small.
SEARCH_MAX_FACES = 1
SEARCH_MAX_USERS = 1


class RekognitionError(Exception):
    def __init__(self, operation: str, code: str, *, throttled: bool) -> None:
        super().__init__(f"{operation}: {code}")
        self.operation = operation
        self.code = code
        self.throttled = throttled


@dataclass(frozen=True, slots=True)
class SearchedFace:
    """The face SearchFacesByImage found in the image it was given (box as ratios of that image)."""

    box: Box
    confidence: float
    matches: tuple[CollectionMatch, ...]


class FaceService(Protocol):
    def detect_faces(self, jpeg: bytes) -> list[AnalysedFace]: ...

    def search_face(self, jpeg: bytes) -> SearchedFace | None: ...

    def search_user(self, jpeg: bytes) -> SearchedFace | None: ...


def client_config(timeout_seconds: float) -> Config:
    # No SDK retries: a retry would block the analysis for seconds; the sampler backs off instead.
    return Config(
        connect_timeout=timeout_seconds,
        read_timeout=timeout_seconds,
        retries={"total_max_attempts": 1, "mode": "standard"},
        user_agent_extra="facewatch-sampler",
    )


def _box(raw: Mapping[str, Any]) -> Box:
    return Box(
        left=float(raw.get("Left", 0.0)),
        top=float(raw.get("Top", 0.0)),
        width=float(raw.get("Width", 0.0)),
        height=float(raw.get("Height", 0.0)),
    )


def _detected_face(raw: Mapping[str, Any]) -> AnalysedFace:
    pose = raw.get("Pose")
    quality = raw.get("Quality")
    return AnalysedFace(
        box=_box(raw.get("BoundingBox", {})),
        confidence=float(raw.get("Confidence", 0.0)),
        pose=HeadPose(float(pose["Pitch"]), float(pose["Roll"]), float(pose["Yaw"])) if pose else None,
        quality=ImageQuality(float(quality["Brightness"]), float(quality["Sharpness"])) if quality else None,
        landmarks=tuple(Landmark(str(m["Type"]), float(m["X"]), float(m["Y"])) for m in raw.get("Landmarks", [])),
    )


def _collection_match(raw: Mapping[str, Any]) -> CollectionMatch:
    face = raw.get("Face", {})
    box = face.get("BoundingBox")
    confidence = face.get("Confidence")
    return CollectionMatch(
        similarity=float(raw["Similarity"]),
        face_id=str(face.get("FaceId", "")),
        external_image_id=face.get("ExternalImageId"),
        image_id=face.get("ImageId"),
        confidence=float(confidence) if confidence is not None else None,
        box=_box(box) if box else None,
    )


class RekognitionFaces:
    """DetectFaces, SearchFacesByImage and SearchUsersByImage against one collection at one threshold."""

    def __init__(
        self,
        collection_id: str,
        face_match_threshold: float,
        *,
        client: RekognitionClient | None = None,
        client_factory: Callable[[], RekognitionClient] | None = None,
    ) -> None:
        if client is None and client_factory is None:
            raise ValueError("give a client or a client_factory")
        self._collection_id = collection_id
        self._threshold = face_match_threshold
        self._client = client
        self._client_factory = client_factory

    @property
    def client(self) -> RekognitionClient:
        if self._client is None:
            assert self._client_factory is not None
            self._client = self._client_factory()
        return self._client

    def detect_faces(self, jpeg: bytes) -> list[AnalysedFace]:
        try:
            response = self.client.detect_faces(Image={"Bytes": jpeg}, Attributes=["DEFAULT"])
        except (ClientError, BotoCoreError) as error:
            raise _rekognition_error("DetectFaces", error) from error
        return [_detected_face(face) for face in response.get("FaceDetails", [])]

    def search_face(self, jpeg: bytes) -> SearchedFace | None:
        try:
            response = self.client.search_faces_by_image(
                CollectionId=self._collection_id,
                Image={"Bytes": jpeg},
                MaxFaces=SEARCH_MAX_FACES,
                FaceMatchThreshold=self._threshold,
            )
        except ClientError as error:
            if _no_face(error):
                return None
            raise _rekognition_error("SearchFacesByImage", error) from error
        except BotoCoreError as error:
            raise _rekognition_error("SearchFacesByImage", error) from error
        return SearchedFace(
            box=_box(response.get("SearchedFaceBoundingBox", {})),
            confidence=float(response.get("SearchedFaceConfidence", 0.0)),
            matches=tuple(_collection_match(match) for match in response.get("FaceMatches", [])),
        )

    def search_user(self, jpeg: bytes) -> SearchedFace | None:
        """SearchUsersByImage on the largest face of the crop; None when it holds no face."""
        try:
            response = self.client.search_users_by_image(
                CollectionId=self._collection_id,
                Image={"Bytes": jpeg},
                MaxUsers=SEARCH_MAX_USERS,
                UserMatchThreshold=self._threshold,
            )
        except ClientError as error:
            if _no_face(error):
                return None
            raise _rekognition_error("SearchUsersByImage", error) from error
        except BotoCoreError as error:
            raise _rekognition_error("SearchUsersByImage", error) from error
        detail = response.get("SearchedFace", {}).get("FaceDetail", {})
        return SearchedFace(
            box=_box(detail.get("BoundingBox", {})),
            confidence=float(detail.get("Confidence", 0.0)),
            matches=tuple(_user_match(match) for match in response.get("UserMatches", [])),
        )


def _user_match(raw: Mapping[str, Any]) -> CollectionMatch:
    """A user match in the record's MatchedFaces shape: the user id is the employee id (enrolment makes
    one user per employee), where a face match carries it as ExternalImageId; a user has no FaceId."""
    return CollectionMatch(
        similarity=float(raw["Similarity"]), face_id=None, external_image_id=str(raw.get("User", {}).get("UserId"))
    )


def _no_face(error: ClientError) -> bool:
    details = error.response.get("Error", {})
    return details.get("Code") == "InvalidParameterException" and NO_FACE_MESSAGE in details.get("Message", "").lower()


def _rekognition_error(operation: str, error: ClientError | BotoCoreError) -> RekognitionError:
    if isinstance(error, ClientError):
        code = error_code(error)
        return RekognitionError(operation, code, throttled=code in THROTTLING_ERRORS)
    return RekognitionError(operation, type(error).__name__, throttled=False)
