"""Who may open Dashboards: the created domain admits the DashboardsPrincipalArn role besides the alerter."""

from __future__ import annotations

import re
from typing import Any

import pytest
from facewatch_local.cfn import PhysicalResource
from tests.template.reading import parameter, properties, resolver

ALERTER_ROLE = {
    "AlertFunctionRole": PhysicalResource("alerter", {"Arn": "arn:aws:iam::111122223333:role/alerter"}),
    "ConsoleActionsFunctionRole": PhysicalResource("console", {"Arn": "arn:aws:iam::111122223333:role/console"}),
}
TEAM_ROLE = "arn:aws:iam::111122223333:role/security/facewatch-dashboards"
DOMAIN_SUBRESOURCES = "arn:aws:es:eu-west-1:111122223333:domain/facewatch-alerts/*"
# What a browser session in Dashboards sends: reads, saved-object writes and deletes, HEAD probes.
DASHBOARDS_ACTIONS = {"es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"}


def domain_statements(template: dict[str, Any], **overrides: str) -> list[dict[str, Any]]:
    statements = properties(template, "AlertSearchDomain")["AccessPolicies"]["Statement"]
    return resolver(template, overrides, resources=ALERTER_ROLE).resolve(statements)  # type: ignore[no-any-return]


def test_dashboards_role_may_use_the_whole_created_domain(template: dict[str, Any]) -> None:
    # when
    statements = domain_statements(template, DashboardsPrincipalArn=TEAM_ROLE)
    # then
    [team] = [statement for statement in statements if statement["Principal"] == {"AWS": TEAM_ROLE}]
    assert team["Effect"] == "Allow"
    assert set(team["Action"]) >= DASHBOARDS_ACTIONS
    assert team["Resource"] == DOMAIN_SUBRESOURCES


def test_dashboards_role_does_not_change_the_alerters_grant(template: dict[str, Any]) -> None:
    # when
    statements = domain_statements(template, DashboardsPrincipalArn=TEAM_ROLE)
    # then
    principals = [statement["Principal"]["AWS"] for statement in statements]
    assert principals == ["arn:aws:iam::111122223333:role/alerter", "arn:aws:iam::111122223333:role/console", TEAM_ROLE]


@pytest.mark.parametrize(
    ("value", "accepted"),
    [
        ("", True),
        (TEAM_ROLE, True),
        ("arn:aws-cn:iam::111122223333:role/facewatch-dashboards", True),
        ("arn:aws:iam::111122223333:user/alice", False),
        ("arn:aws:sts::111122223333:assumed-role/facewatch-dashboards/alice", False),
        ("facewatch-dashboards", False),
    ],
)
def test_dashboards_principal_must_be_a_role_arn(template: dict[str, Any], value: str, accepted: bool) -> None:
    # given: CloudFormation matches AllowedPattern against the whole value
    pattern = parameter(template, "DashboardsPrincipalArn")["AllowedPattern"]
    # then
    assert bool(re.fullmatch(pattern, value)) is accepted
