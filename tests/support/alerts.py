"""Test support for the alert stage: sample alerts, the stack's AWS resources on moto (created from
template.yaml by facewatch_local.stack, with the alert stage's parameters), and SQS plumbing that behaves like
Lambda's SQS event source mapping (delete on success, leave failures for redelivery).

A plain module (not a conftest): test modules import what they use. (tests/support/alerts.py, its old place,
re-exports it.)
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import boto3
import pytest
from facewatch_local.stack import deploy_emulated_stack
from facewatch_testkit.lambda_context import FakeLambdaContext
from facewatch_testkit.sqs import sqs_event as sqs_event
from facewatch_testkit.sqs import sqs_record as sqs_record
from moto import mock_aws
from moto.kinesisvideo.models import kinesisvideo_backends
from scripts.make_alert_events import ACCOUNT_ID, CAMERA_ID, STREAM_ARN
from scripts.make_alert_events import REGION as REGION
from scripts.make_alert_events import sample_job as sample_job
from tests.support.aws import receive_visible

from facewatch import config
from facewatch.adapters import aws
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.cameras import CameraPlace
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.notification import AlertContext, ClipLink, Phase, SnapshotLinks
from facewatch.domain.snapshot import SnapshotOutcome, snapshot_keys
from facewatch.handlers import alerter
from facewatch.observability import metrics

# The emulated stack's resource names: facewatch_local.stack names each <STACK_PREFIX>-<suffix>.
STACK_PREFIX = "facewatch"
DEDUP_TABLE = f"{STACK_PREFIX}-dedup"
CAMERA_TABLE = f"{STACK_PREFIX}-cameras"
PRIVACY_TABLE = f"{STACK_PREFIX}-privacy"
CLIP_BUCKET = f"{STACK_PREFIX}-clips"
# The queue's maxReceiveCount is above CLIP_MAX_ATTEMPTS, or SQS redrives a job before its last clip try
# (the template's rule says so too).
MAX_RECEIVE_COUNT = 5
CLIP_MAX_ATTEMPTS = 3
CLIP_URL_EXPIRY_SECONDS = 900
INDEX_PREFIX = "face-alerts"
# The alert stage's tunables as a deployment sets them: template Parameter -> the function's environment.
PARAMETER_OVERRIDES = {
    "AlertMaxReceiveCount": str(MAX_RECEIVE_COUNT),
    "ClipMaxAttempts": str(CLIP_MAX_ATTEMPTS),
    "ClipUrlExpirySeconds": str(CLIP_URL_EXPIRY_SECONDS),
    "OpenSearchIndex": INDEX_PREFIX,
}
ALERT_FUNCTION = "facewatch-AlertFunction-3K4L5M6N7O8P"
NOTIFIED_AT = 1763776838.5

SEOUL_LOBBY = CameraPlace(
    camera_id=CAMERA_ID,
    display_name="Lobby entrance",
    site="SEOUL",
    floor="1",
    zone="LOBBY",
    timezone="Asia/Seoul",
)
CLIP_URL = "https://clips.example/seoul-hq-lobby-01.mp4?X-Amz-Signature=abc"
FRAME_URL = "https://clips.example/seoul-hq-lobby-01-frame.jpg?X-Amz-Signature=def"
CROP_URL = "https://clips.example/seoul-hq-lobby-01-crop.jpg?X-Amz-Signature=ghi"


def stored_clip(job: AlertJob | None = None) -> ClipOutcome:
    job = job or sample_job()
    return ClipOutcome.stored(CLIP_BUCKET, f"clips/{job.camera_id}/2025/11/22/{job.alert_id}.mp4", 2_400_000)


def stored_snapshot(job: AlertJob | None = None) -> SnapshotOutcome:
    job = job or sample_job()
    return SnapshotOutcome.stored(CLIP_BUCKET, snapshot_keys(job.camera_id, job.frame_time, job.alert_id), "kvs")


def snapshot_links(notified_at: float = NOTIFIED_AT) -> SnapshotLinks:
    return SnapshotLinks(frame_url=FRAME_URL, crop_url=CROP_URL, expires_at=notified_at + 3600)


def alert_context(
    job: AlertJob | None = None,
    place: CameraPlace = SEOUL_LOBBY,
    clip: ClipOutcome | None = None,
    link: ClipLink | None = None,
    notified_at: float = NOTIFIED_AT,
    *,
    phase: Phase = Phase.CLIP,
    snapshot: SnapshotOutcome | None = None,
    links: SnapshotLinks | None = None,
    phase1_at: float | None = None,
) -> AlertContext:
    """Phase 2 (the clip message) with a stored clip and a one-hour link unless told otherwise; phase 1 has
    no clip. A stored snapshot's links are filled in unless given."""
    if phase is Phase.CLIP:
        clip = clip or stored_clip(job)
        if link is None and clip.status == "ok":
            link = ClipLink(url=CLIP_URL, expires_at=notified_at + 3600)
    if snapshot is not None and snapshot.status == "ok" and links is None:
        links = snapshot_links(notified_at)
    return AlertContext(
        job=job or sample_job(),
        place=place,
        clip=clip if phase is Phase.CLIP else None,
        link=link,
        notified_at=notified_at,
        phase=phase,
        snapshot=snapshot,
        snapshot_links=links,
        phase1_at=phase1_at,
    )


