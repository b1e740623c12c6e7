"""The operator walkthroughs of docs/ ("Add a camera", "Site proxy", "Enrol employees", "Status") run as
written: every `facewatch` line of their ```bash blocks is executed in order, on moto (a CloudFormation
stack with the outputs the commands read, the registry table, an S3 bucket of badge photos), a fake
face collection, and stubbed stream processors and CloudWatch; a ```text block right after a ```bash
block is what those commands print."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import boto3
import pytest
from facewatch_cli import status
from facewatch_cli.main import build_parser
from facewatch_local.stack import load_template
from tests.cli.fake_collection import FakeCollection, Outcome, photo_bytes
from tests.cli.fleet import COLLECTION, DETECTOR_ARN, NOW, STACK, FleetCamera, stub_fleet
from tests.cli.support import AwsClients, Cli
from tests.support.docs import Step, section, steps

# (page under docs/, the `## ` section of the walkthrough)
WALKTHROUGHS = (
    ("cameras-and-proxy.md", "Add a camera"),
    ("enrolment.md", "Enrol employees"),
    ("cameras-and-proxy.md", "Site proxy"),
    ("operations.md", "Status"),
)
CAMERA_TABLE = f"{STACK}-CameraTable-1VJ2Y6Q8Z3K4L"


def walkthrough(where: tuple[str, str]) -> list[Step]:
    return steps(section(*where))


def facewatch_lines(where: tuple[str, str]) -> list[str]:
    return [line for step in walkthrough(where) for line in step.commands if line.startswith("facewatch ")]


@pytest.mark.parametrize("where", WALKTHROUGHS, ids=[title for _, title in WALKTHROUGHS])
def test_each_walkthrough_shows_facewatch_commands_and_their_output(where: tuple[str, str]) -> None:
    assert facewatch_lines(where)
    assert all(step.shows for step in walkthrough(where) if any(c.startswith("facewatch ") for c in step.commands))


@pytest.mark.parametrize("line", [line for where in WALKTHROUGHS for line in facewatch_lines(where)])
def test_every_documented_command_parses(line: str) -> None:
    args = build_parser().parse_args(shlex.split(line, comments=True)[1:])

    assert callable(args.run)


def deploy_stack(aws: boto3.session.Session) -> None:
    """The stack as `facewatch` sees it: its outputs, and CameraTable as template.yaml defines it."""
    table = load_template()["Resources"]["CameraTable"]["Properties"] | {"TableName": CAMERA_TABLE}
    body = {
        "Resources": {"CameraTable": {"Type": "AWS::DynamoDB::Table", "Properties": table}},
        "Outputs": {
            "CameraTableName": {"Value": {"Ref": "CameraTable"}},
            "EmployeeCollectionId": {"Value": COLLECTION},
            "DetectorFunctionArn": {"Value": DETECTOR_ARN},
        },
    }
    aws.client("cloudformation").create_stack(StackName=STACK, TemplateBody=json.dumps(body))


def bring_photos(aws: boto3.session.Session, directory: Path) -> None:
    for name in ["E123.jpg", "E123_2.jpg", "new-hires/E200.jpg", "new-hires/E201/front.jpg",
                 "new-hires/E201/side.jpg", "new-hires/E202_1.png"]:  # fmt: skip
        path = directory / "photos" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(photo_bytes(path.name))
    s3 = aws.client("s3")
    s3.create_bucket(Bucket="acme-hr-photos")
    for name in ["E300.jpg", "E301.jpg"]:
        s3.put_object(Bucket="acme-hr-photos", Key=f"badges/2025-11/{name}", Body=photo_bytes(name))


def test_the_walkthroughs_run_as_written_and_print_what_the_docs_show(
    cli: Cli, aws, aws_clients: AwsClients, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(status, "utcnow", lambda: NOW)
    deploy_stack(aws)
    bring_photos(aws, tmp_path)
    collection = FakeCollection(
        COLLECTION,
        {
            "side.jpg": Outcome(indexed=False, unindexed=(("EXTREME_POSE", "LOW_SHARPNESS"),)),
            "E202_1.png": Outcome(unindexed=(("EXCEEDS_MAX_FACES",),)),
        },
    )
    aws_clients.put("rekognition", collection.attach(aws_clients.new_client("rekognition")))
    printed: dict[str, str] = {}

    for page, title in WALKTHROUGHS:
        if title == "Status":
            dock = FleetCamera(
                "Dock02", status="FAILED", status_message="Access denied to Role", minutes_since_last_record=47
            )
            stub_fleet(
                aws_clients, [FleetCamera("Lobby01"), dock, FleetCamera("Garage04", minutes_since_last_record=2)]
            )
        for number, step in enumerate(walkthrough((page, title))):
            out = []
            for line in step.commands:
                words = shlex.split(line, comments=True)
                if words[0] == "export":
                    name, _, value = words[1].partition("=")
                    monkeypatch.setenv(name, value)
                elif words[0] == "facewatch":
                    run = cli(*words[1:])
                    assert run.code in (0, 3), f"{line}\n{run.err}"
                    out.append(run.out)
            printed[f"{title} #{number}"] = "".join(out)
            if step.shows is not None:
                assert "".join(out) == step.shows, f"docs/{page} '{title}' shows other output than:\n{''.join(out)}"

    assert sorted(face["ExternalImageId"] for face in collection.faces) == ["E200", "E201", "E202", "E300", "E301"]
    assert (tmp_path / "seoul-proxy" / "install.sh").exists()
