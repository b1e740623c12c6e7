"""One boto3 session per container and one client per service, created lazily on first use.

Adapters take an optional client so tests (and the local runner) can inject one; without it they
ask this factory, never at import time. The endpoint honours the standard AWS_ENDPOINT_URL settings.
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import boto3
    from botocore.config import Config

    # Built on first use (module __getattr__ below), typed here.
    CLIENT_CONFIG: Config
    SERVICE_CONFIG: dict[str, Config]

# boto3 and botocore are imported when the first session or config is asked for, never at import: a detector
# batch without a sighting makes no AWS call, so a container that only sees such batches never loads the SDK,
# and every cold start imports about a boto3's worth less before its first record.


@cache
def _client_configs() -> dict[str, Config]:
    from botocore.config import Config

    # Short timeouts and SDK "standard" retries: a stuck call fails the record (and Lambda retries it)
    # long before the function times out.
    default = Config(connect_timeout=3, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})
    # botocore still presigns S3 links with SigV2 in us-east-1; S3 refuses SigV2 for buckets created after
    # June 2020, so the clip links are SigV4 (which also caps them at 7 days, as CLIP_URL_EXPIRY_SECONDS does).
    #
    # SNS Publish is not idempotent: an SDK retry after a lost answer or a 5xx (SNS may have delivered it) sends
    # the alert again. The alert topic's client makes one attempt; the alert stage decides what a failure means
    # (adapters/notifier.py) and SQS redelivers the job when it is safe to publish again.
    return {
        "": default,
        "s3": default.merge(Config(signature_version="s3v4")),
        "sns": default.merge(Config(retries={"mode": "standard", "total_max_attempts": 1})),
    }


def __getattr__(name: str) -> Any:
    """CLIENT_CONFIG (every client's) and SERVICE_CONFIG (per service where it differs), built on first use."""
    if name == "CLIENT_CONFIG":
        return _client_configs()[""]
    if name == "SERVICE_CONFIG":
        return {service: config for service, config in _client_configs().items() if service}
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@cache
def session() -> boto3.session.Session:
    import boto3

    from facewatch.observability import trace_aws_calls

    trace_aws_calls()  # X-Ray wraps botocore before the first client exists
    return boto3.session.Session()


@cache
def client(service_name: str) -> Any:
    configs = _client_configs()
    config = configs.get(service_name, configs[""])
    return session().client(service_name, config=config)  # type: ignore[call-overload]


def error_code(error: Exception) -> str:
    """The AWS error code of a ClientError, or the exception's class name for anything else."""
    response = getattr(error, "response", None)
    if isinstance(response, dict):
        return str(response.get("Error", {}).get("Code", type(error).__name__))
    return type(error).__name__


class LazyClient[C]:
    """An adapter's client: the injected one, or the factory's on first use."""

    def __init__(self, service_name: str, injected: C | None = None) -> None:
        self._service_name = service_name
        self._client = injected

    def get(self) -> C:
        if self._client is None:
            self._client = client(self._service_name)
        return self._client
