"""The clip around a sighting: GetClip range, S3 key and metadata, error classes, retry backoff."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st
from tests.support.alerts import sample_job

from facewatch.adapters.job_queue import MAX_VISIBILITY_SECONDS
from facewatch.domain.clip import (
    ClipFailure,
    ClipOutcome,
    classify_clip_error,
    clip_key,
    clip_metadata,
    clip_range,
    missing_reason,
    retry_delay_seconds,
)

JOB = sample_job()  # fragment starts 02:00:00.118 UTC, face at 02:00:01.851


def test_clip_starts_pre_roll_before_the_fragment_and_ends_post_roll_after_the_frame() -> None:
    span = clip_range(JOB, pre_roll_seconds=5, post_roll_seconds=10)

    assert span.start == pytest.approx(JOB.producer_timestamp - 5)
    assert span.end == pytest.approx(JOB.frame_time + 10)


def test_clip_without_pre_roll_starts_at_the_fragment_not_at_the_frame() -> None:
    # GetClip keeps only fragments that START at or after StartTimestamp: starting at the frame time
    # would leave out the fragment holding the face
    span = clip_range(JOB, pre_roll_seconds=0, post_roll_seconds=0)

    assert span.start == JOB.producer_timestamp
    assert span.end == JOB.frame_time


@given(
    frame_offset=st.floats(min_value=0, max_value=10),
    pre_roll=st.floats(min_value=0, max_value=300),
    post_roll=st.floats(min_value=0, max_value=300),
)
def test_clip_never_starts_after_the_fragment_and_always_reaches_the_frame(
    frame_offset: float, pre_roll: float, post_roll: float
) -> None:
    job = sample_job(frame_time=JOB.producer_timestamp + frame_offset)

    span = clip_range(job, pre_roll, post_roll)

    assert span.start <= job.producer_timestamp
    assert span.end >= job.frame_time
    assert span.end - span.start < 24 * 3600  # GetClip's range limit


def test_clip_key_is_camera_then_utc_date_then_alert_id() -> None:
    assert clip_key(JOB) == f"clips/seoul-hq-lobby-01/2025/11/22/{JOB.alert_id}.mp4"


def test_clip_key_uses_the_utc_date_of_the_frame() -> None:
    # 23:59:59 UTC on 21 Nov is already 22 Nov in Seoul
    late = sample_job(frame_time=datetime(2025, 11, 21, 23, 59, 59, tzinfo=UTC).timestamp())

    assert clip_key(late) == f"clips/seoul-hq-lobby-01/2025/11/21/{JOB.alert_id}.mp4"


def test_clip_metadata_names_alert_camera_and_frame_time() -> None:
    assert clip_metadata(JOB) == {
        "alert-id": JOB.alert_id,
        "camera-id": "seoul-hq-lobby-01",
        "frame-time": "2025-11-22T02:00:01.851+00:00",
    }


@pytest.mark.parametrize(
    "code",
    [
        "NoDataRetentionException",
        "InvalidArgumentException",
        "UnsupportedStreamMediaTypeException",
        "MissingCodecPrivateDataException",
        "InvalidCodecPrivateDataException",
        "InvalidMediaFrameException",
        "NotAuthorizedException",
    ],
)
def test_errors_that_retrying_cannot_fix_are_permanent(code: str) -> None:
    assert classify_clip_error(code) is ClipFailure.PERMANENT


def test_no_fragments_yet_is_not_ready() -> None:
    assert classify_clip_error("ResourceNotFoundException") is ClipFailure.NOT_READY


@pytest.mark.parametrize(
    "code", ["ClientLimitExceededException", "EndpointConnectionError", "ReadTimeoutError", "InternalFailure"]
)
def test_throttling_and_transient_faults_are_retried(code: str) -> None:
    assert classify_clip_error(code) is ClipFailure.THROTTLED


def test_retry_backoff_grows_with_each_receive() -> None:
    delays = [retry_delay_seconds(receive_count) for receive_count in range(1, 6)]

    assert delays == sorted(delays)
    assert len(set(delays)) == len(delays)
    assert delays[0] > 0


@given(st.integers(min_value=1, max_value=10_000))
def test_retry_backoff_is_capped_within_the_sqs_visibility_limit(receive_count: int) -> None:
    delay = retry_delay_seconds(receive_count)

    assert 0 < delay <= 300
    assert delay <= MAX_VISIBILITY_SECONDS


def test_retry_backoff_reaches_its_cap() -> None:
    assert retry_delay_seconds(50) == 300


def test_missing_reason_for_a_permanent_error_names_the_error() -> None:
    reason = missing_reason("NoDataRetentionException", ClipFailure.PERMANENT, attempts=1)

    assert reason == "the video could not be retrieved (NoDataRetentionException)"


def test_missing_reason_after_the_last_attempt_says_how_many() -> None:
    reason = missing_reason("ResourceNotFoundException", ClipFailure.NOT_READY, attempts=5)

    assert reason == "the video was still not available after 5 attempts (ResourceNotFoundException)"


def test_stored_clip_has_an_s3_uri_and_a_missing_one_none() -> None:
    assert ClipOutcome.stored("b", "clips/x.mp4", 10).s3_uri == "s3://b/clips/x.mp4"
    assert ClipOutcome.missing("why").s3_uri is None
