"""Writes events/alerter-*.json: SQS Lambda events for AlertFunction whose bodies are real alert jobs.

The envelope is the one `sam local generate-event sqs receive-message` prints; the bodies come from
AlertJob.to_message(), so they change when the job model does. Regenerate with
    .venv/bin/python -m scripts.make_alert_events
tests/integration/test_alert_events.py replays the files and checks they match this script's output.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

# The sample queue and message (their names are the SQS envelope builders' defaults), re-exported.
from facewatch_testkit.sqs import ACCOUNT_ID as ACCOUNT_ID
from facewatch_testkit.sqs import ALERT_QUEUE_ARN as ALERT_QUEUE_ARN
from facewatch_testkit.sqs import ALERT_QUEUE_NAME as ALERT_QUEUE_NAME
from facewatch_testkit.sqs import MESSAGE_ID as MESSAGE_ID
from facewatch_testkit.sqs import REGION as REGION
from facewatch_testkit.sqs import SQS_DELAY_SECONDS as SQS_DELAY_SECONDS
from facewatch_testkit.sqs import sqs_event as sqs_event
from facewatch_testkit.sqs import sqs_record as sqs_record

from facewatch.domain.alert_job import AlertJob, FaceBox, FacePose, FaceQuality, TriggeringFace

ROOT = Path(__file__).resolve().parents[1]
EVENTS_DIR = ROOT / "events"
CAMERA_ID = "seoul-hq-lobby-01"
STREAM_ARN = f"arn:aws:kinesisvideo:{REGION}:{ACCOUNT_ID}:stream/{CAMERA_ID}/1731900000000"
# The frame of docs' two-faces-one-unknown.json: 2025-11-22 02:00:01.851 UTC (11:00:01 in Seoul).
PRODUCER_TIMESTAMP = 1763776800.118
FRAME_OFFSET_SECONDS = 1.733
ALERT_ID = "7c1e0b9a4f2d48e6b3a5c9d01e2f3a4b"


def sample_job(**changes: Any) -> AlertJob:
    """The alert job the detector queues for the unknown face in two-faces-one-unknown.json."""
    fields: dict[str, Any] = {
        "alert_id": ALERT_ID,
        "camera_id": CAMERA_ID,
        "kvs_stream_arn": STREAM_ARN,
        "fragment_number": "91343852333181432392682062612240118245634380512",
        "producer_timestamp": PRODUCER_TIMESTAMP,
        "server_timestamp": 1763776800.412,
        "frame_time": round(PRODUCER_TIMESTAMP + FRAME_OFFSET_SECONDS, 3),
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
    return AlertJob(**fields)


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
