"""Phase 1's snapshot through the real adapters: S3 on moto, KVS GetImages answered by botocore's Stubber
on the real kinesis-video-archived-media model (moto has no GetImages)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from scripts.make_alert_events import REGION, STREAM_ARN
from tests.support.alerts import create_stream, sample_job
from tests.support.images import as_image_content, frame_jpeg, jpeg_size

from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.snapshot import EdgeSnapshot, edge_snapshot_key, snapshot_keys
from facewatch.services.snapshot import SnapshotTaker

BUCKET = "facewatch-clips-snapshot-test"
JOB = sample_job()
EDGE_KEY = edge_snapshot_key(JOB.camera_id, JOB.frame_time)


class FakeTime:
    """monotonic() and sleep() of one clock: waiting advances it, so bounded retries end at once."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


class World:
    def __init__(self, s3: Any, media: Any, stubber: Stubber, clock: FakeTime) -> None:
        self.s3 = s3
        self.media = media
        self.stubber = stubber
        self.clock = clock
        store = SnapshotStore(BUCKET, s3=s3)
        images = KvsImages(
            kinesisvideo=boto3.client("kinesisvideo", region_name=REGION),
            archived_media_factory=lambda _endpoint: media,
            monotonic=clock.monotonic,
            sleep=clock.sleep,
        )
        self.taker = SnapshotTaker(images=images, store=store, monotonic=clock.monotonic)

    def stored_keys(self) -> list[str]:
        return sorted(item["Key"] for item in self.s3.list_objects_v2(Bucket=BUCKET).get("Contents", []))

    def expect_images(self, job: AlertJob, images: list[dict[str, Any]]) -> None:
        start = datetime.fromtimestamp(job.frame_time, tz=UTC)
        self.stubber.add_response(
            "get_images",
            {"Images": images},
            {
                "StreamARN": job.kvs_stream_arn,
                "ImageSelectorType": "PRODUCER_TIMESTAMP",
                "StartTimestamp": start,
                "EndTimestamp": datetime.fromtimestamp(job.frame_time + 0.1, tz=UTC),
                "SamplingInterval": 200,
                "Format": "JPEG",
                "MaxResults": 1,
            },
        )


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        s3 = boto3.client("s3", region_name=REGION)
        s3.create_bucket(Bucket=BUCKET)
        create_stream(boto3.client("kinesisvideo", region_name=REGION), STREAM_ARN)
        media = boto3.client("kinesis-video-archived-media", region_name=REGION, endpoint_url="https://kvs.local")
        with Stubber(media) as stubber:
            yield World(s3, media, stubber, FakeTime())
            stubber.assert_no_pending_responses()


def image(content: bytes | None = None, error: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"TimeStamp": datetime.fromtimestamp(JOB.frame_time, tz=UTC)}
    if content is not None:
        answer["ImageContent"] = as_image_content(content)
    if error is not None:
        answer["Error"] = error
    return answer


def test_stream_mode_stores_the_frame_and_the_crop_encrypted_under_the_contract_keys(world: World) -> None:
    # given
    world.expect_images(JOB, [image(frame_jpeg(1280, 720))])
    # when
    outcome = world.taker.take(JOB)
    # then
    keys = snapshot_keys(JOB.camera_id, JOB.frame_time, JOB.alert_id)
    assert (outcome.status, outcome.source, outcome.frame_key, outcome.crop_key) == ("ok", "kvs", keys.frame, keys.crop)
    assert world.stored_keys() == sorted([keys.frame, keys.crop])
    for key in (keys.frame, keys.crop):
        head = world.s3.head_object(Bucket=BUCKET, Key=key)
        assert head["ServerSideEncryption"] == "AES256"
        assert head["ContentType"] == "image/jpeg"
        assert head["Metadata"] == {"alert-id": JOB.alert_id, "camera-id": JOB.camera_id}
    frame = world.s3.get_object(Bucket=BUCKET, Key=keys.frame)["Body"].read()
    assert jpeg_size(frame) == (1280, 720)


