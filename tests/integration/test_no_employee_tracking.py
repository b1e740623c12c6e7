"""No tracking of employees: a frame that matches an employee leaves their identity nowhere — not in the
logs, the metrics, the alert queue, the dedup table or the quarantine — only in counts. (facewatch is not an
attendance system; docs/privacy.md.) The detector runs through its real handler on moto."""

from __future__ import annotations

import json

import pytest
from tests.support.detector import DetectorHarness
from tests.support.kinesis import kinesis_event
from tests.support.logs import batch_metric_set, emf_metric_sets
from tests.support.records import EMPLOYEE_ID, employee_face, face_search_record, frame_at, unknown_face

# What would name the employee: their id, and the collection's ids of their face and image.
IDENTIFIERS = (EMPLOYEE_ID, "6f0c3d5e-3b1a-4a57-9f0e-2f4f3a9c1d21", "b7e2a0f4-5d6c-5e71-8a9b-0c1d2e3f4a5b")


def everything_stored(harness: DetectorHarness) -> str:
    """Every item, message and object the detector left, as one text to search."""
    look = harness._look
    items = look["dynamodb"].scan(TableName=harness.stack.dedup_table_name)["Items"]
    jobs = [job.body for job in harness.alert_jobs()]
    quarantined = [q.__dict__ for q in harness.quarantined()]
    return json.dumps({"items": items, "jobs": jobs, "quarantined": quarantined}, default=str)


def test_frames_of_an_employee_leave_only_counts(harness: DetectorHarness, capsys: pytest.CaptureFixture[str]) -> None:
    frames = [frame_at(0.2 * n, [employee_face()]) for n in range(10)]

    response = harness.invoke(kinesis_event(frames))

    printed = capsys.readouterr()
    assert response == {"batchItemFailures": []}
    stored = everything_stored(harness)
    for identifier in IDENTIFIERS:
        assert identifier not in printed.out + printed.err, identifier
        assert identifier not in stored, identifier
    assert harness.alert_jobs() == []
    metrics = batch_metric_set(printed.out)
    assert metrics["FacesDropped_employee_match"] == 10  # the count is all that is kept
    per_camera = [m for m in emf_metric_sets(printed.out) if "RecordsProcessed" not in m]
    assert per_camera == [{"NotAlerted_employee_match": 10}], "per camera, a count again"


def test_an_employee_beside_a_stranger_is_not_named_in_the_strangers_alert(
    harness: DetectorHarness, capsys: pytest.CaptureFixture[str]
) -> None:
    record = face_search_record([unknown_face(), employee_face()])

    harness.invoke(kinesis_event([record]))

    printed = capsys.readouterr()
    jobs = harness.alert_jobs()
    assert len(jobs) == 1
    text = json.dumps([job.body for job in jobs]) + printed.out + printed.err + everything_stored(harness)
    for identifier in IDENTIFIERS:
        assert identifier not in text, identifier
