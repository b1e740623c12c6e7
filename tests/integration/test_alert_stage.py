"""The alert stage on moto, built with explicit clients and driven through AlertFunction's handler the way
Lambda's SQS event source mapping drives it: receive, invoke, delete what succeeded, redeliver the rest."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from types import SimpleNamespace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests
from botocore.response import StreamingBody
from botocore.stub import Stubber
from tests.support.alerts import (
    CAMERA_TABLE,
    CLIP_BUCKET,
    CLIP_URL_EXPIRY_SECONDS,
    DEDUP_TABLE,
    REGION,
    AlertWorld,
    alert_world,
    failed_ids,
    invoke_alerter,
    recorded_calls,
    sample_job,
)

from facewatch.adapters.alert_ledger import AlertLedger, AlertProgress
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.config import AlertSettings
from facewatch.domain.notification import Phase, SnsMessage
from facewatch.handlers import alerter
from facewatch.services.alert import AlertStage
from facewatch.services.snapshot import SnapshotTaker

CLIP_BYTES = b"sample-mp4-video"  # what moto's GetClip answers for an existing stream
IN_DOUBT = "notification in doubt"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


class Observed:
    """The stage's own clients, so the calls it makes can be recorded apart from the test's."""

    def __init__(self) -> None:
        self.kvs = boto3.client("kinesisvideo", region_name=REGION)
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.sns = boto3.client("sns", region_name=REGION)
        self.data_endpoint_calls = recorded_calls(self.kvs, "GetDataEndpoint")
        self.postpones = recorded_calls(self.sqs, "ChangeMessageVisibility")
        self.publishes = recorded_calls(self.sns, "Publish")
        self.sends = recorded_calls(self.sqs, "SendMessage")
        self.get_clip_calls: list[dict[str, Any]] = []

    def moto_media(self, endpoint_url: str) -> Any:
        """The real archived-media client (answered by moto), with its GetClip calls recorded."""
        client = boto3.client("kinesis-video-archived-media", region_name=REGION, endpoint_url=endpoint_url)
        client.meta.events.register(
            "provide-client-params.kinesis-video-archived-media.GetClip",
            lambda params, **_: self.get_clip_calls.append(dict(params)),
        )
        return client

    def visibility_timeouts(self) -> list[int]:
        return [call["VisibilityTimeout"] for call in self.postpones]

    def emails(self) -> list[str]:
        return [json.loads(call["Message"])["email"] for call in self.publishes]

    def queued_documents(self) -> list[str]:
        """The alert ids of the documents the stage queued for the indexer, in order."""
        return [
            json.loads(call["MessageBody"])["alert_id"]
            for call in self.sends
            if call["QueueUrl"] == os.environ["INDEX_QUEUE_URL"]
        ]

    def document_ids(self) -> set[str]:
        return set(self.queued_documents())


class CrashOnceNotifier(AlertNotifier):
    """The function dies (timeout, out of memory) after the notify step began, before SNS was called."""

    crashed = False

    def publish(self, message: SnsMessage) -> str:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("Task timed out after 30.00 seconds")
        return super().publish(message)


class CrashOnceLedger(AlertLedger):
    """The function dies after SNS accepted the alert, before the ledger recorded it."""

    crashed = False

    def finish_notify(
        self,
        alert_id: str,
        sns_message_id: str,
        notified_at: float,
        phase: Phase = Phase.CLIP,
        receive_count: int | None = None,
    ) -> None:
        if not self.crashed:
            self.crashed = True
            raise RuntimeError("Task timed out after 30.00 seconds")
        super().finish_notify(alert_id, sns_message_id, notified_at, phase=phase, receive_count=receive_count)


class StaleReadLedger(AlertLedger):
    """A concurrent duplicate: it read the alert's progress before the other copy recorded anything."""

    def load(self, alert_id: str) -> AlertProgress:
        return AlertProgress()


def refuse_first_publish(sns: Any) -> None:
    """SNS answers the next Publish with a throttling error (a definite refusal: nothing was sent)."""
    refused: list[bool] = []

    def refuse(**_: Any) -> tuple[Any, dict[str, Any]] | None:
        if refused:
            return None
        refused.append(True)
        error = {"Error": {"Code": "Throttling", "Message": "Rate exceeded"}, "ResponseMetadata": {}}
        return SimpleNamespace(status_code=400), error

    sns.meta.events.register("before-call.sns.Publish", refuse)


