"""The camera fleet: what CameraNames provisions in each detection mode (one nested stack per camera,
templates/camera.yaml), how it is wired into the detector and the alerter, what its roles may do, and that
an empty CameraNames leaves the stack as it was."""

from __future__ import annotations

import copy
import fnmatch
import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import (
    NO_VALUE,
    TEMPLATE_PATH,
    PhysicalResource,
    Resolver,
    load_template,
    nested_template,
    read_template,
    resolve_parameters,
)
from facewatch_local.stack import deploy_emulated_stack
from tests.support.docs import page
from tests.template.reading import PSEUDO_PARAMETERS, references, resolver, sam_transform, sam_transformed

from facewatch.config import DetectorSettings
from facewatch.domain.records import camera_id_from_stream_arn
from facewatch.domain.stream_processor import processor_name
from facewatch.services.processor_control import ANSWER_MARGIN_SECONDS

CAMERAS = ("Lobby01", "Floor3East", "ParkingB1")
STREAM = {"DetectionMode": "stream"}
# In either mode, the alarm on the detector's quarantined records of the camera (docs/reliability.md).
QUARANTINE_ALARM = {"QuarantineAlarm": "AWS::CloudWatch::Alarm"}
# Per camera in stream mode, 7 resources in its nested stack (docs/stream-mode.md), and the quarantine alarm.
PER_STREAM_CAMERA = QUARANTINE_ALARM | {
    "VideoStream": "AWS::KinesisVideo::Stream",
    "FaceSearchStream": "AWS::Kinesis::Stream",
    "ProcessorRole": "AWS::IAM::Role",
    "StreamProcessor": "AWS::Rekognition::StreamProcessor",
    "ProcessorControl": "Custom::StreamProcessorControl",
    "FaceSearchRecords": "AWS::Lambda::EventSourceMapping",
    "SilentAlarm": "AWS::CloudWatch::Alarm",
    "QuarantineAlarm": "AWS::CloudWatch::Alarm",
}
# Per camera in image mode, 3: the video stream, the offline alarm on the sampler's heartbeat and the
# alarm on quarantined records (a camera whose clock runs ahead).
PER_IMAGE_CAMERA = {
    "VideoStream": "AWS::KinesisVideo::Stream",
    "OfflineAlarm": "AWS::CloudWatch::Alarm",
    "QuarantineAlarm": "AWS::CloudWatch::Alarm",
}
# Per camera in image mode: the video stream, the offline alarm on the sampler's heartbeat, the quarantine alarm.
PER_IMAGE_CAMERA = QUARANTINE_ALARM | {
    "VideoStream": "AWS::KinesisVideo::Stream",
    "OfflineAlarm": "AWS::CloudWatch::Alarm",
}
# What the camera fleet, the employee collection and the proxy identity added to the template.
CAMERA_PARAMETERS = {
    "CameraNames",
    "CameraVideoRetentionHours",
    "FaceMatchThreshold",
    "ExistingEmployeeCollectionId",
    "DetectionMode",
    "SamplerMetricsNamespace",
}
PROXY_RESOURCES = {"ProxyRole", "ProxyRoleAlias", "ProxyIotPolicy"}
FLEET_RESOURCES = {"ProcessorControlFunction", "ProcessorControlFunctionRole", "EmployeeCollection"} | PROXY_RESOURCES
FLEET_CONDITIONS = {"HasCameras", "HasStreamCameras", "ImageMode"}
CLOUDFORMATION_MAX_RESOURCES = 500
DOCUMENTED_MAX_CAMERAS = 400
STACK = PSEUDO_PARAMETERS["AWS::StackName"]
ACCOUNT = f"{PSEUDO_PARAMETERS['AWS::Region']}:{PSEUDO_PARAMETERS['AWS::AccountId']}"
STREAM_MODE_PAGE = page("stream-mode.md")
SAM = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")
# What the parent's resources answer when a nested stack's Parameters name them.
PARENT_RESOURCES = {
    "OpsAlarmTopic": PhysicalResource(f"arn:aws:sns:{ACCOUNT}:ops"),
    "EmployeeCollection": PhysicalResource(f"{STACK}-employees"),
    "ProcessorControlFunction": PhysicalResource("pc", {"Arn": f"arn:aws:lambda:{ACCOUNT}:function:pc"}),
    "DetectorFunction": PhysicalResource("detector", {"Arn": f"arn:aws:lambda:{ACCOUNT}:function:detector"}),
    "DetectorDeadLetterQueue": PhysicalResource("dlq-url", {"Arn": f"arn:aws:sqs:{ACCOUNT}:dlq"}),
    "FaceSearchStream": PhysicalResource("face-search", {"Arn": f"arn:aws:kinesis:{ACCOUNT}:stream/face-search"}),
}


