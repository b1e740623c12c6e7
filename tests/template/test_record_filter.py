"""The Kinesis mapping's FilterCriteria, on the shapes of real face-search records.

Frames with a face must reach the detector; frames without one need not invoke it; JSON that is not a
face-search record must still reach it, so it can be quarantined with the reason.
"""

from __future__ import annotations

import base64
import copy
import json
from pathlib import Path
from typing import Any

import pytest
from facewatch_local.cfn import NO_VALUE
from facewatch_local.event_pattern import kinesis_filter_passes
from tests.template.reading import event, resolver

REPOSITORY = Path(__file__).resolve().parents[2]
# The reference records, copied into the repository (tests/fixtures/reference/SOURCES.md).
REFERENCE_EXAMPLES = REPOSITORY / "tests" / "fixtures" / "reference"
FACE_RECORD_PATH = REFERENCE_EXAMPLES / "two-faces-one-unknown.json"
KINESIS_EVENT_PATH = REFERENCE_EXAMPLES / "kinesis-event.json"


def filters(template: dict[str, Any], **overrides: str) -> Any:
    criteria = event(template, "DetectorFunction", "FaceSearchRecords")["FilterCriteria"]
    resolved = resolver(template, overrides).resolve({"FilterCriteria": criteria})
    return resolved["FilterCriteria"]["Filters"] if "FilterCriteria" in resolved else NO_VALUE


@pytest.fixture
def face_record() -> dict[str, Any]:
    return json.loads(FACE_RECORD_PATH.read_text())


def as_data(record: Any) -> bytes:
    return json.dumps(record).encode()


def event_data(path: Path) -> list[bytes]:
    return [base64.b64decode(record["kinesis"]["data"]) for record in json.loads(path.read_text())["Records"]]


def test_filter_is_on_by_default_with_a_face_pattern_and_a_not_a_face_search_record_pattern(
    template: dict[str, Any],
) -> None:
    # when
    patterns = [json.loads(rule["Pattern"]) for rule in filters(template)]
    # then
    assert patterns == [
        {"data": {"FaceSearchResponse": {"DetectedFace": {"Confidence": [{"numeric": [">=", 0]}]}}}},
        {"data": {"InputInformation": {"KinesisVideo": {"StreamArn": [{"exists": False}]}}}},
    ]


def test_record_with_faces_reaches_the_detector(template: dict[str, Any], face_record: dict[str, Any]) -> None:
    assert kinesis_filter_passes(filters(template), as_data(face_record))


def test_record_with_one_low_confidence_face_reaches_the_detector(
    template: dict[str, Any], face_record: dict[str, Any]
) -> None:
    # given: the detector, not the filter, applies MinFaceConfidence
    face_record["FaceSearchResponse"] = face_record["FaceSearchResponse"][:1]
    face_record["FaceSearchResponse"][0]["DetectedFace"]["Confidence"] = 0.5
    # then
    assert kinesis_filter_passes(filters(template), as_data(face_record))


def test_frame_without_a_face_is_filtered_out(template: dict[str, Any], face_record: dict[str, Any]) -> None:
    # given
    empty_frame = copy.deepcopy(face_record)
    empty_frame["FaceSearchResponse"] = []
    # then
    assert not kinesis_filter_passes(filters(template), as_data(empty_frame))


def test_record_in_java_scientific_notation_reaches_the_detector(
    template: dict[str, Any], face_record: dict[str, Any]
) -> None:
    # given: real records write numbers like 9.941E1
    data = as_data(face_record).replace(b'"Confidence": 99.41', b'"Confidence": 9.941E1')
    # then
    assert b"9.941E1" in data
    assert kinesis_filter_passes(filters(template), data)


@pytest.mark.parametrize("data", [b'{"hello": 1}', b"[1, 2, 3]", b'{"FaceSearchResponse": "not a list"}'])
def test_json_that_is_not_a_face_search_record_reaches_the_detector_for_quarantine(
    template: dict[str, Any], data: bytes
) -> None:
    assert kinesis_filter_passes(filters(template), data)


def test_data_that_is_not_json_is_dropped_by_lambda_when_the_filter_is_on(template: dict[str, Any]) -> None:
    # given: the cost of the filter, documented on EnableRecordFilter
    data = b"\x89PNG\r\n\x1a\n not json"
    # then
    assert not kinesis_filter_passes(filters(template), data)


def test_every_record_of_the_reference_kinesis_event_passes(template: dict[str, Any]) -> None:
    # when
    passed = [kinesis_filter_passes(filters(template), data) for data in event_data(KINESIS_EVENT_PATH)]
    # then
    assert len(passed) >= 1
    assert all(passed)


@pytest.mark.parametrize(
    ("event_file", "delivered"),
    [
        ("detector-unknown-face.json", [True]),
        ("detector-two-faces-one-unknown.json", [True]),
        ("detector-employee-match.json", [True]),
        ("detector-low-confidence.json", [True]),
        ("detector-empty-frame.json", [False]),
        # Plain text and binary are not JSON: with the filter on, Lambda drops them before the detector.
        ("detector-malformed.json", [False, True, False]),
    ],
)
def test_replayed_events_reach_the_detector_as_the_filter_decides(
    template: dict[str, Any], event_file: str, delivered: list[bool]
) -> None:
    # when
    outcome = [
        kinesis_filter_passes(filters(template), data) for data in event_data(REPOSITORY / "events" / event_file)
    ]
    # then
    assert outcome == delivered


def test_turning_the_filter_off_removes_it_from_the_mapping(template: dict[str, Any]) -> None:
    assert filters(template, EnableRecordFilter="false") is NO_VALUE
