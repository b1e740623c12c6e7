"""The alert queue (SQS): one message per alert job."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facewatch.adapters import aws
from facewatch.domain.alert_job import AlertJob

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient


class AlertQueue:
    def __init__(self, queue_url: str, sqs: SQSClient | None = None) -> None:
        self._url = queue_url
        self._client: aws.LazyClient[SQSClient] = aws.LazyClient("sqs", sqs)

    def send(self, job: AlertJob, delay_seconds: int) -> str:
        response = self._client.get().send_message(
            QueueUrl=self._url,
            MessageBody=job.to_message(),
            DelaySeconds=delay_seconds,
            MessageAttributes={
                "alert_id": {"DataType": "String", "StringValue": job.alert_id},
                "camera_id": {"DataType": "String", "StringValue": job.camera_id},
                "schema": {"DataType": "Number", "StringValue": str(job.schema_version)},
            },
        )
        return response["MessageId"]
