"""The alert topic (SNS): one publish per alert, with a per-protocol message."""

from __future__ import annotations

from typing import TYPE_CHECKING

from botocore.exceptions import ClientError, ConnectTimeoutError, EndpointConnectionError

from facewatch.adapters import aws
from facewatch.domain.notification import SnsMessage

if TYPE_CHECKING:
    from mypy_boto3_sns import SNSClient


class PublishRefusedError(Exception):
    """SNS definitely did not accept the message (an error response or no connection): safe to retry."""


class AlertNotifier:
    def __init__(self, topic_arn: str, sns: SNSClient | None = None) -> None:
        self._topic = topic_arn
        self._client: aws.LazyClient[SNSClient] = aws.LazyClient("sns", sns)

    def publish(self, message: SnsMessage) -> str:
        """Returns the SNS message id. A read timeout is NOT a refusal: the message may have gone out,
        so it propagates as it is and the alert's progress stays in doubt."""
        try:
            response = self._client.get().publish(
                TopicArn=self._topic,
                Subject=message.subject,
                Message=message.message,
                MessageStructure="json",
                MessageAttributes=message.attributes,  # type: ignore[arg-type]
            )
        except (ClientError, EndpointConnectionError, ConnectTimeoutError) as error:
            raise PublishRefusedError(aws.error_code(error)) from error
        return response["MessageId"]
