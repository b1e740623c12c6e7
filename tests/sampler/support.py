"""Reading what the sampler wrote, and Rekognition answers queued on a botocore Stubber."""

from __future__ import annotations

from typing import Any

from botocore.stub import ANY, Stubber
from facewatch_sampler.geometry import Box

COLLECTION_ID = "facewatch-employees"
FACE_MATCH_THRESHOLD = 90.0
EMPLOYEE_ID = "E10442"


def read_stream(kinesis: Any, stream_name: str) -> list[bytes]:
    """Every record on the stream's first shard, oldest first (the sampler keys a camera to one shard)."""
    shard = kinesis.list_shards(StreamName=stream_name)["Shards"][0]["ShardId"]
    iterator = kinesis.get_shard_iterator(StreamName=stream_name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    response = kinesis.get_records(ShardIterator=iterator["ShardIterator"], Limit=1000)
    return [record["Data"] for record in response["Records"]]


def _box(box: Box) -> dict[str, float]:
    return {"Width": box.width, "Height": box.height, "Left": box.left, "Top": box.top}


def expect_detect_faces(stubber: Stubber, *boxes: Box) -> None:
    stubber.add_response(
        "detect_faces",
        {
            "FaceDetails": [
                {
                    "BoundingBox": _box(box),
                    "Confidence": 99.93,
                    "Landmarks": [{"Type": "nose", "X": box.centre[0], "Y": box.centre[1]}],
                    "Pose": {"Roll": -1.5, "Yaw": 4.2, "Pitch": 2.0},
                    "Quality": {"Brightness": 61.0, "Sharpness": 86.9},
                }
                for box in boxes
            ]
        },
        {"Image": {"Bytes": ANY}, "Attributes": ["DEFAULT"]},
    )


def expect_search(stubber: Stubber, *, employee: bool) -> None:
    matches = (
        [
            {
                "Similarity": 99.12,
                "Face": {
                    "FaceId": "6f0c3d5e-3b1a-4a57-9f0e-2f4f3a9c1d21",
                    "BoundingBox": {"Width": 0.52, "Height": 0.61, "Left": 0.22, "Top": 0.14},
                    "ImageId": "b7e2a0f4-5d6c-5e71-8a9b-0c1d2e3f4a5b",
                    "ExternalImageId": EMPLOYEE_ID,
                    "Confidence": 99.998,
                },
            }
        ]
        if employee
        else []
    )
    stubber.add_response(
        "search_faces_by_image",
        {
            "SearchedFaceBoundingBox": {"Width": 0.42, "Height": 0.5, "Left": 0.29, "Top": 0.2},
            "SearchedFaceConfidence": 99.93,
            "FaceMatches": matches,
        },
        {
            "CollectionId": COLLECTION_ID,
            "Image": {"Bytes": ANY},
            "MaxFaces": 1,
            "FaceMatchThreshold": FACE_MATCH_THRESHOLD,
        },
    )


def expect_search_users(stubber: Stubber, *, employee: bool) -> None:
    """SearchUsersByImage: the employee's user (UserId = employee id), or no user."""
    stubber.add_response(
        "search_users_by_image",
        {
            "UserMatches": [{"Similarity": 99.4, "User": {"UserId": EMPLOYEE_ID, "UserStatus": "ACTIVE"}}]
            if employee
            else [],
            "FaceModelVersion": "7.0",
            "SearchedFace": {
                "FaceDetail": {
                    "BoundingBox": {"Width": 0.42, "Height": 0.5, "Left": 0.29, "Top": 0.2},
                    "Confidence": 99.9,
                }
            },
            "UnsearchedFaces": [],
        },
        {
            "CollectionId": COLLECTION_ID,
            "Image": {"Bytes": ANY},
            "MaxUsers": 1,
            "UserMatchThreshold": FACE_MATCH_THRESHOLD,
        },
    )
