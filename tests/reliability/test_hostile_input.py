"""Hostile input, generated (hypothesis): whatever arrives, no exception escapes a handler, nothing is retried
forever, every rejected input is kept with its reason (the detector's in QuarantineBucket, the alerter's in
AlertDeadLetterQueue) and no log line carries face data or the raw payload.

Detector inputs: arbitrary bytes, arbitrary JSON, and real face-search records mutated (keys dropped, wrong
types, huge arrays, deep nesting, NaN/Infinity, sizes around the 1 MiB limit, unicode stream names, timestamps
zero, past, future, in milliseconds). Alerter inputs: arbitrary text, arbitrary JSON and mutated alert jobs,
delivered through SQS until it gives up. Text slots carry MARKER, so a leak into the logs shows.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from collections.abc import Iterator
from itertools import count
from typing import Any

import boto3
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from scripts.make_alert_events import sample_job
from tests.support.alerts import MAX_RECEIVE_COUNT, AlertWorld, alert_world, failed_ids
from tests.support.detector import DetectorHarness
from tests.support.kinesis import (
    ARRIVAL_LAG_SECONDS,
    DATA_STREAM_NAME,
    SHARD_ID,
    RawData,
    failed_sequence_numbers,
    kinesis_event,
)
from tests.support.logs import CapturedLogs
from tests.support.records import (
    T0,
    employee_face,
    encode_record,
    frame_at,
    frame_time,
    kvs_stream_arn,
    unknown_face,
)

from facewatch.adapters.quarantine import QuarantinedInput, quarantine_key
from facewatch.domain.alert_job import AlertJob, mismatch
from facewatch.domain.records import MAX_RECORD_BYTES, MalformedRecordError, check_frame_time, parse_face_frame

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# Spaces: no id, name or code the functions may log can hold one, so a MARKER in a log line is a leak.
MARKER = "RAW PAYLOAD MARKER 5e1d"
# Never in a log line, whatever the input: face data of the base record.
FACE_DATA = ("Landmarks", "eyeLeft", "mouthRight", "E10442", "6f0c3d5e-3b1a-4a57-9f0e-2f4f3a9c1d21")
# No shrinking: each example runs a handler on moto, and shrinking one can take minutes. A failing example is
# printed as found (with the seed to replay it), and hypothesis's database replays it first next time.
HOSTILE = settings(
    phases=(Phase.explicit, Phase.reuse, Phase.generate),
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# --- What can arrive -----------------------------------------------------------------------------------

marked_text = st.builds(lambda a, b: f"{a}{MARKER}{b}", st.text(max_size=30), st.text(max_size=30))
scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=40) | marked_text
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.text(max_size=20) | st.sampled_from(["InputInformation", "FaceSearchResponse"]), children)
    ),
    max_leaves=30,
)


def base_record() -> dict[str, Any]:
    """A real frame: an employee (matched, with identity) and an unknown face, landmarks and all."""
    record = frame_at(10.0, [employee_face(), unknown_face()])
    record["StreamProcessorInformation"]["Status"] = MARKER
    return record


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every key and index path in a JSON document."""
    children = node.items() if isinstance(node, dict) else enumerate(node) if isinstance(node, list) else ()
    for key, child in children:
        yield (*prefix, key)
        yield from paths(child, (*prefix, key))


def parent_of(document: Any, path: tuple[Any, ...]) -> Any:
    for key in path[:-1]:
        document = document[key]
    return document


# Stands for a value nested `depth` lists deep, spliced in as text: json.dumps would hit the recursion limit.
DEEP = "DEEP-NESTING-GOES-HERE"


# When the base record reaches Kinesis: a few seconds after its frame.
ARRIVED_AT = frame_time(base_record()) + ARRIVAL_LAG_SECONDS


def encoded(record: dict[str, Any]) -> bytes:
    return json.dumps(record, separators=(",", ":"), allow_nan=True, ensure_ascii=False).encode()


TIMESTAMPS = [0, -1, 946_684_800, 946_684_801.5, T0 - 20 * 365 * 86_400, T0 + 86_400, T0 + 30 * 86_400]
TIMESTAMPS += [4_102_444_799, 4_102_444_800, T0 * 1000, 1e308]
ODD_NUMBERS = [math.nan, math.inf, -math.inf, 1e308, -1e308, -0.0, 5e-324, 2**63, -(2**63), 10**30]


