"""CloudFormation custom resources: the request a function receives and the response CloudFormation waits for.

CloudFormation invokes the function asynchronously and then waits for a JSON document PUT to the request's
pre-signed ResponseURL (up to the resource's ServiceTimeout, an hour by default). Nothing else ends the wait,
so every request must be answered, failures included.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

# CloudFormation rejects a response body over 4,096 bytes; the rest of the body takes well under 1,024.
MAX_REASON_BYTES = 3072


class CustomResourceRequest(BaseModel):
    """The fields of a request that every answer needs, and the resource's properties (parsed by their owner)."""

    model_config = ConfigDict(frozen=True, populate_by_name=True, extra="ignore", defer_build=True)

    request_type: Literal["Create", "Update", "Delete"] = Field(alias="RequestType")
    response_url: str = Field(alias="ResponseURL", min_length=1)
    stack_id: str = Field(alias="StackId", min_length=1)
    request_id: str = Field(alias="RequestId", min_length=1)
    logical_resource_id: str = Field(alias="LogicalResourceId", min_length=1)
    # Absent on Create: the function names the resource in its answer.
    physical_resource_id: str | None = Field(None, alias="PhysicalResourceId")
    resource_properties: dict[str, Any] = Field(default_factory=dict, alias="ResourceProperties")
    # Update only: the properties before the update.
    old_resource_properties: dict[str, Any] = Field(default_factory=dict, alias="OldResourceProperties")


class ResponseStatus(StrEnum):
    SUCCESS = "SUCCESS"
    FAILED = "FAILED"


@dataclass(frozen=True, slots=True)
class CustomResourceResponse:
    status: ResponseStatus
    reason: str
    physical_resource_id: str
    stack_id: str
    request_id: str
    logical_resource_id: str

    @classmethod
    def to(
        cls, request: CustomResourceRequest, status: ResponseStatus, physical_resource_id: str, reason: str
    ) -> CustomResourceResponse:
        return cls(
            status=status,
            reason=_truncated(reason, MAX_REASON_BYTES),
            physical_resource_id=physical_resource_id,
            stack_id=request.stack_id,
            request_id=request.request_id,
            logical_resource_id=request.logical_resource_id,
        )

    def document(self) -> dict[str, str]:
        """The JSON document CloudFormation reads (its Reason shows in the stack's events)."""
        return {
            "Status": self.status.value,
            "Reason": self.reason,
            "PhysicalResourceId": self.physical_resource_id,
            "StackId": self.stack_id,
            "RequestId": self.request_id,
            "LogicalResourceId": self.logical_resource_id,
        }

    def body(self) -> bytes:
        return json.dumps(self.document()).encode("utf-8")


def _truncated(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")
    if len(encoded) <= max_bytes:
        return text
    return encoded[: max_bytes - 3].decode("utf-8", "ignore") + "..."
