"""Kinesis batches processed in order: the first failed record stops the batch.

Lambda, given a partial batch response, checkpoints at the lowest failed sequence number and redelivers
the shard from there. Powertools' BatchProcessor goes on after a failure, so later records of the same
camera would be processed before the failed one is retried: a later frame claims a later window, and the
retried frame then finds itself behind it. Here every record after the first failure is reported failed
without being processed, so the redelivery sees the shard in order (the same rule as Powertools'
SqsFifoPartialProcessor, for Kinesis).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType


class NotProcessedError(Exception):
    """A record left for the redelivery because an earlier record of the batch failed."""


class OrderedKinesisProcessor(BatchProcessor):
    _not_processed = (NotProcessedError, NotProcessedError("an earlier record of the batch failed"), None)

    def __init__(self) -> None:
        # Never raise for a whole batch: a batch whose first record failed is reported record by record.
        super().__init__(event_type=EventType.KinesisDataStreams, raise_on_entire_batch_failure=False)
        self.not_processed = 0

    def process(self) -> list[tuple[Any, ...]]:
        results: list[tuple[Any, ...]] = []
        self.not_processed = 0
        for record in self.records:
            if self.fail_messages:
                self.not_processed += 1
                data = self._to_batch_type(record=record, event_type=self.event_type, model=self.model)
                results.append(self.failure_handler(record=data, exception=self._not_processed))
                continue
            results.append(self._process_record(record))
        return results
