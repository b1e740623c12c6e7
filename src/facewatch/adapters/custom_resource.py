"""Answers a CloudFormation custom resource request: its response PUT to the request's pre-signed ResponseURL."""

from __future__ import annotations

import urllib.request
from urllib.parse import urlsplit

from facewatch.domain.custom_resource import CustomResourceResponse

# The PUT must finish within the function's own timeout; S3 answers a small upload in well under a second.
RESPONSE_TIMEOUT_SECONDS = 10.0
# Plain HTTP only to this machine (a test's recording server); CloudFormation hands out https S3 URLs.
_LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})


class CustomResourceResponder:
    def __init__(self, timeout_seconds: float = RESPONSE_TIMEOUT_SECONDS) -> None:
        self._timeout = timeout_seconds

    def send(self, response_url: str, response: CustomResourceResponse) -> None:
        """Raises on any failure: Lambda then retries the asynchronous invocation, which answers again."""
        parts = urlsplit(response_url)
        if parts.scheme != "https" and not (parts.scheme == "http" and parts.hostname in _LOOPBACK_HOSTS):
            raise ValueError(f"ResponseURL must be an https URL, not {parts.scheme or 'schemeless'}")
        body = response.body()
        # An empty Content-Type, as the URL was signed without one (what AWS's cfn-response module sends).
        request = urllib.request.Request(  # noqa: S310 - the scheme is checked above
            response_url, data=body, method="PUT", headers={"Content-Type": "", "Content-Length": str(len(body))}
        )
        with urllib.request.urlopen(request, timeout=self._timeout) as answer:  # noqa: S310 - checked above
            answer.read()
