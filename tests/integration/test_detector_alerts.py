"""Sightings become alert jobs on AlertQueue: one per camera window, schema 1, delayed until the clip exists.

The detector runs through the real handler on moto with explicit settings, clients and clock (see
tests/support/detector.py); results are read back from SQS and DynamoDB.
"""

from __future__ import annotations

import json
import math

import pytest
from tests.support.detector import DetectorHarness
from tests.support.kinesis import failed_sequence_numbers, kinesis_event, sequence_numbers
from tests.support.records import (
    CAMERA_ID,
    T0,
    employee_face,
    encode_record,
    face_search_record,
    fragment_number,
    frame_at,
    frame_time,
    kvs_stream_arn,
    unknown_face,
)

from facewatch.adapters.dedup_windows import WINDOW_ITEM_TTL_SECONDS
from facewatch.domain.dedup import alert_id_for
from facewatch.domain.records import parse_face_frame

LOBBY = CAMERA_ID
GARAGE = "seoul-hq-garage-b2"


def _frame_times(harness: DetectorHarness) -> list[tuple[str, float]]:
    jobs = harness.alert_jobs()
    return sorted((job.body["camera_id"], job.body["frame_time"]) for job in jobs)


def test_an_unknown_face_queues_one_alert_job(harness: DetectorHarness) -> None:
    event = kinesis_event([frame_at(1.733)])

    response = harness.invoke(event)

    assert failed_sequence_numbers(response) == []
    [job] = harness.alert_jobs()
    assert job.body["camera_id"] == LOBBY


def test_the_alert_job_carries_every_schema_1_field_and_no_face_data(harness: DetectorHarness) -> None:
    employee = employee_face(confidence=99.97, width=0.118, height=0.251, left=0.201, top=0.198)
    record = face_search_record([unknown_face(), employee])
    event = kinesis_event([record])
    expected_alert_id = alert_id_for(parse_face_frame(encode_record(record)).source, 0)

    harness.invoke(event)

    [job] = harness.alert_jobs()
    assert job.body == {
        "schema": 1,
        "alert_id": expected_alert_id,
        "camera_id": LOBBY,
        "kvs_stream_arn": kvs_stream_arn(LOBBY),
        "fragment_number": fragment_number(T0),
        "producer_timestamp": T0,
        "server_timestamp": pytest.approx(T0 + 0.294),
        "frame_offset_seconds": 1.733,
        "frame_time": frame_time(record),
        "face": {
            "index": 0,
            "bounding_box": {"width": 0.071, "height": 0.162, "left": 0.612, "top": 0.284},
            "confidence": 99.41,
            "quality": {"brightness": 51.7, "sharpness": 95.0},
            "pose": {"pitch": 3.2, "roll": -2.1, "yaw": 5.0},
        },
        "faces_in_frame": 2,
        "unmatched_faces_in_frame": 1,
        "kinesis_sequence_number": sequence_numbers(event)[0],
        "detected_at": harness.clock.now,
        "arrived_at": event["Records"][0]["kinesis"]["approximateArrivalTimestamp"],
    }
    assert job.message_attributes == {"alert_id": expected_alert_id, "camera_id": LOBBY, "schema": "1"}
    text = json.dumps(job.body)
    for face_data in ("Landmarks", "eyeLeft", "0.6333", "E10442", "Similarity"):
        assert face_data not in text


def test_the_window_item_records_the_alert_that_opened_it(harness: DetectorHarness) -> None:
    record = frame_at(1.733)

    harness.invoke(kinesis_event([record]))

    [job] = harness.alert_jobs()
    item = harness.window_item(LOBBY)
    assert item is not None
    assert item["alert_id"] == job.body["alert_id"]
    assert item["window_start"] == frame_time(record)
    assert item["window_end"] == frame_time(record) + 60
    assert item["expires_at"] == int(frame_time(record) + 60) + WINDOW_ITEM_TTL_SECONDS
    assert "suppressed_count" not in item, "a window's count goes onto its alert's item"


def test_two_sightings_one_second_apart_on_one_camera_raise_one_alert(harness: DetectorHarness) -> None:
    first, second = frame_at(10.0), frame_at(11.0)

    harness.invoke(kinesis_event([first, second]))

    assert _frame_times(harness) == [(LOBBY, frame_time(first))]


def test_sightings_in_separate_batches_share_the_window(harness: DetectorHarness) -> None:
    harness.invoke(kinesis_event([frame_at(10.0)]))
    harness.invoke(kinesis_event([frame_at(11.0)]))

    assert len(harness.alert_jobs()) == 1


def test_sightings_at_t_t30_t61_with_a_60s_window_raise_two_alerts(harness: DetectorHarness) -> None:
    records = [frame_at(10.0), frame_at(40.0), frame_at(71.0)]

    harness.invoke(kinesis_event(records))

    assert _frame_times(harness) == [(LOBBY, frame_time(records[0])), (LOBBY, frame_time(records[2]))]


def test_the_window_length_comes_from_the_settings(harness: DetectorHarness) -> None:
    harness.restart(DEDUP_WINDOW_SECONDS="20")

    harness.invoke(kinesis_event([frame_at(10.0), frame_at(25.0), frame_at(31.0)]))

    assert len(harness.alert_jobs()) == 2