class RecordingOpenSearch:
    """Stands in for opensearchpy.OpenSearch: keeps the template and every document write."""

    def __init__(self) -> None:
        self.templates: dict[str, dict[str, Any]] = {}
        self.writes: list[tuple[str, str, dict[str, Any]]] = []
        self.indices = SimpleNamespace(put_index_template=self._put_index_template)

    def _put_index_template(self, name: str, body: dict[str, Any]) -> dict[str, Any]:
        self.templates[name] = body
        return {"acknowledged": True}

    def index(self, index: str, id: str, body: dict[str, Any]) -> dict[str, Any]:
        self.writes.append((index, id, body))
        return {"_index": index, "_id": id, "result": "created"}


def invoke_alerter(event: dict[str, Any]) -> dict[str, Any]:
    context = FakeLambdaContext(
        function_name=ALERT_FUNCTION,
        invoked_function_arn=f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{ALERT_FUNCTION}",
        aws_request_id="52fdfc07-2182-454f-963f-5f0f9a621d72",
        log_group_name=f"/aws/lambda/{ALERT_FUNCTION}",
    )
    response: dict[str, Any] = alerter.lambda_handler(event, context)
    return response


def failed_ids(response: dict[str, Any]) -> list[str]:
    return [failure["itemIdentifier"] for failure in response["batchItemFailures"]]


def recorded_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    """The parameters of every `operation` call made through this real client, in order."""
    calls: list[dict[str, Any]] = []
    service = client.meta.service_model.service_id.hyphenize()

    def record(params: dict[str, Any], **_: Any) -> None:
        calls.append(dict(params))

    client.meta.events.register(f"provide-client-params.{service}.{operation}", record)
    return calls


