"""Image-mode records parse with the detector's own parser, carry their marks, and pass the stack's filter."""

from __future__ import annotations

import json

import pytest
from facewatch_local.event_pattern import kinesis_filter_passes
from facewatch_sampler.geometry import Box
from facewatch_sampler.records import (
    IMAGE_MODE_SOURCE,
    AnalysedFace,
    CollectionMatch,
    HeadPose,
    ImageQuality,
    Landmark,
    RecordShapeError,
    build_record,
    encode_record,
    is_synthetic_fragment_number,
    synthetic_fragment_number,
)
from tests.support.records import T0
from tests.template.reading import event, resolver, template_copy

from facewatch.domain.records import parse_face_frame

STREAM_ARN = "arn:aws:kinesisvideo:ap-northeast-2:111122223333:stream/seoul-hq-lobby-01/1731900000000"
UNKNOWN = AnalysedFace(
    box=Box(0.55, 0.24, 0.077, 0.17),
    confidence=99.1,
    pose=HeadPose(pitch=3.0, roll=-1.0, yaw=12.5),
    quality=ImageQuality(brightness=60.0, sharpness=80.0),
    landmarks=(Landmark("nose", 0.59, 0.33),),
)
EMPLOYEE = AnalysedFace(
    box=Box(0.1, 0.2, 0.08, 0.18),
    confidence=99.9,
    matches=(
        CollectionMatch(similarity=91.0, face_id="a", external_image_id="E2"),
        CollectionMatch(similarity=97.5, face_id="b", external_image_id="E1", image_id="i", confidence=99.0),
    ),
)


def test_a_record_parses_with_the_detector_parser_as_the_frame_it_describes() -> None:
    # given
    frame_time = T0 + 7.25

    # when
    frame = parse_face_frame(encode_record(build_record(STREAM_ARN, frame_time, (UNKNOWN, EMPLOYEE))))

    # then
    assert frame.source.camera_id == "seoul-hq-lobby-01"
    assert frame.source.stream_arn == STREAM_ARN
    assert frame.source.frame_time == pytest.approx(frame_time, abs=1e-3)
    assert frame.source.frame_offset_seconds == 0.0
    assert frame.source.producer_timestamp == frame.source.server_timestamp
    unknown, employee = frame.faces
    assert unknown.MatchedFaces == []
    assert unknown.DetectedFace.Pose is not None
    assert unknown.DetectedFace.Pose.Yaw == 12.5
    assert unknown.DetectedFace.BoundingBox.Left == 0.55
    assert [m.Similarity for m in employee.MatchedFaces] == [97.5, 91.0]
    assert employee.MatchedFaces[0].Face is not None
    assert employee.MatchedFaces[0].Face.ExternalImageId == "E1"


def test_a_record_says_it_came_from_image_mode_and_its_fragment_is_synthetic() -> None:
    record = json.loads(encode_record(build_record(STREAM_ARN, T0, (UNKNOWN,))))

    assert record["FacewatchSource"] == IMAGE_MODE_SOURCE
    assert record["SyntheticFragment"] is True
    fragment = record["InputInformation"]["KinesisVideo"]["FragmentNumber"]
    assert fragment == synthetic_fragment_number(T0)
    assert fragment.isdigit()
    assert is_synthetic_fragment_number(fragment)
    # a real KVS fragment number (a large positive integer in decimal) never falls in that range
    assert not is_synthetic_fragment_number("91343852333181432392682062612240118245634453510")


def test_synthetic_fragment_numbers_are_unique_per_frame_and_stable_per_frame() -> None:
    assert synthetic_fragment_number(T0) == synthetic_fragment_number(T0)
    assert synthetic_fragment_number(T0) != synthetic_fragment_number(T0 + 0.5)


def test_a_record_the_parser_would_reject_is_never_encoded() -> None:
    bad = AnalysedFace(box=Box(0.1, 0.1, 0.1, 0.1), confidence=140.0)

    with pytest.raises(RecordShapeError, match="Confidence"):
        encode_record(build_record(STREAM_ARN, T0, (bad,)))


def test_records_with_faces_pass_the_stacks_record_filter() -> None:
    template = template_copy()
    criteria = event(template, "DetectorFunction", "FaceSearchRecords")["FilterCriteria"]
    filters = resolver(template, {}).resolve({"FilterCriteria": criteria})["FilterCriteria"]["Filters"]

    assert kinesis_filter_passes(filters, encode_record(build_record(STREAM_ARN, T0, (UNKNOWN,))))
    assert not kinesis_filter_passes(filters, encode_record(build_record(STREAM_ARN, T0, ())))
