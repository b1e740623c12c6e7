"""events/ for `sam local invoke DetectorFunction`: replayed through the handler, and kept reproducible."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from scripts.make_events import EVENTS_DIR, rendered_files
from tests.support.aws import quarantined_objects, receive_all
from tests.support.kinesis import failed_sequence_numbers
from tests.support.lambda_context import FakeLambdaContext
from tests.support.logs import emf_metric_sets

from facewatch.config import AlertSettings, DetectorSettings
from facewatch.handlers.detector import lambda_handler

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack


@dataclass(frozen=True)
class Expected:
    alert_jobs: int = 0
    quarantine_reasons: tuple[str, ...] = ()
    metrics: dict[str, float] = field(default_factory=dict)
    job_fields: dict[str, Any] = field(default_factory=dict)


EXPECTED = {
    "detector-unknown-face.json": Expected(
        alert_jobs=1,
        metrics={"Sightings": 1, "AlertsRaised": 1},
        job_fields={"faces_in_frame": 1, "unmatched_faces_in_frame": 1},
    ),
    "detector-employee-match.json": Expected(metrics={"FacesDropped_employee_match": 1, "Sightings": 0}),
    "detector-low-confidence.json": Expected(metrics={"FacesDropped_low_confidence": 1, "Sightings": 0}),
    "detector-two-faces-one-unknown.json": Expected(
        alert_jobs=1,
        metrics={"Sightings": 1, "AlertsRaised": 1, "FacesDropped_employee_match": 1},
        job_fields={"faces_in_frame": 2, "unmatched_faces_in_frame": 1},
    ),
    "detector-empty-frame.json": Expected(metrics={"RecordsProcessed": 1, "Sightings": 0}),
    "detector-malformed.json": Expected(
        quarantine_reasons=(
            "FaceSearchResponse.0.MatchedFaces: Input should be a valid array",
            "data is not valid base64",
            "record: Invalid JSON",
        ),
        metrics={"MalformedRecords": 3},
    ),
}

DETECTOR_VARIABLES = {
    "DEDUP_TABLE_NAME",
    "ALERT_QUEUE_URL",
    "QUARANTINE_BUCKET_NAME",
    "MIN_FACE_CONFIDENCE",
    "DEDUP_WINDOW_SECONDS",
    "ALERT_DELAY_SECONDS",
    "CLIP_POST_ROLL_SECONDS",
    "MIN_FACE_HEIGHT_RATIO",
    "MIN_FACE_SHARPNESS",
    "MAX_FACE_ABS_YAW_DEGREES",
}
ALERT_VARIABLES = {
    "DEDUP_TABLE_NAME",
    "CLIP_BUCKET_NAME",
    "ALERT_TOPIC_ARN",
    "ALERT_DEAD_LETTER_QUEUE_URL",
    "INDEX_QUEUE_URL",
    "INDEX_DEAD_LETTER_QUEUE_URL",
    "CAMERA_TABLE_NAME",
    "OPENSEARCH_ENDPOINT",
    "OPENSEARCH_INDEX",
    "CLIP_PRE_ROLL_SECONDS",
    "CLIP_POST_ROLL_SECONDS",
    "CLIP_MAX_ATTEMPTS",
    "ALERT_MAX_RECEIVE_COUNT",
    "CLIP_URL_EXPIRY_SECONDS",
}
# Variables naming resources: placeholders in env.json, the stack's own names in the emulation.
RESOURCE_VARIABLES = {
    "DEDUP_TABLE_NAME",
    "ALERT_QUEUE_URL",
    "QUARANTINE_BUCKET_NAME",
    "CLIP_BUCKET_NAME",
    "ALERT_TOPIC_ARN",
    "ALERT_DEAD_LETTER_QUEUE_URL",
    "INDEX_QUEUE_URL",
    "INDEX_DEAD_LETTER_QUEUE_URL",
    "CAMERA_TABLE_NAME",
    "OPENSEARCH_ENDPOINT",
}


def _load(name: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads((EVENTS_DIR / name).read_text())
    return document


def _detector_event_files() -> list[str]:
    return sorted(path.name for path in Path(EVENTS_DIR).glob("detector-*.json"))


def test_every_detector_event_file_has_an_expected_outcome() -> None:
    assert _detector_event_files() == sorted(EXPECTED)


@pytest.mark.usefixtures("detector_environment")
@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_replaying_an_event_file_gives_its_expected_outcome(
    name: str, aws: boto3.session.Session, stack: EmulatedStack, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = EXPECTED[name]
    capsys.readouterr()

    response = lambda_handler(_load(name), FakeLambdaContext())

    assert failed_sequence_numbers(response) == []
    jobs = receive_all(aws.client("sqs"), stack.alert_queue_url)
    assert len(jobs) == expected.alert_jobs
    for job in jobs:
        assert expected.job_fields.items() <= job.body.items()
    reasons = sorted(q.reason for q in quarantined_objects(aws.client("s3"), stack.quarantine_bucket_name))
    assert len(reasons) == len(expected.quarantine_reasons)
    assert all(r.startswith(e) for r, e in zip(reasons, expected.quarantine_reasons, strict=True))
    # the batch's metric set (per-camera quarantine counts come in documents of their own)
    [metrics] = [m for m in emf_metric_sets(capsys.readouterr().out) if "QuarantinedRecords" not in m]
    assert expected.metrics.items() <= metrics.items()


def test_the_committed_events_are_what_the_generator_writes() -> None:
    for name, text in rendered_files().items():
        assert (EVENTS_DIR / name).read_text() == text, f"events/{name} is stale: python -m scripts.make_events"


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_event_files_use_the_lambda_kinesis_envelope(name: str) -> None:
    for record in _load(name)["Records"]:
        assert set(record) == {
            "kinesis",
            "eventSource",
            "eventVersion",
            "eventID",
            "eventName",
            "invokeIdentityArn",
            "awsRegion",
            "eventSourceARN",
        }
        assert set(record["kinesis"]) == {
            "kinesisSchemaVersion",
            "partitionKey",
            "sequenceNumber",
            "data",
            "approximateArrivalTimestamp",
        }
        assert record["eventSource"] == "aws:kinesis"
        assert record["eventID"].endswith(":" + record["kinesis"]["sequenceNumber"])


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - {"detector-malformed.json"}))
def test_face_search_records_in_events_have_the_real_shape(name: str) -> None:
    for record in _load(name)["Records"]:
        text = base64.b64decode(record["kinesis"]["data"]).decode()
        assert '"ProducerTimestamp":1.763776800118E9' in text
        data = json.loads(text)
        for face in data["FaceSearchResponse"]:
            assert {"BoundingBox", "Confidence", "Landmarks", "Pose", "Quality"} <= set(face["DetectedFace"])


def test_env_json_sets_each_functions_variables_and_they_are_valid_settings() -> None:
    env = _load("env.json")

    assert set(env) == {"DetectorFunction", "AlertFunction"}
    assert set(env["DetectorFunction"]) == DETECTOR_VARIABLES
    assert set(env["AlertFunction"]) == ALERT_VARIABLES
    DetectorSettings.from_environ(env["DetectorFunction"])
    AlertSettings.from_environ(env["AlertFunction"])


def test_env_json_tunables_are_the_template_defaults(stack: EmulatedStack) -> None:
    env = _load("env.json")

    for function, deployed in (("DetectorFunction", stack.detector_env()), ("AlertFunction", stack.alert_env())):
        tunables = {k: v for k, v in env[function].items() if k not in RESOURCE_VARIABLES}
        assert tunables == {k: deployed[k] for k in tunables}, function
