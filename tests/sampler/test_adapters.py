"""The AWS adapters: Rekognition through botocore's Stubber (the real service model), Kinesis and
CloudWatch on moto."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber
from facewatch_sampler.kinesis import RecordWriter
from facewatch_sampler.metrics import SamplerMetrics
from facewatch_sampler.rekognition import RekognitionError, RekognitionFaces
from facewatch_sampler.stats import SamplerStats
from tests.sampler.support import read_stream
from tests.support.aws import fail_calls

COLLECTION = "facewatch-employees"
JPEG = b"\xff\xd8\xff\xe0 not really a jpeg"


@pytest.fixture
def rekognition() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client("rekognition", region_name="us-east-1")
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


def test_detect_faces_gives_boxes_pose_quality_and_landmarks(rekognition: tuple[Any, Stubber]) -> None:
    client, stubber = rekognition
    stubber.add_response(
        "detect_faces",
        {
            "FaceDetails": [
                {
                    "BoundingBox": {"Width": 0.1, "Height": 0.2, "Left": 0.3, "Top": 0.4},
                    "Confidence": 99.8,
                    "Landmarks": [{"Type": "nose", "X": 0.35, "Y": 0.5}],
                    "Pose": {"Roll": 1.0, "Yaw": -20.0, "Pitch": 4.0},
                    "Quality": {"Brightness": 55.0, "Sharpness": 78.0},
                }
            ]
        },
        {"Image": {"Bytes": JPEG}, "Attributes": ["DEFAULT"]},
    )

    (face,) = RekognitionFaces(COLLECTION, 90.0, client=client).detect_faces(JPEG)

    assert (face.box.left, face.box.top, face.box.width, face.box.height) == (0.3, 0.4, 0.1, 0.2)
    assert face.confidence == 99.8
    assert face.pose is not None
    assert face.pose.yaw == -20.0
    assert face.quality is not None
    assert face.quality.sharpness == 78.0
    assert [(m.kind, m.x, m.y) for m in face.landmarks] == [("nose", 0.35, 0.5)]


def test_search_asks_the_collection_at_the_threshold_and_returns_the_match(rekognition: tuple[Any, Stubber]) -> None:
    client, stubber = rekognition
    stubber.add_response(
        "search_faces_by_image",
        {
            "SearchedFaceBoundingBox": {"Width": 0.5, "Height": 0.6, "Left": 0.25, "Top": 0.2},
            "SearchedFaceConfidence": 99.9,
            "FaceMatches": [
                {
                    "Similarity": 98.7,
                    "Face": {"FaceId": "f-1", "ImageId": "i-1", "ExternalImageId": "E10442", "Confidence": 99.99},
                }
            ],
        },
        {"CollectionId": COLLECTION, "Image": {"Bytes": ANY}, "MaxFaces": 1, "FaceMatchThreshold": 90.0},
    )

    searched = RekognitionFaces(COLLECTION, 90.0, client=client).search_face(JPEG)

    assert searched is not None
    assert searched.confidence == 99.9
    (match,) = searched.matches
    assert (match.similarity, match.face_id, match.external_image_id) == (98.7, "f-1", "E10442")


def test_a_crop_without_a_face_is_no_face_not_an_error(rekognition: tuple[Any, Stubber]) -> None:
    client, stubber = rekognition
    stubber.add_client_error(
        "search_faces_by_image",
        "InvalidParameterException",
        "There are no faces in the image. Should be at least 1.",
    )

    assert RekognitionFaces(COLLECTION, 90.0, client=client).search_face(JPEG) is None


def test_other_invalid_parameters_are_errors_not_silently_no_face(rekognition: tuple[Any, Stubber]) -> None:
    client, stubber = rekognition
    stubber.add_client_error("search_faces_by_image", "InvalidParameterException", "Invalid collection id")

    with pytest.raises(RekognitionError) as raised:
        RekognitionFaces(COLLECTION, 90.0, client=client).search_face(JPEG)

    assert raised.value.code == "InvalidParameterException"
    assert not raised.value.throttled


@pytest.mark.parametrize("code", ["ThrottlingException", "ProvisionedThroughputExceededException"])
def test_throttling_is_reported_as_throttled(rekognition: tuple[Any, Stubber], code: str) -> None:
    client, stubber = rekognition
    stubber.add_client_error("detect_faces", code, "slow down", http_status_code=400)

    with pytest.raises(RekognitionError) as raised:
        RekognitionFaces(COLLECTION, 90.0, client=client).detect_faces(JPEG)

    assert raised.value.throttled


def test_the_client_is_made_on_first_use_only() -> None:
    made: list[str] = []

    def factory() -> Any:
        made.append("rekognition")
        return boto3.client("rekognition", region_name="us-east-1")

    faces = RekognitionFaces(COLLECTION, 90.0, client_factory=factory)
    assert made == []
    assert faces.client is faces.client
    assert made == ["rekognition"]


def test_records_that_fail_to_write_wait_and_go_first_next_time(aws: boto3.session.Session) -> None:
    # given a stream whose next PutRecord fails
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="lobby-faces", ShardCount=1)
    writer = RecordWriter("lobby-faces", "lobby", client=kinesis)
    fail_calls(kinesis, "PutRecord", "InternalFailure", status=500)

    # when
    first_delivered = writer.write(b'{"n":1}')
    second_delivered = writer.write(b'{"n":2}')

    # then the first waited and went first
    assert (first_delivered, second_delivered) == (False, True)
    assert read_stream(kinesis, "lobby-faces") == [b'{"n":1}', b'{"n":2}']
    assert (writer.written, writer.pending, writer.dropped) == (2, 0, 0)


def test_a_full_outbox_drops_the_oldest_record(aws: boto3.session.Session) -> None:
    kinesis = aws.client("kinesis")
    kinesis.create_stream(StreamName="lobby-faces", ShardCount=1)
    writer = RecordWriter("lobby-faces", "lobby", client=kinesis, max_pending=2)
    fail_calls(kinesis, "PutRecord", "InternalFailure", status=500, times=3)

    for n in (1, 2, 3):
        writer.write(f'{{"n":{n}}}'.encode())
    writer.flush()

    assert read_stream(kinesis, "lobby-faces") == [b'{"n":2}', b'{"n":3}']
    assert writer.dropped == 1


def test_metrics_say_whether_the_camera_is_online_and_count_per_interval(aws: boto3.session.Session) -> None:
    cloudwatch = aws.client("cloudwatch")
    stats = SamplerStats(camera_id="lobby", online=True, frames_sampled=120, records_written=3)
    metrics = SamplerMetrics("Facewatch/Sampler", "lobby", client=cloudwatch)

    metrics.publish(stats)
    stats.frames_sampled, stats.online = 150, False
    metrics.publish(stats)

    def values(name: str) -> list[float]:
        response = cloudwatch.get_metric_statistics(
            Namespace="Facewatch/Sampler",
            MetricName=name,
            Dimensions=[{"Name": "CameraId", "Value": "lobby"}],
            StartTime="2000-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z",
            Period=86400,
            Statistics=["Sum", "Minimum"],
        )
        (point,) = response["Datapoints"]
        return [point["Sum"], point["Minimum"]]

    assert values("FramesSampled") == [150.0, 30.0]  # 120, then 30 more
    assert values("CameraOnline") == [1.0, 0.0]


def test_metrics_count_frames_over_budget_and_the_share_of_the_account_tps_used(aws: boto3.session.Session) -> None:
    # given a camera whose share is 0.5 calls/s, which made 15 calls in the 60 s since the last publish
    cloudwatch = aws.client("cloudwatch")
    now = iter([0.0, 60.0])
    stats = SamplerStats(camera_id="lobby", online=True, budget_share_tps=0.5, frames_over_budget=7)
    stats.rekognition_calls["DetectFaces"] = 15
    metrics = SamplerMetrics("Facewatch/Sampler", "lobby", client=cloudwatch, clock=lambda: next(now))

    metrics.publish(stats)

    def value(name: str) -> float:
        response = cloudwatch.get_metric_statistics(
            Namespace="Facewatch/Sampler",
            MetricName=name,
            Dimensions=[{"Name": "CameraId", "Value": "lobby"}],
            StartTime="2000-01-01T00:00:00Z",
            EndTime="2100-01-01T00:00:00Z",
            Period=86400,
            Statistics=["Sum"],
        )
        (point,) = response["Datapoints"]
        return float(point["Sum"])

    assert value("FramesOverBudget") == 7.0
    assert value("RekognitionBudgetUse") == 50.0  # 15 of the 30 calls the share allowed
    assert value("CameraOnline") == 1.0
