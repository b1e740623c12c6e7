"""Zones in image mode: a face outside the camera's zones (from the site's policy file) costs no Rekognition
call, as the detector drops it as `outside_zone` in stream mode."""

from __future__ import annotations

import json
from pathlib import Path

import boto3
import pytest
from facewatch_sampler.app import build_sampler
from facewatch_sampler.geometry import Box
from facewatch_sampler.settings import SamplerSettings
from facewatch_sampler.zones import ZonePolicyError, camera_zones
from tests.sampler.fakes import BlankLiveSource, FakeFaces, FixedBoxes

from facewatch.domain.policy import Zone

CAMERA_ID = "lobby-01"
STREAM_NAME = "lobby-01-faces"
SETTINGS = SamplerSettings(
    camera_id=CAMERA_ID,
    source="unused",
    stream_name=STREAM_NAME,
    collection_id="employees",
    kvs_stream_arn=f"arn:aws:kinesisvideo:us-east-1:123456789012:stream/{CAMERA_ID}/1598784211076",
    frames_per_second=10.0,
)
DOOR = Zone(name="door", polygon=((0.5, 0.0), (1.0, 0.0), (1.0, 1.0), (0.5, 1.0)))
STREET_FACE = Box(0.1, 0.3, 0.1, 0.2)  # centre x 0.15: outside the door
DOOR_FACE = Box(0.7, 0.3, 0.1, 0.2)


@pytest.fixture
def data_stream(aws: boto3.session.Session) -> str:
    aws.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)
    return STREAM_NAME


def run(aws: boto3.session.Session, boxes: list[Box], zones: tuple[Zone, ...]) -> FakeFaces:
    faces = FakeFaces(faces=boxes)
    source = BlankLiveSource(frames=100)
    sampler = build_sampler(SETTINGS, aws, source=source, faces=faces, detector=FixedBoxes(*boxes), zones=zones)
    sampler.run(max_frames=3, max_seconds=10)
    return faces


def test_a_face_outside_every_zone_costs_no_rekognition_call(aws: boto3.session.Session, data_stream: str) -> None:
    assert run(aws, [STREET_FACE], (DOOR,)).calls == []
    assert run(aws, [STREET_FACE], ()).calls != [], "without zones the same face is analysed"


def test_only_the_faces_inside_a_zone_are_searched(aws: boto3.session.Session, data_stream: str) -> None:
    with_zone = run(aws, [STREET_FACE, DOOR_FACE], (DOOR,))
    without = run(aws, [STREET_FACE, DOOR_FACE], ())

    assert with_zone.calls.count("SearchFacesByImage") < without.calls.count("SearchFacesByImage")
    assert with_zone.calls.count("SearchFacesByImage") >= 1


def test_the_cameras_zones_come_from_the_sites_policy_file(tmp_path: Path) -> None:
    policy = {
        "site": "seoul-hq",
        "cameras": {CAMERA_ID: {"zones": [{"name": "door", "polygon": [[0.5, 0], [1, 0], [1, 1], [0.5, 1]]}]}},
    }
    path = tmp_path / "seoul.json"
    path.write_text(json.dumps(policy))

    assert camera_zones(path, CAMERA_ID) == (DOOR,)
    assert camera_zones(path, "garage") == ()
    path.write_text(json.dumps({**policy, "timezone": "Nowhere/City"}))
    with pytest.raises(ZonePolicyError, match="timezone"):
        camera_zones(path, CAMERA_ID)
