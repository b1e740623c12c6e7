"""DetectorFunction: Kinesis face-search records -> deduplicated alert jobs on AlertQueue."""

from __future__ import annotations

import base64
import binascii
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import process_partial_response
from aws_lambda_powertools.utilities.data_classes.kinesis_stream_event import KinesisStreamRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.alert_queue import AlertQueue
from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.adapters.quarantine import Quarantine
from facewatch.config import detector_settings
from facewatch.handlers.ordered_batch import OrderedKinesisProcessor
from facewatch.observability import logger, metrics, tracer
from facewatch.services.detect import Detector, StreamRecord, publish_camera_metrics, publish_metrics

# A failing record and every record after it are reported in batchItemFailures; Lambda checkpoints at
# the lowest failed sequence number and redelivers from there, so the shard is processed in order.
processor = OrderedKinesisProcessor()


@cache
def detector() -> Detector:
    settings = detector_settings()
    return Detector(
        settings=settings,
        windows=DedupWindows(settings.dedup_table_name),
        queue=AlertQueue(settings.alert_queue_url),
        quarantine=Quarantine(settings.quarantine_bucket_name),
    )


def to_stream_record(record: KinesisStreamRecord) -> StreamRecord:
    kinesis = record.kinesis  # each access builds a new wrapper; read once, per record is the hot path
    raw = kinesis.data
    try:
        data, decode_error = base64.b64decode(raw, validate=True), None
    except (binascii.Error, ValueError):
        data, decode_error = raw.encode("utf-8", "surrogateescape"), "data is not valid base64"
    shard_id, _, _ = record.event_id.partition(":")
    return StreamRecord(
        data=data,
        decode_error=decode_error,
        stream_name=record.event_source_arn.rsplit("/", 1)[-1],
        shard_id=shard_id,
        sequence_number=kinesis.sequence_number,
        arrived_at=float(kinesis.approximate_arrival_timestamp),
    )


def record_handler(record: KinesisStreamRecord) -> None:
    detector().process(to_stream_record(record))


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    with detector().batch() as tally:
        response = process_partial_response(
            event=event, record_handler=record_handler, processor=processor, context=context
        )
        tally.not_processed = processor.not_processed
    publish_metrics(tally)
    publish_camera_metrics(tally)
    return dict(response)
