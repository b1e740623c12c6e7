"""Least privilege, checked on what is really deployed: the template after the SAM transform."""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator
from typing import Any

import pytest
from facewatch_local.cfn import TEMPLATE_PATH, PhysicalResource, read_template
from tests.template.reading import properties, references, resolver, resources_of_type, sam_transformed

from facewatch.adapters.dedup_windows import window_key
from facewatch.adapters.quarantine import QuarantinedInput, quarantine_key

# Services whose actions read or write our data or act on our resources: never on Resource "*".
DATA_PLANE_SERVICES = {
    "dynamodb",
    "sqs",
    "s3",
    "sns",
    "kinesis",
    "kinesisvideo",
    "es",
    "kms",
    "logs",
    "rekognition",
    "lambda",
    "iam",
    "secretsmanager",
    "ssm",
}
# Actions with no resource type in the Service Authorization Reference: "*" is the only Resource they take.
# rekognition:DetectFaces reads only the image in the request (the image-mode samplers, ProxyRole).
NO_RESOURCE_TYPE_ACTIONS = {"rekognition:detectfaces"}
IDENTITY_POLICY_TYPES = ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy", "AWS::IAM::RolePolicy")
# Resource-based policies: who else may use a resource.
RESOURCE_POLICIES = {
    "AWS::S3::BucketPolicy": "PolicyDocument",
    "AWS::SNS::TopicPolicy": "PolicyDocument",
    "AWS::SQS::QueuePolicy": "PolicyDocument",
    "AWS::KMS::Key": "KeyPolicy",
    "AWS::OpenSearchService::Domain": "AccessPolicies",
}

Statement = dict[str, Any]

CAMERA_STREAMS = (
    "arn:${AWS::Partition}:kinesisvideo:${AWS::Region}:${AWS::AccountId}:stream/${CameraStreamNamePrefix}*/*"
)


def alternatives(value: Any) -> list[Any]:
    """Every value an intrinsic can take: both branches of each Fn::If; lists flattened."""
    if isinstance(value, dict) and set(value) == {"Fn::If"}:
        _, if_true, if_false = value["Fn::If"]
        return alternatives(if_true) + alternatives(if_false)
    if isinstance(value, list):
        return [option for item in value for option in alternatives(item)]
    if value == {"Ref": "AWS::NoValue"}:
        return []
    return [value]


def identity_statements(template: dict[str, Any]) -> Iterator[tuple[str, Statement]]:
    """(where, statement) for every statement of every identity policy, each Fn::If branch separately."""
    documents: list[tuple[str, Any]] = []
    for logical_id, role in resources_of_type(template, "AWS::IAM::Role"):
        for policy in role["Properties"].get("Policies", []):
            documents.append((f"{logical_id}/{policy['PolicyName']}", policy["PolicyDocument"]))
    for policy_type in IDENTITY_POLICY_TYPES:
        for logical_id, policy in resources_of_type(template, policy_type):
            documents.append((logical_id, policy["Properties"]["PolicyDocument"]))
    for where, document in documents:
        for statement in alternatives(document["Statement"]):
            yield f"{where}/{statement.get('Sid', '?')}", statement


def violations(statement: Statement) -> list[str]:
    """What makes an identity-policy statement broader than least privilege."""
    if statement["Effect"] != "Allow":
        return []
    found = []
    if "NotAction" in statement or "NotResource" in statement:
        found.append("NotAction/NotResource in an Allow")
    actions = [action.lower() for action in alternatives(statement.get("Action", []))]
    resources = alternatives(statement.get("Resource", []))
    for action in actions:
        service, _, name = action.partition(":")
        if action == "*" or name == "*":
            found.append(f"wildcard action {action}")
        if service in DATA_PLANE_SERVICES and "*" in resources and action not in NO_RESOURCE_TYPE_ACTIONS:
            found.append(f"{action} on every resource")
        if fnmatch.fnmatchcase("iam:passrole", action) and "Condition" not in statement:
            found.append("iam:PassRole without a condition")
    return found


def resource_statements(template: dict[str, Any]) -> Iterator[tuple[str, Statement]]:
    """(where, statement) for every statement of every resource-based policy, each Fn::If branch separately."""
    for resource_type, document_property in RESOURCE_POLICIES.items():
        for logical_id, definition in resources_of_type(template, resource_type):
            document = definition.get("Properties", {}).get(document_property)
            for statement in alternatives(document["Statement"]) if document else []:
                yield f"{logical_id}/{statement.get('Sid', '?')}", statement


def allows_everyone(statement: Statement) -> bool:
    """An Allow to any principal at all, without a condition narrowing it."""
    principal = statement.get("Principal")
    everyone = principal == "*" or (isinstance(principal, dict) and "*" in alternatives(principal.get("AWS", [])))
    return statement["Effect"] == "Allow" and everyone and "Condition" not in statement


