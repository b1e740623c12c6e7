"""The alert's clip still holds the face in image mode.

An image-mode record has no fragment: ProducerTimestamp is the frame time and FrameOffsetInSeconds is 0.
The alert stage asks GetClip for [ProducerTimestamp - pre-roll, frame time + post-roll], and GetClip only
returns fragments that START inside the range (reference, section 3). The face's fragment started up to
one fragment length before the frame, and the sampler stamps a frame when it decodes it, up to about a
second after the KVS producer on the same host stamped it. So the pre-roll must cover the longest
fragment plus that second: ClipPreRollSeconds >= longest fragment + 1 s (docs/image-mode.md,
"The clip in image mode").
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import boto3
import pytest
from facewatch_sampler.geometry import Box
from facewatch_sampler.records import AnalysedFace, build_record, encode_record
from tests.support.aws import receive_all
from tests.support.kinesis import kinesis_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import T0, kvs_stream_arn

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.clip import ClipRange, clip_range

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

# How much later than the KVS producer the sampler may stamp the same frame (RTSP buffering and decoding
# on the proxy host; both read the host's clock).
SAMPLER_LAG_SECONDS = 1.0
CAMERA_FRAME_SECONDS = 1 / 25
POST_ROLL_SECONDS = 10.0
UNKNOWN_FACE = AnalysedFace(box=Box(0.4, 0.3, 0.08, 0.17), confidence=99.6)


def clip_for_face_at_end_of_fragment(
    aws: boto3.session.Session, stack: EmulatedStack, fragment_seconds: float, pre_roll_seconds: float
) -> tuple[ClipRange, float]:
    """The worst case: the face is in the last frame of its fragment and the sampler saw it late.
    Returns the clip range the alert stage asks for, and the frame time."""
    frame_time = T0 + fragment_seconds - CAMERA_FRAME_SECONDS + SAMPLER_LAG_SECONDS
    data = encode_record(build_record(kvs_stream_arn(), frame_time, (UNKNOWN_FACE,)))
    from facewatch.handlers.detector import lambda_handler

    response = lambda_handler(kinesis_event([data]), FakeLambdaContext())
    assert response == {"batchItemFailures": []}
    (message,) = receive_all(aws.client("sqs"), stack.alert_queue_url)
    job = AlertJob.model_validate(message.body)
    return clip_range(job, pre_roll_seconds, POST_ROLL_SECONDS), job.frame_time


def deployed_pre_roll(stack: EmulatedStack) -> float:
    return float(stack.alert_env()["CLIP_PRE_ROLL_SECONDS"])


@pytest.mark.parametrize("fragment_seconds", [2.0, 4.0])
def test_the_default_pre_roll_holds_the_faces_fragment_for_fragments_up_to_4_seconds(
    aws: boto3.session.Session, stack: EmulatedStack, detector_environment: dict[str, str], fragment_seconds: float
) -> None:
    # given the fragment holding the face started at T0

    # when
    clip, frame_time = clip_for_face_at_end_of_fragment(aws, stack, fragment_seconds, deployed_pre_roll(stack))

    # then GetClip's range starts at or before the fragment's start, and ends after the face
    assert clip.start <= T0
    assert clip.end >= frame_time + POST_ROLL_SECONDS


def test_the_default_pre_roll_misses_the_faces_fragment_when_fragments_are_longer(
    aws: boto3.session.Session, stack: EmulatedStack, detector_environment: dict[str, str]
) -> None:
    clip, _ = clip_for_face_at_end_of_fragment(aws, stack, 6.0, deployed_pre_roll(stack))

    assert clip.start > T0  # the clip would begin with the next fragment, after the face


@pytest.mark.parametrize("fragment_seconds", [6.0, 10.0])
def test_a_pre_roll_of_the_longest_fragment_plus_a_second_holds_the_faces_fragment(
    aws: boto3.session.Session, stack: EmulatedStack, detector_environment: dict[str, str], fragment_seconds: float
) -> None:
    clip, _ = clip_for_face_at_end_of_fragment(aws, stack, fragment_seconds, fragment_seconds + SAMPLER_LAG_SECONDS)

    assert clip.start <= T0
