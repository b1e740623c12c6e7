"""DetectionMode: what each expansion deploys (image: no stream processor, the proxy identity; stream: today's
processors), and the site proxies' identity (ProxyRole, ProxyRoleAlias, ProxyIotPolicy) with least privilege."""

from __future__ import annotations

import fnmatch
from collections import Counter
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import PhysicalResource, Resolver, nested_template, resolve_parameters
from facewatch_local.stack import deploy_emulated_stack
from tests.template.reading import PSEUDO_PARAMETERS, resolver, sam_transform
from tests.template.test_camera_fleet import (
    ACCOUNT,
    CAMERAS,
    DOCUMENTED_MAX_CAMERAS,
    PARENT_RESOURCES,
    STACK,
    created_resources,
    overrides,
    rendered,
    statements,
)

PROXY_OUTPUTS = {"ProxyRoleAliasName", "ProxyRoleArn", "ProxyIotPolicyName"}
CREATED = {
    **PARENT_RESOURCES,
    "ProxyRole": PhysicalResource("proxy", {"Arn": f"arn:aws:iam::{ACCOUNT.split(':')[1]}:role/proxy"}),
    "ProxyRoleAlias": PhysicalResource(
        f"{STACK}-proxy", {"RoleAliasArn": f"arn:aws:iot:{ACCOUNT}:rolealias/{STACK}-proxy"}
    ),
    "ProxyIotPolicy": PhysicalResource(f"{STACK}-proxy"),
    "ClipBucket": PhysicalResource("clips", {"Arn": "arn:aws:s3:::clips"}),
}


def expansion(mode: str, cameras: tuple[str, ...] = CAMERAS) -> Counter[str]:
    """Resource types a deployment in `mode` creates: the parent after the SAM transform, and each camera's
    nested stack with the parameters the parent passes it."""
    parent = sam_transform(rendered(cameras))
    parent_created = created_resources(parent, **overrides(cameras, DetectionMode=mode))
    types = Counter(definition["Type"] for definition in parent_created.values())
    deployment = resolver(parent, overrides(cameras, DetectionMode=mode), resources=CREATED)
    for logical_id, definition in parent_created.items():
        if definition["Type"] != "AWS::CloudFormation::Stack":
            continue
        nested = nested_template(definition, logical_id)
        passed = deployment.resolve(definition["Properties"]["Parameters"])
        nested_deployment = Resolver(nested, resolve_parameters(nested, passed), PSEUDO_PARAMETERS)
        types.update(
            d["Type"] for nested_id, d in nested["Resources"].items() if nested_deployment.is_created(nested_id)
        )
    return types


def proxy_grants(mode: str, **parameters: str) -> dict[str, dict[str, Any]]:
    """ProxyRole's statements by Sid, as a deployment in `mode` resolves them."""
    template = rendered()
    role = created_resources(template, **overrides(DetectionMode=mode, **parameters))["ProxyRole"]
    deployment = resolver(template, overrides(DetectionMode=mode, **parameters), resources=CREATED)
    return {statement["Sid"]: deployment.resolve(statement) for statement in statements(role)}


# --- The two expansions ------------------------------------------------------------------------------


def test_image_mode_is_the_default(template: dict[str, Any]) -> None:
    # then: a new account cannot create stream processors (closed 2026-04-30)
    assert template["Parameters"]["DetectionMode"]["Default"] == "image"
    assert template["Parameters"]["DetectionMode"]["AllowedValues"] == ["image", "stream"]


def test_the_image_expansion_has_no_stream_processor_and_has_the_proxy_identity() -> None:
    # when
    types = expansion("image")
    # then: per camera a video stream and an offline alarm; the samplers write to FaceSearchStream
    assert types["AWS::Rekognition::StreamProcessor"] == 0
    assert types["Custom::StreamProcessorControl"] == 0
    # one role per function (the stack's functions grow with features: detector, alerter, console...) and
    # ProxyRole; no stream-processor role
    assert types["AWS::IAM::Role"] == types["AWS::Lambda::Function"] + 1
    assert (types["AWS::IoT::RoleAlias"], types["AWS::IoT::Policy"]) == (1, 1)
    assert types["AWS::KinesisVideo::Stream"] == len(CAMERAS)
    assert types["AWS::Kinesis::Stream"] == 1
    assert types["AWS::CloudFormation::Stack"] == len(CAMERAS)


