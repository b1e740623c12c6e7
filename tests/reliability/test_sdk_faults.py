"""The below-SDK fault injector itself: each fault is seen by botocore as a reply from the wire, so the
SDK's own retry mode acts on it, and every attempt is counted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError, ReadTimeoutError
from facewatch_local.moto_server import emulated_aws
from tests.support.sdk_faults import SdkFaults, SilentServer, attempts, every, instant_retries

from facewatch.adapters.aws import CLIENT_CONFIG as STANDARD  # what production clients use

# botocore's `max_attempts` counts retries (3: four attempts); `total_max_attempts` counts attempts.
SDK_ATTEMPTS = 4
NO_RETRIES = Config(retries={"mode": "standard", "total_max_attempts": 1})
TABLE = "faults"


@pytest.fixture(autouse=True)
def backoff_delays() -> Iterator[list[float]]:
    with instant_retries() as delays:
        yield delays


def _table(dynamodb: Any) -> None:
    dynamodb.create_table(
        TableName=TABLE,
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


def _put(dynamodb: Any, pk: str) -> None:
    dynamodb.put_item(
        TableName=TABLE,
        Item={"pk": {"S": pk}},
        ConditionExpression="attribute_not_exists(pk)",
    )


def _stored(dynamodb: Any, pk: str) -> bool:
    return "Item" in dynamodb.get_item(TableName=TABLE, Key={"pk": {"S": pk}}, ConsistentRead=True)


def test_a_throttle_on_every_attempt_exhausts_the_sdk_retries_and_applies_nothing(
    aws: boto3.session.Session, backoff_delays: list[float]
) -> None:
    dynamodb = aws.client("dynamodb", config=STANDARD)
    _table(dynamodb)
    faults = SdkFaults.install(dynamodb)
    faults.throttle("PutItem")

    with pytest.raises(ClientError) as raised:
        _put(dynamodb, "a")

    assert raised.value.response["Error"]["Code"] == "ProvisionedThroughputExceededException"
    assert faults.attempts("PutItem") == SDK_ATTEMPTS
    assert len(backoff_delays) == SDK_ATTEMPTS - 1, "the SDK backed off before each retry"
    assert not _stored(dynamodb, "a")


def test_every_second_attempt_throttled_costs_one_sdk_retry_per_call(aws: boto3.session.Session) -> None:
    dynamodb = aws.client("dynamodb", config=STANDARD)
    _table(dynamodb)
    faults = SdkFaults.install(dynamodb)
    faults.throttle("PutItem", every(2))

    _put(dynamodb, "a")  # attempt 1 passes
    _put(dynamodb, "b")  # attempt 2 throttled, attempt 3 passes

    assert faults.attempts("PutItem") == 3
    assert [a.number for a in faults.injected("PutItem")] == [2]
    assert _stored(dynamodb, "a")
    assert _stored(dynamodb, "b")


def test_a_5xx_after_the_write_was_applied_is_retried_by_the_sdk_and_duplicates_the_message(
    aws: boto3.session.Session,
) -> None:
    sqs = aws.client("sqs", config=STANDARD)
    url = sqs.create_queue(QueueName="faults")["QueueUrl"]
    faults = SdkFaults.install(sqs)
    faults.fail_after_apply("SendMessage", attempts(1))

    sqs.send_message(QueueUrl=url, MessageBody="once")

    assert faults.attempts("SendMessage") == 2
    received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
    assert [m["Body"] for m in received] == ["once", "once"], "the first attempt was applied, then retried"


def test_a_lost_answer_after_the_write_was_applied_fails_the_conditional_retry(
    aws: boto3.session.Session,
) -> None:
    dynamodb = aws.client("dynamodb", config=STANDARD)
    _table(dynamodb)
    faults = SdkFaults.install(dynamodb)
    faults.lose_answer("PutItem", attempts(1))

    with pytest.raises(ClientError) as raised:
        _put(dynamodb, "a")

    assert raised.value.response["Error"]["Code"] == "ConditionalCheckFailedException"
    assert faults.attempts("PutItem") == 2
    assert _stored(dynamodb, "a")


def test_a_lost_answer_without_retries_surfaces_as_the_sdk_read_timeout(aws: boto3.session.Session) -> None:
    dynamodb = aws.client("dynamodb", config=NO_RETRIES)
    _table(dynamodb)
    faults = SdkFaults.install(dynamodb)
    faults.lose_answer("PutItem")

    with pytest.raises(ReadTimeoutError):
        _put(dynamodb, "a")

    assert _stored(dynamodb, "a")


def test_a_query_protocol_throttle_parses_as_the_service_code(aws: boto3.session.Session) -> None:
    sns = aws.client("sns", config=NO_RETRIES)
    topic = sns.create_topic(Name="faults")["TopicArn"]
    faults = SdkFaults.install(sns)
    faults.throttle("Publish")

    with pytest.raises(ClientError) as raised:
        sns.publish(TopicArn=topic, Message="m")

    assert raised.value.response["Error"]["Code"] == "Throttling"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 400


def test_a_hang_times_out_on_a_real_socket_with_the_clients_own_timeout(aws: boto3.session.Session) -> None:
    dynamodb = aws.client("dynamodb", config=NO_RETRIES.merge(Config(read_timeout=0.3, connect_timeout=1)))
    _table(dynamodb)
    faults = SdkFaults.install(dynamodb)
    faults.hang("PutItem")
    started = time.monotonic()

    with pytest.raises(ReadTimeoutError):
        _put(dynamodb, "a")

    assert 0.3 <= time.monotonic() - started < 5.0
    assert not _stored(dynamodb, "a")
    faults.uninstall()


def test_faults_installed_on_a_session_reach_every_client_made_from_it(aws: boto3.session.Session) -> None:
    session = boto3.session.Session()
    faults = SdkFaults.install(session)
    faults.throttle("CreateQueue", attempts(1))

    session.client("sqs", config=STANDARD).create_queue(QueueName="via-session")

    assert faults.attempts("CreateQueue") == 2
    faults.uninstall()


def test_over_a_real_socket_a_5xx_after_apply_forwards_to_the_local_emulator() -> None:
    with emulated_aws("us-east-1") as endpoint_url:
        sqs = boto3.session.Session().client("sqs", endpoint_url=endpoint_url, config=NO_RETRIES)
        url = sqs.create_queue(QueueName="faults")["QueueUrl"]
        with SdkFaults.install(sqs) as faults:
            faults.fail_after_apply("SendMessage")

            with pytest.raises(ClientError) as raised:
                sqs.send_message(QueueUrl=url, MessageBody="applied")

        assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 500
        received = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)["Messages"]
        assert [m["Body"] for m in received] == ["applied"]


def test_the_silent_server_accepts_and_never_answers_and_closes_within_its_bound() -> None:
    import socket

    with SilentServer(max_seconds=5.0) as server, socket.create_connection(("127.0.0.1", server.port), 1) as conn:
        conn.settimeout(0.2)
        conn.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        with pytest.raises(TimeoutError):
            conn.recv(1)
    assert server.accepted == 1
