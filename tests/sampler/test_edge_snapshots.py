"""Image mode's snapshot: the sampler uploads each analysed frame under edge/<camera>/ in the clip bucket and
names it in the record; the detector passes the reference on in the alert job, checked against the camera."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import TYPE_CHECKING

import boto3
from botocore.stub import Stubber
from facewatch_sampler.app import build_sampler
from facewatch_sampler.frames import OpenCvSource
from facewatch_sampler.rekognition import RekognitionFaces
from facewatch_sampler.settings import SamplerSettings, SearchMode
from PIL import Image
from tests.sampler.scene import EMPLOYEE, VISITOR, face_box
from tests.sampler.support import COLLECTION_ID, FACE_MATCH_THRESHOLD, expect_detect_faces, expect_search, read_stream
from tests.support.aws import receive_all
from tests.support.kinesis import kinesis_event
from tests.support.lambda_context import FakeLambdaContext
from tests.support.records import T0

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.snapshot import RECORD_SNAPSHOT_FIELD, EdgeSnapshot, edge_snapshot_key

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

CAMERA_ID = "seoul-hq-lobby-01"


def test_each_analysed_frame_is_uploaded_under_the_cameras_prefix_and_reaches_the_alert_job(
    aws: boto3.session.Session,
    stack: EmulatedStack,
    detector_environment: dict[str, str],
    scene_video: Path,
) -> None:
    # given a sampler told the stack's clip bucket, an employee and a visitor crossing
    aws.client("kinesisvideo").create_stream(StreamName=CAMERA_ID, DataRetentionInHours=24)
    rekognition = aws.client("rekognition")
    stubber = Stubber(rekognition)
    expect_detect_faces(stubber, face_box(EMPLOYEE, EMPLOYEE.start))
    expect_search(stubber, employee=True)
    expect_detect_faces(stubber, face_box(VISITOR, VISITOR.start))
    expect_search(stubber, employee=False)
    settings = SamplerSettings(
        camera_id=CAMERA_ID,
        source=str(scene_video),
        stream_name=stack.face_search_stream_name,
        collection_id=COLLECTION_ID,
        face_match_threshold=FACE_MATCH_THRESHOLD,
        snapshot_bucket=stack.clip_bucket_name,
        search=SearchMode.FACES,  # SearchFacesByImage only: the users search is tested in the pipeline tests
    )
    sampler = build_sampler(
        settings,
        aws,
        source=OpenCvSource(str(scene_video), start_time=T0),
        faces=RekognitionFaces(COLLECTION_ID, FACE_MATCH_THRESHOLD, client=rekognition),
    )

    # when it reads the scene
    with stubber:
        sampler.run(max_seconds=40)
    records = read_stream(aws.client("kinesis"), stack.face_search_stream_name)

    # then the two analysed frames are in the bucket, as JPEGs, encrypted, and each record names its own
    s3 = aws.client("s3")
    keys = [edge_snapshot_key(CAMERA_ID, T0 + person.start) for person in (EMPLOYEE, VISITOR)]
    listed = sorted(item["Key"] for item in s3.list_objects_v2(Bucket=stack.clip_bucket_name)["Contents"])
    assert listed == sorted(keys)
    for key in keys:
        stored = s3.get_object(Bucket=stack.clip_bucket_name, Key=key)
        assert stored["ServerSideEncryption"] == "AES256"
        with Image.open(io.BytesIO(stored["Body"].read())) as image:
            assert image.format == "JPEG"
    references = [json.loads(data)[RECORD_SNAPSHOT_FIELD] for data in records]
    assert references == [{"Bucket": stack.clip_bucket_name, "Key": key} for key in keys]

    # and the detector's alert job (the visitor's) carries the reference, checked against the camera
    from facewatch.handlers.detector import lambda_handler

    lambda_handler(kinesis_event(records, stream_name=stack.face_search_stream_name), FakeLambdaContext())
    (message,) = receive_all(aws.client("sqs"), stack.alert_queue_url)
    job = AlertJob.model_validate(message.body)
    assert job.edge_snapshot == EdgeSnapshot(bucket=stack.clip_bucket_name, key=keys[1])
