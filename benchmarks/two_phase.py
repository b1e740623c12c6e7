"""`python -m benchmarks.two_phase`: facewatch's own latency from a record's arrival to the first message (the
snapshot), and from the frame to the second (the clip), through the real detector and alert stage on moto.

Each alert: a face-search record for a frame RECORD_LAG_SECONDS old reaches the real detector handler (its
arrival is the moment it is handed over); the job it queues is taken from AlertQueue at once, as Lambda's SQS
poller would, and processed by the real alert stage; GetImages is a local stand-in on the real
kinesis-video-archived-media client (a `before-call` hook, like botocore's Stubber) that answers NO_MEDIA
until INGEST_DELAY_SECONDS after the frame, then a 1280x720 JPEG. The job comes back when SQS makes it visible
again (moto keeps the visibility timeout in real time) for the clip.

Not measured (not facewatch's code): Lambda's Kinesis polling and batching window (up to 1 s here), the SQS
poller's wait, SNS fan-out to subscribers.
"""

from __future__ import annotations

import io
import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "benchmarks" / "results" / "latest.json"
ALERTS = 12
RECORD_LAG_SECONDS = 0.5  # frame -> record reaches Kinesis (image mode: about the analysis time)
INGEST_DELAY_SECONDS = 1.5  # frame -> KVS serves the frame (a fragment is listed ~1 s after ingest)
POST_ROLL_SECONDS = 2
TARGET_PHASE1_P95_SECONDS = 3.0
PHASE2_SLACK_SECONDS = 5.0
MAX_RUN_SECONDS = 120.0


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * (len(ordered) - 1))))]


def frame_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1280, 720), (90, 96, 104)).save(out, format="JPEG", quality=80)
    return out.getvalue()


class EmulatedIngest:
    """A local stand-in for KVS behind the real kinesis-video-archived-media client: GetImages answers
    NO_MEDIA until INGEST_DELAY_SECONDS after the asked frame time, then a JPEG. It answers from botocore's
    `before-call` event, as botocore's Stubber does, so no request leaves the process."""

    def __init__(self, session: Any) -> None:
        import base64

        self._session = session
        self._jpeg = base64.b64encode(frame_jpeg()).decode()
        self._asked: list[Any] = []

    def _remember_time(self, params: dict[str, Any], **_: Any) -> None:
        self._asked.append(params["StartTimestamp"])

    def _answer(self, **_: Any) -> tuple[Any, dict[str, Any]]:
        from botocore.awsrequest import AWSResponse
        from botocore.compat import HTTPHeaders

        start = self._asked[-1]
        ready = time.time() >= start.timestamp() + INGEST_DELAY_SECONDS
        image: dict[str, Any] = {"TimeStamp": start}
        image.update({"ImageContent": self._jpeg} if ready else {"Error": "NO_MEDIA"})
        return AWSResponse("https://kvs.local", 200, HTTPHeaders(), None), {"Images": [image]}

    def client(self, _endpoint: str) -> Any:
        client = self._session.client("kinesis-video-archived-media", endpoint_url="https://kvs.local")
        client.meta.events.register("provide-client-params.kinesis-video-archived-media.GetImages", self._remember_time)
        client.meta.events.register("before-call.kinesis-video-archived-media.GetImages", self._answer)
        return client


def _create_cameras(session: Any, alerts: int) -> list[str]:
    """One camera per alert (each its own dedup window), each a KVS stream known by the records' ARN (moto
    stamps its own creation time into an ARN; a real one carries the stream's)."""
    from moto.kinesisvideo.models import kinesisvideo_backends
    from tests.support.records import kvs_stream_arn

    kvs = session.client("kinesisvideo")
    streams = kinesisvideo_backends["123456789012"]["us-east-1"].streams
    cameras = [f"bench-lobby-{n:02d}" for n in range(alerts)]
    for camera in cameras:
        created = kvs.create_stream(StreamName=camera, DataRetentionInHours=24)["StreamARN"]
        streams[kvs_stream_arn(camera)] = streams.pop(created)
        streams[kvs_stream_arn(camera)].arn = kvs_stream_arn(camera)
    return cameras


