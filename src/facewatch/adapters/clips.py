"""Video clips: KVS GetClip streamed into S3, and presigned links to them."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.domain.clip import CLIP_CONTENT_TYPE, ClipRange

if TYPE_CHECKING:
    from mypy_boto3_kinesis_video_archived_media import KinesisVideoArchivedMediaClient
    from mypy_boto3_kinesisvideo import KinesisVideoClient
    from mypy_boto3_s3 import S3Client


class ClipUnavailableError(Exception):
    """KVS could not give the clip; `code` is the AWS error code (classified by the domain)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class StoredClip:
    size_bytes: int
    get_clip_seconds: float


# Read before the upload starts: an empty GetClip body is refused without writing anything to S3.
FIRST_CHUNK_BYTES = 64 * 1024


class _CountingReader:
    """Wraps GetClip's streaming payload so S3 reads it in chunks (clips reach 100 MB) and we learn its size.
    The first chunk, already read, is handed out first."""

    def __init__(self, stream: Any, first: bytes) -> None:
        self._stream = stream
        self._first = first
        self.size_bytes = 0

    def read(self, size: int = -1) -> bytes:
        chunk: bytes
        if not self._first:
            chunk = self._stream.read(size)
        elif size < 0:
            chunk, self._first = self._first + self._stream.read(), b""
        else:
            chunk, self._first = self._first[:size], self._first[size:]
        self.size_bytes += len(chunk)
        return chunk


class ClipStore:
    def __init__(
        self,
        bucket_name: str,
        *,
        kinesisvideo: KinesisVideoClient | None = None,
        s3: S3Client | None = None,
        data_endpoint_override: str | None = None,
        archived_media_factory: Any = None,
    ) -> None:
        self._bucket = bucket_name
        self._kvs: aws.LazyClient[KinesisVideoClient] = aws.LazyClient("kinesisvideo", kinesisvideo)
        self._s3: aws.LazyClient[S3Client] = aws.LazyClient("s3", s3)
        self._override = data_endpoint_override
        self._archived_media_factory = archived_media_factory or _archived_media_client
        # GetDataEndpoint allows 5 calls/s per stream (hard limit): one call per stream per container.
        self._media: dict[str, KinesisVideoArchivedMediaClient] = {}

    @property
    def bucket(self) -> str:
        return self._bucket

    def _media_client(self, stream_arn: str) -> KinesisVideoArchivedMediaClient:
        client = self._media.get(stream_arn)
        if client is None:
            endpoint = self._kvs.get().get_data_endpoint(StreamARN=stream_arn, APIName="GET_CLIP")["DataEndpoint"]
            client = self._archived_media_factory(self._override or endpoint)
            self._media[stream_arn] = client
        return client

    def store(self, stream_arn: str, span: ClipRange, key: str, metadata: dict[str, str]) -> StoredClip:
        """Streams the clip for `span` from KVS into s3://bucket/key. Raises ClipUnavailableError when KVS
        refuses it or S3 does not store it: either way the clip is retried with the backoff, and the alert
        goes out without it after the last attempt rather than wait for the bucket."""
        started = time.monotonic()
        try:
            response = self._media_client(stream_arn).get_clip(
                StreamARN=stream_arn,
                ClipFragmentSelector={
                    "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {
                        "StartTimestamp": datetime.fromtimestamp(span.start, tz=UTC),
                        "EndTimestamp": datetime.fromtimestamp(span.end, tz=UTC),
                    },
                },
            )
        except ClientError as error:
            self._media.pop(stream_arn, None)  # reload the endpoint next time
            raise ClipUnavailableError(aws.error_code(error)) from error
        except BotoCoreError as error:  # connection trouble: endpoint may have moved
            self._media.pop(stream_arn, None)
            raise ClipUnavailableError(type(error).__name__) from error
        elapsed = time.monotonic() - started
        try:
            first = response["Payload"].read(FIRST_CHUNK_BYTES)
        except BotoCoreError as error:  # the stream broke before any byte arrived
            raise ClipUnavailableError(type(error).__name__) from error
        if not first:
            # KVS answered with no media: nothing is stored (no 0-byte object under the alert's key).
            raise ClipUnavailableError("EmptyClip")
        payload = _CountingReader(response["Payload"], first)
        try:
            self._s3.get().upload_fileobj(
                Fileobj=payload,  # type: ignore[arg-type]
                Bucket=self._bucket,
                Key=key,
                ExtraArgs={"ContentType": CLIP_CONTENT_TYPE, "Metadata": metadata},
            )
        except (ClientError, BotoCoreError) as error:
            raise ClipUnavailableError(aws.error_code(error)) from error
        return StoredClip(size_bytes=payload.size_bytes, get_clip_seconds=elapsed)

    def presign(self, key: str, expires_in_seconds: int) -> str:
        """A GET link to the clip. It is signed with this function's temporary role credentials, so it
        can stop working before `expires_in_seconds` when those credentials expire."""
        return self._s3.get().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in_seconds
        )


def _archived_media_client(endpoint_url: str) -> KinesisVideoArchivedMediaClient:
    return aws.session().client("kinesis-video-archived-media", endpoint_url=endpoint_url, config=aws.CLIENT_CONFIG)
