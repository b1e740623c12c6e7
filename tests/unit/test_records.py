"""Parsing a Kinesis data blob into a face-search frame, or rejecting it with a reason."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given, settings
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

from facewatch.domain.records import (
    MAX_RECORD_BYTES,
    MalformedRecordError,
    QuarantineReason,
    camera_id_from_stream_arn,
    parse_face_frame,
)


def _record() -> dict[str, Any]:
    return face_search_record([unknown_face()])


def _reason(data: bytes) -> str:
    with pytest.raises(MalformedRecordError) as raised:
        parse_face_frame(data)
    return raised.value.reason


def _broken(change: Callable[[dict[str, Any]], None]) -> bytes:
    record = copy.deepcopy(_record())
    change(record)
    return encode_record(record)


def _video(record: dict[str, Any]) -> dict[str, Any]:
    video: dict[str, Any] = record["InputInformation"]["KinesisVideo"]
    return video


def _face(record: dict[str, Any]) -> dict[str, Any]:
    face: dict[str, Any] = record["FaceSearchResponse"][0]
    return face


def test_parses_a_real_shape_record_with_timestamps_in_scientific_notation() -> None:
    data = encode_record(_record())
    assert b'"ProducerTimestamp":1.763776800118E9' in data

    frame = parse_face_frame(data)

    assert frame.source.camera_id == CAMERA_ID
    assert frame.source.stream_arn == kvs_stream_arn(CAMERA_ID)
    assert frame.source.fragment_number == fragment_number(T0)
    assert frame.source.producer_timestamp == T0
    assert frame.source.server_timestamp == pytest.approx(T0 + 0.294)
    assert frame.source.frame_offset_seconds == 1.733
    assert len(frame.faces) == 1
    assert frame.faces[0].DetectedFace.Confidence == 99.41
    assert frame.faces[0].MatchedFaces == []


def test_frame_time_is_producer_timestamp_plus_frame_offset() -> None:
    frame = parse_face_frame(encode_record(face_search_record([], producer_timestamp=T0, frame_offset_seconds=4.5)))

    assert frame.source.frame_time == T0 + 4.5


@pytest.mark.parametrize("name", ["lobby", "seoul-hq_lobby.01", "c" * 255, ".hidden", "a..b"])
def test_camera_id_is_the_kvs_stream_name(name: str) -> None:
    assert camera_id_from_stream_arn(kvs_stream_arn(name)) == name


@pytest.mark.parametrize("name", [".", "..", "c" * 256])
def test_a_stream_name_that_is_no_safe_camera_id_is_refused_with_its_reason_class(name: str) -> None:
    with pytest.raises(MalformedRecordError) as raised:
        camera_id_from_stream_arn(kvs_stream_arn(name))

    assert raised.value.kind == QuarantineReason.UNSAFE_CAMERA_ID


def test_camera_id_accepts_other_partitions() -> None:
    arn = "arn:aws-cn:kinesisvideo:cn-north-1:111122223333:stream/gate-2/1731900000000"

    assert camera_id_from_stream_arn(arn) == "gate-2"


def test_a_frame_without_faces_parses_with_no_faces() -> None:
    frame = parse_face_frame(encode_record(face_search_record([])))

    assert frame.faces == ()


def test_matches_are_kept_and_landmarks_are_not() -> None:
    frame = parse_face_frame(encode_record(face_search_record([employee_face()])))

    face = frame.faces[0]
    assert face.MatchedFaces[0].Face is not None
    assert face.MatchedFaces[0].Face.ExternalImageId == "E10442"
    assert "Landmarks" not in face.DetectedFace.model_dump()
    assert "Landmarks" not in json.dumps(face.model_dump())


def test_integer_numbers_are_accepted_where_floats_are_expected() -> None:
    data = _broken(lambda r: _face(r)["DetectedFace"].update(Confidence=100))

    assert parse_face_frame(data).faces[0].DetectedFace.Confidence == 100.0


MALFORMED = [
    pytest.param(b"camera 7: frame dropped", "record: Invalid JSON", id="not-json"),
    pytest.param(b"\xff\xfe\x00garbage", "record: Invalid JSON", id="not-utf8"),
    pytest.param(b"", "record: Invalid JSON", id="empty"),
    pytest.param(b"[1, 2, 3]", "record: Input should be an object", id="json-array"),
    pytest.param(b'"a string"', "record: Input should be an object", id="json-string"),
    pytest.param(b'{"hello": "world"}', "InputInformation: Field required", id="not-face-search"),
    pytest.param(
        _broken(lambda r: _face(r).update(MatchedFaces="[]")),
        "FaceSearchResponse.0.MatchedFaces: Input should be a valid array",
        id="matched-faces-string",
    ),
    pytest.param(
        _broken(lambda r: r.update(FaceSearchResponse={"DetectedFace": {}})),
        "FaceSearchResponse: Input should be a valid array",
        id="face-search-response-object",
    ),
    pytest.param(
        _broken(lambda r: _face(r)["DetectedFace"].update(Confidence="99.41")),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be a valid number",
        id="confidence-string",
    ),
    pytest.param(
        _broken(lambda r: _face(r)["DetectedFace"].update(Confidence=True)),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be a valid number",
        id="confidence-bool",
    ),
    pytest.param(
        _broken(lambda r: _video(r).pop("FragmentNumber")),
        "InputInformation.KinesisVideo.FragmentNumber: Field required",
        id="missing-fragment-number",
    ),
    pytest.param(
        _broken(lambda r: _face(r).pop("MatchedFaces")),
        "FaceSearchResponse.0.MatchedFaces: Field required",
        id="missing-matched-faces",
    ),
    pytest.param(
        _broken(lambda r: r.pop("FaceSearchResponse")),
        "FaceSearchResponse: Field required",
        id="missing-face-search-response",
    ),
    pytest.param(
        _broken(lambda r: _face(r)["DetectedFace"].pop("BoundingBox")),
        "FaceSearchResponse.0.DetectedFace.BoundingBox: Field required",
        id="missing-bounding-box",
    ),
    pytest.param(
        _broken(lambda r: _face(r)["DetectedFace"].update(Confidence=float("nan"))),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be a finite number",
        id="nan",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(ProducerTimestamp=float("inf"))),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be a finite number",
        id="infinity",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(ProducerTimestamp=0)),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be greater than",
        id="zero-timestamp",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(ServerTimestamp=-T0)),
        "InputInformation.KinesisVideo.ServerTimestamp: Input should be greater than",
        id="negative-timestamp",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(ProducerTimestamp=T0 * 1000)),
        "InputInformation.KinesisVideo.ProducerTimestamp: Input should be less than",
        id="milliseconds-not-seconds",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(FrameOffsetInSeconds=-0.5)),
        "InputInformation.KinesisVideo.FrameOffsetInSeconds: Input should be greater than or equal to 0",
        id="negative-frame-offset",
    ),
    pytest.param(
        _broken(lambda r: _face(r)["DetectedFace"].update(Confidence=100.5)),
        "FaceSearchResponse.0.DetectedFace.Confidence: Input should be less than or equal to 100",
        id="confidence-over-100",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(FragmentNumber="9134-3852")),
        "InputInformation.KinesisVideo.FragmentNumber: String should match pattern",
        id="fragment-number-not-decimal",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(StreamArn=kvs_stream_arn("로비-카메라"))),
        "InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN",
        id="unicode-stream-name",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(StreamArn="arn:aws:kinesis:ap-northeast-2:111122223333:stream/x")),
        "InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN",
        id="data-stream-arn",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(StreamArn=kvs_stream_arn() + "\n")),
        "InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN",
        id="stream-arn-trailing-newline",
    ),
    pytest.param(
        _broken(lambda r: _video(r).update(StreamArn=kvs_stream_arn().replace("111122223333", "١١١١٢٢٢٢٣٣٣٣"))),
        "InputInformation.KinesisVideo.StreamArn: not a Kinesis video stream ARN",
        id="stream-arn-non-ascii-digits",
    ),
    pytest.param(
        b'{"InputInformation":' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "record: Invalid JSON: recursion limit exceeded",
        id="deep-nesting",
    ),
    pytest.param(
        _broken(lambda r: r.update(FaceSearchResponse=[unknown_face()] * 101)),
        "FaceSearchResponse: List should have at most 100 items",
        id="more-faces-than-rekognition-reports",
    ),
]


@pytest.mark.parametrize(("data", "reason"), MALFORMED)
def test_rejects_what_is_not_a_face_search_record_with_the_reason(data: bytes, reason: str) -> None:
    assert _reason(data).startswith(reason)


def test_rejects_a_record_over_the_kinesis_record_size_limit_before_parsing_it() -> None:
    data = b" " * (MAX_RECORD_BYTES + 1)

    assert _reason(data) == f"record is {MAX_RECORD_BYTES + 1} bytes, over the {MAX_RECORD_BYTES}-byte limit"


def test_accepts_a_record_of_exactly_the_size_limit() -> None:
    data = encode_record(_record())
    padded = data[:-1] + b"," + b'"Padding":"' + b"x" * (MAX_RECORD_BYTES - len(data) - 13) + b'"}'
    assert len(padded) == MAX_RECORD_BYTES

    assert parse_face_frame(padded).source.camera_id == CAMERA_ID


def test_the_reason_never_quotes_the_offending_value() -> None:
    secret = "SENSITIVE-0xC0FFEE"
    data = _broken(lambda r: _face(r)["DetectedFace"].update(Confidence=secret))

    reason = _reason(data)

    assert reason.startswith("FaceSearchResponse.0.DetectedFace.Confidence")
    assert secret not in reason


def test_the_reason_counts_further_errors() -> None:
    data = _broken(lambda r: _video(r).update(ServerTimestamp="x", ProducerTimestamp="y"))

    assert _reason(data).endswith("(+1 more)")


# Properties: whatever the bytes, parsing either yields a frame or raises MalformedRecordError.

_json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20,
)


def _parse_or_reject(data: bytes) -> None:
    """A frame, or MalformedRecordError with a reason: no other exception may escape."""
    outcome = "parsed"
    try:
        parse_face_frame(data)
    except MalformedRecordError as error:
        outcome = error.reason
    assert outcome


@given(st.binary(max_size=2048))
def test_any_bytes_parse_or_are_rejected(data: bytes) -> None:
    _parse_or_reject(data)


@given(_json_values)
def test_any_json_document_parses_or_is_rejected(document: Any) -> None:
    _parse_or_reject(json.dumps(document).encode())


def _leaf_paths(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for key, child in node.items() for p in _leaf_paths(child, (*path, key))] or [path]
    if isinstance(node, list):
        return [p for i, child in enumerate(node) for p in _leaf_paths(child, (*path, i))] or [path]
    return [path]


_RECORD = face_search_record([unknown_face(), employee_face()])
_RECORD_LEAVES = _leaf_paths(_RECORD)


@settings(max_examples=200)
@given(st.sampled_from(_RECORD_LEAVES), _json_values)
def test_a_record_with_any_one_field_replaced_parses_or_is_rejected(path: tuple[Any, ...], value: Any) -> None:
    record = copy.deepcopy(_RECORD)
    parent = record
    for key in path[:-1]:
        parent = parent[key]
    parent[path[-1]] = value

    _parse_or_reject(encode_record(record))
