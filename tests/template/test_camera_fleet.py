"""The camera fleet: what CameraNames provisions, how it is wired into the detector and the alerter, what
its roles may do, and that an empty CameraNames leaves the stack as it was."""

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
from facewatch_local.cfn import NO_VALUE, TEMPLATE_PATH, PhysicalResource, load_template, read_template
from facewatch_local.stack import deploy_emulated_stack
from tests.support.docs import page
from tests.template.reading import PSEUDO_PARAMETERS, references, resolver, sam_transform, sam_transformed

from facewatch.config import DetectorSettings
from facewatch.domain.records import camera_id_from_stream_arn
from facewatch.domain.stream_processor import processor_name
from facewatch.services.processor_control import ANSWER_MARGIN_SECONDS

CAMERAS = ("Lobby01", "Floor3East", "ParkingB1")
# Per camera, 7 resources: docs/stream-mode.md's limit arithmetic rests on them.
PER_CAMERA = {
    "VideoStream": "AWS::KinesisVideo::Stream",
    "FaceSearchStream": "AWS::Kinesis::Stream",
    "ProcessorRole": "AWS::IAM::Role",
    "StreamProcessor": "AWS::Rekognition::StreamProcessor",
    "ProcessorControl": "Custom::StreamProcessorControl",
    "FaceSearchRecords": "AWS::Lambda::EventSourceMapping",
    "SilentAlarm": "AWS::CloudWatch::Alarm",
}
# What the camera fleet and the employee collection added to the template.
CAMERA_PARAMETERS = {"CameraNames", "CameraVideoRetentionHours", "FaceMatchThreshold", "ExistingEmployeeCollectionId"}
FLEET_RESOURCES = {"ProcessorControlFunction", "ProcessorControlFunctionRole", "EmployeeCollection"}
CLOUDFORMATION_MAX_RESOURCES = 500
DOCUMENTED_MAX_CAMERAS = 60
STACK = PSEUDO_PARAMETERS["AWS::StackName"]
ACCOUNT = f"{PSEUDO_PARAMETERS['AWS::Region']}:{PSEUDO_PARAMETERS['AWS::AccountId']}"
STREAM_MODE_PAGE = page("stream-mode.md")
SAM = shutil.which("sam", path=str(Path(sys.executable).parent)) or shutil.which("sam")


@cache
def _rendered(cameras: tuple[str, ...]) -> dict[str, Any]:
    return load_template(parameter_overrides={"CameraNames": ",".join(cameras)})


def rendered(cameras: tuple[str, ...] = CAMERAS) -> dict[str, Any]:
    """template.yaml as the SAM transform receives it for a stack with these cameras."""
    return copy.deepcopy(_rendered(cameras))


def camera_resource(template: dict[str, Any], camera: str, part: str) -> dict[str, Any]:
    return template["Resources"][f"Camera{camera}{part}"]  # type: ignore[no-any-return]


