"""Which faces are sightings: confident, matched by no employee, and through the optional quality gates."""

from __future__ import annotations

from typing import Any

import pytest
from tests.support.records import CAMERA_ID, T0, employee_face, kvs_stream_arn, unknown_face

from facewatch.domain.records import FaceFrame, FaceSearchResult, VideoSource
from facewatch.domain.sightings import DropReason, FaceGates, drop_reason, judge_frame

DEFAULT_GATES = FaceGates(min_confidence=90.0)
SOURCE = VideoSource(
    stream_arn=kvs_stream_arn(),
    camera_id=CAMERA_ID,
    fragment_number="91343852333181432392682062612240118245634380512",
    producer_timestamp=T0,
    server_timestamp=T0 + 0.294,
    frame_offset_seconds=1.733,
)


def _result(face: dict[str, Any]) -> FaceSearchResult:
    return FaceSearchResult.model_validate(face)


def _frame(*faces: dict[str, Any]) -> FaceFrame:
    return FaceFrame(source=SOURCE, faces=tuple(_result(face) for face in faces))


def test_a_confident_unknown_face_is_a_sighting() -> None:
    assert drop_reason(_result(unknown_face(confidence=99.4)), DEFAULT_GATES) is None


def test_a_face_at_exactly_the_minimum_confidence_is_a_sighting() -> None:
    assert drop_reason(_result(unknown_face(confidence=90.0)), DEFAULT_GATES) is None


def test_a_face_below_the_minimum_confidence_is_dropped() -> None:
    assert drop_reason(_result(unknown_face(confidence=89.99)), DEFAULT_GATES) is DropReason.LOW_CONFIDENCE


def test_a_matched_face_is_an_employee_whatever_its_confidence() -> None:
    assert drop_reason(_result(employee_face(confidence=50.0)), DEFAULT_GATES) is DropReason.EMPLOYEE_MATCH


def test_any_match_makes_an_employee_whatever_the_order_of_the_matches() -> None:
    face = employee_face(similarity=99.0)
    weaker = {**face["MatchedFaces"][0], "Similarity": 80.1}
    face["MatchedFaces"] = [weaker, face["MatchedFaces"][0]]

    assert drop_reason(_result(face), DEFAULT_GATES) is DropReason.EMPLOYEE_MATCH


def test_quality_gates_are_off_at_zero() -> None:
    tiny_blurry_turned_away = unknown_face(height=0.01, sharpness=1.0, yaw=85.0)

    assert drop_reason(_result(tiny_blurry_turned_away), DEFAULT_GATES) is None


@pytest.mark.parametrize(
    ("face", "gates", "expected"),
    [
        pytest.param(unknown_face(height=0.099), FaceGates(min_box_height_ratio=0.1), DropReason.TOO_SMALL, id="small"),
        pytest.param(unknown_face(height=0.1), FaceGates(min_box_height_ratio=0.1), None, id="height-at-gate"),
        pytest.param(unknown_face(sharpness=39.9), FaceGates(min_sharpness=40), DropReason.TOO_BLURRY, id="blurry"),
        pytest.param(unknown_face(sharpness=40.0), FaceGates(min_sharpness=40), None, id="sharpness-at-gate"),
        pytest.param(unknown_face(yaw=-45.5), FaceGates(max_abs_yaw_degrees=45), DropReason.TURNED_AWAY, id="yaw-left"),
        pytest.param(unknown_face(yaw=45.5), FaceGates(max_abs_yaw_degrees=45), DropReason.TURNED_AWAY, id="yaw-right"),
        pytest.param(unknown_face(yaw=-45.0), FaceGates(max_abs_yaw_degrees=45), None, id="yaw-at-gate"),
    ],
)
def test_quality_gates(face: dict[str, Any], gates: FaceGates, expected: DropReason | None) -> None:
    assert drop_reason(_result(face), gates) is expected


@pytest.mark.parametrize(
    ("missing", "gates", "expected"),
    [
        ("Quality", FaceGates(min_sharpness=40), DropReason.TOO_BLURRY),
        ("Pose", FaceGates(max_abs_yaw_degrees=45), DropReason.TURNED_AWAY),
    ],
)
def test_a_face_without_the_measure_a_gate_needs_fails_that_gate(
    missing: str, gates: FaceGates, expected: DropReason
) -> None:
    face = unknown_face()
    del face["DetectedFace"][missing]

    assert drop_reason(_result(face), gates) is expected


def test_a_frame_with_an_employee_and_a_visitor_yields_the_visitor() -> None:
    verdict = judge_frame(_frame(unknown_face(confidence=99.41), employee_face(confidence=99.97)), DEFAULT_GATES)

    assert [s.face_index for s in verdict.sightings] == [0]
    sighting = verdict.sightings[0]
    assert (sighting.faces_in_frame, sighting.unmatched_faces_in_frame) == (2, 1)
    assert sighting.camera_id == CAMERA_ID
    assert sighting.frame_time == T0 + 1.733
    assert verdict.dropped == {DropReason.EMPLOYEE_MATCH: 1}


def test_sightings_come_most_confident_first_and_keep_their_index_in_the_frame() -> None:
    frame = _frame(unknown_face(confidence=91.0), unknown_face(confidence=99.5), unknown_face(confidence=95.0))

    verdict = judge_frame(frame, DEFAULT_GATES)

    assert [s.face_index for s in verdict.sightings] == [1, 2, 0]
    assert all(s.unmatched_faces_in_frame == 3 for s in verdict.sightings)


def test_dropped_faces_are_counted_by_reason() -> None:
    frame = _frame(
        employee_face(),
        employee_face(),
        unknown_face(confidence=50.0),
        unknown_face(height=0.02),
    )

    verdict = judge_frame(frame, FaceGates(min_confidence=90.0, min_box_height_ratio=0.05))

    assert verdict.sightings == ()
    assert verdict.dropped == {
        DropReason.EMPLOYEE_MATCH: 2,
        DropReason.LOW_CONFIDENCE: 1,
        DropReason.TOO_SMALL: 1,
    }


def test_a_frame_without_faces_yields_nothing() -> None:
    verdict = judge_frame(_frame(), DEFAULT_GATES)

    assert verdict.sightings == ()
    assert sum(verdict.dropped.values()) == 0
