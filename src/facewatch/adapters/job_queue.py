"""The alert stage's side of the alert queue: postponing a job and dead-lettering one by hand."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facewatch.adapters import aws

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

    def dead_letter(self, body: str, reason: str, alert_id: str | None) -> None:
        """Moves a job that must not be retried to the dead-letter queue, whole, with the reason."""
        attributes = {"reason": {"DataType": "String", "StringValue": reason[:1024]}}
        if alert_id:
            attributes["alert_id"] = {"DataType": "String", "StringValue": alert_id}
        self._client.get().send_message(
            QueueUrl=self._dead_letters,
            MessageBody=body if body else "(empty message body)",
            MessageAttributes=attributes,  # type: ignore[arg-type]
        )