@st.composite
def mutated_records(draw: st.DrawFn) -> bytes:
    record = base_record()
    video = record["InputInformation"]["KinesisVideo"]
    kind = draw(st.sampled_from(["drop", "replace", "number", "time", "stream", "huge", "deep", "size"]))
    every_path = list(paths(record))
    if kind == "drop":
        path = draw(st.sampled_from(every_path))
        del parent_of(record, path)[path[-1]]
    elif kind == "replace":
        path = draw(st.sampled_from(every_path))
        parent_of(record, path)[path[-1]] = draw(json_values)
    elif kind == "number":
        numeric = [p for p in every_path if isinstance(parent_of(record, p)[p[-1]], int | float)]
        path = draw(st.sampled_from(numeric))
        parent_of(record, path)[path[-1]] = draw(st.sampled_from(ODD_NUMBERS))
    elif kind == "time":
        key = draw(st.sampled_from(["ProducerTimestamp", "ServerTimestamp", "FrameOffsetInSeconds"]))
        video[key] = draw(st.sampled_from([*TIMESTAMPS, 86_400, 86_401, 0.0]))
    elif kind == "stream":
        video["StreamArn"] = kvs_stream_arn(draw(st.text(min_size=1, max_size=40)))
    elif kind == "huge":
        target = draw(st.sampled_from(["faces", "matches", "landmarks"]))
        copies = draw(st.integers(min_value=101, max_value=3000))
        if target == "faces":
            record["FaceSearchResponse"] *= copies
        elif target == "matches":
            record["FaceSearchResponse"][0]["MatchedFaces"] *= copies * 2
        else:
            record["FaceSearchResponse"][1]["DetectedFace"]["Landmarks"] *= copies * 5
    elif kind == "deep":
        path = draw(st.sampled_from(every_path))
        parent_of(record, path)[path[-1]] = DEEP
        depth = draw(st.integers(min_value=50, max_value=20_000))
        return encoded(record).replace(f'"{DEEP}"'.encode(), b"[" * depth + f'"{MARKER}"'.encode() + b"]" * depth)
    else:
        size = len(encode_record(record)) + len(',"Padding":""')
        record["Padding"] = "x" * (MAX_RECORD_BYTES - size + draw(st.sampled_from([-1, 0, 1, 4096])))
    return encoded(record)


detector_inputs = st.one_of(
    st.binary(max_size=2048),
    st.builds(lambda a, b: a + MARKER.encode() + b, st.binary(max_size=200), st.binary(max_size=200)),
    st.builds(lambda text: RawData(text), marked_text),  # a data field that is not base64
    json_values.map(lambda value: json.dumps(value, allow_nan=True).encode()),
    mutated_records(),
)


# --- The detector ----------------------------------------------------------------------------------------


def decoded(payload: bytes | RawData) -> bytes | None:
    """What the detector gets out of the data field (None: not base64)."""
    if not isinstance(payload, RawData):
        return payload
    try:
        return base64.b64decode(payload.text, validate=True)
    except (binascii.Error, ValueError):
        return None


def is_face_search_record(data: bytes | None, arrived_at: float) -> bool:
    if data is None:
        return False
    try:
        check_frame_time(parse_face_frame(data), arrived_at)
    except MalformedRecordError:
        return False
    return True


def assert_clean(logs: str, payload: bytes | RawData) -> None:
    for secret in (MARKER, *FACE_DATA):
        assert secret not in logs, f"{secret!r} reached the logs"
    raw = payload.text.encode() if isinstance(payload, RawData) else payload
    if len(raw) >= 24:
        assert base64.b64encode(raw).decode()[:32] not in logs, "the raw payload (base64) reached the logs"


@pytest.fixture
def s3(aws: boto3.session.Session) -> Any:
    """The test's own S3 client (one for all examples), to read the quarantine with."""
    return aws.client("s3")


@HOSTILE
@given(payload=detector_inputs)
def test_the_detector_quarantines_what_it_cannot_use_and_never_retries_it(
    payload: bytes | RawData, harness: DetectorHarness, powertools_logs: CapturedLogs, s3: Any
) -> None:
    # given a record that may be anything, arriving now (Kinesis stamps arrivals: whatever the record claims)
    event = kinesis_event([payload])
    record = event["Records"][0]["kinesis"]
    record["approximateArrivalTimestamp"] = arrived_at = ARRIVED_AT
    logged_before = len(powertools_logs.text)

    # when the detector gets it (no exception may escape the handler)
    response = harness.invoke(event)

    # then it is not retried, and it is quarantined with its reason exactly when it is not a usable record
    assert failed_sequence_numbers(response) == []
    key = quarantine_key(
        QuarantinedInput("detector", DATA_STREAM_NAME, f"{SHARD_ID}-{record['sequenceNumber']}", arrived_at, "", b"")
    )
    kept = s3.list_objects_v2(Bucket=harness.stack.quarantine_bucket_name, Prefix=key).get("KeyCount")
    if is_face_search_record(decoded(payload), arrived_at):
        assert not kept
    else:
        envelope = json.loads(s3.get_object(Bucket=harness.stack.quarantine_bucket_name, Key=key)["Body"].read())
        raw = payload.text.encode() if isinstance(payload, RawData) else payload
        assert envelope["reason"]
        assert MARKER not in envelope["reason"]
        assert base64.b64decode(envelope["raw_base64"]) == raw
    assert_clean(powertools_logs.text[logged_before:], payload)
    harness.alert_jobs()  # the queue starts empty for the next example