def granted(template: dict[str, Any], role: str, action: str) -> list[Any]:
    """The resources `role` is allowed `action` on."""
    return [
        resource
        for where, statement in identity_statements(template)
        if where.startswith(f"{role}/") and statement["Effect"] == "Allow"
        if action in alternatives(statement["Action"])
        for resource in alternatives(statement["Resource"])
    ]


@pytest.fixture(scope="module")
def deployed() -> dict[str, Any]:
    return sam_transformed()


def test_checks_see_every_role_and_statement(deployed: dict[str, Any]) -> None:
    # when
    places = [where for where, _ in identity_statements(deployed)]
    # then
    # the cameras' processor roles are in their nested stacks (test_camera_template_roles_are_least_privilege)
    assert {where.split("/")[0] for where in places} == {
        "DetectorFunctionRole",
        "AlertFunctionRole",
        "ProcessorControlFunctionRole",
        "ProxyRole",
        "ConsolePagesFunctionRole",
        "ConsoleActionsFunctionRole",
        "DeliveryFunctionRole",
    }
    assert len(places) >= 15


def test_sam_generates_no_role_of_its_own(template: dict[str, Any], deployed: dict[str, Any]) -> None:
    # given: a generated role would carry managed policies granting "*"
    declared = {logical_id for logical_id, _ in resources_of_type(template, "AWS::IAM::Role")}
    # when
    roles = {logical_id for logical_id, _ in resources_of_type(deployed, "AWS::IAM::Role")}
    # then
    assert roles == declared


def test_roles_attach_no_managed_policies(deployed: dict[str, Any]) -> None:
    # given: AWS managed policies are not scoped to this stack's resources
    attached = {
        logical_id: role["Properties"].get("ManagedPolicyArns")
        for logical_id, role in resources_of_type(deployed, "AWS::IAM::Role")
    }
    # then
    assert all(not arns for arns in attached.values()), attached


def test_no_statement_is_broader_than_least_privilege(deployed: dict[str, Any]) -> None:
    # when
    found = {
        where: problems for where, statement in identity_statements(deployed) if (problems := violations(statement))
    }
    # then
    assert found == {}


def test_camera_template_roles_are_least_privilege() -> None:
    # given: each camera's nested stack (templates/camera.yaml)
    camera = read_template(TEMPLATE_PATH.parent / "templates" / "camera.yaml")
    # when
    places = [where for where, _ in identity_statements(camera)]
    found = {where: problems for where, statement in identity_statements(camera) if (problems := violations(statement))}
    # then
    assert {where.split("/")[0] for where in places} == {"ProcessorRole"}
    assert found == {}


def test_only_actions_without_a_resource_type_may_name_every_resource() -> None:
    # given
    statement = {
        "Effect": "Allow",
        "Action": ["rekognition:DetectFaces", "rekognition:SearchFacesByImage"],
        "Resource": "*",
    }
    # then: the search names a collection, so "*" is too broad for it
    assert violations(statement) == ["rekognition:searchfacesbyimage on every resource"]


@pytest.mark.parametrize(
    ("statement", "expected"),
    [
        ({"Effect": "Allow", "Action": "*", "Resource": "arn:aws:s3:::b"}, "wildcard action *"),
        ({"Effect": "Allow", "Action": "sqs:*", "Resource": "arn:aws:sqs:::q"}, "wildcard action sqs:*"),
        ({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": "*"}, "dynamodb:getitem on every resource"),
        (
            {"Effect": "Allow", "Action": "kinesis:GetRecords", "Resource": {"Fn::If": ["C", "arn:s", "*"]}},
            "kinesis:getrecords on every resource",
        ),
        (
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "arn:aws:iam::1:role/r"},
            "iam:PassRole without a condition",
        ),
        (
            {"Effect": "Allow", "NotAction": "s3:GetObject", "Resource": "arn:aws:s3:::b"},
            "NotAction/NotResource in an Allow",
        ),
        (
            {"Effect": "Allow", "Action": "rekognition:StartStreamProcessor", "Resource": "*"},
            "rekognition:startstreamprocessor on every resource",
        ),
        (
            {"Effect": "Allow", "Action": "iam:Pass*", "Resource": "arn:aws:iam::1:role/r"},
            "iam:PassRole without a condition",
        ),
        (
            {"Effect": "Allow", "Action": "iam:PassRole", "Resource": "*", "Condition": {"StringEquals": {}}},
            "iam:passrole on every resource",
        ),
    ],
)
def test_checks_flag_broad_statements(statement: Statement, expected: str) -> None:
    assert expected in violations(statement)


def test_checks_accept_scoped_statements_and_unscoped_tracing() -> None:
    # given: X-Ray has no resource-level permissions
    statements: list[dict[str, Any]] = [
        {"Effect": "Allow", "Action": ["xray:PutTraceSegments"], "Resource": "*"},
        {"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": {"Fn::GetAtt": ["Q", "Arn"]}},
        {"Effect": "Deny", "Action": "*", "Resource": "*"},
    ]
    # then
    assert [violations(statement) for statement in statements] == [[], [], []]


def test_no_resource_policy_lets_everyone_in(template: dict[str, Any]) -> None:
    # when: bucket, topic, queue, key and domain policies (a Deny to "*", as TLS-only, is fine)
    found = list(resource_statements(template))
    # then
    assert {where.split("/")[0] for where, _ in found} >= {"ClipBucketPolicy", "AlertTopicKey", "AlertSearchDomain"}
    assert [where for where, statement in found if allows_everyone(statement)] == []


@pytest.mark.parametrize(
    ("statement", "everyone"),
    [
        ({"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject"}, True),
        ({"Effect": "Allow", "Principal": {"AWS": ["arn:aws:iam::1:root", "*"]}, "Action": "sns:Publish"}, True),
        ({"Effect": "Deny", "Principal": "*", "Action": "s3:*"}, False),
        ({"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"}, "Action": "sns:Publish"}, False),
        ({"Effect": "Allow", "Principal": "*", "Action": "sqs:SendMessage", "Condition": {"ArnEquals": {}}}, False),
    ],
)
def test_checks_flag_resource_policies_open_to_everyone(statement: Statement, everyone: bool) -> None:
    assert allows_everyone(statement) is everyone


