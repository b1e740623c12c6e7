"""The answer to a CloudFormation custom resource request: its size, and where it may be sent."""

from __future__ import annotations

import pytest

from facewatch.adapters.custom_resource import CustomResourceResponder
from facewatch.domain.custom_resource import CustomResourceRequest, CustomResourceResponse, ResponseStatus

# CloudFormation's limit on a response body.
MAX_RESPONSE_BYTES = 4096

REQUEST = CustomResourceRequest.model_validate(
    {
        "RequestType": "Create",
        "ResponseURL": "https://example.s3.amazonaws.com/response",
        "StackId": "arn:aws:cloudformation:ap-northeast-2:111122223333:stack/facewatch/5b6f2e60-c7a1-11f0-9a1b",
        "RequestId": "3f0b9a52-8c1d-4e2f-9a7b-6c5d4e3f2a1b",
        "LogicalResourceId": "CameraSeoulLobby01ProcessorControl",
    }
)


def test_a_long_reason_is_cut_to_keep_the_answer_within_cloudformations_limit() -> None:
    # given
    reason = "Access denied to Role " * 500
    # when
    response = CustomResourceResponse.to(REQUEST, ResponseStatus.FAILED, "facewatch_SeoulLobby01_80", reason)
    # then
    assert len(response.body()) <= MAX_RESPONSE_BYTES
    assert response.reason.startswith("Access denied to Role")
    assert response.reason.endswith("...")


def test_a_short_reason_is_kept_whole() -> None:
    response = CustomResourceResponse.to(REQUEST, ResponseStatus.SUCCESS, "p", "stream processor p is RUNNING")
    assert response.reason == "stream processor p is RUNNING"


@pytest.mark.parametrize(
    "url",
    ["http://bucket.s3.amazonaws.com/response", "file:///etc/passwd", "ftp://127.0.0.1/response", "/response"],
)
def test_answers_go_only_to_https_urls_or_this_machine(url: str) -> None:
    # given
    response = CustomResourceResponse.to(REQUEST, ResponseStatus.SUCCESS, "p", "ok")
    # then
    with pytest.raises(ValueError, match="ResponseURL must be an https URL"):
        CustomResourceResponder().send(url, response)
