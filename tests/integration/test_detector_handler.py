"""handlers.detector.lambda_handler as Lambda runs it: settings, clients and Detector from the environment.

The `detector_environment` fixture sets DetectorFunction's variables (resolved against the emulated
stack) and clears the handler's cached factories, so each test starts as a cold container.
"""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from tests.support.aws import CallLog, quarantined_objects, receive_all
from tests.support.detector import window_claims
from tests.support.kinesis import RawData, failed_sequence_numbers, kinesis_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.logs import CapturedLogs, emf_metric_sets
from tests.support.records import (
    CAMERA_ID,
    employee_face,
    face_search_record,
    frame_at,
    unknown_face,
)

from facewatch.adapters import aws as aws_clients
from facewatch.handlers.detector import lambda_handler

pytestmark = pytest.mark.usefixtures("detector_environment")


def _invoke(event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = lambda_handler(event, FakeLambdaContext())
    return response


def _jobs(aws: boto3.session.Session, env: dict[str, str]) -> list[dict[str, Any]]:
    return [m.body for m in receive_all(aws.client("sqs"), env["ALERT_QUEUE_URL"])]


def test_the_handler_queues_alerts_and_quarantines_bad_records_where_its_environment_says(
    aws: boto3.session.Session, detector_environment: dict[str, str]
) -> None:
    event = kinesis_event([frame_at(10.0), b"not json"])

    response = _invoke(event)

    assert failed_sequence_numbers(response) == []
    assert [job["camera_id"] for job in _jobs(aws, detector_environment)] == [CAMERA_ID]
    [kept] = quarantined_objects(aws.client("s3"), detector_environment["QUARANTINE_BUCKET_NAME"])
    assert kept.raw == b"not json"


def test_the_handler_reads_the_window_length_from_the_environment(
    aws: boto3.session.Session, detector_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEDUP_WINDOW_SECONDS", "20")

    _invoke(kinesis_event([frame_at(10.0), frame_at(25.0), frame_at(31.0)]))

    assert len(_jobs(aws, detector_environment)) == 2


def test_a_warm_container_suppresses_a_cached_camera_without_a_claim(aws: boto3.session.Session) -> None:
    _invoke(kinesis_event([frame_at(10.0)]))
    calls = CallLog()
    calls.watch(aws_clients.client("dynamodb"))  # the client the warm container's detector holds

    _invoke(kinesis_event([frame_at(11.0)]))

    assert window_claims(calls.calls) == []
    assert calls.calls == [], "the suppressed count is written once the window has ended"


def test_the_handler_prints_one_emf_metric_set_per_batch(capsys: pytest.CaptureFixture[str]) -> None:
    event = kinesis_event(
        [
            frame_at(10.0),
            frame_at(11.0),
            face_search_record([unknown_face(confidence=70.0)]),
            face_search_record([employee_face(), unknown_face(confidence=80.0)]),
            face_search_record([]),
            b"not json",
            RawData("%%%"),
        ]
    )
    capsys.readouterr()

    _invoke(event)

    # the batch's metric set (per-camera quarantine counts come in documents of their own)
    [metrics] = [m for m in emf_metric_sets(capsys.readouterr().out) if "QuarantinedRecords" not in m]
    assert metrics == {
        "RecordsProcessed": 7,
        "Sightings": 2,
        "AlertsRaised": 1,
        "SuppressedByWindow": 1,
        "MalformedRecords": 2,
        "FacesDropped_employee_match": 1,
        "FacesDropped_low_confidence": 2,
        "FacesDropped_too_small": 0,
        "FacesDropped_too_blurry": 0,
        "FacesDropped_turned_away": 0,
        "LateWindowAlerts": 0,
        "LateSightings_overlaps_alerted_window": 0,
        "LateSightings_older_than_remembered": 0,
        "RecordsNotProcessed": 0,
        "RecordsFailed_quarantine": 0,
        "RecordsFailed_claim": 0,
        "RecordsFailed_send": 0,
    }


def test_metrics_are_published_in_the_facewatch_namespace(capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()

    _invoke(kinesis_event([frame_at(10.0)]))

    documents = [line for line in capsys.readouterr().out.splitlines() if '"_aws"' in line]
    assert len(documents) == 1
    assert '"Namespace":"Facewatch"' in documents[0]


def test_logs_name_the_camera_and_alert_and_carry_no_face_data_or_payload(powertools_logs: CapturedLogs) -> None:
    record = frame_at(10.0)
    event = kinesis_event([record, b"not json: raw-payload-4f2e"])

    _invoke(event)

    [raised] = [r for r in powertools_logs.records if r["message"] == "alert raised"]
    assert raised["camera_id"] == CAMERA_ID
    assert len(raised["alert_id"]) == 32
    [quarantined] = [r for r in powertools_logs.records if r["message"] == "record quarantined"]
    assert quarantined["reason"].startswith("record: Invalid JSON")
    text = powertools_logs.text
    for secret in ("Landmarks", "eyeLeft", "raw-payload-4f2e", event["Records"][0]["kinesis"]["data"][:40]):
        assert secret not in text
