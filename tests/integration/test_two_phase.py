"""The two phases through AlertFunction's handler on moto: the snapshot message at once, the clip message after
the post-roll, tied by the alert id and a sequence number; the first message goes out whatever becomes of
the snapshot. KVS GetImages is answered by botocore's Stubber on the real model (moto has no GetImages)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from tests.support.alerts import (
    CLIP_BUCKET,
    DEDUP_TABLE,
    REGION,
    AlertWorld,
    alert_world,
    failed_ids,
    sample_job,
)
from tests.support.images import as_image_content, frame_jpeg

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.config import AlertSettings
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.snapshot import EdgeSnapshot, edge_snapshot_key, snapshot_keys
from facewatch.handlers import alerter
from facewatch.services.alert import AlertStage
from facewatch.services.snapshot import SnapshotTaker

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

POST_ROLL_SECONDS = 10.0


class Images:
    """GetImages on a real archived-media client, answered by a Stubber; NO_MEDIA retries take no time."""

    def __init__(self) -> None:
        self.client = boto3.client("kinesis-video-archived-media", region_name=REGION, endpoint_url="https://kvs.local")
        self.stubber = Stubber(self.client)
        self.stubber.activate()
        self.now = 0.0

    def answer(self, *images: dict[str, Any]) -> None:
        self.stubber.add_response("get_images", {"Images": list(images)})

    def refuse(self, code: str) -> None:
        self.stubber.add_client_error("get_images", service_error_code=code, http_status_code=400)

    def sleep(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


@pytest.fixture
def images(world: AlertWorld, monkeypatch: pytest.MonkeyPatch) -> Images:
    """The alerter's stage with its production clients, but GetImages stubbed."""
    stubbed = Images()
    settings = AlertSettings.from_environ(os.environ)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stage = AlertStage(
        settings,
        ledger=AlertLedger(DEDUP_TABLE, dynamodb),
        clips=ClipStore(CLIP_BUCKET),
        snapshots=SnapshotTaker(
            images=KvsImages(
                archived_media_factory=lambda _endpoint: stubbed.client,
                monotonic=lambda: stubbed.now,
                sleep=stubbed.sleep,
            ),
            store=SnapshotStore(CLIP_BUCKET),
        ),
        cameras=CameraRegistry(settings.camera_table_name, dynamodb),
        notifier=AlertNotifier(settings.alert_topic_arn),
        index_queue=IndexQueue(settings.index_queue_url),
        queue=JobQueue(settings.alert_dead_letter_queue_url),
    )
    monkeypatch.setattr(alerter, "alert_stage", lambda: stage)
    return stubbed


def fresh_job(**changes: Any) -> AlertJob:
    """The sample job, seen a second ago: its clip's post-roll is still being recorded."""
    template = sample_job()
    frame_time = round(time.time() - 1.0, 3)
    producer = frame_time - template.frame_offset_seconds
    return sample_job(
        producer_timestamp=producer,
        server_timestamp=producer + 0.3,
        frame_time=producer + template.frame_offset_seconds,
        arrived_at=frame_time + 0.4,
        detected_at=frame_time + 0.5,
        **changes,
    )


def image(content: bytes | None = None, error: str | None = None) -> dict[str, Any]:
    answer: dict[str, Any] = {"TimeStamp": datetime.now(tz=UTC)}
    if content is not None:
        answer["ImageContent"] = as_image_content(content)
    if error is not None:
        answer["Error"] = error
    return answer


def notices(world: AlertWorld) -> list[dict[str, Any]]:
    """The structured messages the team's queue got since it was last read."""
    return [json.loads(envelope["Message"]) for envelope in world.notifications()]


def alert_item(world: AlertWorld, alert_id: str) -> dict[str, Any]:
    return dict(world.dynamodb.get_item(TableName=DEDUP_TABLE, Key={"pk": {"S": f"alert#{alert_id}"}})["Item"])


def test_the_snapshot_goes_out_at_once_and_the_clip_after_the_post_roll(world: AlertWorld, images: Images) -> None:
    # given a sighting a second old, and KVS has its frame
    job = fresh_job()
    images.answer(image(frame_jpeg(1280, 720)))
    world.send_job(job.to_message())

    # when the job is delivered the first time
    messages, first = world.deliver()

    # then the first message is out with the snapshot, and the job waits for the post-roll (+2 s ingest margin)
    [snapshot_notice] = notices(world)
    keys = snapshot_keys(job.camera_id, job.frame_time, job.alert_id)
    assert snapshot_notice["event_type"] == "alert_snapshot"
    assert snapshot_notice["sequence"] == 1
    assert snapshot_notice["snapshot"]["status"] == "ok"
    assert snapshot_notice["snapshot"]["crop_s3_uri"] == f"s3://{CLIP_BUCKET}/{keys.crop}"
    assert snapshot_notice["clip"]["status"] == "pending"
    assert len(failed_ids(first)) == 1
    item = alert_item(world, job.alert_id)
    assert (item["snapshot_key"]["S"], item["crop_key"]["S"]) == (keys.frame, keys.crop)
    latency = snapshot_notice["latency_seconds"]
    assert latency["frame_to_arrival"] == pytest.approx(0.4, abs=0.01)
    assert latency["arrival_to_detector"] == pytest.approx(0.1, abs=0.01)

    # and when SQS delivers it again after the post-roll
    world.expire_visibility(messages)
    _, second = world.deliver()

    # then the second message, same alert id, sequence 2, carries the clip and the snapshot again
    assert failed_ids(second) == []
    [clip_notice] = notices(world)  # the first was read above
    first_notice = snapshot_notice
    assert clip_notice["event_type"] == "alert_clip"
    assert (clip_notice["alert_id"], clip_notice["sequence"]) == (job.alert_id, 2)
    assert clip_notice["clip"]["status"] == "ok"
    assert clip_notice["snapshot"]["crop_s3_uri"] == first_notice["snapshot"]["crop_s3_uri"]
    assert clip_notice["latency_seconds"]["phase1_to_phase2"] is not None
    assert world.dead_letters() == []