@pytest.mark.parametrize(
    ("role", "action", "resource"),
    [
        ("DetectorFunctionRole", "dynamodb:UpdateItem", {"Fn::GetAtt": ["DedupTable", "Arn"]}),
        ("DetectorFunctionRole", "sqs:SendMessage", {"Fn::GetAtt": ["AlertQueue", "Arn"]}),
        ("DetectorFunctionRole", "sqs:SendMessage", {"Fn::GetAtt": ["DetectorDeadLetterQueue", "Arn"]}),
        ("DetectorFunctionRole", "kinesis:GetRecords", {"Fn::GetAtt": ["FaceSearchStream", "Arn"]}),
        ("DetectorFunctionRole", "kinesis:GetRecords", {"Ref": "ExistingFaceSearchStreamArn"}),
        ("DetectorFunctionRole", "logs:PutLogEvents", {"Fn::GetAtt": ["DetectorFunctionLogGroup", "Arn"]}),
        ("AlertFunctionRole", "dynamodb:GetItem", {"Fn::GetAtt": ["DedupTable", "Arn"]}),
        ("AlertFunctionRole", "dynamodb:UpdateItem", {"Fn::GetAtt": ["DedupTable", "Arn"]}),
        ("AlertFunctionRole", "dynamodb:GetItem", {"Fn::GetAtt": ["CameraTable", "Arn"]}),
        ("AlertFunctionRole", "sqs:ReceiveMessage", {"Fn::GetAtt": ["AlertQueue", "Arn"]}),
        ("AlertFunctionRole", "sqs:ChangeMessageVisibility", {"Fn::GetAtt": ["AlertQueue", "Arn"]}),
        ("AlertFunctionRole", "sqs:SendMessage", {"Fn::GetAtt": ["AlertDeadLetterQueue", "Arn"]}),
        ("AlertFunctionRole", "sns:Publish", {"Ref": "AlertTopic"}),
        ("AlertFunctionRole", "kms:GenerateDataKey*", {"Fn::GetAtt": ["AlertTopicKey", "Arn"]}),
        ("AlertFunctionRole", "s3:PutObject", {"Fn::Sub": "${ClipBucket.Arn}/clips/*"}),
        ("AlertFunctionRole", "s3:GetObject", {"Fn::Sub": "${ClipBucket.Arn}/clips/*"}),
        ("AlertFunctionRole", "s3:AbortMultipartUpload", {"Fn::Sub": "${ClipBucket.Arn}/clips/*"}),
        ("AlertFunctionRole", "kinesisvideo:GetDataEndpoint", {"Fn::Sub": CAMERA_STREAMS}),
        ("AlertFunctionRole", "logs:PutLogEvents", {"Fn::GetAtt": ["AlertFunctionLogGroup", "Arn"]}),
    ],
)
def test_each_call_a_function_makes_is_granted_on_its_resource(
    deployed: dict[str, Any], role: str, action: str, resource: Any
) -> None:
    assert resource in granted(deployed, role, action)


def test_detector_role_grants_nothing_the_alerter_does(deployed: dict[str, Any]) -> None:
    # then: the detector neither publishes, reads clips nor touches the camera registry
    for action in ("sns:Publish", "s3:GetObject", "dynamodb:GetItem", "kinesisvideo:GetClip", "es:ESHttpPost"):
        assert granted(deployed, "DetectorFunctionRole", action) == []


