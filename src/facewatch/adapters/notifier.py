"""The alert topic (SNS): one publish per alert, with a per-protocol message.

The client makes exactly one attempt (facewatch.adapters.aws.SERVICE_CONFIG): botocore's standard retries
would repeat a Publish that SNS may already have delivered. What a failure means is decided here:

- refused (SNS answered 4xx, or no connection was ever made): nothing went out, publishing again is safe;
- denied (a refusal that repeats until a person fixes IAM, the topic or its KMS key): safe, but retrying
  is pointless;
- in doubt (no answer, a broken connection, or a 5xx): SNS may have accepted the message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, EndpointConnectionError

from facewatch.adapters import aws
from facewatch.domain.notification import SnsMessage

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient

# Publish errors that only a person can clear: permissions on the topic or on its KMS key, a disabled or
# missing key, a deleted topic (SNS API reference, Publish errors).
DENIED_PUBLISH_ERRORS = frozenset(
    {
        "AuthorizationError",
        "AccessDenied",
        "AccessDeniedException",
        "InvalidSecurity",
        "NotFound",
        "KMSAccessDenied",
        "KMSAccessDeniedException",
        "KMSDisabled",
        "KMSDisabledException",
        "KMSInvalidState",
        "KMSInvalidStateException",
        "KMSNotFound",
        "KMSNotFoundException",
        "KMSOptInRequired",
    }
)


class PublishRefusedError(Exception):
    """SNS definitely did not accept the message: publishing again is safe. `code` is the AWS error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class PublishDeniedError(PublishRefusedError):
    """A refusal that repeats until a person acts (permission, KMS key, topic)."""


class PublishInDoubtError(Exception):
    """SNS may have accepted the message (lost answer, broken connection, 5xx): publishing again could
    alert twice. `code` is the AWS error code or the botocore exception's name."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)


class AlertNotifier:
    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        self._topic = topic_arn
        self._client: aws.LazyClient[SNSClient] = aws.LazyClient("sns", sns)

    def publish(self, message: SnsMessage) -> str:
        """Returns the SNS message id; raises PublishRefusedError, PublishDeniedError or PublishInDoubtError."""
        try:
            response = self._client.get().publish(
                TopicArn=self._topic,
                Subject=message.subject,
                Message=message.message,
                MessageStructure="json",
                MessageAttributes=message.attributes,  # type: ignore[arg-type]
            )
        except ClientError as error:
            code = aws.error_code(error)
            if _status(error) >= 500:
                raise PublishInDoubtError(code) from error
            if code in DENIED_PUBLISH_ERRORS:
                raise PublishDeniedError(code) from error
            raise PublishRefusedError(code) from error
        except (EndpointConnectionError, ConnectTimeoutError) as error:
            # No connection was made: the request never reached SNS.
            raise PublishRefusedError(type(error).__name__) from error
        except BotoCoreError as error:
            # Read timeout, connection closed or reset mid-request: the request may have been taken.
            raise PublishInDoubtError(type(error).__name__) from error
        return response["MessageId"]
