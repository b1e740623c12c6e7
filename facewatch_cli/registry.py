"""The camera registry (CameraTable) as the CLI writes and reads it.

One item per camera, key `camera_id` = the camera's Kinesis video stream name, string attributes
`display_name`, `site`, `floor`, `zone`, `timezone` (what facewatch.adapters.camera_registry reads for
alerts) and `rtsp_url_secret` (where the site proxy fetches the camera's RTSP URL; alerts ignore it).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from botocore.exceptions import ClientError
from pydantic import ValidationError

from facewatch.adapters.aws import error_code
from facewatch.domain.cameras import CameraPlace
from facewatch_cli import clients
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import AttributeValueTypeDef

# The camera id is its Kinesis video stream's name (CreateStream: 1-256 of these characters).
STREAM_NAME = re.compile(r"^[a-zA-Z0-9_.-]{1,256}$")
# Secrets Manager secret names (and ARNs, which add ':'); SSM parameter names (and ARNs).
_SECRET_ID = re.compile(r"^[a-zA-Z0-9/_+=.@:-]{1,2048}$")
_PARAMETER_NAME = re.compile(r"^[a-zA-Z0-9_.\-/:]{1,2048}$")
_SSM_PARAMETER_ARN = re.compile(r"^arn:aws[a-z-]*:ssm:[a-z0-9-]+:\d{12}:parameter/")
SSM_PREFIX = "ssm:"
PLACE_ATTRIBUTES = ("display_name", "site", "floor", "zone", "timezone")
RTSP_URL_SECRET_ATTRIBUTE = "rtsp_url_secret"  # noqa: S105 - the attribute's name, not a secret


@dataclass(frozen=True, slots=True)
class RtspUrlSecret:
    """Where a camera's RTSP URL (with its password) is kept: a Secrets Manager secret (name or ARN) or,
    written `ssm:NAME` or as a parameter ARN, an SSM Parameter Store SecureString."""

    store: Literal["secretsmanager", "ssm"]
    name: str

    @classmethod
    def parse(cls, reference: str) -> RtspUrlSecret:
        if "://" in reference:
            raise ValueError(
                "that looks like the RTSP URL itself: store it in Secrets Manager (or as an SSM SecureString) "
                "and give the secret's name"
            )
        if reference.startswith(SSM_PREFIX) or _SSM_PARAMETER_ARN.match(reference):
            name = reference.removeprefix(SSM_PREFIX)
            if not _PARAMETER_NAME.match(name):
                raise ValueError(f"{reference!r} is not an SSM parameter name")
            return cls("ssm", name)
        if not _SECRET_ID.match(reference):
            raise ValueError(f"{reference!r} is not a Secrets Manager secret name or ARN")
        return cls("secretsmanager", reference)

    @property
    def reference(self) -> str:
        plain_name = self.store == "ssm" and not self.name.startswith("arn:")
        return f"{SSM_PREFIX}{self.name}" if plain_name else self.name


@dataclass(frozen=True, slots=True)
class RegisteredCamera:
    place: CameraPlace
    rtsp_url_secret: RtspUrlSecret | None = None

    @property
    def camera_id(self) -> str:
        return self.place.camera_id

    def to_item(self) -> dict[str, AttributeValueTypeDef]:
        item: dict[str, AttributeValueTypeDef] = {"camera_id": {"S": self.camera_id}}
        for name in PLACE_ATTRIBUTES:
            value = getattr(self.place, name)
            if value:
                item[name] = {"S": value}
        if self.rtsp_url_secret is not None:
            item[RTSP_URL_SECRET_ATTRIBUTE] = {"S": self.rtsp_url_secret.reference}
        return item

    @classmethod
    def from_item(cls, item: Mapping[str, Mapping[str, object]]) -> RegisteredCamera:
        """The camera an item describes; ValueError says why an item is unusable."""
        strings = {name: value["S"] for name, value in item.items() if isinstance(value.get("S"), str)}
        try:
            place = CameraPlace.model_validate(
                {name: strings[name] for name in ("camera_id", *PLACE_ATTRIBUTES) if name in strings}
            )
        except ValidationError as error:
            raise ValueError(validation_message(error)) from error
        secret = strings.get(RTSP_URL_SECRET_ATTRIBUTE)
        return cls(place, RtspUrlSecret.parse(str(secret)) if secret else None)


def validation_message(error: ValidationError) -> str:
    """`field: reason` for each problem, e.g. `timezone: Value error, unknown IANA time zone 'Asia/Seol'`."""
    return "; ".join(
        f"{'.'.join(str(part) for part in problem['loc']) or 'camera'}: {problem['msg']}"
        for problem in error.errors(include_input=False)
    )


class CameraTable:
    def __init__(self, dynamodb: DynamoDBClient, table_name: str) -> None:
        self._dynamodb = dynamodb
        self.name = table_name

    @clients.aws_errors
    def put(self, camera: RegisteredCamera, *, replace: bool) -> None:
        item = camera.to_item()
        try:
            if replace:
                self._dynamodb.put_item(TableName=self.name, Item=item)
            else:
                # A second `add` of the same id must not silently overwrite someone else's entry.
                self._dynamodb.put_item(
                    TableName=self.name, Item=item, ConditionExpression="attribute_not_exists(camera_id)"
                )
        except ClientError as error:
            if error_code(error) != "ConditionalCheckFailedException":
                raise
            raise CommandError(
                f"camera {camera.camera_id} is already registered; add --replace to overwrite it"
            ) from error

    @clients.aws_errors
    def delete(self, camera_id: str) -> bool:
        """Whether the camera was registered."""
        old = self._dynamodb.delete_item(
            TableName=self.name, Key={"camera_id": {"S": camera_id}}, ReturnValues="ALL_OLD"
        )
        return bool(old.get("Attributes"))

    @clients.aws_errors
    def scan(self) -> tuple[list[RegisteredCamera], dict[str, str]]:
        """Every usable camera, sorted by site then id, and the ids of unusable items with the reason."""
        cameras: list[RegisteredCamera] = []
        unusable: dict[str, str] = {}
        for page in self._dynamodb.get_paginator("scan").paginate(TableName=self.name, ConsistentRead=True):
            for item in page.get("Items", []):
                try:
                    cameras.append(RegisteredCamera.from_item(item))
                except ValueError as error:
                    unusable[str(item.get("camera_id", {}).get("S", "?"))] = str(error)
        cameras.sort(key=lambda camera: (camera.place.site or "", camera.camera_id))
        return cameras, unusable