def test_the_stream_expansion_is_todays_fleet_plus_the_proxy_identity() -> None:
    # when
    types = expansion("stream")
    # then
    assert types["AWS::Rekognition::StreamProcessor"] == len(CAMERAS)
    assert types["Custom::StreamProcessorControl"] == len(CAMERAS)
    assert types["AWS::Kinesis::Stream"] == 1 + len(CAMERAS)
    assert types["AWS::Lambda::EventSourceMapping"] - expansion("image")["AWS::Lambda::EventSourceMapping"] == len(
        CAMERAS
    )
    assert (types["AWS::IoT::RoleAlias"], types["AWS::IoT::Policy"]) == (1, 1)


def test_each_expansion_counts_its_resources() -> None:
    # when
    image, stream = expansion("image"), expansion("stream")
    one_camera_fewer = expansion("image", CAMERAS[:-1])
    # then: image mode costs 4 resources a camera in all (nested stack, video stream, offline and quarantine
    # alarms), stream mode 9
    assert sum(image.values()) - sum(one_camera_fewer.values()) == 4
    assert sum(stream.values()) - sum(image.values()) == len(CAMERAS) * 5 + 3


@pytest.mark.parametrize("mode", ["image", "stream"])
def test_the_largest_fleet_loads_in_the_local_emulation(aws: boto3.session.Session, mode: str) -> None:
    # given: the most cameras a stack is documented to hold
    cameras = tuple(f"Cam{number:03d}" for number in range(DOCUMENTED_MAX_CAMERAS))
    # when
    stack = deploy_emulated_stack(aws, parameter_overrides=overrides(cameras, DetectionMode=mode))
    parent = rendered(cameras)
    # then
    assert stack.face_search_stream_name
    assert sum(1 for logical_id in parent["Resources"] if logical_id.endswith("Stack")) == len(cameras)


# --- The proxy identity ------------------------------------------------------------------------------


