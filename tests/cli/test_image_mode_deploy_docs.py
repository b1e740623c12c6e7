"""docs/image-mode-deploy.md runs as written: its walkthroughs ("Proxy identity", "Cameras from one file",
"Add one camera", "Status in image mode") in order, every `facewatch` line in-process, every `aws` line
through the stand-in of tests/support/aws_cli.py, and `sam deploy` through a stand-in that creates what
CameraNames creates in image mode (the cameras' video streams), all on moto; the samplers' heartbeats are
published by the sampler's own metrics code. A ```text block after a ```bash block is what it prints."""

from __future__ import annotations

import json
import os
import re
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from facewatch_cli import status
from facewatch_cli.main import build_parser
from facewatch_local.stack import load_template
from facewatch_sampler.metrics import SamplerMetrics
from facewatch_sampler.stats import SamplerStats
from tests.cli.support import AwsClients, Cli
from tests.support.aws_cli import run_aws
from tests.support.docs import page, section, steps

PAGE = "image-mode-deploy.md"
WALKTHROUGHS = ("Proxy identity", "Cameras from one file", "Add one camera", "Status in image mode")
STACK = "facewatch-seoul"
REGION = "us-east-1"
ACCOUNT = "123456789012"
CAMERA_TABLE = f"{STACK}-CameraTable-1VJ2Y6Q8Z3K4L"
DETECTOR = f"{STACK}-detector"
DETECTOR_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{DETECTOR}"
STREAM_ARN = f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{STACK}-FaceSearchStream-AbC123"
NOW = datetime(2026, 5, 4, 2, 10, 30, tzinfo=UTC)
ASSIGNMENT = re.compile(r"^([A-Z_]+)=\$\((aws .*)\)$")
CAMERA_NAMES = re.compile(r"CameraNames=([A-Za-z0-9,]+)")


def deploy_stack(aws: boto3.session.Session) -> None:
    """The stack as `facewatch` sees it (its image-mode outputs, CameraTable as template.yaml defines it) and
    the IoT policy it creates."""
    table = load_template()["Resources"]["CameraTable"]["Properties"] | {"TableName": CAMERA_TABLE}
    outputs = {
        "CameraTableName": {"Ref": "CameraTable"},
        "DetectionMode": "image",
        "DetectorFunctionArn": DETECTOR_ARN,
        "FaceSearchStreamArn": STREAM_ARN,
        "EmployeeCollectionId": f"{STACK}-employees",
        "FaceMatchThreshold": "80",
        "SamplerMetricsNamespace": "Facewatch/Sampler",
        "ProxyRoleAliasName": f"{STACK}-proxy",
        "ProxyIotPolicyName": f"{STACK}-proxy",
    }
    body = {
        "Resources": {"CameraTable": {"Type": "AWS::DynamoDB::Table", "Properties": table}},
        "Outputs": {name: {"Value": value} for name, value in outputs.items()},
    }
    aws.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(body))
    alias = f"arn:aws:iot:{REGION}:{ACCOUNT}:rolealias/{STACK}-proxy"
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "iot:AssumeRoleWithCertificate", "Resource": alias}]}  # fmt: skip
    aws.client("iot").create_policy(policyName=f"{STACK}-proxy", policyDocument=json.dumps(policy))


def sam_deploy(aws: boto3.session.Session, line: str) -> None:
    """What `sam deploy ... CameraNames=...` creates in image mode that the commands rely on: each camera's
    video stream <stack>_<name> (its nested stack also holds the offline alarm)."""
    (names,) = CAMERA_NAMES.findall(line)
    kinesisvideo = aws.client("kinesisvideo")
    existing = {stream["StreamName"] for stream in kinesisvideo.list_streams()["StreamInfoList"]}
    for name in names.split(","):
        if f"{STACK}_{name}" not in existing:
            kinesisvideo.create_stream(StreamName=f"{STACK}_{name}", DataRetentionInHours=24)


class AtMinute:
    """The sampler's CloudWatch client, publishing as of a fixed minute (so the page's ages are stable)."""

    def __init__(self, client: Any, at: datetime) -> None:
        self._client, self._at = client, at

    def put_metric_data(self, **kwargs: Any) -> Any:
        data = [datum | {"Timestamp": self._at} for datum in kwargs.pop("MetricData")]
        return self._client.put_metric_data(MetricData=data, **kwargs)


