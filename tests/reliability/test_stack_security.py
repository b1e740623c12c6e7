"""What leaves the pipeline, and what the template suppresses.

Nothing the functions write (logs, metrics, alert jobs, SNS messages, the OpenSearch document, clip metadata)
carries face data or a raw record: only the camera, times, confidence, geometry of the face box, counts, ids
and the clip's place. Each kind of output has the fields listed here and no other, so a new field is a decision
made in this file. Every checkov finding suppressed says why: once in .checkov.yaml, or next to its resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import load_template
from tests.reliability.faults import FaultInjector, SqsTime
from tests.reliability.pipeline import FaultyOpenSearch, Pipeline, index_jobs
from tests.support.docs import ROOT
from tests.support.records import EMPLOYEE_ID, LANDMARK_TYPES

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# Face data and record content: never in any output. (The record's own field names would mean a raw record.)
NEVER = (
    *LANDMARK_TYPES,
    "Landmarks",
    EMPLOYEE_ID,
    "ExternalImageId",
    "FaceId",
    "ImageId",
    "Similarity",
    "MatchedFaces",
    "FaceSearchResponse",
    "StreamProcessorInformation",
    "DetectedFace",
)
POWERTOOLS_LOG_KEYS = {
    "level",
    "location",
    "message",
    "timestamp",
    "service",
    "cold_start",
    "function_name",
    "function_memory_size",
    "function_arn",
    "function_request_id",
    "xray_trace_id",
    "sampling_rate",
}
LATENCY = ("frame_to_arrival", "arrival_to_detector", "detector_to_phase1", "phase1_to_phase2")
FACEWATCH_LOG_KEYS = {
    "camera_id",
    "alert_id",
    "frame_time",
    "delay_s",
    "clip_status",
    "latency_s",
    "reason",
    "sequence_number",
    "quarantine_key",
    "code",
    "error_code",
    "attempt",
    "retry_in_s",
    "index",
    "late_window",
    "phase",
    "snapshot_status",
    "latency",
    *(f"latency.{name}" for name in LATENCY),
    "failure",
    "shard_id",
}
BOX = {"width", "height", "left", "top"}
# The alert job between the stages. Pose and quality are scores of the face, not identity; nothing
# downstream reads them (they are not in the alert or the document).
JOB_FIELDS = {
    "schema",
    "alert_id",
    "camera_id",
    "kvs_stream_arn",
    "fragment_number",
    "producer_timestamp",
    "server_timestamp",
    "frame_offset_seconds",
    "frame_time",
    "faces_in_frame",
    "unmatched_faces_in_frame",
    "kinesis_sequence_number",
    "detected_at",
    "arrived_at",
    "edge_snapshot",
    *(f"edge_snapshot.{name}" for name in ("bucket", "key", "problem")),
    "face",
    *(f"face.{name}" for name in ("index", "confidence", "bounding_box", "quality", "pose")),
    *(f"face.bounding_box.{name}" for name in BOX),
    "face.quality.brightness",
    "face.quality.sharpness",
    *(f"face.pose.{name}" for name in ("pitch", "roll", "yaw")),
}
# The policy's part of an alert (domain/alert_policy.py): rule, type, near miss, watchlist entry, frames used.
POLICY_FIELDS = {
    "alert_type", "site", "rule_id", "severity", "recipients", "zone", "caps", "caps.max_alerts",
    "caps.per_minutes", "near_miss", "near_miss.employee_id", "near_miss.similarity", "watchlist",
    "watchlist.list", "watchlist.entry_id", "watchlist.similarity", "confirmation",
    "confirmation.sightings_needed", "confirmation.within_seconds", "confirmation.frames", "snoozes",
}  # fmt: skip
JOB_FIELDS |= {"policy", *(f"policy.{name}" for name in POLICY_FIELDS)}
PLACE = {"id", "display_name", "site", "floor", "zone", "timezone"}
NOTICE_FIELDS = {
    "schema",
    "event_type",
    "alert_id",
    "frame_time",
    "frame_time_local",
    "confidence",
    "faces_in_frame",
    "unknown_faces",
    "detected_at",
    "notified_at",
    "camera",
    *(f"camera.{name}" for name in PLACE),
    "bounding_box",
    *(f"bounding_box.{name}" for name in BOX),
    "clip",
    *(f"clip.{name}" for name in ("status", "s3_uri", "url", "url_expires_at", "reason")),
    "kvs",
    "kvs.stream_arn",
    "kvs.fragment_number",
    *POLICY_FIELDS,
    # The alert's console page (CONSOLE_URL): an address, no credential.
    "page_url",
    "sequence",
    "first_notified_at",
    "snapshot",
    *(
        f"snapshot.{name}"
        for name in (
            "status",
            "source",
            "frame_s3_uri",
            "crop_s3_uri",
            "frame_url",
            "crop_url",
            "url_expires_at",
            "reason",
        )
    ),
    "latency_seconds",
    *(f"latency_seconds.{name}" for name in LATENCY),
}
DOCUMENT_FIELDS = {
    "schema",
    "timestamp",
    "alert_id",
    "camera_id",
    "face_detected",
    "employee_match",
    "confidence",
    "faces_in_frame",
    "unknown_faces",
    "s3_location",
    "clip_status",
    "clip_reason",
    "clip_size_bytes",
    "kvs_stream_arn",
    "fragment_number",
    "detected_at",
    "notified_at",
    "alert_latency_seconds",
    "phase",
    "snapshot_status",
    "snapshot_reason",
    "snapshot_key",
    "crop_key",
    "clip_notified_at",
    "latency_seconds",
    *(f"latency_seconds.{name}" for name in LATENCY),
    "bounding_box",
    *(f"bounding_box.{name}" for name in BOX),
    "location",
    *(f"location.{name}" for name in ("site", "floor", "zone", "display_name", "timezone")),
    "notification",
    *POLICY_FIELDS,
}
# "facewatch: unknown face on <display name> (<camera id>) at <site>, HH:MM:SS UTC"
SUBJECT = re.compile(r"facewatch: (clip of )?unknown face on [a-z]+ \(exposure-[a-z]+\) at HQ, \d\d:\d\d:\d\d UTC")
CLIP_METADATA = {"alert-id", "camera-id", "frame-time"}


# A notified alert's document on its way to the indexer (IndexQueue): the document and what names it.
INDEX_JOB_FIELDS = {"schema", "alert_id", "camera_id", "frame_time", "document"}


def fields(document: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document, dotted."""
    if not isinstance(document, dict):
        return set()
    found = set()
    for key, value in document.items():
        path = f"{prefix}{key}"
        found |= {path} | fields(value, f"{path}.")
    return found