def test_the_job_waits_exactly_until_the_post_roll_is_ingested(world: AlertWorld, images: Images) -> None:
    job = fresh_job()
    images.answer(image(frame_jpeg()))
    world.send_job(job.to_message())
    postpones: list[int] = []
    aws.client("sqs").meta.events.register(
        "provide-client-params.sqs.ChangeMessageVisibility",
        lambda params, **_: postpones.append(params["VisibilityTimeout"]),
    )

    world.deliver()

    # frame one second ago + 10 s post-roll + 2 s ingest margin
    assert postpones in ([11], [12])


@pytest.mark.parametrize(
    ("failure", "reason"),
    [
        ("ResourceNotFoundException", "the camera's video stream was not found (ResourceNotFoundException)"),
        ("InvalidArgumentException", "KVS refused the image request (InvalidArgumentException)"),
        ("ClientLimitExceededException", "KVS throttled the image request (ClientLimitExceededException)"),
        ("NotAuthorizedException", "not authorised to read the camera's video (NotAuthorizedException)"),
        (
            "NoDataRetentionException",
            "the camera's video stream keeps no video (retention 0) (NoDataRetentionException)",
        ),
        ("MEDIA_ERROR", "the video at the frame time could not be decoded (MEDIA_ERROR)"),
        ("NO_MEDIA", "no video at the frame time yet (NO_MEDIA)"),
    ],
)
def test_the_first_message_goes_out_when_get_images_fails_and_says_why(
    world: AlertWorld, images: Images, failure: str, reason: str
) -> None:
    # given GetImages fails in one of its documented ways (NO_MEDIA for the whole retry time)
    if failure.isupper():
        for _ in range(20):
            images.answer(image(error=failure))
    else:
        images.refuse(failure)
    job = fresh_job()
    world.send_job(job.to_message())

    # when the job is delivered
    world.deliver()

    # then the first message went out at once, saying why it has no snapshot
    [notice] = notices(world)
    assert notice["event_type"] == "alert_snapshot"
    assert notice["snapshot"] == {
        "status": "missing",
        "source": "kvs",
        "frame_s3_uri": None,
        "crop_s3_uri": None,
        "frame_url": None,
        "crop_url": None,
        "url_expires_at": None,
        "reason": reason,
    }
    assert images.now <= 4.0  # NO_MEDIA is asked again for a bounded few seconds only
    assert world.dead_letters() == []


BUCKET_EDGE_KEY = edge_snapshot_key(sample_job().camera_id, 1763776801.851)


@pytest.mark.parametrize(
    ("reference", "reason"),
    [
        (EdgeSnapshot(problem="the image-mode record names no snapshot"), "the image-mode record names no snapshot"),
        (
            EdgeSnapshot(bucket="someone-elses-bucket", key=BUCKET_EDGE_KEY),
            "the record's snapshot is in a foreign bucket",
        ),
        (
            EdgeSnapshot(bucket=CLIP_BUCKET, key="edge/another-camera/2025/11/22/1-frame.jpg"),
            "the record's snapshot is outside edge/seoul-hq-lobby-01/",
        ),
        (
            EdgeSnapshot(bucket=CLIP_BUCKET, key="clips/seoul-hq-lobby-01/x.mp4"),
            "the record's snapshot is outside edge/seoul-hq-lobby-01/",
        ),
    ],
    ids=["missing", "foreign", "another camera's prefix", "outside edge/"],
)
def test_an_image_mode_reference_that_cannot_be_used_costs_the_snapshot_not_the_alert(
    world: AlertWorld, images: Images, reference: EdgeSnapshot, reason: str
) -> None:
    # given an image-mode job whose frame reference is missing, foreign or outside the camera's prefix
    world.send_job(fresh_job(edge_snapshot=reference).to_message())

    # when the job is delivered
    world.deliver()

    # then the first message says why there is no snapshot; KVS was not asked (no GetImages answer is queued)
    [notice] = notices(world)
    assert (notice["snapshot"]["status"], notice["snapshot"]["source"]) == ("missing", "edge")
    assert notice["snapshot"]["reason"] == reason
    images.stubber.assert_no_pending_responses()
    assert world.dead_letters() == []


def test_an_image_mode_frame_under_the_cameras_prefix_becomes_the_snapshot(world: AlertWorld, images: Images) -> None:
    # given the sampler uploaded the frame under edge/<camera>/ and named it in the record
    job = fresh_job()
    key = edge_snapshot_key(job.camera_id, job.frame_time)
    world.s3.put_object(Bucket=CLIP_BUCKET, Key=key, Body=frame_jpeg())
    world.send_job(fresh_job(edge_snapshot=EdgeSnapshot(bucket=CLIP_BUCKET, key=key)).to_message())

    # when the job is delivered
    world.deliver()

    # then the snapshot is rendered from it, without a KVS call
    [notice] = notices(world)
    assert (notice["snapshot"]["status"], notice["snapshot"]["source"]) == ("ok", "edge")
    assert notice["snapshot"]["crop_url"].startswith(f"https://{CLIP_BUCKET}.s3.amazonaws.com/snapshots/")
