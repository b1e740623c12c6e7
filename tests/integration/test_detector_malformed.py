"""Bad input is never retried and never raises: it is quarantined in S3 with its reason, raw data intact.

Each case goes through the real handler; the test reads the quarantine object back and checks that
nothing of the payload (landmarks, raw bytes) reached the logs.
"""

from __future__ import annotations

import base64
import copy
from collections.abc import Callable
from typing import Any

import pytest
from tests.support.detector import DetectorHarness
from tests.support.kinesis import DATA_STREAM_NAME, SHARD_ID, RawData, failed_sequence_numbers, kinesis_event
from tests.support.logs import CapturedLogs
from tests.support.records import T0, encode_record, frame_at, kvs_stream_arn

from facewatch.domain.records import MAX_RECORD_BYTES

# Appears in every payload below that can carry text, so a leak into the logs is visible.
MARKER = "PAYLOAD-MARKER-7f3a9c"


def _record(change: Callable[[dict[str, Any]], None]) -> bytes:
    record = copy.deepcopy(frame_at(10.0))
    record["StreamProcessorInformation"]["Status"] = MARKER
    change(record)
    return encode_record(record)


def _video(record: dict[str, Any]) -> dict[str, Any]:
    video: dict[str, Any] = record["InputInformation"]["KinesisVideo"]
    return video


def _detected(record: dict[str, Any]) -> dict[str, Any]:
    face: dict[str, Any] = record["FaceSearchResponse"][0]["DetectedFace"]
    return face


def _oversized() -> bytes:
    data = _record(lambda r: None)
    return data[:-1] + b',"Padding":"' + b"x" * MAX_RECORD_BYTES + b'"}'


CASES = [
    pytest.param(f"camera 7 firmware: {MARKER}".encode(), "record: Invalid JSON", id="not-json"),
    pytest.param(RawData(f"{MARKER} is not base64!"), "data is not valid base64", id="invalid-base64"),
    pytest.param(b"\xff\xfe" + MARKER.encode(), "record: Invalid JSON", id="not-utf8"),
    pytest.param(f'[1, 2, "{MARKER}"]'.encode(), "record: Input should be an object", id="json-array"),
    pytest.param(f'{{"hello": "{MARKER}"}}'.encode(), "InputInformation: Field required", id="not-face-search"),
    pytest.param(
        _record(lambda r: r["FaceSearchResponse"][0].update(MatchedFaces="[]")),
        "FaceSearchResponse.0.MatchedFaces: Input should be a valid array",
        id="matched-faces-string",
    ),
    pytest.param(
        _record(lambda r: _detected(r).update(Confidence=MARKER)),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be a valid number",
        id="confidence-string",
    ),
    pytest.param(
        _record(lambda r: _video(r).pop("FragmentNumber")),
        "InputInformation.KinesisVideo.FragmentNumber: Field required",
        id="missing-field",
    ),
    pytest.param(
        _record(lambda r: _detected(r).update(Confidence=float("nan"))),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be a finite number",
        id="nan",
    ),
    pytest.param(
        _record(lambda r: _video(r).update(ProducerTimestamp=float("inf"))),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be a finite number",
        id="infinity",
    ),
    pytest.param(_oversized(), f"record is {len(_oversized())} bytes, over the", id="over-1-mib"),
    pytest.param(
        b'{"InputInformation":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        "record: Invalid JSON: recursion limit exceeded",
        id="deep-nesting",
    ),
    pytest.param(
        _record(lambda r: _video(r).update(StreamArn=kvs_stream_arn("로비-카메라"))),
        "InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN",
        id="unicode-stream-name",
    ),
    pytest.param(
        _record(lambda r: _video(r).update(ProducerTimestamp=0)),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be greater than",
        id="zero-timestamp",
    ),
    pytest.param(
        _record(lambda r: _video(r).update(ProducerTimestamp=-T0)),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be greater than",
        id="negative-timestamp",
    ),
]


def _raw_bytes(payload: bytes | RawData) -> bytes:
    return payload.text.encode() if isinstance(payload, RawData) else payload


@pytest.mark.parametrize(("payload", "reason"), CASES)
def test_bad_input_is_quarantined_with_its_reason_and_never_retried(
    harness: DetectorHarness, powertools_logs: CapturedLogs, payload: bytes | RawData, reason: str
) -> None:
    event = kinesis_event([payload])
    sequence_number = event["Records"][0]["kinesis"]["sequenceNumber"]

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    [kept] = harness.quarantined()
    assert kept.key == f"quarantine/detector/{DATA_STREAM_NAME}/2025/11/22/{SHARD_ID}-{sequence_number}.json"
    assert kept.reason.startswith(reason)
    assert kept.metadata["stage"] == "detector"
    assert kept.raw == _raw_bytes(payload)
    assert kept.envelope["raw_size_bytes"] == len(_raw_bytes(payload))
    assert harness.alert_jobs() == []
    logs = powertools_logs.text
    assert "record quarantined" in logs
    assert MARKER not in logs
    assert event["Records"][0]["kinesis"]["data"][:64] not in logs
    for face_data in ("Landmarks", "eyeLeft", "xxxxxxxx"):
        assert face_data not in logs


def test_a_quarantined_record_redelivered_overwrites_its_own_object(harness: DetectorHarness) -> None:
    event = kinesis_event([b"not json"])
    harness.invoke(event)

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert len(harness.quarantined()) == 1


def test_bad_records_do_not_hold_up_good_ones_in_the_same_batch(harness: DetectorHarness) -> None:
    event = kinesis_event(
        [
            b"not json",
            frame_at(10.0, camera_id="seoul-hq-lobby-01"),
            RawData("%%%"),
            frame_at(10.0, camera_id="seoul-hq-garage-b2"),
        ]
    )

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    assert len(harness.quarantined()) == 2
    assert sorted(job.body["camera_id"] for job in harness.alert_jobs()) == ["seoul-hq-garage-b2", "seoul-hq-lobby-01"]


def test_a_quarantine_object_names_its_source_and_is_decodable_without_the_detector(harness: DetectorHarness) -> None:
    payload = b"\x00\x01binary\xff"

    harness.invoke(kinesis_event([payload]))

    [kept] = harness.quarantined()
    assert kept.envelope["schema"] == 1
    assert kept.envelope["stage"] == "detector"
    assert kept.envelope["source"] == DATA_STREAM_NAME
    assert kept.envelope["item_id"].startswith(f"{SHARD_ID}-")
    assert kept.envelope["received_at"] == pytest.approx(T0 + 6.132)
    assert base64.b64decode(kept.envelope["raw_base64"]) == payload