def emf_metric_names(line: dict[str, Any]) -> set[str]:
    return {metric["Name"] for directive in line["_aws"]["CloudWatchMetrics"] for metric in directive["Metrics"]}


@pytest.fixture(scope="module")
def everything_written(
    emulated: boto3.session.Session,
    template: dict[str, Any],
    injector: FaultInjector,
    sqs_time: SqsTime,
) -> Iterator[dict[str, list[Any]]]:
    """What the functions wrote when the scenario (unknown faces, an employee, landmarks) went through."""
    with FaultyOpenSearch() as opensearch:
        injector.reset()
        pipeline = Pipeline(emulated, template, "exposure", opensearch=opensearch, injector=injector, sqs_time=sqs_time)
        outcome = pipeline.run()
        assert outcome.violations() == []
        s3 = emulated.client("s3")
        clips = s3.list_objects_v2(Bucket=pipeline.stack.clip_bucket_name).get("Contents", [])
        published = pipeline.published()
        yield {
            "log lines": [
                line
                for function in (pipeline.detector, pipeline.alerter)
                for invocation in function.invocations
                for line in invocation.output.splitlines()
            ],
            "alert jobs": [json.loads(body) for body in outcome.jobs_sent],
            "index jobs": [
                json.loads(str(call.params["MessageBody"]))
                for call in injector.accepted
                if call.function.endswith("-AlertFunction")
                and (call.service, call.operation) == ("sqs", "SendMessage")
                and index_jobs(call.params)
            ],
            "SNS messages": [json.loads(message.message) for message in published],
            "SNS subjects": [message.subject for message in published],
            "documents": [seen.json() for seen in opensearch.requests if "/_doc/" in seen.path],
            "clip metadata": [
                s3.head_object(Bucket=pipeline.stack.clip_bucket_name, Key=clip["Key"])["Metadata"] for clip in clips
            ],
        }


