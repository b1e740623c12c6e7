"""What AlertFunction sends to OpenSearch, on the wire, from its IndexJobs event source: a local HTTP server on
127.0.0.1 stands in for the domain (no OpenSearch server can run here) and records every request; AWS is moto."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest
from tests.support.alerts import (
    REGION,
    AlertWorld,
    alert_world,
    failed_ids,
    sample_job,
)
from tests.support.local_domain import LocalDomain, closed_port, document_api

from facewatch.adapters import aws
from facewatch.adapters.search_index import AlertIndex
from facewatch.config import opensearch_base_url
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.document import INDEX_MAX_ATTEMPTS

SECOND_FRAGMENT = "91343852333181432392682062612240118245634380513"


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


def alert_and_index(world: AlertWorld, job: AlertJob | None = None) -> dict[str, Any]:
    """The job through AlertJobs, then its document through IndexJobs; returns the index invocation's
    response."""
    world.send_job((job or sample_job()).to_message())
    _, alerted = world.deliver()
    assert failed_ids(alerted) == []
    _, indexed = world.deliver_documents()
    return indexed


def test_first_request_installs_the_index_template(world: AlertWorld, domain: LocalDomain) -> None:
    # given a fresh container
    # when it handles its first alert
    alert_and_index(world)

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
    response = alert_and_index(world, job)

    # then the document goes to face-alerts-2025.11 with the alert id as its id: written after the first
    # message (clip pending), then updated in place after the second
    assert response == {"batchItemFailures": []}
    documents = [seen for seen in domain.requests if "/_doc/" in seen.path]
    assert [seen.json()["clip_status"] for seen in documents] == ["pending", "ok"]
    document = documents[-1]
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
    alert_and_index(world)

    # when it handles a second one
    second = sample_job(fragment_number=SECOND_FRAGMENT)
    alert_and_index(world, second)

    # then the template (and the retention policy with it) was sent only before the first document
    paths = [seen.path for seen in domain.requests]
    assert paths == [
        "/_index_template/face-alerts",
        "/_plugins/_ism/policies/face-alerts-retention",
        "/_plugins/_ism/add/face-alerts-*",
        *[f"/face-alerts-2025.11/_doc/{sample_job().alert_id}"] * 2,
        *[f"/face-alerts-2025.11/_doc/{second.alert_id}"] * 2,
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
    alert_and_index(world)

    # then each request (the template, the retention policy and its attachment to older indices, the document
    # after each message) is signed with those credentials for es in the function's region
    assert len(domain.requests) == 5
    for seen in domain.requests:
        signature = seen.signature()
        assert signature, seen.headers.get("authorization")
        assert (signature["key"], signature["region"], signature["service"]) == (access_key, REGION, "es")
        assert signature["date"] == seen.headers["x-amz-date"][:8]
        assert {"host", "x-amz-date"} <= set(signature["signed"].split(";"))
        assert seen.headers.get("x-amz-security-token") == session_token


def test_index_outage_neither_holds_back_nor_fails_the_alert(outage: AlertWorld) -> None:
    # given OpenSearch is down
    outage.send_job(sample_job().to_message())

    # when the alert job is handled, then its document
    _, alerted = outage.deliver()
    messages, indexed = outage.deliver_documents()

    # then both messages went out and the job is done; the document's records failed, to come back after a backoff
    assert failed_ids(alerted) == []
    assert len(outage.notifications()) == 2
    assert sorted(failed_ids(indexed)) == sorted(message["MessageId"] for message in messages)
    assert outage.receive(outage.alert_queue_url) == []


def test_index_outage_ends_in_the_index_dead_letter_queue_with_the_reason(outage: AlertWorld) -> None:
    # given OpenSearch stays down and a notified alert's document is on IndexQueue
    outage.send_job(sample_job().to_message())
    outage.deliver()

    # when SQS delivers the document until the indexer gives up
    invocations = 0
    for _ in range(INDEX_MAX_ATTEMPTS + 2):
        messages, response = outage.deliver_documents()
        if not messages:
            break
        invocations += 1
        failed = [message for message in messages if message["MessageId"] in failed_ids(response)]
        outage.expire_visibility(failed, outage.index_queue_url)

    # then each message went out once, and after INDEX_MAX_ATTEMPTS the document (as of each message) is
    # dead-lettered, with why
    assert invocations == INDEX_MAX_ATTEMPTS
    assert len(outage.notifications()) == 2
    dead_letters = outage.receive(outage.index_dead_letter_queue_url)
    assert [json.loads(dead["Body"])["alert_id"] for dead in dead_letters] == [sample_job().alert_id] * 2
    for dead in dead_letters:
        reason = dead["MessageAttributes"]["reason"]["StringValue"]
        assert reason.startswith(f"OpenSearch did not take the document in {INDEX_MAX_ATTEMPTS} attempts")
    assert outage.dead_letters() == []


def test_index_is_retried_alone_once_opensearch_is_back(world: AlertWorld, domain: LocalDomain) -> None:
    # given the first attempt found OpenSearch down
    domain.down = 503
    world.send_job(sample_job().to_message())
    world.deliver()
    messages, first = world.deliver_documents()
    assert len(failed_ids(first)) == 2  # the document as of each message
    world.expire_visibility(messages, world.index_queue_url)

    # when SQS redelivers the document after OpenSearch recovered
    domain.down = None
    _, second = world.deliver_documents()

    # then the document is written and the alert is not sent again
    assert failed_ids(second) == []
    assert domain.requests[-1].path == f"/face-alerts-2025.11/_doc/{sample_job().alert_id}"
    assert len(world.notifications()) == 2  # the snapshot and the clip, once each


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


def test_the_retention_policy_is_installed_with_the_index_template(
    monkeypatch: pytest.MonkeyPatch, domain: LocalDomain
) -> None:
    with alert_world(monkeypatch, OPENSEARCH_ENDPOINT=domain.url, SEARCH_INDEX_RETENTION_DAYS="45") as world:
        alert_and_index(world)

    paths = [(request.method, request.path) for request in domain.requests]
    policy_put = paths.index(("PUT", "/_plugins/_ism/policies/face-alerts-retention"))
    assert paths.index(("PUT", "/_index_template/face-alerts")) < policy_put
    assert policy_put < next(i for i, (_, path) in enumerate(paths) if "/_doc/" in path)
    policy = domain.requests[policy_put].json()["policy"]
    assert policy["states"][0]["transitions"] == [{"state_name": "delete", "conditions": {"min_index_age": "45d"}}]
    assert policy["ism_template"] == [{"index_patterns": ["face-alerts-*"], "priority": 100}]
    assert ("POST", "/_plugins/_ism/add/face-alerts-*") in paths
