"""Issue 12, detector side of classes 5, 7 and 8: every failure is visible, a camera with a fast clock is
reported per camera, and a camera id that is not a safe path segment is quarantined, never alerted.

Through the real handler on moto; what is asserted is what the function prints (Powertools log lines and
EMF metric documents) and what landed in S3 and SQS.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from facewatch_local.lambda_runtime import emf_metric_values
from facewatch_local.stack import EmulatedStack
from tests.support.detector import DetectorHarness
from tests.support.kinesis import DATA_STREAM_NAME, failed_sequence_numbers, kinesis_event, sequence_numbers
from tests.support.logs import CapturedLogs
from tests.support.records import CAMERA_ID, T0, face_search_record, frame_at, unknown_face
from tests.support.sdk_faults import SdkFaults, always, instant_retries

from facewatch.adapters.aws import CLIENT_CONFIG
from facewatch.config import SettingsError
from facewatch.domain.records import QuarantineReason

# A camera in Seoul that stamps local time as UTC: every frame is 9 hours in the future.
SEOUL_OFFSET_SECONDS = 9 * 3600.0


def _emf_documents(stdout: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stdout.splitlines() if line.startswith('{"_aws"')]


def _camera_documents(stdout: str) -> dict[str, dict[str, Any]]:
    """The per-camera EMF documents by CameraId."""
    return {doc["CameraId"]: doc for doc in _emf_documents(stdout) if "CameraId" in doc}


def _fast_clock_event(frames: int) -> dict[str, Any]:
    event = kinesis_event(
        [
            face_search_record([unknown_face()], producer_timestamp=T0 + SEOUL_OFFSET_SECONDS + 2.0 * n)
            for n in range(frames)
        ]
    )
    for n, record in enumerate(event["Records"]):  # the records reached Kinesis in real (UTC) time
        record["kinesis"]["approximateArrivalTimestamp"] = T0 + 2.0 * n + 6.0
    return event


def test_a_camera_with_a_fast_clock_is_reported_per_camera_with_its_reason_class(
    harness: DetectorHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    event = _fast_clock_event(frames=5)
    capsys.readouterr()

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert harness.alert_jobs() == []
    assert {q.reason.split(":")[0] for q in harness.quarantined()} == {"InputInformation.KinesisVideo"}
    document = _camera_documents(capsys.readouterr().out)[CAMERA_ID]
    # What the camera's alarm watches (tests/template/test_camera_fleet.py): Facewatch/QuarantinedRecords
    # with exactly the dimensions CameraId and service.
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Facewatch"
    assert directive["Dimensions"] == [["CameraId", "service"]]
    assert document["service"] == "facewatch-test"  # the template sets facewatch-detector
    assert document["QuarantinedRecords"] == [5.0]
    assert document[f"QuarantinedRecords_{QuarantineReason.FUTURE_STAMPED}"] == [5.0]


@pytest.mark.parametrize("camera_id", [".", "..", "a" * 256], ids=["dot", "dot-dot", "256-characters"])
def test_a_camera_id_that_is_not_a_safe_path_segment_is_quarantined_with_its_reason_not_alerted(
    harness: DetectorHarness, capsys: pytest.CaptureFixture[str], camera_id: str
) -> None:
    event = kinesis_event([frame_at(10.0, camera_id=camera_id)])
    capsys.readouterr()

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert harness.alert_jobs() == []
    [quarantined] = harness.quarantined()
    assert quarantined.reason.startswith("InputInformation.KinesisVideo.StreamArn: the stream name ")
    assert camera_id not in quarantined.key.split("/"), "the unsafe id makes no path segment of its own"
    [document] = _camera_documents(capsys.readouterr().out).values()
    assert document["CameraId"] == DATA_STREAM_NAME, "counted against the stream it came from"
    assert document[f"QuarantinedRecords_{QuarantineReason.UNSAFE_CAMERA_ID}"] == [1.0]


@pytest.fixture
def production_clients(aws: Any, stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch) -> DetectorHarness:
    return DetectorHarness(stack, aws, monkeypatch, client_config=CLIENT_CONFIG)


def test_a_failed_record_is_logged_with_camera_alert_and_error_code_and_counted_by_class(
    production_clients: DetectorHarness, powertools_logs: CapturedLogs, capsys: pytest.CaptureFixture[str]
) -> None:
    harness = production_clients
    event = kinesis_event([frame_at(10.0), frame_at(71.0), frame_at(72.0)])
    SdkFaults.install(harness.dynamodb).throttle("UpdateItem", always)  # the SDK's four attempts, all refused
    capsys.readouterr()

    with instant_retries():
        response = harness.invoke(event)

    assert failed_sequence_numbers(response) == sequence_numbers(event)
    [failed] = [line for line in powertools_logs.records if line["message"] == "record failed"]
    assert failed["level"] == "ERROR"
    assert (failed["failure"], failed["code"]) == ("claim", "ProvisionedThroughputExceededException")
    assert failed["camera_id"] == CAMERA_ID
    assert len(failed["alert_id"]) == 32
    assert "Landmarks" not in powertools_logs.text
    assert event["Records"][0]["kinesis"]["data"][:40] not in powertools_logs.text, "no payload in the logs"
    [metrics] = [doc for doc in emf_metric_values(capsys.readouterr().out) if "RecordsFailed_claim" in doc]
    assert (metrics["RecordsFailed_claim"], metrics["RecordsNotProcessed"]) == ([1.0], [2.0])
    assert (metrics["RecordsFailed_send"], metrics["RecordsFailed_quarantine"]) == ([0.0], [0.0])


def test_a_malformed_setting_fails_the_invocation_before_any_record_naming_the_variable(
    detector_environment: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from tests.support.lambda_context import FakeLambdaContext

    from facewatch.handlers import detector as detector_handler

    monkeypatch.setenv("MIN_FACE_CONFIDENCE", "ninety")

    with pytest.raises(SettingsError, match=r"MIN_FACE_CONFIDENCE='ninety'"):
        detector_handler.lambda_handler(kinesis_event([frame_at(10.0)]), FakeLambdaContext())