def test_detector_quarantine_keys_fall_under_its_grant(template: dict[str, Any], deployed: dict[str, Any]) -> None:
    # given
    bucket = {"QuarantineBucket": PhysicalResource("quarantine", {"Arn": "arn:aws:s3:::quarantine"})}
    (grant,) = granted(deployed, "DetectorFunctionRole", "s3:PutObject")
    item = QuarantinedInput("detector", "face-search", "shardId-000:4965", 1_763_776_800.0, "not JSON", b"x")
    # when
    pattern = resolver(template, resources=bucket).resolve(grant)
    # then
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::quarantine/{quarantine_key(item)}", pattern)


def test_dedup_window_key_is_the_table_key(template: dict[str, Any]) -> None:
    # given
    key_schema = properties(template, "DedupTable")["KeySchema"]
    # then
    assert set(window_key("lobby-01")) == {key["AttributeName"] for key in key_schema}


def test_alerter_reads_clips_only_from_camera_streams_with_the_prefix(
    template: dict[str, Any], deployed: dict[str, Any]
) -> None:
    # given: the grant on the prefix (the stack's own cameras have one of their own)
    grants = granted(deployed, "AlertFunctionRole", "kinesisvideo:GetClip")
    (grant,) = [grant for grant in grants if "CameraStreamNamePrefix" in references(grant)]
    # when
    pattern = resolver(template, {"CameraStreamNamePrefix": "seoul-"}).resolve(grant)
    # then
    assert pattern == "arn:aws:kinesisvideo:eu-west-1:111122223333:stream/seoul-*/*"
    assert fnmatch.fnmatchcase("arn:aws:kinesisvideo:eu-west-1:111122223333:stream/seoul-lobby/1731900000000", pattern)
    assert not fnmatch.fnmatchcase("arn:aws:kinesisvideo:eu-west-1:111122223333:stream/busan-lobby/17", pattern)


@pytest.mark.parametrize(
    ("overrides", "domain_arn"),
    [
        ({}, "arn:aws:es:eu-west-1:111122223333:domain/facewatch-alerts"),
        (
            {
                "OpenSearchEndpoint": "search-x.eu-west-1.es.amazonaws.com",
                "ExistingOpenSearchDomainArn": "arn:aws:es:eu-west-1:111122223333:domain/existing",
            },
            "arn:aws:es:eu-west-1:111122223333:domain/existing",
        ),
    ],
)
def test_alerter_may_index_in_the_domain_it_writes_to(
    template: dict[str, Any], deployed: dict[str, Any], overrides: dict[str, str], domain_arn: str
) -> None:
    # given: index templates and documents are PUT, bulk requests POSTed
    grants = [
        *granted(deployed, "AlertFunctionRole", "es:ESHttpPut"),
        *granted(deployed, "AlertFunctionRole", "es:ESHttpPost"),
    ]
    # when
    resources = [resolver(template, overrides).resolve(grant) for grant in grants]
    # then
    assert resources == [f"{domain_arn}/*", f"{domain_arn}/*"]


def test_created_domain_admits_only_the_alerter_and_console_roles(template: dict[str, Any]) -> None:
    # given: the default parameters (no DashboardsPrincipalArn)
    roles = {
        "AlertFunctionRole": PhysicalResource("alerter", {"Arn": "arn:aws:iam::111122223333:role/alerter"}),
        "ConsoleActionsFunctionRole": PhysicalResource("console", {"Arn": "arn:aws:iam::111122223333:role/console"}),
    }
    # when
    statements = resolver(template, resources=roles).resolve(
        properties(template, "AlertSearchDomain")["AccessPolicies"]["Statement"]
    )
    # then
    alerter, console = statements
    assert alerter["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/alerter"}
    assert set(alerter["Action"]) <= {"es:ESHttpPut", "es:ESHttpPost", "es:ESHttpGet"}
    assert console["Principal"] == {"AWS": "arn:aws:iam::111122223333:role/console"}
    assert set(console["Action"]) == {"es:ESHttpPut", "es:ESHttpPost"}
    for statement in statements:
        assert statement["Resource"] == "arn:aws:es:eu-west-1:111122223333:domain/facewatch-alerts/*"


def test_alerter_role_names_the_domain_without_depending_on_it(template: dict[str, Any]) -> None:
    # given: the function's environment depends on the domain, and the domain's policy on the role
    role = properties(template, "AlertFunctionRole")
    # then: so the role must depend on neither, or the stack has a cycle
    assert references(role) & {"AlertSearchDomain", "AlertFunction"} == set()
    assert "AlertFunctionRole" in references(properties(template, "AlertSearchDomain"))
