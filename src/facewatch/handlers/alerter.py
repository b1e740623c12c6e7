"""AlertFunction: alert jobs from AlertQueue -> clip in S3, SNS alert, OpenSearch document."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.job_queue import JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.search_index import AlertIndex
from facewatch.config import alert_settings
from facewatch.observability import logger, metrics, tracer
from facewatch.services.alert import AlertStage, QueueMessage

# A failed job is reported in batchItemFailures; SQS makes it visible again after its visibility
# timeout and moves it to the dead-letter queue after maxReceiveCount receives.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def alert_stage() -> AlertStage:
    settings = alert_settings()
    base_url = settings.opensearch_url
    return AlertStage(
        settings,
        ledger=AlertLedger(settings.dedup_table_name),
        clips=ClipStore(settings.clip_bucket_name, data_endpoint_override=settings.kvs_data_endpoint_override),
        cameras=CameraRegistry(settings.camera_table_name),
        notifier=AlertNotifier(settings.alert_topic_arn),
        index=AlertIndex(base_url, settings.opensearch_index, settings.aws_region) if base_url else None,
        queue=JobQueue(settings.alert_dead_letter_queue_url),
        records=AlertRecords(settings.alert_record_table_name) if settings.alert_record_table_name else None,
    )


def to_queue_message(record: SQSRecord) -> QueueMessage:
    return QueueMessage(
        body=record.body,
        message_id=record.message_id,
        receive_count=int(record.attributes.approximate_receive_count),
        receipt_handle=record.receipt_handle,
        queue_url=record.queue_url,
    )


def record_handler(record: SQSRecord) -> None:
    alert_stage().process(to_queue_message(record))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return dict(
        process_partial_response(event=event, record_handler=record_handler, processor=processor, context=context)
    )
