"""Rekognition stream processors: describe, start, stop. AWS errors become ProcessorBusyError (try again
later) or ProcessorRequestError (the request cannot succeed as it is)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.domain.stream_processor import ProcessorState, ProcessorStatus

if TYPE_CHECKING:
    from mypy_boto3_rekognition import RekognitionClient

# Throttling and server errors pass; ResourceInUseException is a processor between states (a start while
# it is STARTING or STOPPING, a stop while it is STARTING).
BUSY_ERROR_CODES = frozenset(
    {
        "ThrottlingException",
        "ProvisionedThroughputExceededException",
        "InternalServerError",
        "ServiceUnavailableException",
        "ResourceInUseException",
    }
)


class ProcessorBusyError(Exception):
    """The call may succeed if made again later."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class ProcessorRequestError(Exception):
    """The call cannot succeed as it is (access denied, no such processor, invalid parameter)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(f"{code}: {message}" if message else code)
        self.code = code


class StreamProcessors:
    def __init__(self, rekognition: RekognitionClient | None = None) -> None:
        self._rekognition: aws.LazyClient[RekognitionClient] = aws.LazyClient("rekognition", rekognition)

    def describe(self, name: str) -> ProcessorState:
        with _translated_errors():
            try:
                described = self._rekognition.get().describe_stream_processor(Name=name)
            except ClientError as error:
                if aws.error_code(error) != "ResourceNotFoundException":
                    raise
                return ProcessorState(name=name, status=None)
        return ProcessorState(
            name=name,
            status=ProcessorStatus(described["Status"]),
            status_message=described.get("StatusMessage", ""),
        )

    def start(self, name: str) -> None:
        # No StartSelector/StopSelector: they are for label detection; a face-search processor runs until stopped.
        with _translated_errors():
            self._rekognition.get().start_stream_processor(Name=name)

    def stop(self, name: str) -> None:
        """Nothing to do when there is no such processor."""
        with _translated_errors():
            try:
                self._rekognition.get().stop_stream_processor(Name=name)
            except ClientError as error:
                if aws.error_code(error) != "ResourceNotFoundException":
                    raise


@contextmanager
def _translated_errors() -> Iterator[None]:
    """AWS errors as ProcessorBusyError (throttling, server errors, connection trouble, a processor between
    states) or ProcessorRequestError (anything else)."""
    try:
        yield
    except ClientError as error:
        code = aws.error_code(error)
        if code in BUSY_ERROR_CODES:
            raise ProcessorBusyError(code) from error
        raise ProcessorRequestError(code, str(error.response.get("Error", {}).get("Message", ""))) from error
    except BotoCoreError as error:
        raise ProcessorBusyError(type(error).__name__) from error
