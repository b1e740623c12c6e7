"""The alert job message (schema 1) and its SQS delay."""

from __future__ import annotations

import json
import math
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.records import (
    CAMERA_ID,
    T0,
    employee_face,
    encode_record,
    face_search_record,
    fragment_number,
    kvs_stream_arn,
    unknown_face,
)

from facewatch.domain.alert_job import (
    INGEST_MARGIN_SECONDS,
    MAX_SQS_DELAY_SECONDS,
    AlertJob,
    alert_delay_seconds,
    build_alert_job,
    mismatch,
)
from facewatch.domain.dedup import alert_id_for
from facewatch.domain.records import parse_face_frame
from facewatch.domain.sightings import FaceGates, Sighting, judge_frame

ALERT_ID = "3f1c9a7e5b2d4c6a8e0f1a2b3c4d5e6f"
SEQUENCE_NUMBER = "49656412345678901234567890123456789012345678901234567890"
DETECTED_AT = T0 + 8.5
FRAME_TIME = T0 + 1.733
POST_ROLL_SECONDS = 10.0


def _sighting(*faces: dict[str, Any]) -> Sighting:
    frame = parse_face_frame(encode_record(face_search_record(list(faces))))
    return judge_frame(frame, FaceGates(min_confidence=90.0)).sightings[0]


def _message(sighting: Sighting) -> dict[str, Any]:
    job = build_alert_job(sighting, ALERT_ID, SEQUENCE_NUMBER, detected_at=DETECTED_AT)
    message: dict[str, Any] = json.loads(job.to_message())
    return message


def test_the_message_carries_every_field_of_schema_1() -> None:
    sighting = _sighting(
        unknown_face(confidence=99.41, width=0.071, height=0.162, left=0.612, top=0.284, pitch=3.2, roll=-2.1, yaw=5.0),
        employee_face(),
    )

    message = _message(sighting)

    assert message == {
        "schema": 1,
        "alert_id": ALERT_ID,
        "camera_id": CAMERA_ID,
        "kvs_stream_arn": kvs_stream_arn(CAMERA_ID),
        "fragment_number": fragment_number(T0),
        "producer_timestamp": T0,
        "server_timestamp": pytest.approx(T0 + 0.294),
        "frame_offset_seconds": pytest.approx(FRAME_TIME - T0),
        "frame_time": FRAME_TIME,
        "face": {
            "index": 0,
            "bounding_box": {"width": 0.071, "height": 0.162, "left": 0.612, "top": 0.284},
            "confidence": 99.41,
            "quality": {"brightness": 51.7, "sharpness": 95.0},
            "pose": {"pitch": 3.2, "roll": -2.1, "yaw": 5.0},
        },
        "faces_in_frame": 2,
        "unmatched_faces_in_frame": 1,
        "kinesis_sequence_number": SEQUENCE_NUMBER,
        "detected_at": DETECTED_AT,
    }


def test_the_message_never_carries_landmarks_or_match_identities() -> None:
    text = json.dumps(_message(_sighting(unknown_face(), employee_face())))

    for forbidden in ("Landmarks", "landmark", "eyeLeft", "E10442", "FaceId", "Similarity"):
        assert forbidden not in text


def test_a_face_without_quality_or_pose_has_them_null() -> None:
    face = unknown_face()
    del face["DetectedFace"]["Quality"], face["DetectedFace"]["Pose"]

    message = _message(_sighting(face))

    assert message["face"]["quality"] is None
    assert message["face"]["pose"] is None


def test_the_message_reads_back_as_the_same_job() -> None:
    job = build_alert_job(_sighting(unknown_face()), ALERT_ID, SEQUENCE_NUMBER, detected_at=DETECTED_AT)

    assert AlertJob.model_validate_json(job.to_message()) == job


def test_a_fresh_record_waits_until_the_post_roll_is_ingested() -> None:
    now = FRAME_TIME + 3.0

    delay = alert_delay_seconds(FRAME_TIME, now, POST_ROLL_SECONDS, max_delay_seconds=15)

    assert delay == math.ceil(POST_ROLL_SECONDS + INGEST_MARGIN_SECONDS - 3.0) == 9


def test_a_late_record_is_not_delayed_again() -> None:
    now = FRAME_TIME + 34.0  # Rekognition results can lag the video by tens of seconds

    assert alert_delay_seconds(FRAME_TIME, now, POST_ROLL_SECONDS, max_delay_seconds=15) == 0


def test_the_delay_is_clamped_to_the_configured_maximum() -> None:
    assert alert_delay_seconds(FRAME_TIME, FRAME_TIME, POST_ROLL_SECONDS, max_delay_seconds=5) == 5


def test_the_delay_never_exceeds_what_sqs_allows() -> None:
    assert alert_delay_seconds(FRAME_TIME, FRAME_TIME - 3600, 300, max_delay_seconds=10_000) == MAX_SQS_DELAY_SECONDS


def test_a_maximum_of_zero_turns_the_delay_off() -> None:
    assert alert_delay_seconds(FRAME_TIME, FRAME_TIME, POST_ROLL_SECONDS, max_delay_seconds=0) == 0


def test_a_fraction_of_a_second_left_rounds_up() -> None:
    now = FRAME_TIME + POST_ROLL_SECONDS + INGEST_MARGIN_SECONDS - 0.2

    assert alert_delay_seconds(FRAME_TIME, now, POST_ROLL_SECONDS, max_delay_seconds=15) == 1


@given(
    lag=st.floats(min_value=-60, max_value=3600, allow_nan=False),
    post_roll=st.floats(min_value=0, max_value=300, allow_nan=False),
    max_delay=st.integers(min_value=0, max_value=2000),
)
def test_the_delay_is_the_time_left_clamped_to_the_sqs_range(lag: float, post_roll: float, max_delay: int) -> None:
    delay = alert_delay_seconds(FRAME_TIME, FRAME_TIME + lag, post_roll, max_delay)

    cap = min(max_delay, MAX_SQS_DELAY_SECONDS)
    assert 0 <= delay <= cap
    remaining = FRAME_TIME + post_roll + INGEST_MARGIN_SECONDS - (FRAME_TIME + lag)
    if 0 <= remaining <= cap:
        assert remaining <= delay < remaining + 1


def test_a_job_the_detector_built_adds_up() -> None:
    sighting = _sighting(unknown_face())
    job = build_alert_job(sighting, alert_id_for(sighting.source, sighting.face_index), SEQUENCE_NUMBER, DETECTED_AT)

    assert mismatch(job) is None


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"alert_id": "0123456789abcdef0123456789abcdef"}, "alert_id is not the id of this job's frame and face"),
        ({"camera_id": "another-camera"}, "camera_id is not the camera of kvs_stream_arn"),
        ({"frame_time": FRAME_TIME + 60}, "frame_time is not producer_timestamp + frame_offset_seconds"),
        ({"frame_offset_seconds": 0.5}, "frame_time is not producer_timestamp + frame_offset_seconds"),
    ],
)
def test_a_job_whose_alert_id_or_fields_do_not_belong_together_is_named(change: dict[str, Any], reason: str) -> None:
    sighting = _sighting(unknown_face())
    job = build_alert_job(sighting, alert_id_for(sighting.source, sighting.face_index), SEQUENCE_NUMBER, DETECTED_AT)

    assert mismatch(job.model_copy(update=change)) == reason