class Publishes:
    """When each message of each alert was handed to SNS, and what became of each snapshot."""

    def __init__(self) -> None:
        self.times: dict[tuple[str, int], float] = {}
        self.snapshot_status: dict[str, str] = {}

    def record(self, params: dict[str, Any], **_: Any) -> None:
        import json

        notice = json.loads(json.loads(params["Message"])["sqs"])
        self.times[(notice["alert_id"], notice["sequence"])] = time.time()
        if notice["sequence"] == 1:
            self.snapshot_status[notice["alert_id"]] = notice["snapshot"]["reason"] or notice["snapshot"]["status"]


def run(alerts: int = ALERTS) -> dict[str, Any]:
    """The measurement; the process environment and facewatch's cached settings are as before afterwards."""
    saved = dict(os.environ)
    try:
        return _run(alerts)
    finally:
        os.environ.clear()
        os.environ.update(saved)
        from facewatch import config
        from facewatch.adapters import aws
        from facewatch.handlers import detector

        for factory in (config.detector_settings, config.alert_settings, aws.client, aws.session, detector.detector):
            factory.cache_clear()


def _run(alerts: int) -> dict[str, Any]:
    import boto3
    from facewatch_local.stack import deploy_emulated_stack
    from moto import mock_aws
    from tests.support.kinesis import kinesis_event
    from tests.support.lambda_context import FakeLambdaContext
    from tests.support.records import face_search_record, unknown_face

    with mock_aws():
        session = boto3.session.Session(region_name="us-east-1")  # the account and region of _create_cameras
        stack = deploy_emulated_stack(session, parameter_overrides={"ClipPostRollSeconds": str(POST_ROLL_SECONDS)})
        os.environ.update(stack.detector_env())
        os.environ.update(stack.alert_env())
        from facewatch import config
        from facewatch.adapters import aws
        from facewatch.adapters.alert_ledger import AlertLedger
        from facewatch.adapters.camera_registry import CameraRegistry
        from facewatch.adapters.clips import ClipStore
        from facewatch.adapters.job_queue import IndexQueue, JobQueue
        from facewatch.adapters.notifier import AlertNotifier
        from facewatch.adapters.snapshots import KvsImages, SnapshotStore
        from facewatch.handlers import detector
        from facewatch.services.alert import AlertStage, ClipNotReadyError, QueueMessage
        from facewatch.services.snapshot import SnapshotTaker

        for factory in (config.detector_settings, config.alert_settings, aws.client, aws.session, detector.detector):
            factory.cache_clear()
        cameras = _create_cameras(session, alerts)
        frames: dict[str, float] = {}
        media_client = EmulatedIngest(session).client

        settings = config.alert_settings()
        stage = AlertStage(
            settings,
            ledger=AlertLedger(settings.dedup_table_name),
            clips=ClipStore(settings.clip_bucket_name),
            snapshots=SnapshotTaker(
                images=KvsImages(archived_media_factory=media_client), store=SnapshotStore(settings.clip_bucket_name)
            ),
            cameras=CameraRegistry(settings.camera_table_name),
            notifier=AlertNotifier(settings.alert_topic_arn),
            index_queue=IndexQueue(settings.index_queue_url),
            queue=JobQueue(settings.alert_dead_letter_queue_url),
        )
        sqs = session.client("sqs")
        published = Publishes()
        aws.client("sns").meta.events.register("provide-client-params.sns.Publish", published.record)
        sns_times, snapshot_status = published.times, published.snapshot_status

        arrivals: dict[str, float] = {}

        def poll_once() -> int:
            answer = sqs.receive_message(
                QueueUrl=stack.alert_queue_url,
                MaxNumberOfMessages=10,
                AttributeNames=["ApproximateReceiveCount"],
            )
            messages = answer.get("Messages", [])
            for message in messages:
                queued = QueueMessage(
                    body=message["Body"],
                    message_id=message["MessageId"],
                    receive_count=int(message["Attributes"]["ApproximateReceiveCount"]),
                    receipt_handle=message["ReceiptHandle"],
                    queue_url=stack.alert_queue_url,
                    deadline=time.time() + 60,
                )
                try:
                    stage.process(queued)
                except ClipNotReadyError:
                    continue
                sqs.delete_message(QueueUrl=stack.alert_queue_url, ReceiptHandle=message["ReceiptHandle"])
            return len(messages)

        started = time.monotonic()
        for camera in cameras:
            now = time.time()
            frame = round(now - RECORD_LAG_SECONDS, 3)
            record = face_search_record(
                [unknown_face()], camera_id=camera, producer_timestamp=frame, frame_offset_seconds=0.0
            )
            event = kinesis_event([record])
            event["Records"][0]["kinesis"]["approximateArrivalTimestamp"] = now
            before = set(sns_times)
            detector.lambda_handler(event, FakeLambdaContext())
            poll_once()
            for alert_id, sequence in set(sns_times) - before:
                if sequence != 1:
                    continue  # an earlier alert's clip message, visible again meanwhile
                arrivals[alert_id] = now
                frames[alert_id] = frame
        while len([k for k in sns_times if k[1] == 2]) < len(arrivals) and time.monotonic() - started < MAX_RUN_SECONDS:
            if poll_once() == 0:
                time.sleep(0.2)

    return _summary(alerts, arrivals, frames, sns_times, snapshot_status)


