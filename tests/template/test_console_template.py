"""The console in the template: who routes where, what each role may do, and how users sign in."""

from __future__ import annotations

from typing import Any

from tests.template.reading import properties
from tests.template.test_iam import granted

MEDIA = [{"Fn::Sub": "${ClipBucket.Arn}/clips/*"}, {"Fn::Sub": "${ClipBucket.Arn}/snapshots/*"}]


def routes(template: dict[str, Any], function: str) -> set[str]:
    events = properties(template, function)["Events"].values()
    return {f"{e['Properties']['Method']} {e['Properties']['Path']}" for e in events if e["Type"] == "HttpApi"}


def test_only_the_actions_function_serves_the_triage_routes(template: dict[str, Any]) -> None:
    # then
    assert routes(template, "ConsoleActionsFunction") == {
        "POST /alerts/{alert_id}/acknowledge",
        "POST /alerts/{alert_id}/resolve",
    }
    assert not any("acknowledge" in r or "resolve" in r for r in routes(template, "ConsolePagesFunction"))
    assert properties(template, "ConsolePagesFunction")["Handler"].endswith(".pages_handler")
    assert properties(template, "ConsoleActionsFunction")["Handler"].endswith(".actions_handler")


def test_the_console_roles_read_only_alert_media(template: dict[str, Any]) -> None:
    for role in ("ConsolePagesFunctionRole", "ConsoleActionsFunctionRole"):
        assert granted(template, role, "s3:GetObject") == MEDIA, role


def test_only_the_actions_role_changes_records_or_enrols_faces(template: dict[str, Any]) -> None:
    assert granted(template, "ConsolePagesFunctionRole", "dynamodb:UpdateItem") == []
    assert granted(template, "ConsolePagesFunctionRole", "rekognition:IndexFaces") == []
    assert granted(template, "ConsoleActionsFunctionRole", "dynamodb:UpdateItem") == [
        {"Fn::GetAtt": ["AlertRecordTable", "Arn"]}
    ]
    (collection,) = granted(template, "ConsoleActionsFunctionRole", "rekognition:IndexFaces")
    assert ":collection/${CollectionId}" in collection["Fn::Sub"][0]


def test_no_role_needs_cognito_permissions(template: dict[str, Any]) -> None:
    # given: sign-in uses Cognito's public API (InitiateAuth, RespondToAuthChallenge, GetUser, GlobalSignOut)
    statements = [
        statement
        for role in ("ConsolePagesFunctionRole", "ConsoleActionsFunctionRole")
        for statement in properties(template, role)["Policies"][0]["PolicyDocument"]["Statement"]
    ]
    # then
    assert not any("cognito" in str(statement.get("Action")) for statement in statements)


def test_users_are_created_by_administrators_and_need_mfa(template: dict[str, Any]) -> None:
    # when
    pool = properties(template, "ConsoleUserPool")
    client = properties(template, "ConsoleUserPoolClient")
    # then
    assert pool["MfaConfiguration"] == "ON"
    assert pool["EnabledMfas"] == ["SOFTWARE_TOKEN_MFA"]
    assert pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"] is True
    assert client["GenerateSecret"] is False
    assert client["EnableTokenRevocation"] is True
    groups = {properties(template, g)["GroupName"] for g in ("ConsoleViewersGroup", "ConsoleRespondersGroup")}
    assert groups == {"viewers", "responders"}


def test_the_stack_outputs_the_console_url_and_the_user_pool(template: dict[str, Any]) -> None:
    outputs = template["Outputs"]
    assert "execute-api" in outputs["ConsoleUrl"]["Value"]["Fn::Sub"]
    assert outputs["UserPoolId"]["Value"] == {
        "Fn::If": ["CreateUserPool", {"Ref": "ConsoleUserPool"}, {"Ref": "ExistingUserPoolId"}]
    }
