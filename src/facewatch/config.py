"""Typed settings, read once from the environment and passed down.

Each field's env variable is a contract with template.yaml (tests/template checks they agree):
template Parameter -> function Environment -> field here.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from functools import cache
from typing import Annotated, Literal, Self
from urllib.parse import urlsplit

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from facewatch.domain.sightings import FaceGates

# How much of a rejected value the error repeats (settings hold names and URLs, never secrets).
MAX_VALUE_SHOWN_CHARS = 80
_USERINFO = re.compile(r"//[^/@\s]*@")


class SettingsError(ValueError):
    """A function's environment does not satisfy its settings: one line naming each bad variable.

    Raised on the first invocation of a container (settings are read once, before any record is
    processed), so the invocation fails as a whole: Lambda counts an Errors metric and logs this line.
    """

    @classmethod
    def from_validation(cls, settings: type[BaseModel], error: ValidationError) -> SettingsError:
        problems = []
        for detail in error.errors(include_url=False):
            variable = ".".join(str(part) for part in detail["loc"]) or settings.__name__
            if detail["type"] == "missing":
                problems.append(f"{variable} is not set")
            else:
                # Credentials in a URL (scheme://user:password@host) are never repeated.
                shown = _USERINFO.sub("//***@", repr(detail["input"]))[:MAX_VALUE_SHOWN_CHARS]
                problems.append(f"{variable}={shown}: {detail['msg']}")
        return cls(f"invalid environment for {settings.__name__}: {'; '.join(problems)}")


def _nearest_whole_number(value: object) -> object:
    """CloudFormation's Number parameters have no integer constraint (AllowedPattern is for String), so
    a deployer can give 7.5 where a whole number is meant: it becomes the nearest one, halves up. With
    whole-number bounds in the template the result stays within them, so every value the template
    allows is a valid setting (tests/template/test_settings_contract.py walks them)."""
    if not isinstance(value, str):
        return value
    try:
        number = Decimal(value.strip())
    except InvalidOperation:
        return value  # not a number: pydantic's error names the variable
    if not number.is_finite():
        return value
    return int(number.to_integral_value(rounding=ROUND_HALF_UP))


# An integer setting fed by a template Number parameter.
WholeNumber = Annotated[int, BeforeValidator(_nearest_whole_number)]


class _Settings(BaseModel):
    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> Self:
        """The settings, or a SettingsError naming every variable that is missing or malformed."""
        # Empty strings mean "not set" so a template default of "" falls back to the field default.
        try:
            return cls.model_validate({key: value for key, value in environ.items() if value != ""})
        except ValidationError as error:
            raise SettingsError.from_validation(cls, error) from None


class DetectorSettings(_Settings):
    dedup_table_name: str = Field(alias="DEDUP_TABLE_NAME")
    alert_queue_url: str = Field(alias="ALERT_QUEUE_URL")
    quarantine_bucket_name: str = Field(alias="QUARANTINE_BUCKET_NAME")
    min_face_confidence: Annotated[float, Field(ge=0, le=100)] = Field(90.0, alias="MIN_FACE_CONFIDENCE")
    dedup_window_seconds: Annotated[float, Field(gt=0, le=86_400)] = Field(60.0, alias="DEDUP_WINDOW_SECONDS")
    alert_delay_seconds: Annotated[WholeNumber, Field(ge=0, le=900)] = Field(0, alias="ALERT_DELAY_SECONDS")
    clip_post_roll_seconds: Annotated[float, Field(ge=0, le=300)] = Field(10.0, alias="CLIP_POST_ROLL_SECONDS")
    min_face_height_ratio: Annotated[float, Field(ge=0, le=1)] = Field(0.0, alias="MIN_FACE_HEIGHT_RATIO")
    min_face_sharpness: Annotated[float, Field(ge=0, le=100)] = Field(0.0, alias="MIN_FACE_SHARPNESS")
    max_face_abs_yaw_degrees: Annotated[float, Field(ge=0, le=180)] = Field(0.0, alias="MAX_FACE_ABS_YAW_DEGREES")
    policy_table_name: str = Field(alias="POLICY_TABLE_NAME")
    employee_match_threshold: Annotated[float, Field(ge=80, le=100)] = Field(80.0, alias="EMPLOYEE_MATCH_THRESHOLD")

    @property
    def gates(self) -> FaceGates:
        return FaceGates(
            min_confidence=self.min_face_confidence,
            min_box_height_ratio=self.min_face_height_ratio,
            min_sharpness=self.min_face_sharpness,
            max_abs_yaw_degrees=self.max_face_abs_yaw_degrees,
        )


class AlertSettings(_Settings):
    dedup_table_name: str = Field(alias="DEDUP_TABLE_NAME")
    clip_bucket_name: str = Field(alias="CLIP_BUCKET_NAME")
    alert_topic_arn: str = Field(alias="ALERT_TOPIC_ARN")
    alert_dead_letter_queue_url: str = Field(alias="ALERT_DEAD_LETTER_QUEUE_URL")
    index_queue_url: str = Field(alias="INDEX_QUEUE_URL")
    index_dead_letter_queue_url: str = Field(alias="INDEX_DEAD_LETTER_QUEUE_URL")
    camera_table_name: str = Field(alias="CAMERA_TABLE_NAME")
    # Each site's privacy profile and matching mode (facewatch compliance site set).
    privacy_table_name: str = Field(alias="PRIVACY_TABLE_NAME")
    opensearch_endpoint: str = Field("", alias="OPENSEARCH_ENDPOINT")
    opensearch_index: str = Field("face-alerts", alias="OPENSEARCH_INDEX", pattern=r"^[a-z0-9][a-z0-9_-]{0,200}$")
    clip_pre_roll_seconds: Annotated[float, Field(ge=0, le=300)] = Field(5.0, alias="CLIP_PRE_ROLL_SECONDS")
    clip_post_roll_seconds: Annotated[float, Field(ge=0, le=300)] = Field(10.0, alias="CLIP_POST_ROLL_SECONDS")
    clip_max_attempts: Annotated[WholeNumber, Field(ge=1, le=50)] = Field(5, alias="CLIP_MAX_ATTEMPTS")
    # AlertQueue's maxReceiveCount: on a job's last receive the alerter dead-letters it itself, with the reason.
    alert_max_receive_count: Annotated[WholeNumber, Field(ge=2, le=1000)] = Field(10, alias="ALERT_MAX_RECEIVE_COUNT")
    # A SigV4 presigned URL lives at most 7 days.
    clip_url_expiry_seconds: Annotated[WholeNumber, Field(ge=60, le=604_800)] = Field(
        3600, alias="CLIP_URL_EXPIRY_SECONDS"
    )
    search_index_retention_days: Annotated[WholeNumber, Field(ge=1, le=3650)] = Field(
        30, alias="SEARCH_INDEX_RETENTION_DAYS"
    )
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    # The standard SDK endpoint override (VPC endpoint, emulator). When set, the KVS archived-media
    # data plane is reached through it too, because endpoints an emulator hands out are not routable.
    kvs_data_endpoint_override: str | None = Field(None, alias="AWS_ENDPOINT_URL")
    # The console (issue 16): the alert's record for it, kept as long as the clip; the email links to it.
    alert_record_table_name: str = Field("", alias="ALERT_RECORD_TABLE_NAME")
    alert_record_retention_days: Annotated[WholeNumber, Field(ge=1, le=3650)] = Field(
        30, alias="ALERT_RECORD_RETENTION_DAYS"
    )
    console_url: str = Field("", alias="CONSOLE_URL", pattern=r"^$|^https?://[^\s?#]+$")

    @field_validator("opensearch_endpoint")
    @classmethod
    def _endpoint_is_host_or_url(cls, value: str) -> str:
        if value and not opensearch_base_url(value):
            raise ValueError("OPENSEARCH_ENDPOINT must be a host name or an http(s) URL")
        return value

    @property
    def opensearch_url(self) -> str | None:
        return opensearch_base_url(self.opensearch_endpoint) if self.opensearch_endpoint else None


class ConsolePagesSettings(_Settings):
    """ConsolePagesFunction: sign-in, the alert list and page, media links and replay sessions."""

    alert_record_table_name: str = Field(alias="ALERT_RECORD_TABLE_NAME")
    clip_bucket_name: str = Field(alias="CLIP_BUCKET_NAME")
    audit_bucket_name: str = Field(alias="AUDIT_BUCKET_NAME")
    user_pool_client_id: str = Field(alias="USER_POOL_CLIENT_ID")
    # Clip and snapshot links are minted per page view; the HLS session per click (at least 300 s).
    media_link_expiry_seconds: Annotated[WholeNumber, Field(ge=60, le=3600)] = Field(
        300, alias="CONSOLE_MEDIA_LINK_EXPIRY_SECONDS"
    )
    aws_region: str = Field("us-east-1", alias="AWS_REGION")
    kvs_data_endpoint_override: str | None = Field(None, alias="AWS_ENDPOINT_URL")


class ConsoleActionsSettings(ConsolePagesSettings):
    """ConsoleActionsFunction: triage, which also enrols faces and labels the search document."""

    employee_collection_id: str = Field("", alias="EMPLOYEE_COLLECTION_ID")
    opensearch_endpoint: str = Field("", alias="OPENSEARCH_ENDPOINT")
    opensearch_index: str = Field("face-alerts", alias="OPENSEARCH_INDEX", pattern=r"^[a-z0-9][a-z0-9_-]{0,200}$")
    enrol_quality_filter: Literal["NONE", "AUTO", "LOW", "MEDIUM", "HIGH"] = Field("AUTO", alias="ENROL_QUALITY_FILTER")

    @field_validator("opensearch_endpoint")
    @classmethod
    def _endpoint_is_host_or_url(cls, value: str) -> str:
        if value and not opensearch_base_url(value):
            raise ValueError(
                "OPENSEARCH_ENDPOINT must be a host name (https on port 443) or http(s)://host[:port], "
                "with no path, query or credentials"
            )
        return value

    @property
    def opensearch_url(self) -> str | None:
        return opensearch_base_url(self.opensearch_endpoint) if self.opensearch_endpoint else None


class DeliverySettings(_Settings):
    dedup_table_name: str = Field(alias="DEDUP_TABLE_NAME")
    channels_secret_arn: str = Field(alias="DELIVERY_CHANNELS_SECRET_ARN")
    webhook_signing_secret_arn: str = Field(alias="WEBHOOK_SIGNING_SECRET_ARN")
    delivery_dead_letter_queue_url: str = Field(alias="DELIVERY_DEAD_LETTER_QUEUE_URL")


# A DNS name or an IPv4 address (urlsplit lower-cases the host).
_HOST_NAME = re.compile(r"[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*")


def opensearch_base_url(endpoint: str) -> str | None:
    """A bare host (as the domain's DomainEndpoint attribute gives it) means https on 443.

    None for anything else than scheme://host[:port]: a path or credentials would be silently dropped."""
    candidate = endpoint.strip().rstrip("/")
    if "://" not in candidate:
        candidate = f"https://{candidate}:443"
    try:
        parts = urlsplit(candidate)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        return None
    if (
        parts.scheme not in ("http", "https")
        or not parts.hostname
        or not _HOST_NAME.fullmatch(parts.hostname)
        or parts.path
        or parts.query
        or parts.fragment
        or parts.username is not None
    ):
        return None
    return f"{parts.scheme}://{parts.hostname}:{port}"


@cache
def detector_settings() -> DetectorSettings:
    return DetectorSettings.from_environ(os.environ)


@cache
def alert_settings() -> AlertSettings:
    return AlertSettings.from_environ(os.environ)


@cache
def delivery_settings() -> DeliverySettings:
    return DeliverySettings.from_environ(os.environ)


@cache
def console_pages_settings() -> ConsolePagesSettings:
    return ConsolePagesSettings.from_environ(os.environ)


@cache
def console_actions_settings() -> ConsoleActionsSettings:
    return ConsoleActionsSettings.from_environ(os.environ)
