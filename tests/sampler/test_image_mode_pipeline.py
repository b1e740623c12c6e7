"""Image mode end to end: a video file -> the sampler (OpenCV, the Haar cascade, Rekognition stubbed with
its real model) -> the stack's Kinesis data stream on moto -> the real detector handler -> one alert."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import pytest
from botocore.stub import Stubber
from facewatch_sampler.app import build_sampler
from facewatch_sampler.frames import OpenCvSource
from facewatch_sampler.records import is_synthetic_fragment_number
from facewatch_sampler.rekognition import RekognitionFaces
from facewatch_sampler.settings import SamplerSettings, SearchMode
from facewatch_sampler.stats import SamplerStats
from tests.sampler.scene import EMPLOYEE, VISITOR, face_box
from tests.sampler.support import (
    COLLECTION_ID,
    EMPLOYEE_ID,
    FACE_MATCH_THRESHOLD,
    expect_detect_faces,
    expect_search,
    expect_search_users,
    read_stream,
)
from tests.support.aws import receive_all
from tests.support.kinesis import kinesis_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import T0

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.records import parse_face_frame

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

CAMERA_ID = "seoul-hq-lobby-01"
# Sampled at 2 frames/s, the 12 s scene is 24 frames: 8 with the employee, 8 with the visitor.
SAMPLED_FRAMES = 24
FRAMES_WITH_A_FACE = 16


def run_scene(
    aws: boto3.session.Session,
    stack: EmulatedStack,
    video: Path,
    rekognition: Any,
    search: SearchMode = SearchMode.FACES,
) -> tuple[SamplerStats, list[bytes]]:
    aws.client("kinesisvideo").create_stream(StreamName=CAMERA_ID, DataRetentionInHours=24)
    settings = SamplerSettings(
        camera_id=CAMERA_ID,
        source=str(video),
        stream_name=stack.face_search_stream_name,
        collection_id=COLLECTION_ID,
        face_match_threshold=FACE_MATCH_THRESHOLD,
        search=search,
    )
    sampler = build_sampler(
        settings,
        aws,
        source=OpenCvSource(str(video), start_time=T0),
        faces=RekognitionFaces(COLLECTION_ID, FACE_MATCH_THRESHOLD, client=rekognition),
    )
    stats = sampler.run(max_seconds=40)
    return stats, read_stream(aws.client("kinesis"), stack.face_search_stream_name)


def test_an_employee_and_a_visitor_crossing_raise_exactly_one_alert_for_the_visitor(
    aws: boto3.session.Session,
    stack: EmulatedStack,
    detector_environment: dict[str, str],
    scene_video: Path,
) -> None:
    # given Rekognition says the first person is employee E10442 and matches no one for the second
    rekognition = aws.client("rekognition")
    stubber = Stubber(rekognition)
    expect_detect_faces(stubber, face_box(EMPLOYEE, EMPLOYEE.start))
    expect_search(stubber, employee=True)
    expect_detect_faces(stubber, face_box(VISITOR, VISITOR.start))
    expect_search(stubber, employee=False)

    # when the sampler reads the scene
    with stubber:
        stats, records = run_scene(aws, stack, scene_video, rekognition)

    # then the local detector found every face and the track cache made one search per person
    stubber.assert_no_pending_responses()
    assert stats.frames_sampled == SAMPLED_FRAMES
    assert stats.frames_without_face == SAMPLED_FRAMES - FRAMES_WITH_A_FACE
    assert stats.rekognition_calls == {"DetectFaces": 2, "SearchFacesByImage": 2}
    assert stats.frames_cached == FRAMES_WITH_A_FACE - 2
    assert stats.frames_dropped == 0

    # and one record per analysed frame parses with the detector's own parser
    frames = [parse_face_frame(data) for data in records]
    assert [round(frame.source.frame_time - T0, 3) for frame in frames] == [EMPLOYEE.start, VISITOR.start]
    for frame in frames:
        assert frame.source.camera_id == CAMERA_ID
        assert frame.source.stream_arn.startswith(f"arn:aws:kinesisvideo:{stack.region}:")
        assert frame.source.frame_offset_seconds == 0.0
        assert is_synthetic_fragment_number(frame.source.fragment_number)
        assert len(frame.faces) == 1
    employee, visitor = (frame.faces[0] for frame in frames)
    assert [m.Face.ExternalImageId for m in employee.MatchedFaces if m.Face] == [EMPLOYEE_ID]
    assert visitor.MatchedFaces == []

    # when the detector function reads them from the stream
    from facewatch.handlers.detector import lambda_handler

    response = lambda_handler(kinesis_event(records, stream_name=stack.face_search_stream_name), FakeLambdaContext())

    # then exactly one alert is queued: the visitor's, at its frame, with its box
    assert response == {"batchItemFailures": []}
    (message,) = receive_all(aws.client("sqs"), stack.alert_queue_url)
    job = AlertJob.model_validate(message.body)
    assert job.camera_id == CAMERA_ID
    assert job.frame_time == pytest.approx(T0 + VISITOR.start, abs=1e-3)
    assert job.producer_timestamp == job.frame_time
    expected = face_box(VISITOR, VISITOR.start)
    assert (job.face.bounding_box.left, job.face.bounding_box.width) == pytest.approx((expected.left, expected.width))
    assert (job.faces_in_frame, job.unmatched_faces_in_frame) == (1, 1)


def test_searching_users_matches_the_employee_and_falls_back_to_faces_for_the_visitor_in_the_same_record_shape(
    aws: boto3.session.Session,
    stack: EmulatedStack,
    detector_environment: dict[str, str],
    scene_video: Path,
) -> None:
    # given the employee's user matches the first person; no user matches the second, nor any face
    rekognition = aws.client("rekognition")
    stubber = Stubber(rekognition)
    expect_detect_faces(stubber, face_box(EMPLOYEE, EMPLOYEE.start))
    expect_search_users(stubber, employee=True)
    expect_detect_faces(stubber, face_box(VISITOR, VISITOR.start))
    expect_search_users(stubber, employee=False)
    expect_search(stubber, employee=False)

    # when the sampler reads the scene searching users
    with stubber:
        stats, records = run_scene(aws, stack, scene_video, rekognition, search=SearchMode.USERS)

    # then one user search per person, and one face search for the face no user matched
    stubber.assert_no_pending_responses()
    assert stats.rekognition_calls == {"DetectFaces": 2, "SearchUsersByImage": 2, "SearchFacesByImage": 1}
    employee, visitor = (parse_face_frame(data).faces[0] for data in records)
    assert [m.Face.ExternalImageId for m in employee.MatchedFaces if m.Face] == [EMPLOYEE_ID]
    assert visitor.MatchedFaces == []

    # and the detector raises one alert, for the visitor only
    from facewatch.handlers.detector import lambda_handler

    assert lambda_handler(kinesis_event(records, stream_name=stack.face_search_stream_name), FakeLambdaContext()) == {
        "batchItemFailures": []
    }
    (message,) = receive_all(aws.client("sqs"), stack.alert_queue_url)
    assert AlertJob.model_validate(message.body).frame_time == pytest.approx(T0 + VISITOR.start, abs=1e-3)
