"""The alert's searchable record in OpenSearch: versioned document, the index job that carries it to the
indexer (IndexQueue), index name and index template."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facewatch.domain.alert_job import JobTime
from facewatch.domain.notification import AlertContext, iso_utc

ALERT_DOCUMENT_SCHEMA = 1
INDEX_TEMPLATE_VERSION = 1
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

    def to_message(self) -> str:
        return self.model_dump_json(by_alias=True)


def index_retry_delay_seconds(receive_count: int) -> int:
    return int(min(INDEX_RETRY_MAX_SECONDS, INDEX_RETRY_BASE_SECONDS * 2 ** max(0, receive_count - 1)))


def index_name(prefix: str, frame_time: float) -> str:
    """Monthly indices ({prefix}-YYYY.MM) so retention can drop whole months."""
    return f"{prefix}-{datetime.fromtimestamp(frame_time, tz=UTC):%Y.%m}"


def alert_document(context: AlertContext) -> dict[str, Any]:
    job, place, clip = context.job, context.place, context.clip
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
        "s3_location": clip.s3_uri,
        "clip_status": clip.status,
        "clip_reason": clip.reason,
        "clip_size_bytes": clip.size_bytes,
        "location": location,
        "kvs_stream_arn": job.kvs_stream_arn,
        "fragment_number": job.fragment_number,
        "detected_at": iso_utc(job.detected_at),
        "notified_at": iso_utc(context.notified_at),
        "alert_latency_seconds": round(context.notified_at - job.frame_time, 3),
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
                    "alert_latency_seconds": {"type": "float"},
                },
            },
        },
    }
