"""AlertFunction: alert jobs from AlertQueue -> clip in S3, SNS alert, document queued on IndexQueue; and,
from its second event source, documents from IndexQueue -> OpenSearch.

Lambda invokes a function with one event source mapping's records at a time, so a batch is all alert jobs
or all index jobs: the batch's queue picks the stage. The settings are read before any record, so a bad
variable fails the invocation (Lambda `Errors`, AlertErrorsAlarm) with one log line naming it.
"""

from __future__ import annotations

import time
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.privacy_records import SiteMatching
from facewatch.adapters.search_index import AlertIndex
from facewatch.adapters.site_rates import SiteRates
from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.config import AlertSettings, SettingsError, alert_settings
from facewatch.observability import logger, metrics, tracer
from facewatch.services.alert import AlertStage, QueueMessage
from facewatch.services.digest import DigestGate
from facewatch.services.index import IndexStage
from facewatch.services.snapshot import SnapshotTaker

# A failed job is reported in batchItemFailures; SQS makes it visible again after its visibility
# timeout and moves it to the dead-letter queue after maxReceiveCount receives.
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


@cache
def settings() -> AlertSettings:
    try:
        return alert_settings()
    except SettingsError as error:
        logger.error("AlertFunction cannot start", extra={"reason": str(error)})
        raise


@cache
def alert_stage() -> AlertStage:
    current = settings()
    return AlertStage(
        current,
        ledger=AlertLedger(current.dedup_table_name),
        clips=ClipStore(current.clip_bucket_name, data_endpoint_override=current.kvs_data_endpoint_override),
        snapshots=SnapshotTaker(
            images=KvsImages(data_endpoint_override=current.kvs_data_endpoint_override),
            store=SnapshotStore(current.clip_bucket_name),
        ),
        cameras=CameraRegistry(current.camera_table_name),
        notifier=AlertNotifier(current.alert_topic_arn),
        index_queue=IndexQueue(current.index_queue_url),
        queue=JobQueue(current.alert_dead_letter_queue_url),
        sites=SiteMatching(current.privacy_table_name),
        digest=DigestGate(SiteRates(current.dedup_table_name)),
        records=AlertRecords(current.alert_record_table_name) if current.alert_record_table_name else None,
    )


@cache
def index_stage() -> IndexStage:
    current = settings()
    base_url = current.opensearch_url
    return IndexStage(
        (
            AlertIndex(
                base_url,
                current.opensearch_index,
                current.aws_region,
                retention_days=current.search_index_retention_days,
            )
            if base_url
            else None
        ),
        JobQueue(current.index_dead_letter_queue_url),
    )


def to_queue_message(record: SQSRecord, lambda_context: LambdaContext) -> QueueMessage:
    return QueueMessage(
        body=record.body,
        message_id=record.message_id,
        receive_count=int(record.attributes.approximate_receive_count),
        receipt_handle=record.receipt_handle,
        queue_url=record.queue_url,
        deadline=time.time() + lambda_context.get_remaining_time_in_millis() / 1000,
    )


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    alert_stage().process(to_queue_message(record, lambda_context))


def index_record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    index_stage().process(to_queue_message(record, lambda_context))


def _queue_name(event: dict[str, Any]) -> str:
    records = event.get("Records") or [{}]
    return str(records[0].get("eventSourceARN", "")).rsplit(":", 1)[-1]


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    current = settings()
    from_index_queue = _queue_name(event) == current.index_queue_url.rstrip("/").rsplit("/", 1)[-1]
    handler = index_record_handler if from_index_queue else record_handler
    return dict(process_partial_response(event=event, record_handler=handler, processor=processor, context=context))