def test_a_sighting_stamped_in_the_future_does_not_silence_its_camera(harness: DetectorHarness) -> None:
    # given a record whose producer clock is a month ahead (it arrived now, stamped a month later)
    future = frame_at(10.0)
    future["InputInformation"]["KinesisVideo"]["ProducerTimestamp"] = T0 + 30 * 86_400
    event = kinesis_event([future])
    event["Records"][0]["kinesis"]["approximateArrivalTimestamp"] = ARRIVED_AT
    harness.invoke(event)

    # when a real sighting on the same camera follows
    harness.invoke(kinesis_event([frame_at(20.0)]))

    # then the bogus record was quarantined and the real one raised its alert
    [kept] = harness.quarantined()
    assert "frame time" in kept.reason
    assert len(harness.alert_jobs()) == 1


# --- The alert stage -------------------------------------------------------------------------------------


def sqs_allows(text: str) -> bool:
    """The characters an SQS message body may hold: #x9 | #xA | #xD | #x20-#xD7FF | #xE000-#xFFFD | #x10000+."""
    return all(
        ch in "\t\n\r" or "\x20" <= ch <= "\ud7ff" or "\ue000" <= ch <= "\ufffd" or ch >= "\U00010000" for ch in text
    )


SQS_TEXT = st.characters(exclude_categories=["Cs"]).filter(sqs_allows)
_alert_ids = count(1)


def fresh_job() -> dict[str, Any]:
    """A valid job for a frame (so an alert id) no earlier example used (the stage alerts once per id)."""
    job: dict[str, Any] = json.loads(sample_job(fragment_number=str(next(_alert_ids))).to_message())
    return job


@st.composite
def mutated_jobs(draw: st.DrawFn) -> str:
    job = fresh_job()
    kind = draw(st.sampled_from(["drop", "replace", "number", "extra", "text"]))
    every_path = list(paths(job))
    if kind == "drop":
        path = draw(st.sampled_from(every_path))
        del parent_of(job, path)[path[-1]]
    elif kind == "replace":
        path = draw(st.sampled_from(every_path))
        parent_of(job, path)[path[-1]] = draw(json_values)
    elif kind == "number":
        numeric = [p for p in every_path if isinstance(parent_of(job, p)[p[-1]], int | float)]
        path = draw(st.sampled_from(numeric))
        parent_of(job, path)[path[-1]] = draw(st.sampled_from([*ODD_NUMBERS, *TIMESTAMPS]))
    elif kind == "extra":
        path = draw(st.sampled_from([(), *(p for p in every_path if isinstance(parent_of(job, p)[p[-1]], dict))]))
        target = parent_of(job, (*path, None)) if path else job
        target[draw(marked_text)] = draw(json_values)
    else:
        key = draw(st.sampled_from(["camera_id", "kvs_stream_arn", "fragment_number", "kinesis_sequence_number"]))
        job[key] = draw(st.text(SQS_TEXT, min_size=1, max_size=300) | marked_text)
    return json.dumps(job, allow_nan=True, ensure_ascii=False)


job_bodies = st.one_of(
    st.builds(lambda a, b: f"{a}{MARKER}{b}", st.text(SQS_TEXT, max_size=500), st.text(SQS_TEXT, max_size=500)),
    json_values.map(lambda value: json.dumps(value, allow_nan=True)),
    mutated_jobs(),
    st.builds(lambda: json.dumps(fresh_job())),
)


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


def deliver_until_sqs_gives_up(world: AlertWorld) -> int:
    """Polls as the event source mapping does, failed jobs visible again at once, until the queue is empty;
    returns the receives. SQS moves a job to the dead-letter queue on the receive after maxReceiveCount."""
    for receives in range(MAX_RECEIVE_COUNT + 2):
        messages, response = world.deliver()
        if not messages:
            return receives
        failed = set(failed_ids(response))
        world.expire_visibility([m for m in messages if m["MessageId"] in failed])
    raise AssertionError("the job was still being retried after maxReceiveCount receives")


def is_job(body: str) -> bool:
    """An alert job whose alert id and fields belong together (facewatch.domain.alert_job.mismatch)."""
    try:
        job = AlertJob.model_validate_json(body)
    except ValueError:
        return False
    return mismatch(job) is None


@HOSTILE
@given(body=job_bodies.filter(lambda body: bool(body) and sqs_allows(body)))
def test_the_alert_stage_dead_letters_what_is_not_a_job_with_its_reason(
    body: str, world: AlertWorld, powertools_logs: CapturedLogs
) -> None:
    # given any message body on the alert queue
    logged_before = len(powertools_logs.text)
    world.send_job(body)

    # when SQS delivers it until it is deleted or given up (no exception may escape the handler)
    deliver_until_sqs_gives_up(world)

    # then a job is notified once; anything else is dead-lettered at once, whole, with its reason
    notified = [json.loads(n["Message"])["alert_id"] for n in world.notifications()]
    dead = world.dead_letters()
    if is_job(body):
        assert notified == [json.loads(body)["alert_id"]] * 2  # the snapshot, then the clip
        assert dead == []
    else:
        assert notified == []
        [letter] = dead
        assert letter["Body"] == body
        assert letter["Attributes"]["ApproximateReceiveCount"] == "1", "retried before being dead-lettered"
        reason = letter["MessageAttributes"]["reason"]["StringValue"]
        assert reason.startswith(("not an alert job", "alert job does not add up"))
        assert MARKER not in reason
    assert_clean(powertools_logs.text[logged_before:], body.encode())
