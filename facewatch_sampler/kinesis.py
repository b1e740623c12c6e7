"""Writes image-mode records to the stack's face-search data stream, keeping them through short outages.

Partition key = camera id: one camera's records stay in order on one shard. A record that cannot be
written waits in a bounded outbox and goes first at the next write; when the outbox is full the oldest
record is dropped and counted (an uplink down for minutes loses the oldest frames, not the newest).
A stream that does not exist or may not be written is no outage: StreamUnavailable ends the run.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters.aws import error_code
from facewatch_sampler.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient

# Two minutes of analysed frames at the default 2 frames/s.
MAX_PENDING_RECORDS = 240
# PutRecord: the SDK's standard retries (throttling included), bounded so a write never blocks for long.
# Answers that no wait will change: a wrong stream name, a role without kinesis:PutRecord on it.
PERMANENT_ERRORS = frozenset({"ResourceNotFoundException", "AccessDeniedException"})
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 3})


class StreamUnavailable(Exception):
    """The data stream does not exist or may not be written: a configuration error, not an outage."""


class RecordWriter:
    def __init__(
        self,
        stream_name: str,
        partition_key: str,
        *,
        client: KinesisClient | None = None,
        client_factory: Callable[[], KinesisClient] | None = None,
        max_pending: int = MAX_PENDING_RECORDS,
    ) -> None:
        if client is None and client_factory is None:
            raise ValueError("give a client or a client_factory")
        self._stream_name = stream_name
        self._partition_key = partition_key
        self._client = client
        self._client_factory = client_factory
        self._pending: deque[bytes] = deque()
        self._max_pending = max_pending
        self.written = 0
        self.dropped = 0
        self.failures = 0

    @property
    def client(self) -> KinesisClient:
        if self._client is None:
            assert self._client_factory is not None
            self._client = self._client_factory()
        return self._client

    @property
    def pending(self) -> int:
        return len(self._pending)

    def write(self, data: bytes) -> bool:
        """Queues the record and sends everything queued, oldest first; True when nothing is left waiting."""
        if len(self._pending) >= self._max_pending:
            self._pending.popleft()
            self.dropped += 1
        self._pending.append(data)
        return self.flush()

    def flush(self) -> bool:
        while self._pending:
            try:
                self.client.put_record(
                    StreamName=self._stream_name, Data=self._pending[0], PartitionKey=self._partition_key
                )
            except (ClientError, BotoCoreError) as error:
                self.failures += 1
                code = error_code(error)
                if code in PERMANENT_ERRORS:
                    raise StreamUnavailable(
                        f"cannot write to Kinesis data stream {self._stream_name}: {code}"
                    ) from error
                logger.warning("record not written yet", extra={"error": code, "pending": len(self._pending)})
                return False
            self._pending.popleft()
            self.written += 1
        return True
