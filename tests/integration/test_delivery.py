"""DeliveryFunction: the structured alert posted to Slack, Teams and a signed webhook, each a local HTTP
receiver on 127.0.0.1; the signature checked the way a receiver checks it."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from moto import mock_aws
from scripts.make_alert_events import REGION, sqs_event, sqs_record
from tests.support.alerts import CROP_URL, alert_context, stored_snapshot
from tests.support.aws import receive_visible
from tests.support.lambda_context import FakeLambdaContext
from tests.support.local_domain import LocalDomain, Recorded

from facewatch import config
from facewatch.adapters import aws
from facewatch.domain.notification import Phase, alert_notice
from facewatch.handlers import delivery
from facewatch.observability import metrics

DEDUP_TABLE = "facewatch-DedupTable-DELIVERY"
SIGNING_SECRET = "k" * 48
# What a receiver allows between the signed timestamp and its own clock (docs/alerts-and-messages.md).
REPLAY_WINDOW_SECONDS = 300


@dataclass
class DeliveryWorld:
    sqs: Any
    secrets: Any
    dead_letter_queue_url: str
    channels_secret_arn: str

    def set_channels(self, **urls: str) -> None:
        self.secrets.put_secret_value(SecretId=self.channels_secret_arn, SecretString=json.dumps(urls))
        delivery.delivery_stage.cache_clear()

    def dead_letters(self) -> list[dict[str, Any]]:
        return receive_visible(self.sqs, self.dead_letter_queue_url, max_receives=5)


def notice_body() -> str:
    """The first message's structured alert (with the snapshot), as the topic delivers it to the delivery
    queue (raw message delivery)."""
    notice = alert_notice(alert_context(phase=Phase.SNAPSHOT, snapshot=stored_snapshot()))
    return json.dumps(notice, separators=(",", ":"))


def invoke(body: str, receive_count: int = 1) -> dict[str, Any]:
    event = sqs_event(sqs_record(body, receive_count=receive_count))
    return dict(delivery.lambda_handler(event, FakeLambdaContext()))


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[DeliveryWorld]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
        "NO_PROXY": "127.0.0.1,localhost",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "POWERTOOLS_TRACE_DISABLED": "true",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(metrics, "namespace", "FacewatchTest")
    # Retries without the waits between them: the attempts are what is observed.
    monkeypatch.setattr(time, "sleep", lambda _seconds: None)
    factories = (delivery.delivery_stage, config.delivery_settings, aws.client, aws.session)
    for factory in factories:
        factory.cache_clear()
    with mock_aws():
        dynamodb = boto3.client("dynamodb", region_name=REGION)
        dynamodb.create_table(
            TableName=DEDUP_TABLE,
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        sqs = boto3.client("sqs", region_name=REGION)
        dlq = sqs.create_queue(QueueName="facewatch-DeliveryDeadLetterQueue")["QueueUrl"]
        secrets = boto3.client("secretsmanager", region_name=REGION)
        channels = secrets.create_secret(Name="facewatch/delivery-channels", SecretString="{}")["ARN"]
        signing = secrets.create_secret(Name="facewatch/webhook-signing", SecretString=SIGNING_SECRET)["ARN"]
        monkeypatch.setenv("DEDUP_TABLE_NAME", DEDUP_TABLE)
        monkeypatch.setenv("DELIVERY_CHANNELS_SECRET_ARN", channels)
        monkeypatch.setenv("WEBHOOK_SIGNING_SECRET_ARN", signing)
        monkeypatch.setenv("DELIVERY_DEAD_LETTER_QUEUE_URL", dlq)
        try:
            yield DeliveryWorld(sqs=sqs, secrets=secrets, dead_letter_queue_url=dlq, channels_secret_arn=channels)
        finally:
            metrics.clear_metrics()
            for factory in factories:
                factory.cache_clear()


def verify_like_a_receiver(request: Recorded, secret: bytes, now: float) -> dict[str, Any]:
    """What a webhook receiver does before it trusts a message (the recipe in the docs)."""
    timestamp = request.headers["x-facewatch-timestamp"]
    scheme, _, received = request.headers["x-facewatch-signature"].partition("=")
    expected = hmac.new(secret, timestamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    if scheme != "v1" or not hmac.compare_digest(expected, received):
        raise ValueError("bad signature")
    if abs(now - int(timestamp)) > REPLAY_WINDOW_SECONDS:
        raise ValueError("outside the replay window")
    return dict(json.loads(request.body))


def test_each_channel_gets_the_alert_once(world: DeliveryWorld) -> None:
    # given
    with LocalDomain() as slack, LocalDomain() as teams, LocalDomain() as hook:
        world.set_channels(
            slack_webhook_url=f"{slack.url}/services/T0/B0/x",
            teams_webhook_url=f"{teams.url}/workflows/1",
            webhook_url=f"{hook.url}/facewatch",
        )
        body = notice_body()
        # when
        response = invoke(body)
    # then
    assert response == {"batchItemFailures": []}
    assert [len(slack.requests), len(teams.requests), len(hook.requests)] == [1, 1, 1]
    slack_message = slack.requests[0].json()
    assert slack_message["text"].startswith("Unknown face on Lobby entrance (seoul-hq-lobby-01)")
    assert {"type": "image", "image_url": CROP_URL, "alt_text": "face crop of the unknown face"} in slack_message[
        "blocks"
    ]
    card = teams.requests[0].json()["attachments"][0]
    assert card["contentType"] == "application/vnd.microsoft.card.adaptive"
    assert card["content"]["body"][1] == {
        "type": "Image",
        "url": CROP_URL,
        "altText": "face crop of the unknown face",
        "size": "Medium",
    }
    assert hook.requests[0].body == body.encode()
    assert world.dead_letters() == []


def test_a_receiver_verifies_the_webhook_signature(world: DeliveryWorld) -> None:
    # given
    with LocalDomain() as hook:
        world.set_channels(webhook_url=f"{hook.url}/facewatch")
        # when
        invoke(notice_body())
    # then
    (request,) = hook.requests
    received = verify_like_a_receiver(request, SIGNING_SECRET.encode(), now=time.time())
    assert received["alert_id"] == request.headers["x-facewatch-delivery"].split(":")[0]
    tampered = Recorded(request.method, request.path, request.query, request.headers, request.body + b" ")
    with pytest.raises(ValueError, match="bad signature"):
        verify_like_a_receiver(tampered, SIGNING_SECRET.encode(), now=time.time())
    with pytest.raises(ValueError, match="bad signature"):
        verify_like_a_receiver(request, b"another secret of forty-eight characters long....", now=time.time())
    with pytest.raises(ValueError, match="replay window"):
        verify_like_a_receiver(request, SIGNING_SECRET.encode(), now=time.time() + REPLAY_WINDOW_SECONDS + 5)


def test_a_channel_that_is_briefly_down_gets_the_alert_on_a_later_try(world: DeliveryWorld) -> None:
    # given
    with LocalDomain() as slack:
        slack.answer({"error": "unavailable"}, status=503)
        slack.answer({"error": "rate limited"}, status=429)
        world.set_channels(slack_webhook_url=f"{slack.url}/services/T0/B0/x")
        # when
        response = invoke(notice_body())
    # then
    assert response == {"batchItemFailures": []}
    assert len(slack.requests) == 3


def test_a_channel_that_stays_down_is_retried_by_the_queue_without_reposting_to_the_others(
    world: DeliveryWorld,
) -> None:
    # given
    with LocalDomain() as slack, LocalDomain() as teams:
        world.set_channels(slack_webhook_url=f"{slack.url}/s", teams_webhook_url=f"{teams.url}/t")
        teams.down = 502
        body = notice_body()
        # when
        first = invoke(body)
        teams.down = None
        second = invoke(body, receive_count=2)
    # then
    assert len(first["batchItemFailures"]) == 1
    assert second == {"batchItemFailures": []}
    assert len(slack.requests) == 1
    assert [request.json()["type"] for request in teams.requests] == ["message"] * 4
    assert world.dead_letters() == []


def test_a_channel_that_refuses_for_good_dead_letters_the_message_with_the_reason(world: DeliveryWorld) -> None:
    # given
    with LocalDomain() as slack:
        slack.down = 404
        world.set_channels(slack_webhook_url=f"{slack.url}/removed")
        # when
        response = invoke(notice_body())
    # then
    assert response == {"batchItemFailures": []}
    assert len(slack.requests) == 1
    (letter,) = world.dead_letters()
    assert letter["MessageAttributes"]["reason"]["StringValue"] == "slack: HTTP 404"


def test_a_plain_http_url_to_another_host_is_refused_before_any_post(world: DeliveryWorld) -> None:
    # given
    world.set_channels(webhook_url="http://hooks.example.com/facewatch")
    # when
    response = invoke(notice_body())
    # then
    assert response == {"batchItemFailures": []}
    (letter,) = world.dead_letters()
    assert "only https URLs" in letter["MessageAttributes"]["reason"]["StringValue"]


def test_a_message_that_is_not_an_alert_is_dead_lettered_with_the_reason(world: DeliveryWorld) -> None:
    # given
    world.set_channels()
    # when
    response = invoke('{"hello": "world"}')
    # then
    assert response == {"batchItemFailures": []}
    (letter,) = world.dead_letters()
    assert letter["MessageAttributes"]["reason"]["StringValue"].startswith("not a structured alert: event_type")
