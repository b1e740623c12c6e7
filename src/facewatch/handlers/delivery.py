"""DeliveryFunction: structured alerts from DeliveryQueue (subscribed to AlertTopic) -> Slack, Teams, webhook."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.delivery_ledger import DeliveryLedger
from facewatch.adapters.delivery_secrets import DeliverySecrets
from facewatch.adapters.job_queue import JobQueue
from facewatch.adapters.webhooks import WebhookPoster
from facewatch.config import delivery_settings
from facewatch.observability import logger, metrics, tracer
from facewatch.services.delivery import DeliveryStage

# A failed message is reported in batchItemFailures; SQS makes it visible again after its visibility
# timeout and moves it to DeliveryDeadLetterQueue after maxReceiveCount receives.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def delivery_stage() -> DeliveryStage:
    settings = delivery_settings()
    return DeliveryStage(
        secrets=DeliverySecrets(settings.channels_secret_arn, settings.webhook_signing_secret_arn),
        ledger=DeliveryLedger(settings.dedup_table_name),
        poster=WebhookPoster(),
        queue=JobQueue(settings.delivery_dead_letter_queue_url),
    )


def record_handler(record: SQSRecord) -> None:
    delivery_stage().process(record.body)


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
