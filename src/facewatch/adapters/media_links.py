"""Links the console mints when someone looks: presigned GETs for an alert's clip and snapshots, and a
KVS HLS LIVE_REPLAY session that plays the camera from the moment of detection on.

Each link is minted per view (or per click) and lives minutes; none is stored or logged. Presigned
links are signed with the console role, which may read only clips/ and snapshots/ of the clip bucket.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.domain.alert_record import is_media_key

if TYPE_CHECKING:
    from mypy_boto3_kinesis_video_archived_media import KinesisVideoArchivedMediaClient
    from mypy_boto3_kinesisvideo import KinesisVideoClient
    from mypy_boto3_s3 import S3Client

# GetHLSStreamingSessionURL: Expires 300-43200 s; HLSFragmentSelector ranges span at most 24 h.
MIN_HLS_EXPIRES_SECONDS = 300
REPLAY_PRE_ROLL_SECONDS = 5.0


class MediaUnavailableError(Exception):
    """The object or the stream cannot be played (missing, no retention, refused); `code` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


@dataclass(frozen=True, slots=True)
class MintedLink:
    url: str
    expires_in_seconds: int


def _archived_media_client(endpoint_url: str) -> KinesisVideoArchivedMediaClient:
    return aws.session().client("kinesis-video-archived-media", endpoint_url=endpoint_url, config=aws.CLIENT_CONFIG)


class MediaLinks:
    def __init__(
        self,
        bucket_name: str,
        *,
        s3: S3Client | None = None,
        kinesisvideo: KinesisVideoClient | None = None,
        archived_media_factory: Any = None,
        data_endpoint_override: str | None = None,
    ) -> None:
        self._bucket = bucket_name
        self._s3: aws.LazyClient[S3Client] = aws.LazyClient("s3", s3)
        self._kvs: aws.LazyClient[KinesisVideoClient] = aws.LazyClient("kinesisvideo", kinesisvideo)
        self._archived_media_factory = archived_media_factory or _archived_media_client
        self._override = data_endpoint_override

    def object_link(self, key: str, expires_in_seconds: int) -> MintedLink | None:
        """A presigned GET for an alert's clip or snapshot; None when the object is not there."""
        if not is_media_key(key):
            raise MediaUnavailableError("NotAlertMedia")
        try:
            # HeadObject needs only s3:GetObject, which the role has anyway: a missing snapshot shows as
            # "none stored" instead of a broken image.
            self._s3.get().head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if aws.error_code(error) in ("404", "NoSuchKey", "NotFound"):
                return None
            raise MediaUnavailableError(aws.error_code(error)) from error
        except BotoCoreError as error:
            raise MediaUnavailableError(aws.error_code(error)) from error
        url = self._s3.get().generate_presigned_url(
            "get_object", Params={"Bucket": self._bucket, "Key": key}, ExpiresIn=expires_in_seconds
        )
        return MintedLink(url=url, expires_in_seconds=expires_in_seconds)

    def replay_session(self, stream_arn: str, frame_time: float, expires_in_seconds: int) -> MintedLink:
        """An HLS LIVE_REPLAY session from just before the detection, following the live stream after."""
        expires = max(MIN_HLS_EXPIRES_SECONDS, expires_in_seconds)
        try:
            endpoint = self._kvs.get().get_data_endpoint(StreamARN=stream_arn, APIName="GET_HLS_STREAMING_SESSION_URL")[
                "DataEndpoint"
            ]
            media = self._archived_media_factory(self._override or endpoint)
            start = datetime.fromtimestamp(frame_time - REPLAY_PRE_ROLL_SECONDS, tz=UTC)
            response = media.get_hls_streaming_session_url(
                StreamARN=stream_arn,
                PlaybackMode="LIVE_REPLAY",
                HLSFragmentSelector={
                    "FragmentSelectorType": "PRODUCER_TIMESTAMP",
                    "TimestampRange": {"StartTimestamp": start},
                },
                Expires=expires,
            )
        except (ClientError, BotoCoreError) as error:
            raise MediaUnavailableError(aws.error_code(error)) from error
        return MintedLink(url=response["HLSStreamingSessionURL"], expires_in_seconds=expires)
