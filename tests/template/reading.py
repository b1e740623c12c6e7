"""Reading template.yaml in tests: the loaded template, its parts, and a resolver for its intrinsics."""

from __future__ import annotations

import copy
import re
from collections.abc import Iterator, Mapping
from functools import cache
from typing import Any

import pytest
from facewatch_local.cfn import PhysicalResource, Resolver, load_template, resolve_parameters
from samtranslator.translator.transform import transform

PSEUDO_PARAMETERS = {
    "AWS::Region": "eu-west-1",
    "AWS::AccountId": "111122223333",
    "AWS::Partition": "aws",
    "AWS::StackName": "facewatch-test",
    "AWS::URLSuffix": "amazonaws.com",
}


@cache
def _loaded() -> dict[str, Any]:
    return load_template()


def template_copy() -> dict[str, Any]:
    """A fresh copy of template.yaml, safe to modify."""
    return copy.deepcopy(_loaded())


def properties(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    return template["Resources"][logical_id]["Properties"]  # type: ignore[no-any-return]


def parameter(template: Mapping[str, Any], name: str) -> dict[str, Any]:
    return template["Parameters"][name]  # type: ignore[no-any-return]


def resources_of_type(template: Mapping[str, Any], resource_type: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for logical_id, definition in template["Resources"].items():
        if definition["Type"] == resource_type:
            yield logical_id, definition


def event(template: Mapping[str, Any], function: str, name: str) -> dict[str, Any]:
    return properties(template, function)["Events"][name]["Properties"]  # type: ignore[no-any-return]


def ref_target(value: Any) -> str:
    """The name a {"Ref": name} points at."""
    assert isinstance(value, dict), f"{value!r} is not a Ref"
    assert set(value) == {"Ref"}, f"{value!r} is not a Ref"
    return value["Ref"]  # type: ignore[no-any-return]


def parameter_default(template: Mapping[str, Any], value: Any) -> str:
    """The default of the parameter a {"Ref": name} points at, as CloudFormation passes it (a string)."""
    return resolve_parameters(template)[ref_target(value)]


def resolver(
    template: Mapping[str, Any],
    overrides: Mapping[str, str] | None = None,
    resources: Mapping[str, PhysicalResource] | None = None,
) -> Resolver:
    """Resolves the template's intrinsics as a deployment with these parameters and resources would."""
    return Resolver(template, resolve_parameters(template, overrides), PSEUDO_PARAMETERS, resources)


class _NoManagedPolicies:
    """The template names no managed policy, so SAM never needs the account's name -> ARN map."""

    def load(self) -> dict[str, str]:
        return {}


def sam_transform(template: Mapping[str, Any]) -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of `template` (a load_template result)."""
    sam_template = copy.deepcopy(dict(template))
    # As `sam validate` does: the SAM translator wants an S3 location for code, not a local folder.
    sam_template["Globals"]["Function"]["CodeUri"] = "s3://bucket/code.zip"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AWS_DEFAULT_REGION", PSEUDO_PARAMETERS["AWS::Region"])
        return transform(sam_template, {}, _NoManagedPolicies())  # type: ignore[no-any-return]


@cache
def _transformed() -> dict[str, Any]:
    return sam_transform(_loaded())


def sam_transformed() -> dict[str, Any]:
    """The CloudFormation template the SAM transform makes of template.yaml (what is really deployed)."""
    return copy.deepcopy(_transformed())


def references(value: Any) -> set[str]:
    """Names a value points at through Ref, Fn::GetAtt or Fn::Sub (resources and parameters alike)."""
    if isinstance(value, list):
        return set().union(*(references(item) for item in value))
    if not isinstance(value, dict):
        return set()
    found: set[str] = set()
    for key, argument in value.items():
        if key == "Ref":
            found.add(argument)
        elif key == "Fn::GetAtt":
            found.add(argument[0] if isinstance(argument, list) else argument.split(".")[0])
        elif key == "Fn::Sub":
            text, variables = (argument, {}) if isinstance(argument, str) else argument
            placeholders = {name.split(".")[0] for name in re.findall(r"\$\{([^!}][^}]*)\}", text)}
            found |= (placeholders - set(variables)) | references(variables)
        else:
            found |= references(argument)
    return found