@cache
def _rendered(cameras: tuple[str, ...]) -> dict[str, Any]:
    return load_template(parameter_overrides={"CameraNames": ",".join(cameras)})


def rendered(cameras: tuple[str, ...] = CAMERAS) -> dict[str, Any]:
    """template.yaml as the SAM transform receives it for a stack with these cameras."""
    return copy.deepcopy(_rendered(cameras))


@cache
def _camera_template() -> dict[str, Any]:
    return nested_template(rendered()["Resources"]["CameraLobby01Stack"], "CameraLobby01Stack")


def camera_template() -> dict[str, Any]:
    """templates/camera.yaml: every camera's nested stack."""
    return copy.deepcopy(_camera_template())


def camera_resource(part: str) -> dict[str, Any]:
    return camera_template()["Resources"][part]  # type: ignore[no-any-return]


def overrides(cameras: tuple[str, ...] = CAMERAS, /, **more: str) -> dict[str, str]:
    return {"CameraNames": ",".join(cameras), **more}


def camera_stack(camera: str, **parameters: str) -> Resolver:
    """Resolves templates/camera.yaml as the nested stack of `camera` in a deployment with these parameters."""
    parent = rendered()
    deployment = resolver(parent, overrides(**parameters), resources=PARENT_RESOURCES)
    passed = deployment.resolve(parent["Resources"][f"Camera{camera}Stack"]["Properties"]["Parameters"])
    nested = camera_template()
    name = f"{STACK}_{camera}"
    created = {
        "VideoStream": PhysicalResource(name, {"Arn": f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{name}/1"}),
        "FaceSearchStream": PhysicalResource(name, {"Arn": f"arn:aws:kinesis:{ACCOUNT}:stream/{name}"}),
    }
    return Resolver(nested, resolve_parameters(nested, passed), PSEUDO_PARAMETERS, created)


def statements(role: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for policy in role["Properties"]["Policies"] for s in policy["PolicyDocument"]["Statement"]]


def created_resources(template: dict[str, Any], **parameters: str) -> dict[str, Any]:
    """The resources a deployment with these parameters creates, each Fn::If decided and NoValue dropped."""
    deployment = resolver(template, parameters)

    def decide(value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (decide(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"}:
            condition, if_true, if_false = value["Fn::If"]
            return decide(if_true if deployment.condition(condition) else if_false)
        if value == {"Ref": "AWS::NoValue"}:
            return NO_VALUE
        decided = {key: decide(item) for key, item in value.items()}
        return {key: item for key, item in decided.items() if item is not NO_VALUE}

    return {
        logical_id: decide(definition)
        for logical_id, definition in template["Resources"].items()
        if deployment.is_created(logical_id)
    }


def without_camera_fleet(template: dict[str, Any]) -> dict[str, Any]:
    """The template as it was before the camera fleet: without the loop, what the fleet conditions guard, the
    employee collection and the proxy identity. The console (Console*, which came later and enrols into the
    collection) is left out too: `console` and `mentions_console` say what of it the deployed stack holds."""

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (strip(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"} and value["Fn::If"][0] in FLEET_CONDITIONS:
            otherwise = value["Fn::If"][2]
            return NO_VALUE if otherwise == {"Ref": "AWS::NoValue"} else strip(otherwise)
        stripped = {key: strip(item) for key, item in value.items()}
        return {key: item for key, item in stripped.items() if item is not NO_VALUE}

    resources = {
        logical_id: strip(definition)
        for logical_id, definition in template["Resources"].items()
        if not logical_id.startswith("Fn::ForEach::")
        and definition.get("Condition") not in FLEET_CONDITIONS
        and logical_id not in {"EmployeeCollection"} | PROXY_RESOURCES
        and not logical_id.startswith("Console")
    }
    return {**template, "Resources": resources, "Transform": "AWS::Serverless-2016-10-31"}


def console(logical_id: str) -> bool:
    return logical_id.startswith("Console")


def mentions_console(definition: Any) -> bool:
    """Whether a resource names one of the console's (the alerter's console link, the domain's grant)."""
    return "Console" in json.dumps(definition)


# --- What each camera gets -------------------------------------------------------------------------


def test_each_camera_is_one_nested_stack_under_has_cameras() -> None:
    # when
    template = rendered()
    # then: one resource per camera in the parent, whichever the mode
    for camera in CAMERAS:
        definition = template["Resources"][f"Camera{camera}Stack"]
        assert (definition["Type"], definition["Condition"]) == ("AWS::CloudFormation::Stack", "HasCameras")
        assert definition["Properties"]["TemplateURL"] == "templates/camera.yaml"


def test_named_cameras_are_created() -> None:
    # when
    deployment = resolver(rendered(), overrides())
    # then
    assert deployment.condition("HasCameras")
    assert all(deployment.is_created(f"Camera{camera}Stack") for camera in CAMERAS)


@pytest.mark.parametrize(("mode", "parts"), [("stream", PER_STREAM_CAMERA), ("image", PER_IMAGE_CAMERA)])
def test_each_mode_creates_its_own_resources_per_camera(mode: str, parts: dict[str, str]) -> None:
    # when
    deployment = camera_stack("Lobby01", DetectionMode=mode)
    created = {
        logical_id: definition["Type"]
        for logical_id, definition in camera_template()["Resources"].items()
        if deployment.is_created(logical_id)
    }
    # then
    assert created == parts


def test_the_parent_passes_every_parameter_the_camera_template_declares() -> None:
    # given
    passed = rendered()["Resources"]["CameraLobby01Stack"]["Properties"]["Parameters"]
    # then: CloudFormation refuses a nested stack given unknown parameters or missing required ones
    assert set(passed) == set(camera_template()["Parameters"])


def test_each_stream_camera_has_a_silence_alarm_on_its_own_data_stream() -> None:
    # given
    deployment = camera_stack("Lobby01", **STREAM)
    alarm = camera_resource("SilentAlarm")["Properties"]
    stream = deployment.resolve_string(camera_resource("FaceSearchStream")["Properties"]["Name"])
    # when
    [dimension] = deployment.resolve(alarm["Dimensions"])
    # then: no record at all for 10 minutes (missing data counts) tells the operators, not the security team
    assert dimension == {"Name": "StreamName", "Value": stream}
    assert (alarm["MetricName"], alarm["ComparisonOperator"], alarm["Threshold"]) == (
        "IncomingRecords",
        "LessThanThreshold",
        1,
    )
    assert alarm["TreatMissingData"] == "breaching"
    assert deployment.resolve(alarm["AlarmActions"]) == [PARENT_RESOURCES["OpsAlarmTopic"].ref]


@pytest.mark.parametrize("mode", ["image", "stream"])
def test_each_camera_alarms_on_its_quarantined_records_in_either_mode(mode: str) -> None:
    # given: a camera whose records keep arriving but are quarantined is as blind as a silent one
    deployment = camera_stack("Lobby01", DetectionMode=mode)
    camera_id = deployment.resolve_string(camera_resource("VideoStream")["Properties"]["Name"])
    # when
    alarm = deployment.resolve(camera_resource("QuarantineAlarm")["Properties"])
    # then: the metric the detector emits for this camera (tests/integration/test_detector_visibility.py)
    assert deployment.is_created("QuarantineAlarm")
    assert (alarm["Namespace"], alarm["MetricName"]) == ("Facewatch", "QuarantinedRecords")
    assert {d["Name"]: d["Value"] for d in alarm["Dimensions"]} == {
        "CameraId": camera_id,
        "service": "facewatch-detector",
    }
    assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["TreatMissingData"]) == (
        "GreaterThanThreshold",
        0,
        "notBreaching",
    )
    assert alarm["AlarmActions"] == [PARENT_RESOURCES["OpsAlarmTopic"].ref]


def test_a_camera_is_named_stack_underscore_camera_in_every_service() -> None:
    # given
    deployment = camera_stack("Lobby01", FaceMatchThreshold="85", **STREAM)
    # when
    names = {
        part: deployment.resolve_string(camera_resource(part)["Properties"]["Name"])
        for part in ("VideoStream", "FaceSearchStream", "StreamProcessor")
    }
    # then: the processor's name carries the threshold, so a threshold change can replace it
    assert names == {
        "VideoStream": f"{STACK}_Lobby01",
        "FaceSearchStream": f"{STACK}_Lobby01",
        "StreamProcessor": f"{STACK}_Lobby01_85",
    }


@pytest.mark.parametrize("mode", ["image", "stream"])
def test_the_camera_id_in_alerts_is_the_video_stream_name(mode: str) -> None:
    # given
    name = camera_stack("Floor3East", DetectionMode=mode).resolve_string(
        camera_resource("VideoStream")["Properties"]["Name"]
    )
    # when: the detector reads the camera id from each record's KVS stream ARN
    camera_id = camera_id_from_stream_arn(f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{name}/1731900000000")
    # then
    assert camera_id == f"{STACK}_Floor3East"


def test_video_is_kept_for_the_retention_parameter_at_least_a_day(template: dict[str, Any]) -> None:
    # given: GetClip needs a retention above 0
    video = camera_resource("VideoStream")["Properties"]
    spec = template["Parameters"]["CameraVideoRetentionHours"]
    # when
    hours = camera_stack("Lobby01", CameraVideoRetentionHours="48").resolve(video["DataRetentionInHours"])
    # then
    assert hours == "48"
    assert (spec["Default"], spec["MinValue"]) == (24, 24)


def test_camera_data_stream_is_encrypted_like_face_search_stream(template: dict[str, Any]) -> None:
    # when
    camera = camera_resource("FaceSearchStream")["Properties"]
    shared = template["Resources"]["FaceSearchStream"]["Properties"]
    # then
    assert {key: value for key, value in camera.items() if key != "Name"} == shared


def test_processor_reads_its_own_video_and_writes_its_own_stream_through_its_own_role() -> None:
    # when
    processor = camera_resource("StreamProcessor")["Properties"]
    # then
    assert processor["KinesisVideoStream"] == {"Arn": {"Fn::GetAtt": ["VideoStream", "Arn"]}}
    assert processor["KinesisDataStream"] == {"Arn": {"Fn::GetAtt": ["FaceSearchStream", "Arn"]}}
    assert processor["RoleArn"] == {"Fn::GetAtt": ["ProcessorRole", "Arn"]}


@pytest.mark.parametrize(
    ("existing", "collection"),
    [("", "facewatch-test-employees"), ("acme-employees", "acme-employees")],
)
def test_processor_searches_the_employee_collection_at_the_threshold(existing: str, collection: str) -> None:
    # given
    deployment = camera_stack("Lobby01", ExistingEmployeeCollectionId=existing, **STREAM)
    # when
    settings = deployment.resolve(camera_resource("StreamProcessor")["Properties"]["FaceSearchSettings"])
    # then
    assert settings == {"CollectionId": collection, "FaceMatchThreshold": "80"}


def test_face_match_threshold_cannot_go_below_what_rekognition_applies(template: dict[str, Any]) -> None:
    # given: Rekognition raises a lower FaceMatchThreshold to 80
    spec = template["Parameters"]["FaceMatchThreshold"]
    nested = camera_template()["Parameters"]["FaceMatchThreshold"]
    # then
    assert (spec["Default"], spec["MinValue"], spec["MaxValue"]) == (80, 80, 100)
    assert (nested["MinValue"], nested["MaxValue"]) == (80, 100)


def test_the_stack_creates_the_employee_collection_unless_one_is_given(template: dict[str, Any]) -> None:
    # given
    created = {"EmployeeCollection": PhysicalResource("facewatch-test-employees")}
    output = template["Outputs"]["EmployeeCollectionId"]["Value"]
    # when
    own = resolver(template, resources=created)
    shared = resolver(template, {"ExistingEmployeeCollectionId": "acme-employees"}, resources=created)
    # then
    assert (own.is_created("EmployeeCollection"), own.resolve(output)) == (True, "facewatch-test-employees")
    assert (shared.is_created("EmployeeCollection"), shared.resolve(output)) == (False, "acme-employees")
    assert own.resolve(template["Resources"]["EmployeeCollection"]["Properties"]) == {
        "CollectionId": "facewatch-test-employees"
    }


def test_the_employee_collection_outlives_the_stack(template: dict[str, Any]) -> None:
    # given: enrolled faces are work to redo
    collection = template["Resources"]["EmployeeCollection"]
    # then
    assert (collection["DeletionPolicy"], collection["UpdateReplacePolicy"]) == ("Retain", "Retain")


# --- Image mode: the offline alarm on the sampler's heartbeat --------------------------------------


def test_each_image_camera_alarms_when_its_sampler_heartbeat_says_offline_or_stops() -> None:
    # given: facewatch_sampler/metrics.py publishes CameraOnline (1/0) per CameraId every minute
    deployment = camera_stack("Lobby01", SamplerMetricsNamespace="Acme/Sampler")
    alarm = deployment.resolve(camera_resource("OfflineAlarm")["Properties"])
    # then: offline (0) or silent (no datapoint: the sampler or its host is down) for 10 minutes
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Dimensions"]) == (
        "Acme/Sampler",
        "CameraOnline",
        [{"Name": "CameraId", "Value": f"{STACK}_Lobby01"}],
    )
    assert (alarm["Statistic"], alarm["ComparisonOperator"], alarm["Threshold"]) == ("Maximum", "LessThanThreshold", 1)
    assert alarm["Period"] * alarm["EvaluationPeriods"] == 600
    assert alarm["TreatMissingData"] == "breaching"
    assert alarm["AlarmActions"] == alarm["OKActions"] == [PARENT_RESOURCES["OpsAlarmTopic"].ref]


def test_the_offline_alarm_reads_the_metric_the_sampler_publishes() -> None:
    # given: the sampler's own publisher, on a recording client
    from facewatch_sampler.metrics import SamplerMetrics
    from facewatch_sampler.stats import SamplerStats

    class Recorder:
        calls: list[dict[str, Any]] = []

        def put_metric_data(self, **kwargs: Any) -> None:
            self.calls.append(kwargs)

    recorder = Recorder()
    stats = SamplerStats(camera_id=f"{STACK}_Lobby01")
    stats.online = True
    SamplerMetrics("Facewatch/Sampler", f"{STACK}_Lobby01", client=recorder).publish(stats)  # type: ignore[arg-type]
    alarm = camera_stack("Lobby01").resolve(camera_resource("OfflineAlarm")["Properties"])
    # when
    [call] = recorder.calls
    heartbeat = next(datum for datum in call["MetricData"] if datum["MetricName"] == alarm["MetricName"])
    # then
    assert call["Namespace"] == alarm["Namespace"]
    assert heartbeat["Dimensions"] == alarm["Dimensions"]
    assert heartbeat["Value"] >= alarm["Threshold"]


# --- Stream mode: the detector reads every camera with today's settings ----------------------------


def test_each_camera_mapping_has_the_detector_events_settings() -> None:
    # given: what is deployed, after the SAM transform
    parent = sam_transform(rendered())
    todays = resolver(parent, overrides(**STREAM), resources=PARENT_RESOURCES).resolve(
        parent["Resources"]["DetectorFunctionFaceSearchRecords"]["Properties"]
    )
    # when
    for camera in CAMERAS:
        mapping = camera_stack(camera, **STREAM).resolve(camera_resource("FaceSearchRecords")["Properties"])
        # then: everything but the stream is the same, the tunables the same Parameters
        assert {key: value for key, value in mapping.items() if key != "EventSourceArn"} == {
            key: value for key, value in todays.items() if key != "EventSourceArn"
        }
        assert mapping["EventSourceArn"] == f"arn:aws:kinesis:{ACCOUNT}:stream/{STACK}_{camera}"


def test_the_detector_keeps_its_face_search_stream_mapping_in_both_modes() -> None:
    # then: image-mode samplers write to it, and stream-mode teams may run their own processors into it
    assert "FaceSearchRecords" in rendered()["Resources"]["DetectorFunction"]["Properties"]["Events"]


def test_detector_may_read_every_camera_data_stream_and_no_other_stacks() -> None:
    # given
    template = rendered()
    grants = {
        s["Sid"]: s for s in statements(created_resources(template, **overrides(**STREAM))["DetectorFunctionRole"])
    }
    grant = grants["ReadCameraFaceSearchStreams"]
    # when
    pattern = resolver(template, overrides(**STREAM)).resolve_string(grant["Resource"])
    # then: what the mapping on FaceSearchStream needs, on every camera's stream
    assert grant["Action"] == grants["ReadFaceSearchStream"]["Action"]
    for camera in CAMERAS:
        assert fnmatch.fnmatchcase(f"arn:aws:kinesis:{ACCOUNT}:stream/{STACK}_{camera}", pattern)
    # "_" cannot occur in a stack name: another stack whose name starts with this one's is not matched
    assert not fnmatch.fnmatchcase(f"arn:aws:kinesis:{ACCOUNT}:stream/{STACK}-busan_Lobby01", pattern)


def test_in_image_mode_the_detector_reads_no_camera_data_stream() -> None:
    # when
    role = created_resources(rendered(), **overrides())["DetectorFunctionRole"]
    # then: every sampler writes to FaceSearchStream
    assert "ReadCameraFaceSearchStreams" not in {s["Sid"] for s in statements(role)}


@pytest.mark.parametrize("mode", ["image", "stream"])
def test_alerter_may_fetch_clips_from_every_camera_whatever_the_prefix(mode: str) -> None:
    # given
    template = rendered()
    deployment = resolver(template, overrides(CameraStreamNamePrefix="seoul-", DetectionMode=mode))
    role = created_resources(template, **overrides(CameraStreamNamePrefix="seoul-", DetectionMode=mode))[
        "AlertFunctionRole"
    ]
    (grant,) = [s for s in statements(role) if s.get("Sid") == "ReadOwnCameraClips"]
    # when
    pattern = deployment.resolve_string(grant["Resource"])
    # then
    assert set(grant["Action"]) == {"kinesisvideo:GetDataEndpoint", "kinesisvideo:GetClip", "kinesisvideo:GetImages"}
    assert fnmatch.fnmatchcase(f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{STACK}_Lobby01/1731900000000", pattern)
    assert not fnmatch.fnmatchcase(f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{STACK}-busan_Lobby01/17", pattern)


# --- The processor's role and the custom resource that runs it -------------------------------------


def test_processor_role_trusts_only_rekognition_on_behalf_of_this_account() -> None:
    # when
    (trust,) = camera_resource("ProcessorRole")["Properties"]["AssumeRolePolicyDocument"]["Statement"]
    # then
    assert trust == {
        "Effect": "Allow",
        "Principal": {"Service": "rekognition.amazonaws.com"},
        "Action": "sts:AssumeRole",
        "Condition": {"StringEquals": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}},
    }


def test_processor_role_may_only_read_its_own_video_and_write_its_own_stream() -> None:
    # when
    granted = {
        action: statement["Resource"]
        for statement in statements(camera_resource("ProcessorRole"))
        for action in statement["Action"]
    }
    # then
    video = {"Fn::GetAtt": ["VideoStream", "Arn"]}
    records = {"Fn::GetAtt": ["FaceSearchStream", "Arn"]}
    assert granted == {
        "kinesisvideo:GetDataEndpoint": video,
        "kinesisvideo:GetMedia": video,
        "kinesis:PutRecord": records,
        "kinesis:PutRecords": records,
    }


def test_processor_control_names_the_processor_as_its_handler_reads_it() -> None:
    # given
    deployment = camera_stack("Lobby01", **STREAM)
    control = camera_resource("ProcessorControl")["Properties"]
    name = deployment.resolve_string(camera_resource("StreamProcessor")["Properties"]["Name"])
    deployment.resources["StreamProcessor"] = PhysicalResource(
        name, {"Arn": f"arn:aws:rekognition:{ACCOUNT}:streamprocessor/{name}"}
    )
    # when
    properties = deployment.resolve(control)
    # then: a Fn::GetAtt, so CloudFormation deletes the control (stopping the processor) before the processor
    assert control["ProcessorArn"] == {"Fn::GetAtt": ["StreamProcessor", "Arn"]}
    assert properties["ServiceToken"] == PARENT_RESOURCES["ProcessorControlFunction"].attributes["Arn"]
    assert processor_name(properties) == name


def test_processor_control_answers_before_cloudformation_gives_up(template: dict[str, Any]) -> None:
    # given
    function = template["Resources"]["ProcessorControlFunction"]["Properties"]
    service_timeout = camera_resource("ProcessorControl")["Properties"]["ServiceTimeout"]
    # then: the function keeps time to answer; CloudFormation waits longer than one invocation
    assert function["Timeout"] == 300
    assert ANSWER_MARGIN_SECONDS < function["Timeout"] < service_timeout <= 3600


def test_processor_control_exists_only_for_stream_cameras() -> None:
    # given
    template = rendered()
    # then
    assert resolver(template, overrides(**STREAM)).is_created("ProcessorControlFunction")
    assert not resolver(template, overrides()).is_created("ProcessorControlFunction")
    assert not resolver(template, dict(STREAM)).is_created("ProcessorControlFunction")


def test_processor_control_may_only_start_and_stop_this_stacks_processors() -> None:
    # given
    template = rendered()
    role = created_resources(template, **overrides(**STREAM))["ProcessorControlFunctionRole"]
    (grant,) = [s for s in statements(role) if s["Sid"] == "StartAndStopOwnProcessors"]
    # when
    pattern = resolver(template, overrides(**STREAM)).resolve_string(grant["Resource"])
    # then
    assert set(grant["Action"]) == {
        "rekognition:DescribeStreamProcessor",
        "rekognition:StartStreamProcessor",
        "rekognition:StopStreamProcessor",
    }
    assert fnmatch.fnmatchcase(f"arn:aws:rekognition:{ACCOUNT}:streamprocessor/{STACK}_Lobby01_80", pattern)
    assert not fnmatch.fnmatchcase(f"arn:aws:rekognition:{ACCOUNT}:streamprocessor/{STACK}-busan_Lobby01_80", pattern)


# --- No cameras: today's stack ---------------------------------------------------------------------


def test_with_no_cameras_the_loop_runs_once_with_an_empty_name_and_creates_nothing(template: dict[str, Any]) -> None:
    # given: CloudFormation reads an empty CommaDelimitedList as [""]
    looped = [logical_id for logical_id in template["Resources"] if logical_id.startswith("Camera")]
    # when
    deployment = resolver(template)
    # then
    assert set(looped) == {"CameraStack", "CameraTable"}
    assert [logical_id for logical_id in looped if deployment.is_created(logical_id)] == ["CameraTable"]


def test_with_no_cameras_the_deployed_stack_is_todays_plus_the_collection_and_the_proxy_identity() -> None:
    # given: the template without the camera fleet, as it was
    todays = without_camera_fleet(read_template(TEMPLATE_PATH))
    # when
    deployed = created_resources(sam_transformed())
    before = created_resources(sam_transform(todays))
    # then
    assert {logical_id for logical_id in set(deployed) - set(before) if not console(logical_id)} == {
        "EmployeeCollection"
    } | PROXY_RESOURCES
    assert {
        logical_id: deployed[logical_id] for logical_id in before if not mentions_console(deployed[logical_id])
    } == {logical_id: definition for logical_id, definition in before.items() if not mentions_console(definition)}


def test_todays_resources_do_not_depend_on_the_camera_fleet() -> None:
    # when
    todays = without_camera_fleet(read_template(TEMPLATE_PATH))
    # then: what the comparison above takes out is all there is of the fleet
    assert references(todays["Resources"]) & (CAMERA_PARAMETERS | FLEET_RESOURCES) == set()


def test_what_only_camera_resources_use_exists_only_with_cameras(template: dict[str, Any]) -> None:
    # given: who refers to each resource (other resources, outputs)
    referrers: dict[str, set[str]] = {}
    for logical_id, definition in {**template["Resources"], **template["Outputs"]}.items():
        for name in references(definition):
            referrers.setdefault(name, set()).add(logical_id)
    gated = {
        logical_id
        for logical_id, d in template["Resources"].items()
        if d.get("Condition") in {"HasCameras", "HasStreamCameras"}
    }
    # when: a resource only camera resources use, created whatever CameraNames says
    orphans = [
        logical_id
        for logical_id in template["Resources"]
        if logical_id not in gated and referrers.get(logical_id) and referrers[logical_id] <= gated
    ]
    # then
    assert orphans == []


def test_the_camera_naming_scheme_appears_only_where_there_are_cameras() -> None:
    # given: <stack>_<camera> names every camera's streams and processor, and scopes the grants on them
    todays = without_camera_fleet(read_template(TEMPLATE_PATH))
    # when
    text = json.dumps(todays["Resources"])
    # then
    assert "${AWS::StackName}_" not in text


@pytest.mark.parametrize("mode", ["image", "stream"])
def test_the_emulated_stack_deploys_with_cameras_named(aws: boto3.session.Session, mode: str) -> None:
    # when: the local demo's stack, from the template with cameras
    stack = deploy_emulated_stack(aws, parameter_overrides=overrides(DetectionMode=mode))
    # then: the detector's environment and stream are today's
    assert DetectorSettings.from_environ(stack.detector_env()).dedup_table_name == stack.dedup_table_name
    assert aws.client("kinesis").list_streams()["StreamNames"] == [stack.face_search_stream_name]


# --- Limits and linting ----------------------------------------------------------------------------


def test_documented_cameras_per_stack_fit_cloudformations_resource_limit() -> None:
    # given: CloudFormation counts every declared resource, whatever its Condition
    cameras = tuple(f"Camera{number:03d}" for number in range(DOCUMENTED_MAX_CAMERAS))
    # when
    deployed = len(sam_transform(rendered(cameras))["Resources"])
    one_fewer = len(sam_transform(rendered(cameras[:-1]))["Resources"])
    nested = len(camera_template()["Resources"])
    # then: one nested stack per camera in the parent, in either mode; each nested stack far from the limit
    assert deployed - one_fewer == 1
    assert deployed <= CLOUDFORMATION_MAX_RESOURCES
    assert nested == len(PER_STREAM_CAMERA | PER_IMAGE_CAMERA) < CLOUDFORMATION_MAX_RESOURCES
    assert f"{DOCUMENTED_MAX_CAMERAS} cameras" in STREAM_MODE_PAGE


@pytest.mark.parametrize("name", ["Seoul-Lobby", "Lobby 01", "로비"])
def test_a_camera_name_that_is_not_alphanumeric_is_refused(template: dict[str, Any], name: str) -> None:
    # given
    pattern = template["Parameters"]["CameraNames"]["AllowedPattern"]
    # then: CloudFormation matches each item; the item becomes part of logical IDs
    assert re.fullmatch(pattern, name) is None


def with_camera_names(text: str, cameras: tuple[str, ...], mode: str = "image") -> str:
    """template.yaml's text with CameraNames defaulting to these cameras and DetectionMode to `mode`."""
    start = text.index("\n  CameraNames:\n")
    default = text.index('    Default: ""\n', start)
    text = text[:default] + f'    Default: "{",".join(cameras)}"\n' + text[default + len('    Default: ""\n') :]
    start = text.index("\n  DetectionMode:\n")
    default = text.index("    Default: image\n", start)
    return text[:default] + f"    Default: {mode}\n" + text[default + len("    Default: image\n") :]


@pytest.mark.skipif(SAM is None, reason="the sam CLI is not installed")
@pytest.mark.parametrize("mode", ["image", "stream"])
def test_sam_validate_with_lint_is_clean_with_three_cameras(tmp_path: Path, mode: str) -> None:
    # given: the template beside its nested camera template, as in the repository
    template = tmp_path / "template.yaml"
    template.write_text(with_camera_names(TEMPLATE_PATH.read_text(), CAMERAS, mode))
    shutil.copytree(TEMPLATE_PATH.parent / "templates", tmp_path / "templates")
    environment = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}
    # when
    result = subprocess.run(
        [str(SAM), "validate", "--lint", "--language-extensions", "--template-file", str(template)],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    # then
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_camera_template_lints_clean_and_the_linter_reads_it() -> None:
    # given: the lint above covers the parent; the nested template is linted on its own
    from cfnlint.api import ManualArgs, lint

    text = (TEMPLATE_PATH.parent / "templates" / "camera.yaml").read_text()
    broken = text.replace("DataRetentionInHours: !Ref CameraVideoRetentionHours", "DataRetentionInHours: often")
    in_a_region = ManualArgs(regions=["us-east-1"])
    # when
    clean, found = lint(text, config=in_a_region), lint(broken, config=in_a_region)
    # then: errors and warnings (informational rules aside)
    assert [str(match) for match in clean if match.rule.id[0] in "EW"] == []
    assert "E3012" in {match.rule.id for match in found}


def test_the_linter_sees_inside_the_camera_loop() -> None:
    # given: the parent's lint would pass vacuously if cfn-lint skipped the loop's resources
    from cfnlint.api import lint_all
    from cfnlint.decode.decode import decode_str

    text = with_camera_names(TEMPLATE_PATH.read_text(), CAMERAS)
    looped = "        Condition: HasCameras\n        Properties:\n          TemplateURL:"
    broken, _ = decode_str(text.replace(looped, looped.replace("HasCameras", "NoSuchCondition")))
    assert broken is not None
    # Only the loop and what it names: the whole stack's conditions keep cfn-lint's solver busy for minutes.
    loop = {"Fn::ForEach::Cameras": broken["Resources"]["Fn::ForEach::Cameras"]}
    named = set(references(loop))
    minimal = {
        "AWSTemplateFormatVersion": "2010-09-09",
        "Transform": broken["Transform"],
        "Parameters": broken["Parameters"],
        "Conditions": broken["Conditions"],
        "Resources": {
            **loop,
            **{name: {"Type": "AWS::SNS::Topic"} for name in named if name in broken["Resources"]},
        },
    }
    # when
    matches = lint_all(json.dumps(minimal))
    # then
    assert "E3015" in {match.rule.id for match in matches}
