"""The alert's OpenSearch document, its monthly index and the index template."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError
from tests.alert_support import CLIP_BUCKET, alert_context, sample_job

from facewatch.domain.cameras import CameraPlace
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.document import IndexJob, alert_document, index_name, index_template


def epoch(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def test_document_describes_the_unknown_face_and_where_the_clip_is() -> None:
    job = sample_job()

    document = alert_document(alert_context(job=job))

    assert document["timestamp"] == "2025-11-22T02:00:01.851Z"
    assert document["alert_id"] == job.alert_id
    assert document["camera_id"] == "seoul-hq-lobby-01"
    assert document["face_detected"] is True
    assert document["employee_match"] is False
    assert document["confidence"] == 99.41
    assert document["bounding_box"] == {"width": 0.071, "height": 0.162, "left": 0.612, "top": 0.284}
    assert document["s3_location"] == f"s3://{CLIP_BUCKET}/clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4"
    assert document["clip_status"] == "ok"
    assert document["kvs_stream_arn"] == job.kvs_stream_arn
    assert document["fragment_number"] == job.fragment_number
    assert document["detected_at"] == "2025-11-22T02:00:36.204Z"
    assert document["notified_at"] == "2025-11-22T02:00:38.500Z"


def test_document_location_is_the_cameras_place() -> None:
    document = alert_document(alert_context())

    assert {key: document["location"][key] for key in ("site", "floor", "zone")} == {
        "site": "SEOUL",
        "floor": "1",
        "zone": "LOBBY",
    }


def test_document_for_an_unregistered_camera_has_no_site_floor_or_zone() -> None:
    document = alert_document(alert_context(place=CameraPlace.unregistered("seoul-hq-lobby-01")))

    assert not {"site", "floor", "zone"} & set(document["location"])


def test_document_without_clip_has_no_location_and_says_why() -> None:
    document = alert_document(alert_context(clip=ClipOutcome.missing("the video could not be retrieved (X)")))

    assert document["s3_location"] is None
    assert document["clip_status"] == "missing"
    assert document["clip_reason"] == "the video could not be retrieved (X)"


@pytest.mark.parametrize(
    ("frame_time", "index"),
    [
        ("2025-11-22T02:00:01", "face-alerts-2025.11"),
        ("2025-11-30T23:59:59.999", "face-alerts-2025.11"),
        ("2025-12-01T00:00:00", "face-alerts-2025.12"),
        ("2026-01-01T00:00:00", "face-alerts-2026.01"),
    ],
)
def test_index_is_monthly_by_utc_frame_time(frame_time: str, index: str) -> None:
    assert index_name("face-alerts", epoch(frame_time)) == index


def test_template_applies_to_the_prefixs_monthly_indices() -> None:
    assert index_template("face-alerts")["index_patterns"] == ["face-alerts-*"]


def test_template_maps_fields_to_their_types() -> None:
    mapped = index_template("face-alerts")["template"]["mappings"]["properties"]

    assert mapped["timestamp"] == {"type": "date"}
    assert mapped["detected_at"] == {"type": "date"}
    assert mapped["notified_at"] == {"type": "date"}
    assert mapped["camera_id"] == {"type": "keyword"}
    assert mapped["alert_id"] == {"type": "keyword"}
    assert mapped["confidence"] == {"type": "float"}
    assert mapped["face_detected"] == {"type": "boolean"}
    assert mapped["employee_match"] == {"type": "boolean"}
    assert mapped["location"]["type"] == "object"
    assert mapped["location"]["properties"]["site"] == {"type": "keyword"}
    assert mapped["bounding_box"]["properties"]["left"] == {"type": "float"}


def test_template_maps_every_field_a_document_has() -> None:
    # given mappings that are not dynamic: an unmapped field would not be searchable
    mappings = index_template("face-alerts")["template"]["mappings"]
    document = alert_document(alert_context())

    # then every document field, and every location field, has a mapping
    assert mappings["dynamic"] == "false"
    assert set(document) <= set(mappings["properties"])
    assert set(document["location"]) <= set(mappings["properties"]["location"]["properties"])


def test_an_index_job_carries_only_its_own_alerts_document() -> None:
    job = sample_job()
    document = alert_document(alert_context(job))
    own = IndexJob(alert_id=job.alert_id, camera_id=job.camera_id, frame_time=job.frame_time, document=document)
    assert IndexJob.model_validate_json(own.to_message()) == own

    with pytest.raises(ValidationError, match="the document is not this alert's"):
        IndexJob(alert_id="0123456789abcdef", camera_id=job.camera_id, frame_time=job.frame_time, document=document)
