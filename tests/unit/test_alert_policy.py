"""The policy's part of an alert: what the email says, which SNS attributes a filter policy sees, and that a
job without it is the schema-1 message it always was."""

from __future__ import annotations

import json

from scripts.make_alert_events import sample_job
from tests.support.alerts import alert_context

from facewatch.domain.alert_job import AlertJob
from facewatch.domain.alert_policy import (
    AlertPolicyInfo,
    ConfirmationInfo,
    ConfirmedFrame,
    NearMissInfo,
    SnoozeInfo,
    WatchlistInfo,
    document_fields,
    sns_attributes,
)
from facewatch.domain.notification import compose_email, compose_sns_message

INFO = AlertPolicyInfo(
    alert_type="unknown_face",
    site="seoul-hq",
    rule_id="strangers",
    severity="medium",
    recipients=("security",),
    zone="door",
    near_miss=NearMissInfo(employee_id="E10442", similarity=86.5),
    confirmation=ConfirmationInfo(
        sightings_needed=2,
        within_seconds=10.0,
        frames=(
            ConfirmedFrame(frame_time=1763776801.0, fragment_number="9134", face_index=0, confidence=97.0),
            ConfirmedFrame(frame_time=1763776803.0, fragment_number="9135", face_index=0, confidence=98.0),
        ),
    ),
    snoozes=(SnoozeInfo(scope="list", target="vip", until=1763780400.0, reason="gala tonight"),),
)


def test_the_email_says_rule_near_miss_confirmation_zone_and_snoozes_in_force() -> None:
    email = compose_email(alert_context(sample_job(policy=INFO)))

    assert "Rule:       strangers (unknown_face, medium)" in email
    assert "Near miss:  closest employee E10442 at 86.5% (below the employee threshold)" in email
    assert "Confirmed:  2 sightings within 10 s" in email
    assert "Zone:       door" in email
    assert "Snoozed:    list vip (gala tonight)" in email


def test_a_watchlist_alert_says_which_list_and_entry() -> None:
    listed = WatchlistInfo(list="banned", entry_id="c-1", similarity=99.0)
    info = INFO.model_copy(update={"alert_type": "watchlist_match", "watchlist": listed})

    email = compose_email(alert_context(sample_job(policy=info)))

    assert "Watchlist:  banned entry c-1 (similarity 99.0%)" in email


def test_sns_attributes_let_a_filter_policy_match_type_severity_and_any_recipient() -> None:
    message = compose_sns_message(alert_context(sample_job(policy=INFO)))

    # event_type is the message's phase (alert_snapshot / alert_clip); the alert's type is alert_type
    assert message.attributes["alert_type"] == {"DataType": "String", "StringValue": "unknown_face"}
    assert message.attributes["event_type"]["StringValue"] in ("alert_snapshot", "alert_clip")
    assert message.attributes["severity"] == {"DataType": "String", "StringValue": "medium"}
    assert message.attributes["recipients"] == {"DataType": "String.Array", "StringValue": '["security"]'}
    assert sns_attributes(None) == {}


def test_a_job_without_a_policy_is_the_schema_1_message_and_an_unknown_face_document() -> None:
    job = sample_job()

    assert "policy" not in json.loads(job.to_message())
    assert AlertJob.model_validate_json(job.to_message()) == job
    assert document_fields(None) == {"alert_type": "unknown_face"}


def test_a_job_with_a_policy_round_trips_through_its_message() -> None:
    job = sample_job(policy=INFO)

    assert AlertJob.model_validate_json(job.to_message()) == job
