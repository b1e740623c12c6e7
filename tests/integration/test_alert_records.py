"""AlertRecordTable on moto, as the template defines it: one record per alert, listed newest first page by
page, filtered, counted; a redelivered alert never undoes triage; a stale triage write is refused."""

from __future__ import annotations

import dataclasses

import boto3
import pytest
from facewatch_local.stack import EmulatedStack
from tests.alert_support import alert_context, sample_job

from facewatch.adapters.alert_records import (
    AlertFilter,
    AlertRecords,
    ConcurrentChangeError,
    InvalidCursorError,
)
from facewatch.domain.alert_record import AlertRecord, TriageStatus, acknowledge, alert_record
from facewatch.domain.cameras import CameraPlace

RETENTION_SECONDS = 90 * 86_400


def record_at(offset_seconds: float, camera: str = "lobby", site: str = "Seoul HQ") -> AlertRecord:
    job = sample_job()
    job = job.model_copy(
        update={
            "alert_id": f"{int(offset_seconds):08x}abcdef",
            "camera_id": camera,
            "frame_time": job.frame_time + offset_seconds,
        }
    )
    context = dataclasses.replace(alert_context(job), place=CameraPlace(camera_id=camera, site=site))
    return alert_record(context)


@pytest.fixture
def records(aws: boto3.session.Session, stack: EmulatedStack) -> AlertRecords:
    return AlertRecords(stack.alert_record_table_name, aws.client("dynamodb"))


def test_pages_are_newest_first_and_the_cursor_continues(records: AlertRecords) -> None:
    # given
    for offset in range(7):
        records.create(record_at(offset * 60), RETENTION_SECONDS)
    # when
    first = records.page(AlertFilter(), size=3)
    second = records.page(AlertFilter(), size=3, cursor=first.cursor)
    third = records.page(AlertFilter(), size=3, cursor=second.cursor)
    # then
    offsets = [[r.frame_time for r in page.records] for page in (first, second, third)]
    flat = [t for page in offsets for t in page]
    assert flat == sorted(flat, reverse=True)
    assert [len(page) for page in offsets] == [3, 3, 1]
    assert third.cursor is None


def test_filters_by_site_camera_status_and_time(records: AlertRecords) -> None:
    # given
    base = record_at(0).frame_time
    records.create(record_at(0, camera="lobby", site="Seoul HQ"), RETENTION_SECONDS)
    records.create(record_at(60, camera="gate", site="Busan"), RETENTION_SECONDS)
    acked = record_at(120, camera="lobby", site="Seoul HQ")
    records.create(acked, RETENTION_SECONDS)
    records.replace(acked, acknowledge(acked, "alice", "", 0.0))
    # then
    assert [r.camera_id for r in records.page(AlertFilter(site="Busan"), 10).records] == ["gate"]
    assert len(records.page(AlertFilter(camera_id="lobby"), 10).records) == 2
    assert [r.alert_id for r in records.page(AlertFilter(status=TriageStatus.ACKNOWLEDGED), 10).records] == [
        acked.alert_id
    ]
    assert len(records.page(AlertFilter(since=base + 30), 10).records) == 2
    assert records.count(TriageStatus.NEW) == 2


def test_a_redelivered_alert_does_not_undo_triage(records: AlertRecords) -> None:
    # given: created, then acknowledged
    record = record_at(0)
    assert records.create(record, RETENTION_SECONDS)
    records.replace(record, acknowledge(record, "alice", "", 0.0))
    # when: the alert stage writes it again
    created = records.create(record, RETENTION_SECONDS)
    # then
    stored = records.get(record.alert_id)
    assert created is False
    assert stored is not None
    assert stored.status is TriageStatus.ACKNOWLEDGED


def test_a_triage_write_against_a_stale_read_is_refused(records: AlertRecords) -> None:
    # given: two people read the same record; one acknowledges first
    record = record_at(0)
    records.create(record, RETENTION_SECONDS)
    records.replace(record, acknowledge(record, "alice", "", 0.0))
    # then
    with pytest.raises(ConcurrentChangeError):
        records.replace(record, acknowledge(record, "bob", "", 0.0))


def test_a_forged_cursor_is_refused(records: AlertRecords) -> None:
    with pytest.raises(InvalidCursorError):
        records.page(AlertFilter(), 5, cursor="eyJ4IjogMX0=")


def test_a_record_lives_as_long_as_the_clip_it_shows(
    aws: boto3.session.Session, stack: EmulatedStack, records: AlertRecords
) -> None:
    # given: the alert stage's retention is the clip bucket's (ClipRetentionDays)
    record = record_at(0)
    # when
    records.create(record, RETENTION_SECONDS)
    # then: DynamoDB's TTL removes it when S3's lifecycle removes the clip, not before
    item = aws.client("dynamodb").get_item(
        TableName=stack.alert_record_table_name, Key={"alert_id": {"S": record.alert_id}}
    )["Item"]
    assert int(item["expires_at"]["N"]) == int(record.frame_time) + RETENTION_SECONDS
