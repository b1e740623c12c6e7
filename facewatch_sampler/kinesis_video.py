"""The camera's Kinesis video stream, whose ARN every image-mode record names."""

from __future__ import annotations

from typing import TYPE_CHECKING

from facewatch.domain.records import camera_id_from_stream_arn

if TYPE_CHECKING:
    from mypy_boto3_kinesisvideo import KinesisVideoClient


def video_stream_arn(client: KinesisVideoClient, stream_name: str) -> str:
    """DescribeStream's ARN for the stream, checked to be one the detector accepts."""
    arn = client.describe_stream(StreamName=stream_name)["StreamInfo"]["StreamARN"]
    camera_id_from_stream_arn(arn)
    return arn