def test_no_media_is_asked_again_until_the_frame_is_ingested(world: World) -> None:
    # given
    world.expect_images(JOB, [image(error="NO_MEDIA")])
    world.expect_images(JOB, [])
    world.expect_images(JOB, [image(frame_jpeg())])
    # when
    outcome = world.taker.take(JOB)
    # then
    assert outcome.status == "ok"
    assert world.clock.slept == [0.5, 0.5]


def test_no_media_for_the_whole_retry_time_gives_up_within_a_few_seconds(world: World) -> None:
    # given: 4 s of retries, one request every 0.5 s (the first at once)
    for _ in range(9):
        world.expect_images(JOB, [image(error="NO_MEDIA")])
    # when
    outcome = world.taker.take(JOB)
    # then
    assert (outcome.status, outcome.reason) == ("missing", "no video at the frame time yet (NO_MEDIA)")
    assert sum(world.clock.slept) <= 4.0
    assert world.stored_keys() == []


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("ResourceNotFoundException", "the camera's video stream was not found (ResourceNotFoundException)"),
        ("InvalidArgumentException", "KVS refused the image request (InvalidArgumentException)"),
        ("ClientLimitExceededException", "KVS throttled the image request (ClientLimitExceededException)"),
        ("NotAuthorizedException", "not authorised to read the camera's video (NotAuthorizedException)"),
        (
            "NoDataRetentionException",
            "the camera's video stream keeps no video (retention 0) (NoDataRetentionException)",
        ),
    ],
)
def test_each_documented_get_images_error_is_a_reason_not_a_retry(world: World, code: str, reason: str) -> None:
    # given
    world.stubber.add_client_error("get_images", service_error_code=code, http_status_code=400)
    # when
    outcome = world.taker.take(JOB)
    # then
    assert (outcome.status, outcome.source, outcome.reason) == ("missing", "kvs", reason)
    assert world.clock.slept == []


def test_a_frame_kvs_cannot_decode_is_a_reason(world: World) -> None:
    world.expect_images(JOB, [image(error="MEDIA_ERROR")])

    outcome = world.taker.take(JOB)

    assert outcome.reason == "the video at the frame time could not be decoded (MEDIA_ERROR)"


def test_image_mode_renders_the_uploaded_frame_without_asking_kvs(world: World) -> None:
    # given
    world.s3.put_object(Bucket=BUCKET, Key=EDGE_KEY, Body=frame_jpeg())
    job = sample_job(edge_snapshot=EdgeSnapshot(bucket=BUCKET, key=EDGE_KEY))
    # when
    outcome = world.taker.take(job)
    # then: the Stubber has no GetImages answer queued, so a KVS call would have failed the test
    assert (outcome.status, outcome.source) == ("ok", "edge")
    assert outcome.crop_key in world.stored_keys()


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        (EdgeSnapshot(problem="the image-mode record names no snapshot"), "the image-mode record names no snapshot"),
        (EdgeSnapshot(bucket="someone-elses-bucket", key=EDGE_KEY), "the record's snapshot is in a foreign bucket"),
        (
            EdgeSnapshot(bucket=BUCKET, key="edge/another-camera/2025/11/22/1-frame.jpg"),
            f"the record's snapshot is outside edge/{JOB.camera_id}/",
        ),
        (EdgeSnapshot(bucket=BUCKET, key=EDGE_KEY), "the image-mode frame could not be read (NoSuchKey)"),
    ],
)
def test_image_mode_without_a_usable_frame_is_a_reason(world: World, reference: EdgeSnapshot, reason: str) -> None:
    outcome = world.taker.take(sample_job(edge_snapshot=reference))

    assert (outcome.status, outcome.source, outcome.reason) == ("missing", "edge", reason)
    assert world.stored_keys() == []