def stubbed_media(*outcomes: str) -> tuple[Callable[[str], Any], Stubber]:
    """A real archived-media client whose GetClip answers are `outcomes` in order: an error code, "clip"
    for a successful MP4 payload, or "empty" for a successful answer without a byte of media."""
    client = boto3.client("kinesis-video-archived-media", region_name=REGION, endpoint_url="https://b-1.example")
    stubber = Stubber(client)
    for outcome in outcomes:
        if outcome in ("clip", "empty"):
            media = CLIP_BYTES if outcome == "clip" else b""
            payload = StreamingBody(io.BytesIO(media), len(media))
            stubber.add_response("get_clip", {"ContentType": "video/mp4", "Payload": payload})
        else:
            status = 404 if outcome == "ResourceNotFoundException" else 400
            stubber.add_client_error("get_clip", service_error_code=outcome, http_status_code=status)
    stubber.activate()
    return (lambda endpoint_url: client), stubber


def install_stage(
    monkeypatch: pytest.MonkeyPatch,
    observed: Observed,
    *,
    media_factory: Callable[[str], Any] | None = None,
    notifier: AlertNotifier | None = None,
    ledger: AlertLedger | None = None,
) -> AlertStage:
    """An alert stage with explicit clients, served by the handler in place of its cached factory."""
    settings = AlertSettings.from_environ(os.environ)
    dynamodb = boto3.client("dynamodb", region_name=REGION)
    stage = AlertStage(
        settings,
        ledger=ledger or AlertLedger(DEDUP_TABLE, dynamodb),
        clips=ClipStore(
            CLIP_BUCKET,
            kinesisvideo=observed.kvs,  # S3: the production client (facewatch.adapters.aws)
            archived_media_factory=media_factory or observed.moto_media,
        ),
        snapshots=SnapshotTaker(
            images=KvsImages(kinesisvideo=observed.kvs, archived_media_factory=observed.moto_media, retry_seconds=0),
            store=SnapshotStore(CLIP_BUCKET),
        ),
        cameras=CameraRegistry(CAMERA_TABLE, dynamodb),
        notifier=notifier or AlertNotifier(settings.alert_topic_arn, observed.sns),
        index_queue=IndexQueue(settings.index_queue_url, observed.sqs),
        queue=JobQueue(settings.alert_dead_letter_queue_url, observed.sqs),
    )
    monkeypatch.setattr(alerter, "alert_stage", lambda: stage)
    return stage


@pytest.fixture
def observed() -> Observed:
    return Observed()


def deliver_until_done(world: AlertWorld, max_deliveries: int) -> list[dict[str, Any]]:
    """Polls like the event source mapping, making failed jobs visible again at once, until the queue
    is empty or `max_deliveries` polls were made; returns the handler's responses."""
    responses = []
    for _ in range(max_deliveries):
        messages, response = world.deliver()
        if not messages:
            break
        responses.append(response)
        failed = set(failed_ids(response))
        world.expire_visibility([message for message in messages if message["MessageId"] in failed])
    return responses


