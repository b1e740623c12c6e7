"""What `sam <command> --config-env <env>` does with samconfig.toml, read through the SAM CLI's own config
reader: each environment's deployment is one the template accepts and CloudFormation can carry out with the
capability it grants, environments in one account do not collide, and every command that reads the template
expands its Fn::ForEach."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from facewatch_local.cfn import load_template, read_template, resolve_parameters
from samcli.cli.types import CfnParameterOverridesType
from samcli.lib.config.samconfig import SamConfig
from tests.template.reading import resources_of_type, sam_transform

ROOT = Path(__file__).resolve().parents[2]
CONFIG = SamConfig(str(ROOT), "samconfig.toml")
ENVIRONMENTS = list(CONFIG.get_stage_configuration_names())
# The commands that read template.yaml and so must expand its Fn::ForEach (AWS::LanguageExtensions).
TEMPLATE_COMMANDS = ("build", "validate", "deploy", "sync")


def settings(command: str, environment: str) -> dict[str, Any]:
    """What `sam <command> --config-env <environment>` takes from samconfig.toml (global parameters included)."""
    return dict(CONFIG.get_all([command], "parameters", env=environment))


def overrides(environment: str) -> dict[str, str]:
    raw = settings("deploy", environment).get("parameter_overrides", "")
    return dict(CfnParameterOverridesType().convert(raw, None, None)) if raw else {}


def fixed_names(environment: str) -> dict[str, str]:
    """Names the deployment gives resources that exist once per account and Region (not per stack)."""
    values = resolve_parameters(load_template(), overrides(environment))
    return {"OpenSearchDomainName": values["OpenSearchDomainName"]}


def test_there_is_a_default_and_a_production_environment() -> None:
    assert {"default", "prod"} <= set(ENVIRONMENTS)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_deployment_passes_the_templates_parameter_constraints(environment: str) -> None:
    # when: as CloudFormation checks AllowedValues, AllowedPattern, MinValue and MaxValue before it starts
    template = load_template(parameter_overrides=overrides(environment))
    values = resolve_parameters(template, overrides(environment))
    # then
    assert set(overrides(environment)) <= set(values)


@pytest.mark.parametrize("environment", ENVIRONMENTS)
def test_the_granted_capability_is_enough_for_every_iam_resource_the_deployment_creates(environment: str) -> None:
    # given
    granted = settings("deploy", environment)["capabilities"].split()
    # when: the template as CloudFormation receives it, after the SAM transform
    deployed = sam_transform(load_template(parameter_overrides=overrides(environment)))
    named = [
        logical_id
        for resource_type, name_property in (
            ("AWS::IAM::Role", "RoleName"),
            ("AWS::IAM::ManagedPolicy", "ManagedPolicyName"),
        )
        for logical_id, resource in resources_of_type(deployed, resource_type)
        if name_property in resource.get("Properties", {})
    ]
    # then: CAPABILITY_IAM covers unnamed IAM resources; a named one needs CAPABILITY_NAMED_IAM
    assert list(resources_of_type(deployed, "AWS::IAM::Role"))
    assert "CAPABILITY_IAM" in granted
    assert named == [] or "CAPABILITY_NAMED_IAM" in granted


@pytest.mark.parametrize("environment", ENVIRONMENTS)
@pytest.mark.parametrize("command", TEMPLATE_COMMANDS)
def test_every_command_that_reads_the_template_expands_its_loops(environment: str, command: str) -> None:
    # given: the template as written loops over the cameras
    loops = [key for key in read_template()["Resources"] if key.startswith("Fn::ForEach::")]
    # then: without language_extensions the command would pass the loop on unexpanded (sam build, validate,
    # sync) or refuse to package it (sam deploy)
    assert loops
    assert settings(command, environment).get("language_extensions") is True


def test_environments_deploy_separate_stacks_with_separate_artifacts_and_account_wide_names() -> None:
    stacks = [settings("deploy", environment)["stack_name"] for environment in ENVIRONMENTS]
    prefixes = [settings("deploy", environment)["s3_prefix"] for environment in ENVIRONMENTS]
    domains = [fixed_names(environment)["OpenSearchDomainName"] for environment in ENVIRONMENTS]

    assert len(set(stacks)) == len(stacks)
    assert len(set(prefixes)) == len(prefixes)
    assert len(set(domains)) == len(domains)