def overrides(cameras: tuple[str, ...] = CAMERAS, **more: str) -> dict[str, str]:
    return {"CameraNames": ",".join(cameras), **more}


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
    """The template as it was before the camera fleet: without the loop, what HasCameras guards and the
    employee collection."""

    def strip(value: Any) -> Any:
        if isinstance(value, list):
            return [item for item in (strip(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Fn::If"} and value["Fn::If"][0] == "HasCameras":
            otherwise = value["Fn::If"][2]
            return NO_VALUE if otherwise == {"Ref": "AWS::NoValue"} else strip(otherwise)
        stripped = {key: strip(item) for key, item in value.items()}
        return {key: item for key, item in stripped.items() if item is not NO_VALUE}

    resources = {
        logical_id: strip(definition)
        for logical_id, definition in template["Resources"].items()
        if not logical_id.startswith("Fn::ForEach::")
        and definition.get("Condition") != "HasCameras"
        and logical_id != "EmployeeCollection"
    }
    return {**template, "Resources": resources, "Transform": "AWS::Serverless-2016-10-31"}


# --- What each camera gets -------------------------------------------------------------------------


def test_each_camera_gets_its_seven_resources_under_has_cameras() -> None:
    # when
    template = rendered()
    # then
    for camera in CAMERAS:
        for part, resource_type in PER_CAMERA.items():
            definition = camera_resource(template, camera, part)
            assert (definition["Type"], definition["Condition"]) == (resource_type, "HasCameras"), (camera, part)


def test_named_cameras_are_created() -> None:
    # when
    deployment = resolver(rendered(), overrides())
    # then
    assert deployment.condition("HasCameras")
    assert all(deployment.is_created(f"Camera{camera}{part}") for camera in CAMERAS for part in PER_CAMERA)


def _alarm_metrics(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {query["Id"]: query for query in alarm["Metrics"]}


def test_each_camera_has_a_silence_alarm_on_its_own_data_stream() -> None:
    # given
    template = rendered()
    deployment = resolver(template, overrides())
    for camera in CAMERAS:
        # when
        alarm = camera_resource(template, camera, "SilentAlarm")["Properties"]
        stream = deployment.resolve_string(camera_resource(template, camera, "FaceSearchStream")["Properties"]["Name"])
        incoming = _alarm_metrics(alarm)["incoming"]["MetricStat"]
        [dimension] = incoming["Metric"]["Dimensions"]
        # then: no record at all for 10 minutes (missing data counts) tells the operators, not the security team
        assert (dimension["Name"], deployment.resolve_string(dimension["Value"])) == ("StreamName", stream)
        assert (incoming["Metric"]["MetricName"], incoming["Stat"], incoming["Period"]) == (
            "IncomingRecords",
            "Sum",
            300,
        )
        assert "IF(FILL(incoming, 0) < 1, 1, 0)" in _alarm_metrics(alarm)["blind"]["Expression"]
        assert (alarm["ComparisonOperator"], alarm["Threshold"], alarm["EvaluationPeriods"]) == (
            "GreaterThanOrEqualToThreshold",
            1,
            2,
        )
        assert alarm["TreatMissingData"] == "breaching"
        assert alarm["AlarmActions"] == [{"Ref": "OpsAlarmTopic"}]


def test_each_cameras_alarm_also_fires_on_its_quarantined_records() -> None:
    # given
    template = rendered()
    deployment = resolver(template, overrides())
    for camera in CAMERAS:
        camera_id = deployment.resolve_string(camera_resource(template, camera, "VideoStream")["Properties"]["Name"])
        # when
        queries = _alarm_metrics(camera_resource(template, camera, "SilentAlarm")["Properties"])
        quarantined = queries["quarantined"]["MetricStat"]
        # then: the metric the detector emits for this camera (tests/integration/test_detector_visibility.py)
        dimensions = {d["Name"]: deployment.resolve_string(d["Value"]) for d in quarantined["Metric"]["Dimensions"]}
        assert (quarantined["Metric"]["Namespace"], quarantined["Metric"]["MetricName"]) == (
            "Facewatch",
            "QuarantinedRecords",
        )
        assert dimensions == {"CameraId": camera_id, "service": "facewatch-detector"}
        assert "IF(FILL(quarantined, 0) > 0, 1, 0)" in queries["blind"]["Expression"]
        assert [q["Id"] for q in queries.values() if q.get("ReturnData", True)] == ["blind"]


def test_a_camera_is_named_stack_underscore_camera_in_every_service() -> None:
    # given
    template = rendered()
    deployment = resolver(template, overrides(FaceMatchThreshold="85"))
    # when
    names = {
        part: deployment.resolve_string(camera_resource(template, "Lobby01", part)["Properties"]["Name"])
        for part in ("VideoStream", "FaceSearchStream", "StreamProcessor")
    }
    # then: the processor's name carries the threshold, so a threshold change can replace it
    assert names == {
        "VideoStream": f"{STACK}_Lobby01",
        "FaceSearchStream": f"{STACK}_Lobby01",
        "StreamProcessor": f"{STACK}_Lobby01_85",
    }


def test_the_camera_id_in_alerts_is_the_video_stream_name() -> None:
    # given
    template = rendered()
    name = resolver(template, overrides()).resolve_string(
        camera_resource(template, "Floor3East", "VideoStream")["Properties"]["Name"]
    )
    # when: the detector reads the camera id from each record's KVS stream ARN
    camera_id = camera_id_from_stream_arn(f"arn:aws:kinesisvideo:{ACCOUNT}:stream/{name}/1731900000000")
    # then
    assert camera_id == f"{STACK}_Floor3East"


def test_video_is_kept_for_the_retention_parameter_at_least_a_day(template: dict[str, Any]) -> None:
    # given: GetClip needs a retention above 0
    video = camera_resource(rendered(), "Lobby01", "VideoStream")["Properties"]
    spec = template["Parameters"]["CameraVideoRetentionHours"]
    # then
    assert video["DataRetentionInHours"] == {"Ref": "CameraVideoRetentionHours"}
    assert (spec["Default"], spec["MinValue"]) == (24, 24)


def test_camera_data_stream_is_encrypted_like_face_search_stream(template: dict[str, Any]) -> None:
    # when
    camera = camera_resource(rendered(), "Lobby01", "FaceSearchStream")["Properties"]
    shared = template["Resources"]["FaceSearchStream"]["Properties"]
    # then
    assert {key: value for key, value in camera.items() if key != "Name"} == shared


def test_processor_reads_its_own_video_and_writes_its_own_stream_through_its_own_role() -> None:
    # when
    processor = camera_resource(rendered(), "ParkingB1", "StreamProcessor")["Properties"]
    # then
    assert processor["KinesisVideoStream"] == {"Arn": {"Fn::GetAtt": ["CameraParkingB1VideoStream", "Arn"]}}
    assert processor["KinesisDataStream"] == {"Arn": {"Fn::GetAtt": ["CameraParkingB1FaceSearchStream", "Arn"]}}
    assert processor["RoleArn"] == {"Fn::GetAtt": ["CameraParkingB1ProcessorRole", "Arn"]}


@pytest.mark.parametrize(
    ("existing", "collection"),
    [("", "facewatch-test-employees"), ("acme-employees", "acme-employees")],
)
def test_processor_searches_the_employee_collection_at_the_threshold(existing: str, collection: str) -> None:
    # given
    template = rendered()
    created = {"EmployeeCollection": PhysicalResource("facewatch-test-employees")}
    deployment = resolver(template, overrides(ExistingEmployeeCollectionId=existing), resources=created)
    # when
    settings = deployment.resolve(
        camera_resource(template, "Lobby01", "StreamProcessor")["Properties"]["FaceSearchSettings"]
    )
    # then
    assert settings == {"CollectionId": collection, "FaceMatchThreshold": "80"}


def test_face_match_threshold_cannot_go_below_what_rekognition_applies(template: dict[str, Any]) -> None:
    # given: Rekognition raises a lower FaceMatchThreshold to 80
    spec = template["Parameters"]["FaceMatchThreshold"]
    # then
    assert (spec["Default"], spec["MinValue"], spec["MaxValue"]) == (80, 80, 100)


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


# --- The detector reads every camera with today's settings -----------------------------------------


def test_each_camera_mapping_has_the_detector_events_settings() -> None:
    # given: what is deployed, after the SAM transform
    deployed = sam_transform(rendered())["Resources"]
    todays = deployed["DetectorFunctionFaceSearchRecords"]["Properties"]
    # when
    for camera in CAMERAS:
        mapping = deployed[f"Camera{camera}FaceSearchRecords"]["Properties"]
        # then: everything but the stream is the same, the tunables the same Parameters
        assert {key: value for key, value in mapping.items() if key != "EventSourceArn"} == {
            key: value for key, value in todays.items() if key != "EventSourceArn"
        }
        assert mapping["EventSourceArn"] == {"Fn::GetAtt": [f"Camera{camera}FaceSearchStream", "Arn"]}


def test_cameras_add_mappings_beside_the_face_search_stream_mapping() -> None:
    # when
    mappings = {
        logical_id
        for logical_id, definition in created_resources(rendered(), **overrides()).items()
        if definition["Type"] == "AWS::Lambda::EventSourceMapping"
    }
    # then: the shared stream stays for teams that run their own processors
    assert mappings == {f"Camera{camera}FaceSearchRecords" for camera in CAMERAS}
    assert "FaceSearchRecords" in rendered()["Resources"]["DetectorFunction"]["Properties"]["Events"]


def test_detector_may_read_every_camera_data_stream_and_no_other_stacks() -> None:
    # given
    template = rendered()
    grants = {s["Sid"]: s for s in statements(created_resources(template, **overrides())["DetectorFunctionRole"])}
    grant = grants["ReadCameraFaceSearchStreams"]
    # when
    pattern = resolver(template, overrides()).resolve_string(grant["Resource"])
    # then: what the mapping on FaceSearchStream needs, on every camera's stream
    assert grant["Action"] == grants["ReadFaceSearchStream"]["Action"]
    for camera in CAMERAS:
        assert fnmatch.fnmatchcase(f"arn:aws:kinesis:{ACCOUNT}:stream/{STACK}_{camera}", pattern)
    # "_" cannot occur in a stack name: another stack whose name starts with this one's is not matched
    assert not fnmatch.fnmatchcase(f"arn:aws:kinesis:{ACCOUNT}:stream/{STACK}-busan_Lobby01", pattern)


def test_alerter_may_fetch_clips_from_every_camera_whatever_the_prefix() -> None:
    # given
    template = rendered()
    deployment = resolver(template, overrides(CameraStreamNamePrefix="seoul-"))
    role = created_resources(template, **overrides(CameraStreamNamePrefix="seoul-"))["AlertFunctionRole"]
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
    (trust,) = camera_resource(rendered(), "Lobby01", "ProcessorRole")["Properties"]["AssumeRolePolicyDocument"][
        "Statement"
    ]
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
        for statement in statements(camera_resource(rendered(), "Floor3East", "ProcessorRole"))
        for action in statement["Action"]
    }
    # then
    video = {"Fn::GetAtt": ["CameraFloor3EastVideoStream", "Arn"]}
    records = {"Fn::GetAtt": ["CameraFloor3EastFaceSearchStream", "Arn"]}
    assert granted == {
        "kinesisvideo:GetDataEndpoint": video,
        "kinesisvideo:GetMedia": video,
        "kinesis:PutRecord": records,
        "kinesis:PutRecords": records,
    }


def test_processor_control_names_the_processor_as_its_handler_reads_it() -> None:
    # given
    template = rendered()
    control = camera_resource(template, "Lobby01", "ProcessorControl")["Properties"]
    name = resolver(template, overrides()).resolve_string(
        camera_resource(template, "Lobby01", "StreamProcessor")["Properties"]["Name"]
    )
    processor = {
        "CameraLobby01StreamProcessor": PhysicalResource(
            name, {"Arn": f"arn:aws:rekognition:{ACCOUNT}:streamprocessor/{name}"}
        ),
        "ProcessorControlFunction": PhysicalResource("f", {"Arn": f"arn:aws:lambda:{ACCOUNT}:function:f"}),
    }
    # when
    properties = resolver(template, overrides(), resources=processor).resolve(control)
    # then: a Fn::GetAtt, so CloudFormation deletes the control (stopping the processor) before the processor
    assert control["ProcessorArn"] == {"Fn::GetAtt": ["CameraLobby01StreamProcessor", "Arn"]}
    assert control["ServiceToken"] == {"Fn::GetAtt": ["ProcessorControlFunction", "Arn"]}
    assert processor_name(properties) == name


def test_processor_control_answers_before_cloudformation_gives_up(template: dict[str, Any]) -> None:
    # given
    function = template["Resources"]["ProcessorControlFunction"]["Properties"]
    service_timeout = camera_resource(rendered(), "Lobby01", "ProcessorControl")["Properties"]["ServiceTimeout"]
    # then: the function keeps time to answer; CloudFormation waits longer than one invocation
    assert function["Timeout"] == 300
    assert ANSWER_MARGIN_SECONDS < function["Timeout"] < service_timeout <= 3600


def test_processor_control_may_only_start_and_stop_this_stacks_processors() -> None:
    # given
    template = rendered()
    role = created_resources(template, **overrides())["ProcessorControlFunctionRole"]
    (grant,) = [s for s in statements(role) if s["Sid"] == "StartAndStopOwnProcessors"]
    # when
    pattern = resolver(template, overrides()).resolve_string(grant["Resource"])
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
    assert set(looped) == {f"Camera{part}" for part in PER_CAMERA} | {"CameraTable"}
    assert [logical_id for logical_id in looped if deployment.is_created(logical_id)] == ["CameraTable"]


def test_with_no_cameras_the_deployed_stack_is_todays_plus_the_employee_collection() -> None:
    # given: the template without the camera fleet, as it was
    todays = without_camera_fleet(read_template(TEMPLATE_PATH))
    # when
    deployed = created_resources(sam_transformed())
    before = created_resources(sam_transform(todays))
    # then
    assert set(deployed) - set(before) == {"EmployeeCollection"}
    assert {logical_id: deployed[logical_id] for logical_id in before} == before


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
    gated = {logical_id for logical_id, d in template["Resources"].items() if d.get("Condition") == "HasCameras"}
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


def test_the_emulated_stack_deploys_with_cameras_named(aws: boto3.session.Session) -> None:
    # when: the local demo's stack, from the template with cameras
    stack = deploy_emulated_stack(aws, parameter_overrides=overrides())
    # then: the detector's environment and stream are today's
    assert DetectorSettings.from_environ(stack.detector_env()).dedup_table_name == stack.dedup_table_name
    assert aws.client("kinesis").list_streams()["StreamNames"] == [stack.face_search_stream_name]


# --- Limits and linting ----------------------------------------------------------------------------


def test_documented_cameras_per_stack_fit_cloudformations_resource_limit() -> None:
    # given
    cameras = tuple(f"Camera{number:03d}" for number in range(DOCUMENTED_MAX_CAMERAS))
    # when
    deployed = len(sam_transform(rendered(cameras))["Resources"])
    one_fewer = len(sam_transform(rendered(cameras[:-1]))["Resources"])
    # then
    assert deployed - one_fewer == len(PER_CAMERA)
    assert deployed <= CLOUDFORMATION_MAX_RESOURCES
    assert f"{DOCUMENTED_MAX_CAMERAS} cameras" in STREAM_MODE_PAGE


@pytest.mark.parametrize("name", ["Seoul-Lobby", "Lobby 01", "로비"])
def test_a_camera_name_that_is_not_alphanumeric_is_refused(template: dict[str, Any], name: str) -> None:
    # given
    pattern = template["Parameters"]["CameraNames"]["AllowedPattern"]
    # then: CloudFormation matches each item; the item becomes part of logical IDs
    assert re.fullmatch(pattern, name) is None


def with_camera_names(text: str, cameras: tuple[str, ...]) -> str:
    """template.yaml's text with CameraNames defaulting to these cameras."""
    start = text.index("\n  CameraNames:\n")
    default = text.index('    Default: ""\n', start)
    return text[:default] + f'    Default: "{",".join(cameras)}"\n' + text[default + len('    Default: ""\n') :]


@pytest.mark.skipif(SAM is None, reason="the sam CLI is not installed")
def test_sam_validate_with_lint_is_clean_with_three_cameras(tmp_path: Path) -> None:
    # given
    template = tmp_path / "template.yaml"
    template.write_text(with_camera_names(TEMPLATE_PATH.read_text(), CAMERAS))
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


def test_the_linter_sees_inside_the_camera_loop() -> None:
    # given: the lint above would pass vacuously if cfn-lint skipped the loop's resources
    from cfnlint.api import lint_all

    text = with_camera_names(TEMPLATE_PATH.read_text(), CAMERAS)
    broken = text.replace("DataRetentionInHours: !Ref CameraVideoRetentionHours", "DataRetentionInHours: often")
    # when
    matches = lint_all(broken)
    # then
    assert "E3012" in {match.rule.id for match in matches}
