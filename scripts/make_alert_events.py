"""Writes events/alerter-*.json: SQS Lambda events for AlertFunction whose bodies are real alert jobs.

The envelope is the one `sam local generate-event sqs receive-message` prints; the bodies come from
AlertJob.to_message(), so they change when the job model does. Regenerate with
    .venv/bin/python scripts/make_alert_events.py
tests/integration/test_alert_events.py replays the files and checks they match this script's output.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from facewatch.domain.alert_job import AlertJob, FaceBox, FacePose, FaceQuality, TriggeringFace  # noqa: E402
from facewatch.domain.dedup import alert_id_for  # noqa: E402
from facewatch.domain.records import VideoSource  # noqa: E402

EVENTS_DIR = ROOT / "events"
REGION = "us-east-1"
ACCOUNT_ID = "123456789012"
# The name CloudFormation gives the stack's AlertQueue (stack-LogicalId-suffix).
ALERT_QUEUE_NAME = "facewatch-AlertQueue-7XQ2M9KD4LRA"
ALERT_QUEUE_ARN = f"arn:aws:sqs:{REGION}:{ACCOUNT_ID}:{ALERT_QUEUE_NAME}"
CAMERA_ID = "seoul-hq-lobby-01"
STREAM_ARN = f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT_ID}:stream/{CAMERA_ID}/1731900000000"
# The frame of docs' two-faces-one-unknown.json: 2025-11-22 02:00:01.851 UTC (11:00:01 in Seoul).
PRODUCER_TIMESTAMP = 1763776800.118
FRAME_OFFSET_SECONDS = 1.733
FRAGMENT_NUMBER = "91343852333181432392682062612240118245634380512"
SERVER_TIMESTAMP = 1763776800.412
# Derived from the frame's source as the detector derives it: the alerter checks that the two agree.
ALERT_ID = alert_id_for(
    VideoSource(STREAM_ARN, CAMERA_ID, FRAGMENT_NUMBER, PRODUCER_TIMESTAMP, SERVER_TIMESTAMP, FRAME_OFFSET_SECONDS), 0
)
MESSAGE_ID = "5b0f6a0e-2c1d-4e8b-9a57-3f6d1c2b7e90"
SQS_DELAY_SECONDS = 15


def sample_job(**changes: Any) -> AlertJob:
    """The alert job the detector queues for the unknown face in two-faces-one-unknown.json.

    Unless `changes` name it, the alert id is the one the detector derives from the (changed) source."""
    fields: dict[str, Any] = {
        "camera_id": CAMERA_ID,
        "kvs_stream_arn": STREAM_ARN,
        "fragment_number": FRAGMENT_NUMBER,
        "producer_timestamp": PRODUCER_TIMESTAMP,
        "server_timestamp": SERVER_TIMESTAMP,
        "frame_offset_seconds": FRAME_OFFSET_SECONDS,
        "frame_time": PRODUCER_TIMESTAMP + FRAME_OFFSET_SECONDS,
        "face": TriggeringFace(
            index=0,
            bounding_box=FaceBox(width=0.071, height=0.162, left=0.612, top=0.284),
            confidence=99.41,
            quality=FaceQuality(brightness=51.7, sharpness=95.0),
            pose=FacePose(pitch=3.2, roll=-2.1, yaw=5.0),
        ),
        "faces_in_frame": 2,
        "unmatched_faces_in_frame": 1,
        "kinesis_sequence_number": "49656823477434503421434217584136640372851052143718318082",
        "detected_at": 1763776836.204,
    }
    fields.update(changes)
    if "alert_id" not in changes:
        source = VideoSource(
            fields["kvs_stream_arn"],
            fields["camera_id"],
            fields["fragment_number"],
            fields["producer_timestamp"],
            fields["server_timestamp"],
            fields["frame_offset_seconds"],
        )
        fields["alert_id"] = alert_id_for(source, fields["face"].index)
    return AlertJob(**fields)


def sqs_record(
    body: str,
    *,
    receive_count: int = 1,
    message_id: str = MESSAGE_ID,
    receipt_handle: str = "MessageReceiptHandle",
    queue_arn: str = ALERT_QUEUE_ARN,
    sent_at_ms: int | None = None,
) -> dict[str, Any]:
    """One record in the shape Lambda's SQS event source mapping delivers it."""
    sent = sent_at_ms if sent_at_ms is not None else 1763776836204
    return {
        "messageId": message_id,
        "receiptHandle": receipt_handle,
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": str(sent),
            "SenderId": ACCOUNT_ID,
            "ApproximateFirstReceiveTimestamp": str(sent + SQS_DELAY_SECONDS * 1000),
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(body.encode()).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": REGION,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def malformed_body() -> str:
    """A job without its fragment number: the alert stage cannot ask KVS for the clip."""
    job = json.loads(sample_job().to_message())
    del job["fragment_number"]
    return json.dumps(job, separators=(",", ":"))


def build_events() -> dict[str, dict[str, Any]]:
    body = sample_job().to_message()
    return {
        "alerter-unknown-face.json": sqs_event(sqs_record(body)),
        # SQS keeps the message id across receives and hands out a new receipt handle each time.
        "alerter-redelivered.json": sqs_event(
            sqs_record(body, receive_count=3, receipt_handle="MessageReceiptHandle-receive-3")
        ),
        "alerter-malformed.json": sqs_event(
            sqs_record(malformed_body(), message_id="0d9e4c2a-6f1b-4b3e-8c5d-7a2e9f1b3c64")
        ),
    }


def render(event: dict[str, Any]) -> str:
    return json.dumps(event, indent=2) + "\n"


def main() -> None:
    for name, event in build_events().items():
        (EVENTS_DIR / name).write_text(render(event))
        print(f"wrote events/{name}")


if __name__ == "__main__":
    main()
