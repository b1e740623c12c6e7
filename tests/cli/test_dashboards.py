"""`facewatch dashboards install` on the wire: what it sends to a domain's Dashboards (a local server on
127.0.0.1 stands in for it) and what it tells the operator."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from facewatch_cli.main import main
from tests.cli.support import AwsClients
from tests.support.local_domain import LocalDomain, closed_port

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "facewatch_cli" / "data" / "facewatch.ndjson"
IMPORT_PATH = "/_dashboards/api/saved_objects/_import"
RESOLVE_PATH = "/_dashboards/api/saved_objects/_resolve_import_errors"
REGION = "eu-west-1"
SHIPPED_COUNT = len(SHIPPED.read_text().splitlines())


pytestmark = pytest.mark.usefixtures("fresh_cli_session")


def install(domain_url: str, *extra: str) -> int:
    return main(["--region", REGION, "dashboards", "install", "--endpoint", domain_url, *extra])


def imported(count: int = SHIPPED_COUNT) -> dict[str, object]:
    return {"success": True, "successCount": count, "successResults": []}


def conflict(object_type: str, object_id: str) -> dict[str, object]:
    return {"type": object_type, "id": object_id, "title": object_id, "error": {"type": "conflict"}}


def test_install_posts_the_shipped_file_to_the_import_api_with_overwrite(domain: LocalDomain) -> None:
    # given
    domain.answer(imported())
    # when
    exit_code = install(domain.url)
    # then
    assert exit_code == 0
    [request] = domain.requests
    assert (request.method, request.path, request.query) == ("POST", IMPORT_PATH, {"overwrite": ["true"]})
    form = request.form()
    assert set(form) == {"file"}
    assert form["file"].filename == "facewatch.ndjson"
    assert form["file"].data == SHIPPED.read_bytes()


def test_install_is_signed_for_es_and_carries_the_dashboards_xsrf_header(domain: LocalDomain) -> None:
    # given
    domain.answer(imported())
    # when
    install(domain.url)
    # then
    [request] = domain.requests
    assert request.headers["osd-xsrf"] == "true"
    signature = request.signature()
    assert signature, request.headers.get("authorization")
    assert (signature["key"], signature["region"], signature["service"]) == (
        os.environ["AWS_ACCESS_KEY_ID"],
        REGION,
        "es",
    )
    assert {"host", "x-amz-date", "x-amz-content-sha256", "x-amz-security-token"} <= set(signature["signed"].split(";"))
    assert request.headers["x-amz-security-token"] == os.environ["AWS_SESSION_TOKEN"]


def test_install_prints_the_dashboard_url(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(imported())
    # when
    install(domain.url)
    # then
    assert capsys.readouterr().out.splitlines() == [
        f"Imported {SHIPPED_COUNT} saved objects into {domain.url}/_dashboards (earlier copies replaced).",
        f"Unknown faces: {domain.url}/_dashboards/app/dashboards#/view/facewatch-unknown-faces",
    ]


def test_objects_reported_in_conflict_are_overwritten_through_resolve_import_errors(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: Dashboards finds two objects in place and did not overwrite them (overwrite=true did not arrive)
    conflicts = [conflict("dashboard", "facewatch-unknown-faces"), conflict("index-pattern", "facewatch-face-alerts")]
    domain.answer({"success": False, "successCount": SHIPPED_COUNT - 2, "errors": conflicts})
    domain.answer(imported(2))
    # when
    exit_code = install(domain.url)
    # then: the same file is sent again, with a retry that overwrites each of them
    assert exit_code == 0
    retry = domain.requests[1]
    assert (retry.path, retry.headers["osd-xsrf"]) == (RESOLVE_PATH, "true")
    form = retry.form()
    assert form["file"].data == SHIPPED.read_bytes()
    assert json.loads(form["retries"].data) == [
        {"type": "dashboard", "id": "facewatch-unknown-faces", "overwrite": True},
        {"type": "index-pattern", "id": "facewatch-face-alerts", "overwrite": True},
    ]
    assert f"Imported {SHIPPED_COUNT} saved objects" in capsys.readouterr().out


def test_objects_dashboards_rejects_fail_the_install_by_name(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    rejected = {"type": "visualization", "id": "facewatch-top-cameras", "error": {"type": "missing_references"}}
    domain.answer({"success": False, "successCount": SHIPPED_COUNT - 1, "errors": [rejected]})
    # when
    exit_code = install(domain.url)
    # then
    assert exit_code == 1
    assert capsys.readouterr().err == (
        "facewatch: Dashboards did not import 1 saved object(s): "
        "visualization facewatch-top-cameras: missing_references\n"
    )


def test_forbidden_install_says_who_was_refused_and_what_to_fix(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given: the domain's access policy does not admit the operator
    message = (
        "User: arn:aws:sts::111122223333:assumed-role/ops/alice is not authorized to perform: es:ESHttpPost "
        "because no resource-based policy allows the es:ESHttpPost action"
    )
    domain.answer({"Message": message}, status=403)
    # when
    exit_code = install(domain.url)
    # then: one line, no traceback
    assert exit_code == 1
    assert capsys.readouterr().err == (
        f"facewatch: the domain refused POST {IMPORT_PATH} (HTTP 403): {message}. Its access policy must allow "
        "your AWS identity (see docs/alerts-and-messages.md, 'Dashboards and alert search')\n"
    )


def test_index_prefix_points_the_index_pattern_at_the_stacks_indices(domain: LocalDomain) -> None:
    # given: a stack deployed with OpenSearchIndex=acme-alerts
    domain.answer(imported())
    # when
    install(domain.url, "--index-prefix", "acme-alerts")
    # then
    sent = [json.loads(line) for line in domain.requests[0].form()["file"].data.splitlines()]
    [pattern] = [item for item in sent if item["type"] == "index-pattern"]
    assert pattern["attributes"]["title"] == "acme-alerts-*"
    assert len(sent) == SHIPPED_COUNT


def test_the_domain_comes_from_the_stacks_opensearch_endpoint_output(
    domain: LocalDomain, aws_clients: AwsClients
) -> None:
    # given: the stack's OpenSearchEndpoint output names the domain
    stack = {
        "StackName": "facewatch",
        "CreationTime": "2025-11-22T00:00:00Z",
        "StackStatus": "CREATE_COMPLETE",
        "Outputs": [{"OutputKey": "OpenSearchEndpoint", "OutputValue": domain.url}],
    }
    aws_clients.stub("cloudformation").add_response("describe_stacks", {"Stacks": [stack]}, {"StackName": "facewatch"})
    domain.answer(imported())
    # when
    exit_code = main(["--region", REGION, "dashboards", "install", "--stack", "facewatch"])
    # then
    assert exit_code == 0
    assert [request.path for request in domain.requests] == [IMPORT_PATH]


def test_unreachable_endpoint_is_reported_without_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    # given: nothing listens on the port
    port = closed_port()
    # when
    exit_code = install(f"http://127.0.0.1:{port}")
    # then
    assert exit_code == 1
    assert capsys.readouterr().err == f"facewatch: cannot reach http://127.0.0.1:{port}: ConnectionError\n"


def test_endpoint_with_a_path_is_refused_before_any_request(capsys: pytest.CaptureFixture[str]) -> None:
    # when
    exit_code = install("https://search-fw.eu-west-1.es.amazonaws.com/_dashboards")
    # then
    assert exit_code == 1
    assert "is not a host name or an http(s)://host[:port] URL" in capsys.readouterr().err
