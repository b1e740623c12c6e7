"""The index stage: a notified alert's document, from IndexQueue into OpenSearch.

Its own queue, retries and dead-letter queue: a slow or unreachable OpenSearch delays documents, never
notifications (services/alert.py only queues them). A document that cannot be written comes back after a
growing backoff (the message's visibility timeout) and, after INDEX_MAX_ATTEMPTS, is dead-lettered whole with
the reason. IndexQueue's maxReceiveCount is higher, a backstop for a function that dies before doing so.
"""

from __future__ import annotations

from aws_lambda_powertools.metrics import MetricUnit
from pydantic import ValidationError

from facewatch.adapters.job_queue import JobQueue
from facewatch.adapters.search_index import AlertIndex, IndexUnavailableError
from facewatch.domain.document import INDEX_MAX_ATTEMPTS, IndexJob, index_retry_delay_seconds
from facewatch.observability import logger, metrics
from facewatch.services.alert import QueueMessage, count_failure


class IndexNotWrittenError(Exception):
    """OpenSearch did not take the document; it comes back after the backoff."""


class IndexStage:
    def __init__(self, index: AlertIndex | None, queue: JobQueue) -> None:
        self._index = index
        self._queue = queue

    def process(self, message: QueueMessage) -> None:
        try:
            job = IndexJob.model_validate_json(message.body)
        except ValidationError:
            self._dead_letter(message, "not an index job", alert_id=None, error_code=None)
            return
        ids = {"alert_id": job.alert_id, "camera_id": job.camera_id}
        if self._index is None:
            logger.warning("OpenSearch not configured: alert not indexed", extra=ids)
            return
        try:
            target = self._index.index(job.alert_id, job.frame_time, job.document)
        except IndexUnavailableError as error:
            count_failure("index_failed")
            metrics.add_metric(name="IndexFailures", unit=MetricUnit.Count, value=1)
            attempts = message.receive_count
            if attempts >= INDEX_MAX_ATTEMPTS:
                self._dead_letter(
                    message,
                    f"OpenSearch did not take the document in {attempts} attempts ({error.code})",
                    alert_id=job.alert_id,
                    error_code=error.code,
                )
                return
            delay = index_retry_delay_seconds(attempts)
            self._queue.postpone(message.queue_url, message.receipt_handle, delay)
            logger.warning(
                "alert not indexed, will retry",
                extra={**ids, "error_code": error.code, "attempt": attempts, "retry_in_s": delay},
            )
            raise IndexNotWrittenError(error.code) from error
        metrics.add_metric(name="AlertsIndexed", unit=MetricUnit.Count, value=1)
        logger.info("alert indexed", extra={**ids, "index": target})

    def _dead_letter(self, message: QueueMessage, reason: str, alert_id: str | None, error_code: str | None) -> None:
        self._queue.dead_letter(message.body, reason, alert_id, error_code)
        metrics.add_metric(name="IndexJobsDeadLettered", unit=MetricUnit.Count, value=1)
        logger.error("index job dead-lettered", extra={"alert_id": alert_id, "reason": reason})
