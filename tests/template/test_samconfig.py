"""samconfig.toml: every environment deploys with the right capabilities and valid parameter overrides."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from facewatch_local.cfn import resolve_parameters
from samcli.cli.types import CfnParameterOverridesType

SAMCONFIG_PATH = Path(__file__).resolve().parents[2] / "samconfig.toml"


@pytest.fixture(scope="module")
def samconfig() -> dict[str, Any]:
    return tomllib.loads(SAMCONFIG_PATH.read_text())


def environments(samconfig: dict[str, Any]) -> list[str]:
    return [name for name in samconfig if name != "version"]


def test_default_and_prod_environments_are_configured(samconfig: dict[str, Any]) -> None:
    assert samconfig["version"] == 0.1
    assert environments(samconfig) == ["default", "prod"]
    assert samconfig["default"]["global"]["parameters"]["stack_name"] == "facewatch"
    assert samconfig["prod"]["global"]["parameters"]["stack_name"] == "facewatch-prod"


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_environment_validates_with_lint_and_builds_cached_in_parallel(
    samconfig: dict[str, Any], environment: str
) -> None:
    # language_extensions: sam expands the template's Fn::ForEach (the camera fleet) locally
    assert samconfig[environment]["validate"]["parameters"] == {"lint": True, "language_extensions": True}
    assert samconfig[environment]["build"]["parameters"] == {
        "cached": True,
        "parallel": True,
        "language_extensions": True,
    }


@pytest.mark.parametrize("environment", ["default", "prod"])
def test_environment_deploys_with_iam_capability_a_changeset_review_and_a_managed_bucket(
    samconfig: dict[str, Any], environment: str
) -> None:
    # when
    deploy = samconfig[environment]["deploy"]["parameters"]
    # then
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["confirm_changeset"] is True
    assert deploy["resolve_s3"] is True
    # without it, `sam deploy` cannot package a template with Fn::ForEach
    assert deploy["language_extensions"] is True


def test_prod_overrides_are_values_the_template_accepts(samconfig: dict[str, Any], template: dict[str, Any]) -> None:
    # given
    raw = samconfig["prod"]["deploy"]["parameters"]["parameter_overrides"]
    overrides = CfnParameterOverridesType().convert(raw, None, None)
    # when
    values = resolve_parameters(template, overrides)
    # then
    assert values["LogRetentionDays"] == "90"
    assert values["AlertEmail"] == "security-alerts@example.com"
    for name in overrides:
        pattern = template["Parameters"][name].get("AllowedPattern", ".*")
        assert re.fullmatch(pattern, values[name]), name
