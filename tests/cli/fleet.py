"""A small camera fleet as `facewatch status` sees it: the stack facewatch-seoul's registered cameras,
its stream processors (stubbed Rekognition), the detector's event source mappings (stubbed Lambda) and
the data streams' CloudWatch metrics (stubbed), at a fixed moment."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from botocore.stub import ANY
from tests.cli.support import AwsClients

REGION = "us-east-1"
ACCOUNT = "123456789012"
STACK = "facewatch-seoul"
NOW = datetime(2025, 11, 22, 2, 10, 30, tzinfo=UTC)
DETECTOR = "facewatch-seoul-detector"
DETECTOR_ARN = f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:{DETECTOR}"
COLLECTION = f"{STACK}-employees"


@dataclass(frozen=True, slots=True)
class FleetCamera:
    name: str
    status: str | None = "RUNNING"  # None: no stream processor
    status_message: str | None = None
    minutes_since_last_record: int | None = 1  # None: no record in the lookback
    read_by_detector: bool = True

    @property
    def camera_id(self) -> str:
        return f"{STACK}_{self.name}"

    @property
    def processor(self) -> str:
        return f"{self.camera_id}_80"

    @property
    def data_stream_arn(self) -> str:
        return f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/{self.camera_id}"


def video_stream_arn(name: str) -> str:
    return f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/{name}/1730419200000"


def describe_processor(camera: FleetCamera) -> dict[str, Any]:
    described: dict[str, Any] = {
        "Name": camera.processor,
        "StreamProcessorArn": f"arn:aws:rekognition:{REGION}:{ACCOUNT}:streamprocessor/{camera.processor}",
        "Status": camera.status,
        "CreationTimestamp": datetime(2025, 11, 1, tzinfo=UTC),
        "LastUpdateTimestamp": datetime(2025, 11, 1, tzinfo=UTC),
        "Input": {"KinesisVideoStream": {"Arn": video_stream_arn(camera.camera_id)}},
        "Output": {"KinesisDataStream": {"Arn": camera.data_stream_arn}},
        "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/{STACK}-processor",
        "Settings": {"FaceSearch": {"CollectionId": COLLECTION, "FaceMatchThreshold": 80.0}},
    }
    if camera.status_message:
        described["StatusMessage"] = camera.status_message
    return described


def stub_fleet(
    aws_clients: AwsClients,
    cameras: list[FleetCamera],
    *,
    iterator_age_ms: float | None = 1234.0,
    foreign_processor: bool = True,
) -> None:
    """Queue the answers `facewatch status --detector-function ...` gets, in the order it asks."""
    with_processor = [camera for camera in cameras if camera.status is not None]
    aws_clients.stub("lambda").add_response(
        "list_event_source_mappings",
        {
            "EventSourceMappings": [
                {
                    "UUID": str(uuid.uuid5(uuid.NAMESPACE_URL, camera.data_stream_arn)),
                    "EventSourceArn": camera.data_stream_arn,
                    "FunctionArn": DETECTOR_ARN,
                    "State": "Enabled",
                }
                for camera in with_processor
                if camera.read_by_detector
            ]
        },
        {"FunctionName": DETECTOR_ARN},
    )
    rekognition = aws_clients.stub("rekognition")
    listed = [{"Name": camera.processor, "Status": camera.status} for camera in with_processor]
    if foreign_processor:
        # Another stack's processor in the same account: not this stack's, so not shown.
        listed.append({"Name": "facewatch-busan_Gate1_80", "Status": "RUNNING"})
    rekognition.add_response("list_stream_processors", {"StreamProcessors": listed}, {})
    for camera in with_processor:
        rekognition.add_response("describe_stream_processor", describe_processor(camera), {"Name": camera.processor})
    if foreign_processor:
        foreign = FleetCamera("Gate1")
        described = describe_processor(foreign) | {"Name": "facewatch-busan_Gate1_80"}
        described["Input"] = {
            "KinesisVideoStream": {"Arn": f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT}:stream/facewatch-busan_Gate1/1"}
        }
        described["Output"] = {
            "KinesisDataStream": {"Arn": f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/facewatch-busan_Gate1"}
        }
        rekognition.add_response("describe_stream_processor", described, {"Name": "facewatch-busan_Gate1_80"})
    results = []
    for index, camera in enumerate(sorted(with_processor, key=lambda c: c.camera_id)):
        minutes = camera.minutes_since_last_record
        # Per-minute sums, newest first; the minutes after the last record have no datapoint.
        timestamps = (
            [] if minutes is None else [NOW.replace(second=0) - timedelta(minutes=minutes + m) for m in range(3)]
        )
        results.append({"Id": f"records{index}", "Label": "IncomingRecords", "StatusCode": "Complete",
                        "Timestamps": timestamps, "Values": [300.0] * len(timestamps)})  # fmt: skip
    ages = [] if iterator_age_ms is None else [iterator_age_ms, 400.0]
    results.append({"Id": "iteratorage", "Label": "IteratorAge", "StatusCode": "Complete",
                    "Timestamps": [NOW.replace(second=0) - timedelta(minutes=2 + m) for m in range(len(ages))],
                    "Values": ages})  # fmt: skip
    aws_clients.stub("cloudwatch").add_response(
        "get_metric_data",
        {"MetricDataResults": results, "Messages": []},
        {
            "MetricDataQueries": ANY,
            "StartTime": NOW - timedelta(hours=3),
            "EndTime": NOW,
            "ScanBy": "TimestampDescending",
        },
    )
