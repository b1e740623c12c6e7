"""A stateful stand-in for a Rekognition face collection (IndexFaces, ListFaces, DeleteFaces, users), for
walkthroughs that enrol, list and remove in turn. moto has no collection; a Stubber needs every answer
queued in advance. Requests are still validated by botocore against the real model before they reach
this, and every answer is validated against the model's output shape, as Stubber does.

Which photo it is comes from the image: local photos made by `photo_bytes(name)`, S3 objects by key."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.validate import validate_parameters

JPEG_MAGIC = b"\xff\xd8\xff\xe0"
_NAME_MARK = b"photo="
BOX = {"Width": 0.31, "Height": 0.42, "Left": 0.34, "Top": 0.21}


def photo_bytes(name: str) -> bytes:
    """A JPEG-looking file that tells the fake which photo it is."""
    return JPEG_MAGIC + _NAME_MARK + name.encode() + b"\x00" * 32


class _Refused(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Outcome:
    """What Rekognition makes of a photo: whether its largest face is indexed, and the reasons of each
    face it leaves out."""

    indexed: bool = True
    unindexed: tuple[tuple[str, ...], ...] = ()


@dataclass
class FakeCollection:
    collection_id: str
    outcomes: dict[str, Outcome] = field(default_factory=dict)
    faces: list[dict[str, Any]] = field(default_factory=list)
    users: set[str] = field(default_factory=set)
    # Which photo each face was indexed from: a search with the same photo finds it again.
    sources: dict[str, str] = field(default_factory=dict)

    def attach(self, client: Any) -> Any:
        events = client.meta.events
        events.register("before-parameter-build.rekognition", self._answer)
        events.register("before-call.rekognition", self._reply)
        return client

    def _answer(self, params: dict[str, Any], model: Any, context: dict[str, Any], **_: Any) -> None:
        handler = getattr(self, f"_{model.name}", None)
        assert handler is not None, f"the fake collection does not do {model.name}"
        if params.get("CollectionId") != self.collection_id:
            context["fake_response"] = _error(
                "ResourceNotFoundException", f"The collection id: {params.get('CollectionId')} does not exist"
            )
            return
        try:
            response = handler(params)
        except _Refused as refused:
            context["fake_response"] = _error(refused.code, refused.message)
            return
        validate_parameters(response, model.output_shape)
        context["fake_response"] = (AWSResponse("https://fake.invalid/", 200, HTTPHeaders(), None), response)

    def _reply(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return context.pop("fake_response")  # type: ignore[no-any-return]

    def _IndexFaces(self, params: dict[str, Any]) -> dict[str, Any]:
        name = _photo_name(params["Image"])
        outcome = self.outcomes.get(name, Outcome())
        records = []
        if outcome.indexed:
            face = {
                "FaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, f"{self.collection_id}/{name}")),
                "ImageId": str(uuid.uuid5(uuid.NAMESPACE_DNS, name)),
                "ExternalImageId": params["ExternalImageId"],
                "BoundingBox": BOX,
                "Confidence": 99.98,
            }
            self.faces.append(face)
            self.sources[face["FaceId"]] = name
            records.append({"Face": face, "FaceDetail": {"BoundingBox": BOX, "Confidence": 99.98}})
        return {
            "FaceRecords": records,
            "UnindexedFaces": [
                {"Reasons": list(reasons), "FaceDetail": {"BoundingBox": BOX}} for reasons in outcome.unindexed
            ],
            "FaceModelVersion": "7.0",
        }

    def _ListFaces(self, params: dict[str, Any]) -> dict[str, Any]:
        start = int(params.get("NextToken", "0"))
        end = start + params.get("MaxResults", 1000)
        page: dict[str, Any] = {"Faces": self.faces[start:end], "FaceModelVersion": "7.0"}
        if end < len(self.faces):
            page["NextToken"] = str(end)
        return page

    def _CreateUser(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["UserId"] in self.users:
            raise _Refused("ConflictException", f"The user {params['UserId']} already exists")
        self.users.add(params["UserId"])
        return {}

    def _AssociateFaces(self, params: dict[str, Any]) -> dict[str, Any]:
        if params["UserId"] not in self.users:
            raise _Refused("ResourceNotFoundException", f"The user {params['UserId']} does not exist")
        wanted = set(params["FaceIds"])
        associated = []
        for face in self.faces:
            if face["FaceId"] in wanted:
                face["UserId"] = params["UserId"]
                associated.append({"FaceId": face["FaceId"]})
        return {"AssociatedFaces": associated, "UnsuccessfulFaceAssociations": [], "UserStatus": "UPDATING"}

    def _DeleteUser(self, params: dict[str, Any]) -> dict[str, Any]:
        """Disassociates the user's faces, then deletes it (as Rekognition's DeleteUser does)."""
        if params["UserId"] not in self.users:
            raise _Refused("ResourceNotFoundException", f"The user {params['UserId']} does not exist")
        self.users.discard(params["UserId"])
        for face in self.faces:
            if face.get("UserId") == params["UserId"]:
                del face["UserId"]
        return {}

    def _SearchFacesByImage(self, params: dict[str, Any]) -> dict[str, Any]:
        name = _photo_name(params["Image"])
        matches = [
            {"Similarity": 99.5, "Face": face} for face in self.faces if self.sources.get(face["FaceId"]) == name
        ]
        return {"SearchedFaceBoundingBox": BOX, "SearchedFaceConfidence": 99.9, "FaceMatches": matches}

    def _DeleteFaces(self, params: dict[str, Any]) -> dict[str, Any]:
        doomed = set(params["FaceIds"])
        deleted = [face["FaceId"] for face in self.faces if face["FaceId"] in doomed]
        self.faces = [face for face in self.faces if face["FaceId"] not in doomed]
        return {"DeletedFaces": deleted}


def _photo_name(image: dict[str, Any]) -> str:
    if "S3Object" in image:
        return str(image["S3Object"]["Name"].rsplit("/", 1)[-1])
    return str(image["Bytes"].split(_NAME_MARK, 1)[1].split(b"\x00", 1)[0].decode())


def _error(code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    http = AWSResponse("https://fake.invalid/", 400, HTTPHeaders(), None)
    return http, {"Error": {"Code": code, "Message": message}, "ResponseMetadata": {"HTTPStatusCode": 400}}
