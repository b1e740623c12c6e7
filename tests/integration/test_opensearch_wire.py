"""What AlertFunction sends to OpenSearch, on the wire: a local HTTP server on 127.0.0.1 stands in for
the domain (no OpenSearch server can run here) and records every request; AWS is moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.alerts import (
    MAX_RECEIVE_COUNT,
    REGION,
    AlertWorld,
    alert_world,
    failed_ids,
    invoke_alerter,
    sample_job,
    sqs_event,
    sqs_record,
)
from tests.support.local_domain import LocalDomain, closed_port, document_api

from facewatch.adapters import aws
from facewatch.adapters.search_index import AlertIndex
from facewatch.config import opensearch_base_url

SECOND_ALERT_ID = "0123456789abcdef0123456789abcdef"


@pytest.fixture
def domain() -> Iterator[LocalDomain]:
    with LocalDomain(document_api) as server:
        yield server


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, domain: LocalDomain) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch, OPENSEARCH_ENDPOINT=domain.url) as world:
        yield world


@pytest.fixture(params=["503", "refused"])
def outage(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    """OpenSearch down: the domain answers 503, or nothing listens on its port."""
    if request.param == "refused":
        with alert_world(monkeypatch, OPENSEARCH_ENDPOINT=f"http://127.0.0.1:{closed_port()}") as world:
            yield world
        return
    with LocalDomain(document_api) as down:
        down.down = 503
        with alert_world(monkeypatch, OPENSEARCH_ENDPOINT=down.url) as world:
            yield world


def alert_event(alert_id: str | None = None) -> dict[str, Any]:
    job = sample_job(alert_id=alert_id) if alert_id else sample_job()
    return sqs_event(sqs_record(job.to_message()))


def test_first_request_installs_the_index_template(world: AlertWorld, domain: LocalDomain) -> None:
    # given a fresh container
    # when it handles its first alert
    invoke_alerter(alert_event())

    # then it first PUTs the template for face-alerts-* with explicit mappings
    first = domain.requests[0]
    assert (first.method, first.path) == ("PUT", "/_index_template/face-alerts")
    assert first.json()["index_patterns"] == ["face-alerts-*"]
    mapped = first.json()["template"]["mappings"]["properties"]
    assert mapped["timestamp"] == {"type": "date"}
    assert mapped["camera_id"] == {"type": "keyword"}
    assert mapped["confidence"] == {"type": "float"}
    assert mapped["location"]["type"] == "object"


def test_document_is_put_under_the_alert_id_in_the_monthly_index(world: AlertWorld, domain: LocalDomain) -> None:
    # given an alert whose frame is on 2025-11-22 UTC
    job = sample_job()

    # when it is handled
    response = invoke_alerter(alert_event())

    # then the document goes to face-alerts-2025.11 with the alert id as its id
    assert response == {"batchItemFailures": []}
    document = domain.requests[1]
    assert document.method in ("PUT", "POST")
    assert document.path == f"/face-alerts-2025.11/_doc/{job.alert_id}"
    body = document.json()
    assert body["alert_id"] == job.alert_id
    assert body["camera_id"] == "seoul-hq-lobby-01"
    assert body["timestamp"] == "2025-11-22T02:00:01.851Z"
    assert body["location"]["site"] == "SEOUL"
    assert body["s3_location"].endswith(f"/{job.alert_id}.mp4")


def test_template_is_put_once_per_container(world: AlertWorld, domain: LocalDomain) -> None:
    # given a container that handled one alert
    invoke_alerter(alert_event())

    # when it handles a second one
    invoke_alerter(alert_event(SECOND_ALERT_ID))

    # then the template was sent only before the first document
    paths = [seen.path for seen in domain.requests]
    assert paths == [
        "/_index_template/face-alerts",
        f"/face-alerts-2025.11/_doc/{sample_job().alert_id}",
        f"/face-alerts-2025.11/_doc/{SECOND_ALERT_ID}",
    ]


@pytest.mark.parametrize("session_token", [None, "IQoJb3JpZ2luX2VjEAoaCXVzLWVhc3QtMSJHMEUCIQ"])
def test_every_request_is_sigv4_signed_for_service_es(
    world: AlertWorld, domain: LocalDomain, monkeypatch: pytest.MonkeyPatch, session_token: str | None
) -> None:
    # given the function's credentials (a role's carry a session token)
    if session_token:
        monkeypatch.setenv("AWS_SESSION_TOKEN", session_token)
    credentials = aws.session().get_credentials()
    assert credentials is not None
    access_key = credentials.access_key

    # when it indexes an alert
    invoke_alerter(alert_event())

    # then each request is signed with those credentials for es in the function's region
    assert len(domain.requests) == 2
    for seen in domain.requests:
        signature = seen.signature()
        assert signature, seen.headers.get("authorization")
        assert (signature["key"], signature["region"], signature["service"]) == (access_key, REGION, "es")
        assert signature["date"] == seen.headers["x-amz-date"][:8]
        assert {"host", "x-amz-date"} <= set(signature["signed"].split(";"))
        assert seen.headers.get("x-amz-security-token") == session_token


def test_index_outage_fails_the_record_after_the_alert_went_out(outage: AlertWorld) -> None:
    # given OpenSearch is down
    event = alert_event()

    # when an alert job is handled
    response = invoke_alerter(event)

    # then the alert is not held back, and the record is reported failed so SQS redelivers it
    assert failed_ids(response) == [event["Records"][0]["messageId"]]
    assert len(outage.notifications()) == 1


def test_index_outage_ends_in_the_dead_letter_queue_with_one_alert(outage: AlertWorld) -> None:
    # given OpenSearch stays down and the job is on the alert queue (maxReceiveCount 5)
    body = sample_job().to_message()
    outage.send_job(body)

    # when SQS delivers it until it gives up
    invocations = 0
    for _ in range(MAX_RECEIVE_COUNT + 2):
        messages, response = outage.deliver()
        if not messages:
            break
        invocations += 1
        outage.expire_visibility([message for message in messages if message["MessageId"] in failed_ids(response)])

    # then every receive failed, the alert went out once, and SQS moved the whole job to the DLQ
    assert invocations == MAX_RECEIVE_COUNT
    assert len(outage.notifications()) == 1
    [dead] = outage.dead_letters()
    assert dead["Body"] == body


def test_index_is_retried_alone_once_opensearch_is_back(world: AlertWorld, domain: LocalDomain) -> None:
    # given the first attempt found OpenSearch down
    domain.down = 503
    world.send_job(sample_job().to_message())
    messages, first = world.deliver()
    assert len(failed_ids(first)) == 1
    world.expire_visibility(messages)

    # when SQS redelivers the job after OpenSearch recovered
    domain.down = None
    _, second = world.deliver()

    # then the document is written and the alert is not sent again
    assert failed_ids(second) == []
    assert domain.requests[-1].path == f"/face-alerts-2025.11/_doc/{sample_job().alert_id}"
    assert len(world.notifications()) == 1


def test_bare_domain_endpoint_is_reached_over_https_on_443(monkeypatch: pytest.MonkeyPatch) -> None:
    # given the domain's DomainEndpoint attribute, a host name without scheme
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    aws.session.cache_clear()
    base_url = opensearch_base_url("search-facewatch-abc123.us-east-1.es.amazonaws.com")
    assert base_url is not None

    # when the index adapter builds its client (no request is sent)
    client = AlertIndex(base_url, "face-alerts", REGION)._opensearch()
    aws.session.cache_clear()

    # then it talks TLS to port 443 and checks the certificate (against the default or configured CA bundle)
    [connection] = client.transport.connection_pool.connections
    assert connection.host == "https://search-facewatch-abc123.us-east-1.es.amazonaws.com:443"
    assert connection.session.verify not in (False, None)
