"""The stack's Outputs: what a user (and docs/deploy.md's instructions) reads after `sam deploy`."""

from __future__ import annotations

from typing import Any

from facewatch_local.cfn import PhysicalResource
from tests.template.reading import resolver

CONTRACT_OUTPUTS = {
    "FaceSearchStreamArn",
    "DetectorFunctionArn",
    "AlertFunctionArn",
    "AlertQueueUrl",
    "AlertDeadLetterQueueUrl",
    "DetectorDeadLetterQueueUrl",
    "DedupTableName",
    "CameraTableName",
    "ClipBucketName",
    "QuarantineBucketName",
    "AlertTopicArn",
    "OpenSearchEndpoint",
    "OpenSearchDashboardsUrl",
}
DOMAIN = {"AlertSearchDomain": PhysicalResource("facewatch-alerts", {"DomainEndpoint": "search-fw.es.example"})}


def test_every_contract_output_exists_and_is_described(template: dict[str, Any]) -> None:
    # when
    outputs = template["Outputs"]
    # then
    assert set(outputs) >= CONTRACT_OUTPUTS
    assert all(outputs[name].get("Description") for name in CONTRACT_OUTPUTS)


def test_outputs_exist_whatever_the_conditions(template: dict[str, Any]) -> None:
    # then: a conditional output would vanish from some deployments
    assert [name for name in CONTRACT_OUTPUTS if "Condition" in template["Outputs"][name]] == []


def test_dashboards_url_is_on_the_created_domain(template: dict[str, Any]) -> None:
    # when
    url = resolver(template, resources=DOMAIN).resolve(template["Outputs"]["OpenSearchDashboardsUrl"]["Value"])
    # then
    assert url == "https://search-fw.es.example/_dashboards"


def test_dashboards_url_is_on_the_existing_domain_when_one_is_given(template: dict[str, Any]) -> None:
    # given
    overrides = {
        "OpenSearchEndpoint": "search-existing.eu-west-1.es.amazonaws.com",
        "ExistingOpenSearchDomainArn": "arn:aws:es:eu-west-1:111122223333:domain/existing",
    }
    # when
    deployment = resolver(template, overrides, resources=DOMAIN)
    # then
    assert deployment.resolve(template["Outputs"]["OpenSearchEndpoint"]["Value"]) == overrides["OpenSearchEndpoint"]
    assert (
        deployment.resolve(template["Outputs"]["OpenSearchDashboardsUrl"]["Value"])
        == "https://search-existing.eu-west-1.es.amazonaws.com/_dashboards"
    )
    assert not deployment.is_created("AlertSearchDomain")
