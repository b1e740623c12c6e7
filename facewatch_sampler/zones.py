"""Image mode's zones: faces whose box centre lies outside every zone of the camera are dropped before
Rekognition is asked about them (no SearchFacesByImage call, no cost), as the detector drops them with the
reason `outside_zone` in stream mode. The zones are the camera's in the site's policy file
(docs/policies.md); a camera without zones keeps every face.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from pydantic import ValidationError

from facewatch.domain.policy import SitePolicy, Zone
from facewatch_sampler.analysis import LocalDetector
from facewatch_sampler.frames import Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.records import AnalysedFace
from facewatch_sampler.rekognition import FaceService, SearchedFace


class ZonePolicyError(ValueError):
    """The policy file cannot be read or is not a valid policy."""


def camera_zones(policy_file: Path, camera_id: str) -> tuple[Zone, ...]:
    try:
        policy = SitePolicy.model_validate_json(policy_file.read_text(encoding="utf-8"))
    except OSError as error:
        raise ZonePolicyError(f"{policy_file}: {error.strerror}") from error
    except ValidationError as error:
        first = error.errors(include_url=False, include_input=False)[0]
        where = ".".join(str(part) for part in first["loc"])
        raise ZonePolicyError(f"{policy_file} is not a valid policy: {where}: {first['msg']}") from None
    camera = policy.cameras.get(camera_id)
    return camera.zones if camera else ()


def inside(box: Box, zones: Sequence[Zone]) -> bool:
    return any(zone.contains(box.left + box.width / 2, box.top + box.height / 2) for zone in zones)


class ZonedDetector:
    """A local face detector that keeps only the faces inside the camera's zones."""

    def __init__(self, inner: LocalDetector, zones: Sequence[Zone]) -> None:
        self._inner = inner
        self._zones = tuple(zones)

    def detect(self, image: Image) -> list[Box]:
        return [box for box in self._inner.detect(image) if inside(box, self._zones)]


class ZonedFaces:
    """Rekognition's DetectFaces answer without the faces outside the zones, so none of them is searched."""

    def __init__(self, inner: FaceService, zones: Sequence[Zone]) -> None:
        self._inner = inner
        self._zones = tuple(zones)

    def detect_faces(self, jpeg: bytes) -> list[AnalysedFace]:
        return [face for face in self._inner.detect_faces(jpeg) if inside(face.box, self._zones)]

    def search_face(self, jpeg: bytes) -> SearchedFace | None:
        return self._inner.search_face(jpeg)

    def search_user(self, jpeg: bytes) -> SearchedFace | None:
        return self._inner.search_user(jpeg)


def zoned(detector: LocalDetector, faces: FaceService, zones: Sequence[Zone]) -> tuple[LocalDetector, FaceService]:
    """The local detector and the face service, restricted to the zones (unchanged without zones)."""
    if not zones:
        return detector, faces
    zoned_detector: LocalDetector = ZonedDetector(detector, zones)
    zoned_faces: FaceService = ZonedFaces(faces, zones)
    return zoned_detector, zoned_faces
