"""The alert's searchable record in OpenSearch: versioned document, the index job that carries it to the
indexer (IndexQueue), index name and index template."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal, Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

from facewatch.domain.alert_job import JobTime
from facewatch.domain.alert_policy import document_fields, document_mappings
from facewatch.domain.notification import AlertContext, Phase, iso_utc

ALERT_DOCUMENT_SCHEMA = 2
INDEX_TEMPLATE_VERSION = 2
# Attempts to index a document before it is dead-lettered with the reason (IndexQueue's maxReceiveCount is
# higher, a backstop); between them a growing backoff, so an outage of about an hour is ridden out.
INDEX_MAX_ATTEMPTS = 8
INDEX_RETRY_BASE_SECONDS = 30
INDEX_RETRY_MAX_SECONDS = 900


class IndexJob(BaseModel):
    """What the alerter queues on IndexQueue once the alert is notified: the finished document."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    schema_version: Literal[1] = Field(default=1, alias="schema")
    alert_id: str = Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")
    camera_id: str = Field(min_length=1, max_length=256)
    frame_time: JobTime
    document: dict[str, Any]

    @model_validator(mode="after")
    def _names_its_own_document(self) -> Self:
        # The document id is the alert id: a job whose document is another alert's would overwrite that one.
        if self.document.get("alert_id") != self.alert_id or self.document.get("camera_id") != self.camera_id:
            raise ValueError("the document is not this alert's")
        return self

    def to_message(self) -> str:
        return self.model_dump_json(by_alias=True)


def index_retry_delay_seconds(receive_count: int) -> int:
    return int(min(INDEX_RETRY_MAX_SECONDS, INDEX_RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1)))


def index_name(prefix: str, frame_time: float) -> str:
    """Monthly indices ({prefix}-YYYY.MM) so retention can drop whole months."""
    return f"{prefix}-{datetime.fromtimestamp(frame_time, tz=UTC):%Y.%m}"


def alert_document(context: AlertContext) -> dict[str, Any]:
    """The alert's document as of `context.phase`: written after the first message (clip "pending") and
    overwritten in place, under the same id, after the second."""
    job, place, clip, snapshot = context.job, context.place, context.clip, context.snapshot
    location = {
        key: value
        for key, value in {
            "site": place.site,
            "floor": place.floor,
            "zone": place.zone,
            "display_name": place.display_name,
            "timezone": place.timezone,
        }.items()
        if value
    }
    first_notified_at = context.notified_at if context.phase is Phase.SNAPSHOT else context.phase1_at
    first_notified_at = first_notified_at if first_notified_at is not None else context.notified_at
    ok = snapshot is not None and snapshot.status == "ok"
    return {
        "schema": ALERT_DOCUMENT_SCHEMA,
        "timestamp": iso_utc(job.frame_time),
        "alert_id": job.alert_id,
        "camera_id": job.camera_id,
        "face_detected": True,
        "employee_match": False,
        "confidence": job.face.confidence,
        "faces_in_frame": job.faces_in_frame,
        "unknown_faces": job.unmatched_faces_in_frame,
        "bounding_box": job.face.bounding_box.model_dump(),
        "phase": int(context.phase),
        "snapshot_status": snapshot.status if snapshot is not None else "missing",
        "snapshot_reason": snapshot.reason if snapshot is not None else "not taken",
        "snapshot_key": snapshot.frame_key if ok and snapshot is not None else None,
        "crop_key": snapshot.crop_key if ok and snapshot is not None else None,
        "s3_location": clip.s3_uri if clip is not None else None,
        "clip_status": clip.status if clip is not None else "pending",
        "clip_reason": clip.reason if clip is not None else None,
        "clip_size_bytes": clip.size_bytes if clip is not None else 0,
        "location": location,
        "kvs_stream_arn": job.kvs_stream_arn,
        "fragment_number": job.fragment_number,
        "detected_at": iso_utc(job.detected_at),
        "notified_at": iso_utc(first_notified_at),
        "clip_notified_at": iso_utc(context.notified_at) if context.phase is Phase.CLIP else None,
        "alert_latency_seconds": round(first_notified_at - job.frame_time, 3),
        "latency_seconds": context.latency.as_dict(),
        **document_fields(job.policy),
    }


# Written by the console when someone triages the alert (facewatch.domain.alert_record.triage_fields):
# the status, who and when, the note, and the label kept for threshold tuning.
TRIAGE_MAPPING: dict[str, Any] = {
    "triage": {
        "type": "object",
        "properties": {
            "status": {"type": "keyword"},
            "resolution": {"type": "keyword"},
            "employee_id": {"type": "keyword"},
            "by": {"type": "keyword"},
            "at": {"type": "date"},
            "note": {"type": "text"},
        },
    }
}


def index_template(prefix: str) -> dict[str, Any]:
    """Explicit mappings for every document field; installed before the first write."""
    keyword = {"type": "keyword"}
    box = {"properties": {name: {"type": "float"} for name in ("width", "height", "left", "top")}}
    return {
        "index_patterns": [f"{prefix}-*"],
        "version": INDEX_TEMPLATE_VERSION,
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0},
            "mappings": {
                "dynamic": "false",
                "properties": {
                    "schema": {"type": "integer"},
                    "timestamp": {"type": "date"},
                    "alert_id": keyword,
                    "camera_id": keyword,
                    "face_detected": {"type": "boolean"},
                    "employee_match": {"type": "boolean"},
                    "confidence": {"type": "float"},
                    "faces_in_frame": {"type": "integer"},
                    "unknown_faces": {"type": "integer"},
                    "bounding_box": {"type": "object", **box},
                    "phase": {"type": "integer"},
                    "snapshot_status": keyword,
                    "snapshot_reason": {"type": "text"},
                    "snapshot_key": keyword,
                    "crop_key": keyword,
                    "s3_location": keyword,
                    "clip_status": keyword,
                    "clip_reason": {"type": "text"},
                    "clip_size_bytes": {"type": "long"},
                    "location": {
                        "type": "object",
                        "properties": {name: keyword for name in ("site", "floor", "zone", "display_name", "timezone")},
                    },
                    "kvs_stream_arn": keyword,
                    "fragment_number": keyword,
                    "detected_at": {"type": "date"},
                    "notified_at": {"type": "date"},
                    "clip_notified_at": {"type": "date"},
                    "alert_latency_seconds": {"type": "float"},
                    **document_mappings(),
                    **TRIAGE_MAPPING,
                    "latency_seconds": {
                        "type": "object",
                        "properties": {
                            name: {"type": "float"}
                            for name in (
                                "frame_to_arrival",
                                "arrival_to_detector",
                                "detector_to_phase1",
                                "phase1_to_phase2",
                            )
                        },
                    },
                },
            },
        },
    }
