"""The alert stage's queues: postponing a job, dead-lettering one by hand (with its reason), and queueing
a notified alert's document for the indexer."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facewatch.adapters import aws
from facewatch.domain.document import IndexJob

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

# SQS ChangeMessageVisibility accepts 0..43,200 seconds.
MAX_VISIBILITY_SECONDS = 43_200


class JobQueue:
    def __init__(self, dead_letter_queue_url: str, sqs: SQSClient | None = None) -> None:
        self._dead_letters = dead_letter_queue_url
        self._client: aws.LazyClient[SQSClient] = aws.LazyClient("sqs", sqs)

    def postpone(self, queue_url: str, receipt_handle: str, seconds: int) -> None:
        """Makes the job visible again after `seconds` (a growing backoff between clip attempts)."""
        self._client.get().change_message_visibility(
            QueueUrl=queue_url,
            ReceiptHandle=receipt_handle,
            VisibilityTimeout=max(0, min(MAX_VISIBILITY_SECONDS, seconds)),
        )

    def dead_letter(self, body: str, reason: str, alert_id: str | None, error_code: str | None = None) -> None:
        """Moves a job that must not be retried to the dead-letter queue, whole, with the reason (and the AWS
        error code behind it, when there is one) as message attributes."""
        attributes = {"reason": {"DataType": "String", "StringValue": reason[:1024]}}
        if alert_id:
            attributes["alert_id"] = {"DataType": "String", "StringValue": alert_id}
        if error_code:
            attributes["error_code"] = {"DataType": "String", "StringValue": error_code[:256]}
        self._client.get().send_message(
            QueueUrl=self._dead_letters,
            MessageBody=body if body else "(empty message body)",
            MessageAttributes=attributes,  # type: ignore[arg-type]
        )


class IndexQueue:
    """IndexQueue: the alert stage hands each notified alert's document to the indexer through it, so a
    slow or unreachable OpenSearch never holds up a notification."""

    def __init__(self, queue_url: str, sqs: SQSClient | None = None) -> None:
        self._queue = queue_url
        self._client: aws.LazyClient[SQSClient] = aws.LazyClient("sqs", sqs)

    def send(self, job: IndexJob) -> None:
        self._client.get().send_message(
            QueueUrl=self._queue,
            MessageBody=job.to_message(),
            MessageAttributes={"alert_id": {"DataType": "String", "StringValue": job.alert_id}},
        )