def test_the_proxy_role_is_assumed_only_through_the_iot_credentials_provider(template: dict[str, Any]) -> None:
    # when
    (trust,) = template["Resources"]["ProxyRole"]["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # then
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "credentials.iot.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }


def test_the_role_alias_points_at_the_proxy_role_and_the_iot_policy_allows_only_it(template: dict[str, Any]) -> None:
    # given
    deployment = resolver(template, resources=CREATED)
    # when
    alias = deployment.resolve(template["Resources"]["ProxyRoleAlias"]["Properties"])
    (statement,) = deployment.resolve(template["Resources"]["ProxyIotPolicy"]["Properties"]["PolicyDocument"])[
        "Statement"
    ]
    # then
    assert alias["RoleArn"] == CREATED["ProxyRole"].attributes["Arn"]
    assert alias["RoleAlias"] == f"{STACK}-proxy"
    assert int(alias["CredentialDurationSeconds"]) <= 3600
    assert statement == {
        "Effect": "Allow",
        "Action": "iot:AssumeRoleWithCertificate",
        "Resource": CREATED["ProxyRoleAlias"].attributes["RoleAliasArn"],
    }


def test_the_proxy_outputs_exist_whatever_the_mode(template: dict[str, Any]) -> None:
    # when
    outputs = {name: template["Outputs"][name] for name in PROXY_OUTPUTS}
    deployment = resolver(template, resources=CREATED)
    # then: the CLI and the docs read ProxyRoleAliasName
    assert all("Condition" not in output for output in outputs.values())
    assert deployment.resolve(outputs["ProxyRoleAliasName"]["Value"]) == f"{STACK}-proxy"
    assert deployment.resolve(outputs["ProxyRoleArn"]["Value"]) == CREATED["ProxyRole"].attributes["Arn"]


def test_in_stream_mode_the_proxy_may_only_stream_its_cameras_and_read_their_urls() -> None:
    # when
    grants = proxy_grants("stream")
    # then
    assert set(grants) == {
        "StreamOwnCameras",
        "ReadOwnCameraUrls",
        "ReadOwnCameraUrlParameters",
        "UploadUnderOwnPrefix",
    }


def test_in_image_mode_the_proxy_may_also_find_faces_write_records_and_publish_its_metrics() -> None:
    # when
    grants = proxy_grants("image")
    # then
    assert set(grants) == {
        "StreamOwnCameras",
        "ReadOwnCameraUrls",
        "ReadOwnCameraUrlParameters",
        "UploadUnderOwnPrefix",
        "FindFaces",
        "SearchEmployeeCollection",
        "WriteFaceSearchRecords",
        "PublishSamplerMetrics",
    }


def test_the_proxy_streams_only_this_stacks_cameras() -> None:
    # given
    grant = proxy_grants("image")["StreamOwnCameras"]
    # then: what kvssink, the health check and the sampler call; never CreateStream
    assert set(grant["Action"]) == {
        "kinesisvideo:DescribeStream",
        "kinesisvideo:GetDataEndpoint",
        "kinesisvideo:PutMedia",
        "kinesisvideo:ListFragments",
    }
    assert fnmatch.fnmatchcase(
        f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{STACK}_Lobby01/1731900000000", grant["Resource"]
    )
    assert not fnmatch.fnmatchcase(f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{STACK}-busan_Lobby01/17", grant["Resource"])


def test_the_proxy_reads_only_this_stacks_camera_url_secrets() -> None:
    # given
    grants = proxy_grants("image")
    # then
    secret, parameter = grants["ReadOwnCameraUrls"]["Resource"], grants["ReadOwnCameraUrlParameters"]["Resource"]
    assert fnmatch.fnmatchcase(f"arn:aws:secretsmanager:{ACCOUNT}:secret:{STACK}/Lobby01/rtsp-url-AbCdEf", secret)
    assert not fnmatch.fnmatchcase(f"arn:aws:secretsmanager:{ACCOUNT}:secret:payroll/db-AbCdEf", secret)
    assert fnmatch.fnmatchcase(f"arn:aws:ssm:{ACCOUNT}:parameter/{STACK}/Lobby01/rtsp-url", parameter)


def test_the_proxy_uploads_only_under_its_edge_prefix() -> None:
    # given
    grant = proxy_grants("image")["UploadUnderOwnPrefix"]
    # then: edge/<camera id>/..., never over the alerter's clips
    assert grant["Action"] == "s3:PutObject"
    assert fnmatch.fnmatchcase(f"arn:aws:s3:::clips/edge/{STACK}_Lobby01/1731900000000.jpg", grant["Resource"])
    assert not fnmatch.fnmatchcase("arn:aws:s3:::clips/clips/alert-1.mp4", grant["Resource"])


@pytest.mark.parametrize(("existing", "collection"), [("", f"{STACK}-employees"), ("acme-employees", "acme-employees")])
def test_the_proxy_searches_only_the_employee_collection(existing: str, collection: str) -> None:
    # given
    grants = proxy_grants("image", ExistingEmployeeCollectionId=existing)
    # then
    assert set(grants["SearchEmployeeCollection"]["Action"]) == {
        "rekognition:SearchFacesByImage",
        "rekognition:SearchUsersByImage",
    }
    assert grants["SearchEmployeeCollection"]["Resource"] == f"arn:aws:rekognition:{ACCOUNT}:collection/{collection}"
    assert grants["FindFaces"]["Action"] == "rekognition:DetectFaces"


def test_the_proxy_writes_records_only_to_the_stream_the_detector_reads() -> None:
    # given
    grants = proxy_grants("image")
    # then
    assert set(grants["WriteFaceSearchRecords"]["Action"]) == {"kinesis:PutRecord", "kinesis:PutRecords"}
    assert grants["WriteFaceSearchRecords"]["Resource"] == PARENT_RESOURCES["FaceSearchStream"].attributes["Arn"]


def test_the_proxy_publishes_metrics_only_in_the_samplers_namespace() -> None:
    # given
    grant = proxy_grants("image", SamplerMetricsNamespace="Acme/Sampler")["PublishSamplerMetrics"]
    # then
    assert grant["Action"] == "cloudwatch:PutMetricData"
    assert grant["Condition"] == {"StringEquals": {"cloudwatch:namespace": "Acme/Sampler"}}


def test_edge_uploads_expire_with_the_snapshots(template: dict[str, Any]) -> None:
    # when: what site proxies upload (ProxyRole, edge/<camera id>/...) is the image-mode alert's snapshot
    rules = template["Resources"]["ClipBucket"]["Properties"]["LifecycleConfiguration"]["Rules"]
    # then
    assert {
        "Id": "ExpireEdgeFrames",
        "Status": "Enabled",
        "Prefix": "edge/",
        "ExpirationInDays": {"Ref": "SnapshotRetentionDays"},
    } in rules