def test_clip_is_streamed_into_the_bucket_under_the_alert_key(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an alert job on the queue
    install_stage(monkeypatch, observed)
    job = sample_job()
    world.send_job(job.to_message())

    # when the handler processes it
    _, response = world.deliver()

    # then the MP4 from GetClip is in S3 at clips/{camera}/{YYYY}/{MM}/{DD}/{alert}.mp4, typed and labelled
    assert failed_ids(response) == []
    key = f"clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"
    stored = world.s3.get_object(Bucket=CLIP_BUCKET, Key=key)
    assert stored["Body"].read() == CLIP_BYTES
    assert stored["ContentType"] == "video/mp4"
    assert stored["Metadata"] == {
        "alert-id": job.alert_id,
        "camera-id": "seoul-hq-lobby-01",
        "frame-time": "2025-11-22T02:00:01.851+00:00",
    }


def test_get_clip_asks_for_producer_time_from_before_the_fragment_to_after_the_frame(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given pre-roll 5 s and post-roll 10 s (the defaults)
    install_stage(monkeypatch, observed)
    job = sample_job()
    world.send_job(job.to_message())

    # when the job is processed
    world.deliver()

    # then GetClip covers fragment start - 5 s .. frame time + 10 s, in producer time
    [call] = observed.get_clip_calls
    assert call["StreamARN"] == job.kvs_stream_arn
    assert call["ClipFragmentSelector"] == {
        "FragmentSelectorType": "PRODUCER_TIMESTAMP",
        "TimestampRange": {
            "StartTimestamp": datetime.fromtimestamp(job.producer_timestamp - 5, tz=UTC),
            "EndTimestamp": datetime.fromtimestamp(job.frame_time + 10, tz=UTC),
        },
    }


def test_data_endpoint_is_looked_up_once_per_stream(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given two alerts on the same camera, handled by one container
    install_stage(monkeypatch, observed)
    world.send_job(sample_job().to_message())
    world.deliver()
    world.send_job(sample_job(fragment_number="91343852333181432392682062612240118245634380513").to_message())

    # when the second is processed
    world.deliver()

    # then GetDataEndpoint(GET_CLIP) was called once (5 calls/s per stream is a hard limit)
    assert len(observed.get_clip_calls) == 2
    clip_lookups = [call for call in observed.data_endpoint_calls if call["APIName"] == "GET_CLIP"]
    assert clip_lookups == [{"StreamARN": sample_job().kvs_stream_arn, "APIName": "GET_CLIP"}]


def test_clip_not_ready_is_retried_with_a_growing_backoff_then_stored(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given KVS has not ingested the range on the first two tries
    media, stubber = stubbed_media("ResourceNotFoundException", "ResourceNotFoundException", "clip")
    install_stage(monkeypatch, observed, media_factory=media)
    world.send_job(sample_job().to_message())

    # when SQS delivers the job until it succeeds
    responses = deliver_until_done(world, max_deliveries=5)

    # then the first two receives fail and push the job back longer each time; the third stores one clip
    assert [len(failed_ids(response)) for response in responses] == [1, 1, 0]
    assert observed.visibility_timeouts() == [4, 8]
    assert len(world.clip_keys()) == 1
    snapshot_notification, notification = world.notifications()
    assert json.loads(snapshot_notification["Message"])["clip"]["status"] == "pending"
    assert json.loads(notification["Message"])["clip"]["status"] == "ok"
    stubber.assert_no_pending_responses()


def test_clip_still_not_ready_at_the_last_attempt_alerts_without_clip_saying_why(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given KVS never has the range (CLIP_MAX_ATTEMPTS = 3)
    media, _ = stubbed_media(*["ResourceNotFoundException"] * 3)
    install_stage(monkeypatch, observed, media_factory=media)
    world.send_job(sample_job().to_message())

    # when SQS delivers the job until it succeeds
    responses = deliver_until_done(world, max_deliveries=5)

    # then the third receive sends the alert without a clip, and the email says why
    assert len(responses) == 3
    assert failed_ids(responses[-1]) == []
    snapshot_email, email = observed.emails()
    assert "Clip:       follows in a second message" in snapshot_email
    assert "Clip:       none - the video was still not available after 3 attempts (ResourceNotFoundException)" in email
    assert world.clip_keys() == []


def test_permanent_clip_error_alerts_at_once_without_clip(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a stream that keeps no video
    media, _ = stubbed_media("NoDataRetentionException")
    install_stage(monkeypatch, observed, media_factory=media)
    world.send_job(sample_job().to_message())

    # when the job is delivered the first time
    _, response = world.deliver()

    # then the alert goes out now, without retrying, and the email says why there is no clip
    assert failed_ids(response) == []
    assert observed.postpones == []
    snapshot_email, email = observed.emails()
    assert "Clip:       follows in a second message" in snapshot_email
    assert "Clip:       none - the video could not be retrieved (NoDataRetentionException)" in email
    assert world.clip_keys() == []


def test_an_empty_get_clip_body_leaves_no_object_and_the_alert_says_why(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given KVS answers GetClip with no media at all
    media, _ = stubbed_media("empty")
    install_stage(monkeypatch, observed, media_factory=media)
    world.send_job(sample_job().to_message())

    # when the job is delivered
    _, response = world.deliver()

    # then no (0-byte) clip object is left in the bucket, and the alert goes out without a clip, saying why
    assert failed_ids(response) == []
    assert world.clip_keys() == []
    snapshot_email, email = observed.emails()
    assert "Clip:       follows in a second message" in snapshot_email
    assert "Clip:       none - the video could not be retrieved (EmptyClip)" in email


def test_throttled_get_clip_is_retried(world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch) -> None:
    # given KVS throttles the first GetClip
    media, stubber = stubbed_media("ClientLimitExceededException", "clip")
    install_stage(monkeypatch, observed, media_factory=media)
    world.send_job(sample_job().to_message())

    # when SQS delivers the job until it succeeds
    responses = deliver_until_done(world, max_deliveries=5)

    # then the first receive is postponed and the second alerts with the clip
    assert [len(failed_ids(response)) for response in responses] == [1, 0]
    assert observed.visibility_timeouts() == [4]
    snapshot_notification, notification = world.notifications()
    assert json.loads(snapshot_notification["Message"])["clip"]["status"] == "pending"
    assert json.loads(notification["Message"])["clip"]["status"] == "ok"
    stubber.assert_no_pending_responses()


def test_alert_reaches_the_subscribed_queue_as_structured_json_with_attributes(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a camera registered at SEOUL, zone LOBBY
    install_stage(monkeypatch, observed)
    job = sample_job()
    world.send_job(job.to_message())

    # when the job is processed
    world.deliver()

    # then the team's queue gets both SNS envelopes: subject, the sqs-protocol JSON and filterable attributes
    first, envelope = world.notifications()
    assert first["Subject"] == "facewatch: unknown face on Lobby entrance (seoul-hq-lobby-01) at SEOUL, 02:00:01 UTC"
    assert json.loads(first["Message"])["event_type"] == "alert_snapshot"
    assert envelope["TopicArn"] == world.topic_arn
    assert envelope["Subject"] == (
        "facewatch: clip of unknown face on Lobby entrance (seoul-hq-lobby-01) at SEOUL, 02:00:01 UTC"
    )
    notice = json.loads(envelope["Message"])
    assert notice["event_type"] == "alert_clip"
    assert notice["sequence"] == 2
    assert notice["alert_id"] == job.alert_id
    assert notice["camera"]["site"] == "SEOUL"
    assert notice["clip"]["s3_uri"] == f"s3://{CLIP_BUCKET}/clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"
    attributes = {name: value["Value"] for name, value in envelope["MessageAttributes"].items()}
    assert attributes == {
        "camera_id": "seoul-hq-lobby-01",
        "event_type": "alert_clip",
        "sequence": "2",
        "site": "SEOUL",
        "zone": "LOBBY",
    }


def test_subscription_filtered_to_another_site_receives_nothing(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a subscription with FilterPolicy {"site": ["OSLO"]} and a SEOUL camera
    install_stage(monkeypatch, observed)
    world.send_job(sample_job().to_message())

    # when the alert is published
    world.deliver()

    # then only the unfiltered subscription got them (snapshot and clip)
    assert len(world.notifications()) == 2
    assert world.notifications(world.oslo_queue_url) == []


def test_presigned_link_in_the_alert_fetches_the_clip(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given an alert with a stored clip
    install_stage(monkeypatch, observed)
    job = sample_job()
    world.send_job(job.to_message())
    world.deliver()
    _, envelope = world.notifications()

    # when the link is read and followed (moto answers the S3 request)
    url = json.loads(envelope["Message"])["clip"]["url"]
    parts = urlsplit(url)
    response = requests.get(url, timeout=5)

    # then it is a GET for the clip's object, valid for CLIP_URL_EXPIRY_SECONDS, serving the MP4
    assert parts.hostname == f"{CLIP_BUCKET}.s3.amazonaws.com"
    assert parts.path == f"/clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"
    assert parse_qs(parts.query)["X-Amz-Expires"] == [str(CLIP_URL_EXPIRY_SECONDS)]
    assert response.status_code == 200
    assert response.content == CLIP_BYTES


def test_redelivered_job_is_not_alerted_twice(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a job that was handled, whose delete never reached SQS
    install_stage(monkeypatch, observed)
    world.send_job(sample_job().to_message())
    [first] = world.receive(world.alert_queue_url)
    response = invoke_alerter(world.event_for([first]))
    assert failed_ids(response) == []
    world.expire_visibility([first])

    # when SQS delivers it again (receive count 2)
    [again] = world.receive(world.alert_queue_url)
    assert again["Attributes"]["ApproximateReceiveCount"] == "2"
    response = invoke_alerter(world.event_for([again]))

    # then it succeeds with one clip fetched and stored, one message per phase and one document id
    assert failed_ids(response) == []
    assert len(observed.get_clip_calls) == 1
    assert len(world.clip_keys()) == 1
    assert len(world.notifications()) == 2
    assert observed.document_ids() == {sample_job().alert_id}


def test_job_body_that_is_not_json_is_dead_lettered_with_the_reason(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given a message that is not an alert job at all
    install_stage(monkeypatch, observed)
    world.send_job("Hello from SQS!")

    # when it is delivered
    _, response = world.deliver()

    # then it is not retried: it is in the DLQ whole, with the reason, and nothing went out
    assert failed_ids(response) == []
    assert world.receive(world.alert_queue_url) == []
    [dead] = world.dead_letters()
    assert dead["Body"] == "Hello from SQS!"
    assert dead["MessageAttributes"]["reason"]["StringValue"].startswith("not an alert job: body: Invalid JSON")
    assert observed.publishes == []


def test_crash_before_publish_is_dead_lettered_in_doubt_not_republished(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the function dies after the notify step began, before calling SNS
    notifier = CrashOnceNotifier(world.topic_arn, observed.sns)
    install_stage(monkeypatch, observed, notifier=notifier)
    job = sample_job()
    world.send_job(job.to_message())
    messages, first = world.deliver()
    assert len(failed_ids(first)) == 1
    world.expire_visibility(messages)

    # when SQS redelivers the job
    responses = deliver_until_done(world, max_deliveries=3)

    # then the first message is not published again (a person checks it: it is in the DLQ with the reason
    # and its alert id), and the second message, with the snapshot and the clip, still goes out
    assert [failed_ids(response) for response in responses] == [[]]
    assert [json.loads(json.loads(call["Message"])["sqs"])["event_type"] for call in observed.publishes] == [
        "alert_clip"
    ]
    [dead] = world.dead_letters()
    assert dead["Body"] == job.to_message()
    assert dead["MessageAttributes"]["reason"]["StringValue"].startswith(IN_DOUBT)
    assert dead["MessageAttributes"]["alert_id"]["StringValue"] == job.alert_id


def test_crash_after_publish_is_dead_lettered_in_doubt_not_republished(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given the function dies after SNS accepted the alert, before recording it
    ledger = CrashOnceLedger(DEDUP_TABLE, boto3.client("dynamodb", region_name=REGION))
    install_stage(monkeypatch, observed, ledger=ledger)
    world.send_job(sample_job().to_message())
    messages, first = world.deliver()
    assert len(failed_ids(first)) == 1
    world.expire_visibility(messages)

    # when SQS redelivers the job
    deliver_until_done(world, max_deliveries=3)

    # then the first message already sent is not sent again (the job's copy is in the DLQ in doubt), and
    # the second still goes out
    assert [json.loads(n["Message"])["event_type"] for n in world.notifications()] == ["alert_snapshot", "alert_clip"]
    assert len(observed.publishes) == 2
    [dead] = world.dead_letters()
    assert dead["MessageAttributes"]["reason"]["StringValue"].startswith(IN_DOUBT)


def test_publish_refused_by_sns_is_retried_and_sent_once(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given SNS refuses the first publish
    refuse_first_publish(observed.sns)
    install_stage(monkeypatch, observed)
    world.send_job(sample_job().to_message())
    messages, first = world.deliver()
    assert len(failed_ids(first)) == 1
    assert world.notifications() == []
    world.expire_visibility(messages)

    # when SQS redelivers the job
    _, second = world.deliver()

    # then each message goes out once, the clip fetched once, and nothing is in doubt
    assert failed_ids(second) == []
    assert len(world.notifications()) == 2
    assert len(observed.get_clip_calls) == 1
    assert world.dead_letters() == []


def test_duplicate_that_loses_the_race_neither_publishes_nor_dead_letters(
    world: AlertWorld, observed: Observed, monkeypatch: pytest.MonkeyPatch
) -> None:
    # given one copy of the job was alerted, and SQS delivered a second copy (at-least-once delivery)
    install_stage(monkeypatch, observed)
    body = sample_job().to_message()
    world.send_job(body)
    world.deliver()
    world.send_job(body)

    # when the second copy is handled by a container that read the progress before the first recorded it
    install_stage(
        monkeypatch, observed, ledger=StaleReadLedger(DEDUP_TABLE, boto3.client("dynamodb", region_name=REGION))
    )
    _, response = world.deliver()

    # then the notify steps' conditional writes stop it: one message per phase, the document indexed (after
    # each phase, and again by the copy), no dead letter
    assert failed_ids(response) == []
    assert len(world.notifications()) == 2
    assert world.dead_letters() == []
    assert observed.queued_documents() == [sample_job().alert_id] * 3