@dataclass
class AlertWorld:
    """The stack's resources on moto, plus the clients a test observes them with."""

    sqs: Any
    s3: Any
    sns: Any
    dynamodb: Any
    kvs: Any
    alert_queue_url: str
    alert_queue_arn: str
    dead_letter_queue_url: str
    index_queue_url: str
    index_queue_arn: str
    index_dead_letter_queue_url: str
    topic_arn: str
    subscriber_queue_url: str
    oslo_queue_url: str
    env: dict[str, str] = field(default_factory=dict)

    def send_job(self, body: str) -> str:
        return str(self.sqs.send_message(QueueUrl=self.alert_queue_url, MessageBody=body)["MessageId"])

    def receive(self, queue_url: str) -> list[dict[str, Any]]:
        """Every message visible now (bounded: these queues hold a handful)."""
        return receive_visible(self.sqs, queue_url, max_receives=10)

    def notifications(self, queue_url: str | None = None) -> list[dict[str, Any]]:
        """The SNS envelopes delivered to a subscribed queue (RawMessageDelivery false)."""
        return [json.loads(message["Body"]) for message in self.receive(queue_url or self.subscriber_queue_url)]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.receive(self.dead_letter_queue_url)

    def index_jobs(self) -> list[dict[str, Any]]:
        """The documents queued for the indexer (each receive hides them for the queue's visibility timeout)."""
        return [json.loads(message["Body"]) for message in self.receive(self.index_queue_url)]

    def clip_keys(self) -> list[str]:
        return [item["Key"] for item in self.s3.list_objects_v2(Bucket=CLIP_BUCKET).get("Contents", [])]

    def event_for(self, messages: list[dict[str, Any]], queue_arn: str | None = None) -> dict[str, Any]:
        """The Lambda event the SQS event source mapping would build from these received messages."""
        return sqs_event(
            *(
                sqs_record(
                    message["Body"],
                    receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                    message_id=message["MessageId"],
                    receipt_handle=message["ReceiptHandle"],
                    queue_arn=queue_arn or self.alert_queue_arn,
                    sent_at_ms=int(message["Attributes"]["SentTimestamp"]),
                )
                for message in messages
            )
        )

    def deliver(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One poll of the event source mapping: receive, invoke, delete what succeeded.

        Returns the messages and the handler's response; failed messages stay in flight."""
        messages = self.receive(self.alert_queue_url)
        if not messages:
            return [], {"batchItemFailures": []}
        response = invoke_alerter(self.event_for(messages))
        failed = set(failed_ids(response))
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.alert_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages, response

    def deliver_documents(self) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """One poll of the alerter's second event source mapping (IndexQueue), as `deliver` does for jobs."""
        messages = self.receive(self.index_queue_url)
        if not messages:
            return [], {"batchItemFailures": []}
        response = invoke_alerter(self.event_for(messages, self.index_queue_arn))
        failed = set(failed_ids(response))
        for message in messages:
            if message["MessageId"] not in failed:
                self.sqs.delete_message(QueueUrl=self.index_queue_url, ReceiptHandle=message["ReceiptHandle"])
        return messages, response

    def expire_visibility(self, messages: list[dict[str, Any]], queue_url: str | None = None) -> None:
        """Stands in for waiting out the visibility timeout: the messages are visible again now."""
        for message in messages:
            self.sqs.change_message_visibility(
                QueueUrl=queue_url or self.alert_queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )

    def register_camera(self, place: CameraPlace) -> None:
        item = {"camera_id": {"S": place.camera_id}}
        for name in ("display_name", "site", "floor", "zone", "timezone"):
            value = getattr(place, name)
            if value:
                item[name] = {"S": value}
        self.dynamodb.put_item(TableName=CAMERA_TABLE, Item=item)


def create_stream(kvs: Any, stream_arn: str) -> None:
    """A KVS stream keeping 24 h of video, known by `stream_arn`.

    moto stamps every stream ARN with the same creation time (…/1598784211076); a real ARN carries the
    stream's own, so the stream is re-keyed under the ARN the alert jobs name."""
    name = stream_arn.split("/")[1]
    created = kvs.create_stream(StreamName=name, DataRetentionInHours=24)["StreamARN"]
    streams = kinesisvideo_backends[ACCOUNT_ID][REGION].streams
    stream = streams.pop(created)
    stream.arn = stream_arn
    streams[stream_arn] = stream


def _build_world() -> AlertWorld:
    session = boto3.session.Session(region_name=REGION)
    stack = deploy_emulated_stack(session, name_prefix=STACK_PREFIX, parameter_overrides=PARAMETER_OVERRIDES)
    sqs = session.client("sqs")
    s3 = session.client("s3")
    sns = session.client("sns")
    dynamodb = session.client("dynamodb")
    kvs = session.client("kinesisvideo")
    create_stream(kvs, STREAM_ARN)
    alert_queue_url = stack.alert_queue_url
    alert_queue_arn = sqs.get_queue_attributes(QueueUrl=alert_queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    dlq_url = stack.alert_dead_letter_queue_url
    index_queue_url = stack.index_queue_url
    index_queue_arn = sqs.get_queue_attributes(QueueUrl=index_queue_url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    index_dlq_url = stack.index_dead_letter_queue_url
    topic_arn = stack.alert_topic_arn
    subscribers = {}
    for name, policy in (("security-team", None), ("oslo-team", {"site": ["OSLO"]})):
        url = sqs.create_queue(QueueName=f"facewatch-test-{name}")["QueueUrl"]
        arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        attributes = {"RawMessageDelivery": "false"}
        if policy:
            attributes["FilterPolicy"] = json.dumps(policy)
        sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn, Attributes=attributes)
        subscribers[name] = url

    world = AlertWorld(
        sqs=sqs,
        s3=s3,
        sns=sns,
        dynamodb=dynamodb,
        kvs=kvs,
        alert_queue_url=alert_queue_url,
        alert_queue_arn=alert_queue_arn,
        dead_letter_queue_url=dlq_url,
        index_queue_url=index_queue_url,
        index_queue_arn=index_queue_arn,
        index_dead_letter_queue_url=index_dlq_url,
        topic_arn=topic_arn,
        subscriber_queue_url=subscribers["security-team"],
        oslo_queue_url=subscribers["oslo-team"],
    )
    world.register_camera(SEOUL_LOBBY)
    # AlertFunction's environment as the template sets it, resolved against this stack; no OpenSearch domain
    # is emulated (a test that indexes passes OPENSEARCH_ENDPOINT), and Powertools' settings are the tests'.
    world.env = {
        name: value
        for name, value in stack.alert_env().items()
        if value != "" and not name.startswith(("POWERTOOLS_", "AWS_"))
    }
    assert (stack.dedup_table_name, stack.camera_table_name, stack.clip_bucket_name) == (
        DEDUP_TABLE,
        CAMERA_TABLE,
        CLIP_BUCKET,
    )
    return world


# Held here because a test may stand an explicit stage in for alerter.alert_stage.
_CACHED_FACTORIES = (
    alerter.alert_stage,
    alerter.index_stage,
    alerter.settings,
    config.alert_settings,
    aws.client,
    aws.session,
)


def reset_factories() -> None:
    """Forget the container's cached settings, stage, session and clients (a cold start)."""
    for factory in _CACHED_FACTORIES:
        factory.cache_clear()


@contextmanager
def alert_world(monkeypatch: pytest.MonkeyPatch, **env: str) -> Iterator[AlertWorld]:
    """The alert stage's AWS resources on moto and the function's environment, as the template sets it.

    Extra keyword arguments are environment variables (e.g. OPENSEARCH_ENDPOINT)."""
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "POWERTOOLS_SERVICE_NAME": "facewatch-alerter",
        "POWERTOOLS_TRACE_DISABLED": "true",
        "NO_PROXY": "127.0.0.1,localhost",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }.items():
        monkeypatch.setenv(name, value)
    # Long-term keys unless a test adds a session token (AWS_SECURITY_TOKEN is its legacy name).
    for name in ("AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "AWS_SECURITY_TOKEN", "AWS_PROFILE", "OPENSEARCH_ENDPOINT"):
        monkeypatch.delenv(name, raising=False)
    # The Metrics instance exists since import; give it the namespace the template's env would.
    monkeypatch.setattr(metrics, "namespace", "FacewatchTest")
    reset_factories()
    with mock_aws():
        world = _build_world()
        for name, value in {**world.env, **env}.items():
            monkeypatch.setenv(name, value)
        try:
            yield world
        finally:
            metrics.clear_metrics()
            reset_factories()
