"""facewatch_local.cfn's expansion of Fn::ForEach (the AWS::LanguageExtensions transform), on small templates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from facewatch_local.cfn import (
    TemplateError,
    expand_language_extensions,
    load_template,
    resolve_parameters,
)
from tests.template.reading import resolver

TRANSFORMS = ["AWS::LanguageExtensions", "AWS::Serverless-2016-10-31"]


def template(resources: dict[str, Any], **sections: Any) -> dict[str, Any]:
    return {
        "Transform": TRANSFORMS,
        "Parameters": {"Names": {"Type": "CommaDelimitedList", "Default": "A,B"}},
        "Resources": resources,
        **sections,
    }


def expand(declared: dict[str, Any], **overrides: str) -> dict[str, Any]:
    return expand_language_extensions(declared, resolve_parameters(declared, overrides))


def queue_loop(collection: Any, fragment: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "Fn::ForEach::Queues": [
            "Name",
            collection,
            fragment or {"Queue${Name}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}},
        ]
    }


def test_a_loop_over_a_list_parameter_makes_one_entry_per_item() -> None:
    # when
    expanded = expand(template(queue_loop({"Ref": "Names"})), Names="Lobby01,Floor3East")
    # then
    assert expanded["Resources"] == {
        "QueueLobby01": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "Lobby01"}},
        "QueueFloor3East": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "Floor3East"}},
    }


def test_an_empty_list_parameter_is_one_empty_item_as_in_cloudformation() -> None:
    # when: CloudFormation reads an empty CommaDelimitedList as [""]
    expanded = expand(template(queue_loop({"Ref": "Names"})), Names="")
    # then
    assert list(expanded["Resources"]) == ["Queue"]


def test_a_loop_over_a_literal_list_needs_no_parameter() -> None:
    expanded = expand(template(queue_loop(["X", "Y"])))
    assert list(expanded["Resources"]) == ["QueueX", "QueueY"]


def test_the_identifier_is_replaced_in_sub_strings_and_a_sub_left_without_placeholders_becomes_text() -> None:
    # given
    fragment = {
        "Role${Name}": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": {"Fn::Sub": "${AWS::StackName}_${Name}"},
                "Description": {"Fn::Sub": "Role of ${Name}"},
                "Arn": {"Fn::GetAtt": [{"Fn::Sub": "Queue${Name}"}, "Arn"]},
            },
        }
    }
    # when
    expanded = expand(template(queue_loop(["A"], fragment)))
    # then
    assert expanded["Resources"]["RoleA"]["Properties"] == {
        "RoleName": {"Fn::Sub": "${AWS::StackName}_A"},
        "Description": "Role of A",
        "Arn": {"Fn::GetAtt": ["QueueA", "Arn"]},
    }


def test_ampersand_identifier_keeps_only_letters_and_digits() -> None:
    # given
    fragment = {"Queue&{Name}": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": {"Ref": "Name"}}}}
    # when
    expanded = expand(template(queue_loop(["seoul-lobby.01"], fragment)))
    # then
    assert expanded["Resources"] == {
        "Queueseoullobby01": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "seoul-lobby.01"}}
    }


def test_loops_in_conditions_and_outputs_are_expanded_too() -> None:
    # given
    declared = template(
        queue_loop(["A"]),
        Conditions={"Fn::ForEach::Named": ["Name", ["A"], {"Is${Name}": {"Fn::Equals": ["${Name}", "A"]}}]},
        Outputs={
            "Fn::ForEach::Arns": ["Name", ["A"], {"Queue${Name}Arn": {"Value": {"Fn::Sub": "${Queue${Name}.Arn}"}}}]
        },
    )
    # when
    expanded = expand(declared)
    # then
    assert expanded["Conditions"] == {"IsA": {"Fn::Equals": ["A", "A"]}}
    assert expanded["Outputs"] == {"QueueAArn": {"Value": {"Fn::Sub": "${QueueA.Arn}"}}}


def test_nested_loops_expand_inside_out() -> None:
    # given
    inner = {"Fn::ForEach::Sizes": ["Size", ["S", "L"], {"Queue${Name}${Size}": {"Type": "AWS::SQS::Queue"}}]}
    # when
    expanded = expand(template(queue_loop(["A", "B"], inner)))
    # then
    assert list(expanded["Resources"]) == ["QueueAS", "QueueAL", "QueueBS", "QueueBL"]


def test_the_transform_is_applied_so_it_leaves_the_transform_list() -> None:
    assert expand(template(queue_loop(["A"])))["Transform"] == "AWS::Serverless-2016-10-31"


@pytest.mark.parametrize(
    ("names", "message"),
    [
        ("Lobby01,Lobby01", "generates QueueLobby01 twice"),
        ("Seoul-Lobby", r"'QueueSeoul-Lobby' not valid logical IDs"),
    ],
)
def test_names_cloudformation_would_refuse_are_refused(names: str, message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        expand(template(queue_loop({"Ref": "Names"})), Names=names)


def test_a_generated_entry_may_not_replace_a_declared_one() -> None:
    # given
    declared = template({"QueueA": {"Type": "AWS::SNS::Topic"}, **queue_loop(["A"])})
    # then
    with pytest.raises(TemplateError, match="QueueA is defined twice"):
        expand(declared)


def test_a_collection_the_emulation_cannot_resolve_fails_loudly() -> None:
    with pytest.raises(TemplateError, match="a list of strings or a Ref to a list parameter"):
        expand(template(queue_loop({"Fn::Split": [",", "A,B"]})))


def test_a_ref_to_a_list_parameter_resolves_to_a_list() -> None:
    # given
    declared = expand(template(queue_loop(["A"])))
    # when
    deployment = resolver(declared, {"Names": "Lobby01,Floor3East"})
    # then
    assert deployment.resolve({"Ref": "Names"}) == ["Lobby01", "Floor3East"]
    assert deployment.resolve({"Fn::Join": ["+", {"Ref": "Names"}]}) == "Lobby01+Floor3East"


def test_load_template_expands_for_the_overrides_and_leaves_other_templates_alone(tmp_path: Path) -> None:
    # given
    plain = tmp_path / "plain.yaml"
    plain.write_text("Resources:\n  Queue:\n    Type: AWS::SQS::Queue\n")
    # when
    with_cameras = load_template(parameter_overrides={"CameraNames": "Lobby01"})
    # then
    assert "CameraLobby01Stack" in with_cameras["Resources"]
    assert load_template(plain) == {"Resources": {"Queue": {"Type": "AWS::SQS::Queue"}}}
