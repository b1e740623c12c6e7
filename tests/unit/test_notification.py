"""What the security team receives: email text, subject, structured alert and SNS attributes."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from tests.support.alerts import CLIP_BUCKET, CLIP_URL, SEOUL_LOBBY, alert_context, sample_job

from facewatch.domain.cameras import CameraPlace
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.notification import (
    Phase,
    alert_notice,
    compose_email,
    compose_sns_message,
    compose_subject,
    message_attributes,
)

UNREGISTERED = CameraPlace.unregistered("seoul-hq-lobby-01")
NO_CLIP = ClipOutcome.missing("the video could not be retrieved (NoDataRetentionException)")


def line_starting(text: str, label: str) -> str:
    [line] = [line for line in text.splitlines() if line.startswith(label)]
    return line


def test_email_names_the_camera_and_where_it_is() -> None:
    email = compose_email(alert_context())

    assert line_starting(email, "Camera:") == "Camera:     Lobby entrance (seoul-hq-lobby-01)"
    assert line_starting(email, "Where:") == "Where:      SEOUL, floor 1, zone LOBBY"


def test_email_for_an_unregistered_camera_uses_the_stream_name_and_no_place() -> None:
    email = compose_email(alert_context(place=UNREGISTERED))

    assert line_starting(email, "Camera:") == "Camera:     seoul-hq-lobby-01"
    assert "Where:" not in email


@pytest.mark.parametrize(
    ("timezone", "local"),
    [
        ("Asia/Seoul", "2025-11-22 11:00:01"),
        ("America/Los_Angeles", "2025-11-21 18:00:01"),  # the day before, in the camera's zone
        ("Europe/Oslo", "2025-11-22 03:00:01"),
    ],
)
def test_email_gives_the_time_in_the_cameras_zone_and_in_utc(timezone: str, local: str) -> None:
    # given a frame at 2025-11-22 02:00:01.851 UTC on a camera in `timezone`
    place = SEOUL_LOBBY.model_copy(update={"timezone": timezone})

    # when the email is composed
    when = line_starting(compose_email(alert_context(place=place)), "When:")

    # then it shows local wall time with its zone, and UTC
    assert local in when
    assert timezone in when
    assert "2025-11-22 02:00:01 UTC" in when


def test_email_gives_confidence_and_how_many_faces_are_unknown() -> None:
    job = sample_job(faces_in_frame=3, unmatched_faces_in_frame=2)

    email = compose_email(alert_context(job=job))

    assert "99.4%" in line_starting(email, "Confidence:")
    assert line_starting(email, "Unknown:") == "Unknown:    2 unknown of 3 face(s) in the frame"


def test_email_links_the_clip_and_names_where_it_is_stored() -> None:
    job = sample_job()

    email = compose_email(alert_context(job=job))

    assert line_starting(email, "Clip:") == f"Clip:       {CLIP_URL}"
    assert f"s3://{CLIP_BUCKET}/clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4" in email
    assert "valid for about 60 min" in email


def test_email_without_clip_says_none_and_why() -> None:
    email = compose_email(alert_context(clip=NO_CLIP))

    assert line_starting(email, "Clip:") == (
        "Clip:       none - the video could not be retrieved (NoDataRetentionException)"
    )
    assert "s3://" not in email


def test_email_gives_the_alert_id() -> None:
    email = compose_email(alert_context())

    assert line_starting(email, "Alert id:") == f"Alert id:   {sample_job().alert_id} (message 2 of 2)"


def test_subject_names_camera_site_and_utc_time() -> None:
    assert compose_subject(alert_context(phase=Phase.SNAPSHOT, clip=None)) == (
        "facewatch: unknown face on Lobby entrance (seoul-hq-lobby-01) at SEOUL, 02:00:01 UTC"
    )
    assert compose_subject(alert_context()) == (
        "facewatch: clip of unknown face on Lobby entrance (seoul-hq-lobby-01) at SEOUL, 02:00:01 UTC"
    )


def test_subject_replaces_non_ascii_and_line_breaks() -> None:
    place = SEOUL_LOBBY.model_copy(update={"display_name": "로비\n입구 — Café", "site": "서울"})

    subject = compose_subject(alert_context(place=place))

    assert subject.isascii()
    assert "\n" not in subject
    assert subject.startswith("facewatch: clip of unknown face on ")


def test_long_subject_is_cut_to_100_characters_with_an_ellipsis() -> None:
    place = SEOUL_LOBBY.model_copy(update={"display_name": "North-east loading dock, gate " * 6})

    subject = compose_subject(alert_context(place=place))

    assert len(subject) == 100
    assert subject.endswith("...")


@settings(max_examples=150, deadline=None)
@given(
    display_name=st.one_of(st.none(), st.text(min_size=1, max_size=200)),
    site=st.one_of(st.none(), st.text(min_size=1, max_size=100)),
)
def test_subject_is_always_printable_ascii_within_100_characters(display_name: str | None, site: str | None) -> None:
    place = SEOUL_LOBBY.model_copy(update={"display_name": display_name, "site": site})

    subject = compose_subject(alert_context(place=place))

    assert 0 < len(subject) <= 100
    assert all(" " <= character <= "~" for character in subject)


def test_structured_alert_carries_camera_time_face_clip_and_source() -> None:
    job = sample_job()

    notice = alert_notice(alert_context(job=job))

    assert notice["schema"] == 2
    assert notice["event_type"] == "alert_clip"
    assert notice["sequence"] == 2
    assert notice["alert_id"] == job.alert_id
    assert notice["camera"] == {
        "id": "seoul-hq-lobby-01",
        "display_name": "Lobby entrance",
        "site": "SEOUL",
        "floor": "1",
        "zone": "LOBBY",
        "timezone": "Asia/Seoul",
    }
    assert notice["frame_time"] == "2025-11-22T02:00:01.851Z"
    assert notice["frame_time_local"] == "2025-11-22T11:00:01.851+09:00"
    assert notice["confidence"] == 99.41
    assert (notice["faces_in_frame"], notice["unknown_faces"]) == (2, 1)
    assert notice["bounding_box"] == {"width": 0.071, "height": 0.162, "left": 0.612, "top": 0.284}
    assert notice["clip"] == {
        "status": "ok",
        "s3_uri": f"s3://{CLIP_BUCKET}/clips/seoul-hq-lobby-01/2025/11/22/{job.alert_id}.mp4",
        "url": CLIP_URL,
        "url_expires_at": "2025-11-22T03:00:38.500Z",
        "reason": None,
    }
    assert notice["kvs"] == {"stream_arn": job.kvs_stream_arn, "fragment_number": job.fragment_number}
    assert notice["detected_at"] == "2025-11-22T02:00:36.204Z"
    assert notice["notified_at"] == "2025-11-22T02:00:38.500Z"


def test_structured_alert_without_clip_gives_the_reason_and_no_link() -> None:
    notice = alert_notice(alert_context(clip=NO_CLIP))

    assert notice["clip"] == {
        "status": "missing",
        "s3_uri": None,
        "url": None,
        "url_expires_at": None,
        "reason": "the video could not be retrieved (NoDataRetentionException)",
    }


def test_sns_message_has_the_email_for_people_and_json_for_machines() -> None:
    context = alert_context()

    envelope = json.loads(compose_sns_message(context).message)

    assert set(envelope) == {"default", "email", "sqs", "lambda", "https"}
    assert envelope["default"] == envelope["email"] == compose_email(context)
    for protocol in ("sqs", "lambda", "https"):
        assert json.loads(envelope[protocol]) == alert_notice(context)


def test_attributes_name_camera_event_site_and_zone_when_known() -> None:
    assert message_attributes(SEOUL_LOBBY) == {
        "camera_id": {"DataType": "String", "StringValue": "seoul-hq-lobby-01"},
        "event_type": {"DataType": "String", "StringValue": "alert_clip"},
        "sequence": {"DataType": "String", "StringValue": "2"},
        "site": {"DataType": "String", "StringValue": "SEOUL"},
        "zone": {"DataType": "String", "StringValue": "LOBBY"},
    }


def test_attributes_leave_out_site_and_zone_when_unknown() -> None:
    # SNS rejects an attribute with an empty value
    assert message_attributes(UNREGISTERED) == {
        "camera_id": {"DataType": "String", "StringValue": "seoul-hq-lobby-01"},
        "event_type": {"DataType": "String", "StringValue": "alert_clip"},
        "sequence": {"DataType": "String", "StringValue": "2"},
    }


@pytest.mark.parametrize("name", ["Lobby\nClip: https://evil.example/x.mp4", "Lobby\u2028Clip", "Lobby\x1b[2J", " "])
def test_a_registry_field_that_is_not_one_line_of_text_is_refused(name: str) -> None:
    with pytest.raises(ValidationError, match="one line of text"):
        CameraPlace(camera_id="cam", display_name=name)