def test_no_output_carries_face_data_or_a_raw_record(everything_written: dict[str, list[Any]]) -> None:
    for kind, items in everything_written.items():
        assert items, f"nothing to check in {kind}"
        text = json.dumps(items)
        leaked = [secret for secret in NEVER if secret in text]
        assert leaked == [], f"{kind} carry {leaked}"


def test_log_lines_have_the_powertools_and_facewatch_fields_only(everything_written: dict[str, list[Any]]) -> None:
    structured = [json.loads(line) for line in everything_written["log lines"] if line.startswith("{")]
    logs = [line for line in structured if "_aws" not in line]
    metrics = [line for line in structured if "_aws" in line]
    assert logs
    assert metrics
    for line in logs:
        assert set(line) <= POWERTOOLS_LOG_KEYS | FACEWATCH_LOG_KEYS, line
    for line in metrics:
        # An EMF line holds the metrics, the metadata and the dimensions (service; CameraId on the per-camera
        # quarantine counts and latency components), nothing else.
        dimensions = {name for d in line["_aws"]["CloudWatchMetrics"] for names in d["Dimensions"] for name in names}
        assert dimensions <= {"service", "CameraId"}, line
        assert set(line) == {"_aws", *dimensions, *emf_metric_names(line)}, line
    plain = [line for line in everything_written["log lines"] if not line.startswith("{")]
    assert all(line.startswith(("START ", "END ", "REPORT ")) for line in plain), plain


def test_messages_and_documents_have_their_listed_fields_only(everything_written: dict[str, list[Any]]) -> None:
    for job in everything_written["alert jobs"]:
        assert fields(job) <= JOB_FIELDS
    for message in everything_written["SNS messages"]:
        assert set(message) == {"default", "email", "sqs", "lambda", "https"}
        for protocol in ("sqs", "lambda", "https"):
            assert fields(json.loads(message[protocol])) <= NOTICE_FIELDS
    for document in everything_written["documents"]:
        assert fields(document) <= DOCUMENT_FIELDS
    for index_job in everything_written["index jobs"]:
        assert fields(index_job) <= INDEX_JOB_FIELDS | {f"document.{name}" for name in DOCUMENT_FIELDS}
    for metadata in everything_written["clip metadata"]:
        assert set(metadata) == CLIP_METADATA


def test_email_subjects_name_the_camera_and_time_only(everything_written: dict[str, list[Any]]) -> None:
    for subject in everything_written["SNS subjects"]:
        assert SUBJECT.fullmatch(subject), subject


def test_every_shared_checkov_suppression_says_why_once() -> None:
    """.checkov.yaml: each skipped check has its own comment right above it, saying why."""
    lines = (ROOT / ".checkov.yaml").read_text().splitlines()
    start = lines.index("skip-check:")
    reasons: dict[str, list[str]] = {}
    comment: list[str] = []
    for line in lines[start + 1 :]:
        text = line.strip()
        if text.startswith("#"):
            comment.append(text.lstrip("# "))
        elif text.startswith("- "):
            reasons[text[2:]] = comment
            comment = []
    assert reasons, "the config suppresses nothing: drop this test, or it no longer sees the suppressions"
    for check, why in reasons.items():
        assert re.fullmatch(r"CKV2?_AWS_\d+", check), check
        assert len(" ".join(why).split()) >= 12, f"{check} is suppressed without a reason"


def test_every_checkov_suppression_next_to_a_resource_says_why() -> None:
    skips = [
        (logical_id, skip)
        for logical_id, resource in load_template()["Resources"].items()
        if isinstance(resource, dict)
        for skip in resource.get("Metadata", {}).get("checkov", {}).get("skip", [])
    ]
    for logical_id, skip in skips:
        assert str(skip.get("id", "")).startswith(("CKV_", "CKV2_")), (logical_id, skip)
        assert len(str(skip.get("comment", "")).split()) >= 8, f"{logical_id} suppresses {skip['id']} without a reason"