def _spread(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"p50": None, "p95": None, "max": None}
    return {
        "p50": round(statistics.median(values), 3),
        "p95": round(percentile(values, 0.95), 3),
        "max": round(max(values), 3),
    }


def _summary(
    alerts: int,
    arrivals: dict[str, float],
    frames: dict[str, float],
    sns_times: dict[tuple[str, int], float],
    snapshot_status: dict[str, str],
) -> dict[str, Any]:
    phase1 = [sns_times[(a, 1)] - arrivals[a] for a in arrivals if (a, 1) in sns_times]
    phase2 = [sns_times[(a, 2)] - frames[a] for a in arrivals if (a, 2) in sns_times]
    return {
        "alerts": len(arrivals),
        "record_lag_seconds": RECORD_LAG_SECONDS,
        "ingest_delay_seconds": INGEST_DELAY_SECONDS,
        "post_roll_seconds": POST_ROLL_SECONDS,
        "arrival_to_phase1_seconds": _spread(phase1),
        "frame_to_phase2_seconds": _spread(phase2),
        "snapshots": dict(Counter(snapshot_status.values())),
        "targets": {
            "phase1_p95_met": bool(phase1) and percentile(phase1, 0.95) <= TARGET_PHASE1_P95_SECONDS,
            "phase2_max_met": bool(phase2) and max(phase2) <= POST_ROLL_SECONDS + PHASE2_SLACK_SECONDS,
            "every_alert_both_phases": len(phase1) == len(phase2) == len(arrivals) == alerts,
        },
    }


def main() -> int:
    from benchmarks.__main__ import prepare_environment

    prepare_environment(os.environ)
    from benchmarks.report import Table, number, verdict

    results = run()
    phase1, phase2 = results["arrival_to_phase1_seconds"], results["frame_to_phase2_seconds"]
    table = Table(
        "Two-phase alert latency (issue 15)",
        ["measure", "p50 (s)", "p95 (s)", "max (s)", "target", "verdict"],
    )
    table.add(
        "record arrival -> first message (snapshot)",
        number(phase1["p50"], 2),
        number(phase1["p95"], 2),
        number(phase1["max"], 2),
        f"p95 <= {TARGET_PHASE1_P95_SECONDS:g}",
        verdict(results["targets"]["phase1_p95_met"]),
    )
    table.add(
        "frame -> second message (clip)",
        number(phase2["p50"], 2),
        number(phase2["p95"], 2),
        number(phase2["max"], 2),
        f"<= post-roll {POST_ROLL_SECONDS} + {PHASE2_SLACK_SECONDS:g}",
        verdict(results["targets"]["phase2_max_met"]),
    )
    table.notes.append(
        f"{results['alerts']} alerts; the record reaches Kinesis {RECORD_LAG_SECONDS} s after its frame; GetImages "
        f"answers NO_MEDIA until {INGEST_DELAY_SECONDS} s after the frame (local stand-in on the real client)"
    )
    print(table.render())
    import json

    document = json.loads(OUTPUT.read_text()) if OUTPUT.exists() else {}
    document["two_phase"] = results
    from benchmarks.report import write_json

    write_json(OUTPUT, document)
    return 0


if __name__ == "__main__":
    sys.exit(main())
