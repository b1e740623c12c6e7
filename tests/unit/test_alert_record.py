"""The console's alert record: built from the alert, triaged by its rules, labelled for the search index,
rendered escaped; and the email's link to it."""

from __future__ import annotations

import dataclasses

import pytest
from tests.alert_support import alert_context

from facewatch.domain.alert_record import (
    AlertRecord,
    Resolution,
    TriageError,
    TriageStatus,
    acknowledge,
    alert_record,
    is_media_key,
    resolve,
    triage_fields,
)
from facewatch.domain.console_pages import alert_page
from facewatch.domain.console_session import (
    SignInState,
    content_security_policy,
    csrf_token,
    csrf_valid,
    same_origin,
)
from facewatch.domain.notification import alert_notice, compose_email

NOW = 1_796_000_000.0


@pytest.fixture
def record() -> AlertRecord:
    return alert_record(alert_context())


def test_the_record_names_the_snapshot_and_clip_keys_of_the_contract(record: AlertRecord) -> None:
    # then
    assert record.status is TriageStatus.NEW
    assert record.snapshot_key == f"snapshots/{record.camera_id}/2025/11/22/{record.alert_id}-frame.jpg"
    assert record.crop_key == f"snapshots/{record.camera_id}/2025/11/22/{record.alert_id}-crop.jpg"
    assert record.clip_key == f"clips/{record.camera_id}/2025/11/22/{record.alert_id}.mp4"
    assert record.stream_mode


def test_acknowledge_records_who_when_and_the_note(record: AlertRecord) -> None:
    # when
    acknowledged = acknowledge(record, "alice", "  on my   way ", NOW)
    # then
    assert (acknowledged.status, acknowledged.updated_by, acknowledged.updated_at) == (
        TriageStatus.ACKNOWLEDGED,
        "alice",
        NOW,
    )
    assert acknowledged.note == "on my way"
    assert [entry.action for entry in acknowledged.history] == ["acknowledged"]


def test_only_a_new_alert_can_be_acknowledged(record: AlertRecord) -> None:
    with pytest.raises(TriageError, match="already acknowledged"):
        acknowledge(acknowledge(record, "alice", "", NOW), "bob", "", NOW)


def test_a_resolution_needs_a_note(record: AlertRecord) -> None:
    with pytest.raises(TriageError, match="note is required"):
        resolve(record, "alice", Resolution.FALSE_ALARM, " ", NOW)


def test_an_employee_resolution_names_the_employee_and_the_enrolled_face(record: AlertRecord) -> None:
    with pytest.raises(TriageError, match="choose the employee"):
        resolve(record, "alice", Resolution.EMPLOYEE, "badge", NOW)
    with pytest.raises(TriageError, match="enrolled face"):
        resolve(record, "alice", Resolution.EMPLOYEE, "badge", NOW, employee_id="E1")
    with pytest.raises(TriageError, match="only an employee resolution"):
        resolve(record, "alice", Resolution.KNOWN_VISITOR, "courier", NOW, employee_id="E1")


def test_a_resolved_alert_is_labelled_and_cannot_be_resolved_again(record: AlertRecord) -> None:
    # when
    resolved = resolve(record, "alice", Resolution.EMPLOYEE, "badge photo", NOW, employee_id="E1", face_id="f-1")
    # then
    assert triage_fields(resolved) == {
        "triage": {
            "status": "resolved",
            "resolution": "employee",
            "employee_id": "E1",
            "by": "alice",
            "at": "2026-11-30T00:53:20.000Z",
            "note": "badge photo",
        }
    }
    with pytest.raises(TriageError, match="already resolved"):
        resolve(resolved, "bob", Resolution.NOT_A_FACE, "x", NOW)


@pytest.mark.parametrize(
    ("key", "media"),
    [
        ("clips/cam/2026/12/03/a.mp4", True),
        ("snapshots/cam/2026/12/03/a-crop.jpg", True),
        ("quarantine/x.json", False),
        ("clips/../audit/x", False),
        (None, False),
    ],
)
def test_only_clip_and_snapshot_keys_are_media(key: str | None, media: bool) -> None:
    assert is_media_key(key) is media


def test_the_email_and_the_structured_alert_link_to_the_console_page() -> None:
    # given
    context = dataclasses.replace(alert_context(), page_url="https://console.example/alerts/abc")
    # when
    email = compose_email(context)
    notice = alert_notice(context)
    # then
    assert "Open:       https://console.example/alerts/abc" in email
    assert "short-lived convenience link" in email
    assert notice["page_url"] == "https://console.example/alerts/abc"


def test_csrf_tokens_are_bound_to_the_session() -> None:
    assert csrf_valid("token-a", csrf_token("token-a"))
    assert not csrf_valid("token-b", csrf_token("token-a"))
    assert not csrf_valid("token-a", None)


@pytest.mark.parametrize(
    ("headers", "same"),
    [
        ({"origin": "https://console.example"}, True),
        ({"origin": "https://evil.example"}, False),
        ({"origin": "null"}, False),
        ({"referer": "https://console.example/alerts"}, True),
        ({}, True),
    ],
)
def test_a_form_must_come_from_the_consoles_origin(headers: dict[str, str], same: bool) -> None:
    assert same_origin(headers, "console.example") is same


def test_the_policy_admits_media_only_from_the_links_of_the_page() -> None:
    # when
    policy = content_security_policy(["https://bucket.s3.amazonaws.com"])
    # then
    assert "img-src 'self' https://bucket.s3.amazonaws.com;" in policy
    assert "default-src 'none'" in policy
    assert "script" not in policy


def test_the_sign_in_state_round_trips_and_garbage_is_no_state() -> None:
    state = SignInState("alice", "MFA_SETUP", "session", "SECRET")
    assert SignInState.decode(state.encode()) == state
    assert SignInState.decode("not base64 json") is None


def test_pages_escape_what_they_show(record: AlertRecord) -> None:
    # given: a note with markup
    acknowledged = acknowledge(record, "alice", "<script>alert(1)</script>", NOW)
    # when
    page = alert_page(
        acknowledged,
        crop_url='https://b.example/c.jpg?a=1&b="2"',
        frame_url=None,
        clip_url=None,
        link_minutes=5,
        can_act=True,
        username="alice",
        csrf="t",
    )
    # then
    assert "<script>" not in page
    assert "&lt;script&gt;" in page
    assert 'src="https://b.example/c.jpg?a=1&amp;b=&quot;2&quot;"' in page