def test_each_camera_has_its_own_window(harness: DetectorHarness) -> None:
    lobby_open, garage_open = frame_at(10.0, camera_id=LOBBY), frame_at(40.0, camera_id=GARAGE)
    lobby_next = frame_at(71.0, camera_id=LOBBY)
    records = [
        lobby_open,
        garage_open,
        frame_at(55.0, camera_id=LOBBY),  # in the lobby's window
        lobby_next,  # after the lobby's window, inside the garage's
        frame_at(75.0, camera_id=GARAGE),  # in the garage's window
    ]

    harness.invoke(kinesis_event(records))

    assert _frame_times(harness) == sorted(
        [(LOBBY, frame_time(lobby_open)), (GARAGE, frame_time(garage_open)), (LOBBY, frame_time(lobby_next))]
    )


def test_a_frame_with_two_unknown_faces_raises_one_alert_for_the_most_confident(harness: DetectorHarness) -> None:
    record = face_search_record([unknown_face(confidence=93.0), unknown_face(confidence=99.9, left=0.2)])

    harness.invoke(kinesis_event([record]))

    [job] = harness.alert_jobs()
    assert (job.body["face"]["index"], job.body["face"]["confidence"]) == (1, 99.9)
    assert (job.body["faces_in_frame"], job.body["unmatched_faces_in_frame"]) == (2, 2)


@pytest.mark.parametrize(
    "faces",
    [
        pytest.param([employee_face()], id="employee"),
        pytest.param([unknown_face(confidence=71.2)], id="low-confidence"),
        pytest.param([], id="empty-frame"),
    ],
)
def test_a_frame_without_a_sighting_raises_no_alert(harness: DetectorHarness, faces: list[dict[str, object]]) -> None:
    response = harness.invoke(kinesis_event([face_search_record(faces)]))

    assert failed_sequence_numbers(response) == []
    assert harness.alert_jobs() == []
    assert harness.window_item(LOBBY) is None


def test_quality_gates_from_the_settings_drop_small_faces(harness: DetectorHarness) -> None:
    harness.restart(MIN_FACE_HEIGHT_RATIO="0.1")
    small, large = unknown_face(height=0.05), unknown_face(height=0.2)

    harness.invoke(kinesis_event([frame_at(10.0, [small], camera_id=LOBBY), frame_at(10.0, [large], camera_id=GARAGE)]))

    assert [job.body["camera_id"] for job in harness.alert_jobs()] == [GARAGE]


def test_losing_the_window_race_to_another_container_is_a_suppression(harness: DetectorHarness) -> None:
    harness.invoke(kinesis_event([frame_at(10.0)]))
    [job] = harness.alert_jobs()
    harness.restart()  # another container: it knows nothing of the window

    response = harness.invoke(kinesis_event([frame_at(11.0)]))

    assert failed_sequence_numbers(response) == []
    assert harness.alert_jobs() == []
    # Counted against the other container's window, on that alert's item once the window has ended.
    harness.invoke(kinesis_event([frame_at(71.0)]))
    assert harness.suppressed_count(job.body["alert_id"]) == 1


# The SQS delay: frame time + post-roll (10 s) + 2 s ingest margin - now, clamped to [0, ALERT_DELAY_SECONDS].


def _sent_delays(harness: DetectorHarness) -> list[int]:
    return [call.params["DelaySeconds"] for call in harness.calls.of("sqs", "SendMessage")]


def test_a_late_record_is_queued_visible_at_once(harness: DetectorHarness) -> None:
    record = frame_at(1.733)
    harness.clock.now = frame_time(record) + 34.0  # results can lag the video by tens of seconds

    harness.invoke(kinesis_event([record]))

    assert _sent_delays(harness) == [0]
    assert harness.queue_depth() == (1, 0)
    assert len(harness.alert_jobs()) == 1


def test_by_default_a_fresh_record_is_queued_visible_at_once_for_the_first_message(harness: DetectorHarness) -> None:
    record = frame_at(1.733)
    harness.clock.now = frame_time(record) + 1.5

    harness.invoke(kinesis_event([record]))

    assert _sent_delays(harness) == [0]
    assert harness.queue_depth() == (1, 0)


def test_a_fresh_record_is_delayed_until_its_post_roll_is_ingested(harness: DetectorHarness) -> None:
    harness.restart(ALERT_DELAY_SECONDS="15")
    record = frame_at(1.733)
    harness.clock.now = frame_time(record) + 1.5

    harness.invoke(kinesis_event([record]))

    assert _sent_delays(harness) == [math.ceil(10 + 2 - 1.5)]
    assert harness.queue_depth() == (0, 1)
    assert harness.alert_jobs() == []


def test_the_delay_never_exceeds_alert_delay_seconds(harness: DetectorHarness) -> None:
    harness.restart(ALERT_DELAY_SECONDS="15")
    record = frame_at(1.733)
    harness.clock.now = frame_time(record) - 30.0  # a producer clock running ahead

    harness.invoke(kinesis_event([record]))

    assert _sent_delays(harness) == [15]
    assert harness.queue_depth() == (0, 1)


def test_alert_delay_seconds_zero_queues_every_job_visible(harness: DetectorHarness) -> None:
    harness.restart(ALERT_DELAY_SECONDS="0")
    record = frame_at(1.733)
    harness.clock.now = frame_time(record)

    harness.invoke(kinesis_event([record]))

    assert _sent_delays(harness) == [0]
    assert len(harness.alert_jobs()) == 1