def samplers_report(aws_clients: AwsClients) -> None:
    """A minute before the check, each camera's sampler publishes its heartbeat (the sampler's own code),
    with the budget use the sampler reports when it knows its share of the account's quota."""
    cloudwatch = aws_clients.new_client("cloudwatch")
    for name, records, budget in (("Lobby01", 2, 40.0), ("Dock02", 0, 12.0), ("Roof03", 0, 3.0)):
        camera_id = f"{STACK}_{name}"
        SamplerMetrics(
            "Facewatch/Sampler", camera_id, client=cast(Any, AtMinute(cloudwatch, NOW - timedelta(minutes=1)))
        ).publish(SamplerStats(camera_id=camera_id, online=True, records_written=records))
        cloudwatch.put_metric_data(Namespace="Facewatch/Sampler", MetricData=[
            {"MetricName": "RekognitionBudgetUse", "Dimensions": [{"Name": "CameraId", "Value": camera_id}],
             "Value": budget, "Unit": "Percent", "Timestamp": NOW - timedelta(minutes=1)}])  # fmt: skip
    # The detector's iterator age (AWS/Lambda), and its mapping on FaceSearchStream.
    cloudwatch.put_metric_data(Namespace="AWS/Lambda", MetricData=[
        {"MetricName": "IteratorAge", "Dimensions": [{"Name": "FunctionName", "Value": DETECTOR}],
         "Value": 400.0, "Timestamp": NOW - timedelta(minutes=2)}])  # fmt: skip
    aws_clients.stub("lambda").add_response(
        "list_event_source_mappings",
        {
            "EventSourceMappings": [
                {
                    "UUID": "6f1c2a4e-0b7d-4c1e-9f3a-2d5b8e7c9a10",
                    "EventSourceArn": STREAM_ARN,
                    "FunctionArn": DETECTOR_ARN,
                    "State": "Enabled",
                }
            ]
        },
        {"FunctionName": DETECTOR_ARN},
    )
    aws_clients.stub("rekognition")  # an image-mode stack: status never asks for stream processors


def facewatch_lines() -> list[str]:
    return [line for title in WALKTHROUGHS for step in steps(section(PAGE, title)) for line in step.commands
            if line.startswith("facewatch ")]  # fmt: skip


@pytest.mark.parametrize("line", facewatch_lines())
def test_every_documented_command_parses(line: str) -> None:
    assert callable(build_parser().parse_args(shlex.split(line)[1:]).run)


def test_the_page_runs_as_written_and_prints_what_it_shows(
    cli: Cli, aws, aws_clients: AwsClients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(status, "utcnow", lambda: NOW)
    deploy_stack(aws)
    sam_deploy(aws, "CameraNames=Lobby01,Dock02")
    samplers_report(aws_clients)
    (tmp_path / "cameras.yaml").write_text(re.search(r"```yaml\n(.*?)```", page(PAGE), re.S).group(1))  # type: ignore[union-attr]

    for title in WALKTHROUGHS:
        for step in steps(section(PAGE, title)):
            printed = []
            for line in step.commands:
                line = os.path.expandvars(line)
                if assignment := ASSIGNMENT.match(line):
                    value = run_aws(aws, shlex.split(assignment.group(2)), tmp_path).strip()
                    monkeypatch.setenv(assignment.group(1), value)
                    continue
                words = shlex.split(line)
                if words[0] == "export":
                    name, _, value = words[1].partition("=")
                    monkeypatch.setenv(name, value)
                elif words[0] == "aws":
                    run_aws(aws, words, tmp_path)
                elif words[:2] == ["sam", "deploy"]:
                    sam_deploy(aws, line)
                elif words[0] == "facewatch":
                    run = cli(*words[1:])
                    assert run.code == 0, f"{line}\n{run.err}"
                    printed.append(run.out)
            if step.shows is not None:
                assert "".join(printed) == step.shows, f"'{title}' shows other output than:\n{''.join(printed)}"

    iot = aws.client("iot")
    (certificate,) = iot.list_certificates()["certificates"]
    assert iot.list_attached_policies(target=certificate["certificateArn"])["policies"][0]["policyName"] == (
        f"{STACK}-proxy"
    )
    assert (tmp_path / "certificate.pem").read_text().startswith("-----BEGIN CERTIFICATE-----")
    assert (tmp_path / "seoul-proxy" / "install.sh").exists()
