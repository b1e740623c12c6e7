"""Snapshot images: one frame from KVS (GetImages), the image-mode frame from the clip bucket, and the
rendered snapshot stored back in the clip bucket with presigned links to it."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.domain.snapshot import (
    NO_MEDIA_RETRY_INTERVAL_SECONDS,
    NO_MEDIA_RETRY_SECONDS,
    SNAPSHOT_CONTENT_TYPE,
    ImageFailure,
    SnapshotKeys,
    classify_image_error,
)

if TYPE_CHECKING:
    from mypy_boto3_kinesis_video_archived_media import KinesisVideoArchivedMediaClient
    from mypy_boto3_kinesisvideo import KinesisVideoClient
    from mypy_boto3_s3 import S3Client

# The largest image-mode frame read back (a 4K JPEG is a few MB): anything bigger is not the sampler's.
MAX_EDGE_FRAME_BYTES = 15 * 1024 * 1024
# A range shorter than the sampling interval returns the one image at StartTimestamp (GetImages reference).
SAMPLING_INTERVAL_MS = 200
RANGE_SECONDS = 0.1


class ImageUnavailableError(Exception):
    """No frame: `code` is the AWS error code or GetImages' per-image error (NO_MEDIA, MEDIA_ERROR)."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


def _archived_media_client(endpoint_url: str) -> KinesisVideoArchivedMediaClient:
    return aws.session().client("kinesis-video-archived-media", endpoint_url=endpoint_url, config=aws.CLIENT_CONFIG)


class KvsImages:
    """GetImages at a frame's producer timestamp, asking again while it answers NO_MEDIA."""

    def __init__(
        self,
        *,
        kinesisvideo: KinesisVideoClient | None = None,
        data_endpoint_override: str | None = None,
        archived_media_factory: Callable[[str], KinesisVideoArchivedMediaClient] | None = None,
        retry_seconds: float = NO_MEDIA_RETRY_SECONDS,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._kvs: aws.LazyClient[KinesisVideoClient] = aws.LazyClient("kinesisvideo", kinesisvideo)
        self._override = data_endpoint_override
        self._factory = archived_media_factory or _archived_media_client
        self._retry_seconds = retry_seconds
        self._monotonic = monotonic
        self._sleep = sleep
        # GetDataEndpoint allows 5 calls/s per stream (hard limit): one call per stream per container.
        self._media: dict[str, KinesisVideoArchivedMediaClient] = {}

    def _media_client(self, stream_arn: str) -> KinesisVideoArchivedMediaClient:
        client = self._media.get(stream_arn)
        if client is None:
            endpoint = self._kvs.get().get_data_endpoint(StreamARN=stream_arn, APIName="GET_IMAGES")["DataEndpoint"]
            client = self._factory(self._override or endpoint)
            self._media[stream_arn] = client
        return client

    def frame_jpeg(self, stream_arn: str, frame_time: float) -> bytes:
        """The JPEG of the frame at `frame_time`, or ImageUnavailableError with the last code."""
        deadline = self._monotonic() + self._retry_seconds
        attempts = 0
        while True:
            attempts += 1
            try:
                return self._once(stream_arn, frame_time)
            except ImageUnavailableError as error:
                retry = classify_image_error(error.code) is ImageFailure.NOT_READY
                if not retry or self._monotonic() + NO_MEDIA_RETRY_INTERVAL_SECONDS > deadline:
                    raise
            self._sleep(NO_MEDIA_RETRY_INTERVAL_SECONDS)

    def _once(self, stream_arn: str, frame_time: float) -> bytes:
        start = datetime.fromtimestamp(frame_time, tz=UTC)
        end = datetime.fromtimestamp(frame_time + RANGE_SECONDS, tz=UTC)
        try:
            response = self._media_client(stream_arn).get_images(
                StreamARN=stream_arn,
                ImageSelectorType="PRODUCER_TIMESTAMP",
                StartTimestamp=start,
                EndTimestamp=end,
                SamplingInterval=SAMPLING_INTERVAL_MS,
                Format="JPEG",
                MaxResults=1,
            )
        except ClientError as error:
            self._media.pop(stream_arn, None)  # reload the endpoint next time
            raise ImageUnavailableError(aws.error_code(error)) from error
        except BotoCoreError as error:
            self._media.pop(stream_arn, None)
            raise ImageUnavailableError(type(error).__name__) from error
        images = response.get("Images", [])
        if not images:
            raise ImageUnavailableError("NO_MEDIA")
        image = images[0]
        if "ImageContent" not in image:
            raise ImageUnavailableError(str(image.get("Error", "NO_MEDIA")))
        try:
            return base64.b64decode(image["ImageContent"], validate=True)
        except (binascii.Error, ValueError):
            raise ImageUnavailableError("MEDIA_ERROR") from None


class SnapshotStore:
    def __init__(self, bucket_name: str, s3: S3Client | None = None) -> None:
        self._bucket = bucket_name
        self._s3: aws.LazyClient[S3Client] = aws.LazyClient("s3", s3)

    @property
    def bucket(self) -> str:
        return self._bucket

    def read_edge_frame(self, key: str) -> bytes:
        """The frame image mode uploaded (the key checked by the caller). ImageUnavailableError if absent."""
        try:
            response = self._s3.get().get_object(Bucket=self._bucket, Key=key)
        except (ClientError, BotoCoreError) as error:
            raise ImageUnavailableError(aws.error_code(error)) from error
        if response.get("ContentLength", 0) > MAX_EDGE_FRAME_BYTES:
            raise ImageUnavailableError("EdgeFrameTooLarge")
        return response["Body"].read(MAX_EDGE_FRAME_BYTES + 1)

    def store(self, keys: SnapshotKeys, frame_jpeg: bytes, crop_jpeg: bytes, metadata: dict[str, str]) -> None:
        """Both images, encrypted at rest (SSE-S3, as the bucket's default: stated so a changed default
        cannot leave them in the clear)."""
        for key, body in ((keys.frame, frame_jpeg), (keys.crop, crop_jpeg)):
            self._s3.get().put_object(
                Bucket=self._bucket,
                Key=key,
                Body=body,
                ContentType=SNAPSHOT_CONTENT_TYPE,
                ServerSideEncryption="AES256",
                Metadata=metadata,
            )

    def presign(self, key: str, expires_in_seconds: int) -> str:
        return self._s3.get().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in_seconds
        )
