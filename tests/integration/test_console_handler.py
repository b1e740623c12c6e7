"""The console's routes on moto, as API Gateway invokes them: sign-in and its audit, who may act, CSRF,
Rekognition's refusal shown, the replay session (KVS HLS: botocore Stubber on the real service model,
moto lacks it), and a view refused when it cannot be audited."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest
from botocore.stub import ANY, Stubber
from moto import mock_aws
from tests.support.console import RESPONDER, VIEWER, ConsoleHarness, deploy_console_harness

from facewatch.adapters.alert_records import AlertRecords
from facewatch.domain.alert_record import TriageStatus

HLS_URL = "https://b-1234abcd.kinesisvideo.us-east-1.amazonaws.com/hls/v1/getHLSMasterPlaylist.m3u8?SessionToken=x"


@pytest.fixture(scope="module")
def deployed() -> Iterator[ConsoleHarness]:
    # One emulated stack for the module (deploying it is most of the time); tests change no alert's status
    # but the last one's, and read the newest audit entries.
    with mock_aws():
        yield deploy_console_harness(boto3.session.Session(region_name="us-east-1"))


@pytest.fixture
def console(deployed: ConsoleHarness) -> ConsoleHarness:
    deployed.cookies.clear()
    deployed.audit_bucket_override = None
    return deployed


def status_of(console: ConsoleHarness, alert_id: str) -> TriageStatus:
    record = AlertRecords(console.stack.alert_record_table_name, console.session.client("dynamodb")).get(alert_id)
    assert record is not None
    return record.status


def test_a_wrong_password_is_refused_and_audited(console: ConsoleHarness) -> None:
    # when
    response = console.request("POST", "/signin", {"username": RESPONDER, "password": "wrong"})
    # then
    assert response.status == 401
    assert "Wrong user name or password" in response.body
    entry = console.audit()[-1]
    assert (entry.action, entry.actor, entry.source_ip) == ("console.sign_in_failed", RESPONDER, "198.51.100.7")
    assert entry.detail["code"] == "NotAuthorizedException"


def test_pages_need_a_session(console: ConsoleHarness) -> None:
    # when
    response = console.request("GET", f"/alerts/{console.alert_ids[0]}")
    # then
    assert response.status == 303
    assert response.headers["Location"] == "/signin"


def test_the_session_cookie_is_http_only_strict_and_secure(console: ConsoleHarness) -> None:
    # when
    response = console.sign_in(RESPONDER)
    # then
    (session,) = [c for c in response.cookies if c.startswith("fw_session=")]
    assert all(flag in session for flag in ("HttpOnly", "Secure", "SameSite=Strict", "Path=/"))
    assert response.headers["Location"] == "/alerts"
    assert console.audit()[-1].action == "console.sign_in"


def test_an_action_without_the_csrf_token_changes_nothing(console: ConsoleHarness) -> None:
    # given
    console.sign_in(RESPONDER)
    alert_id = console.alert_ids[0]
    # when: a form without the token, and one from another origin with it
    token = console.request("GET", f"/alerts/{alert_id}").csrf
    missing = console.request("POST", f"/alerts/{alert_id}/acknowledge", {"note": "x"})
    foreign = console.request(
        "POST", f"/alerts/{alert_id}/acknowledge", {"csrf": token, "note": "x"}, origin="https://evil.example"
    )
    # then
    assert (missing.status, foreign.status) == (403, 403)
    assert status_of(console, alert_id) is TriageStatus.NEW
    assert "alert.acknowledge" not in [entry.action for entry in console.audit()]


def test_a_viewer_cannot_act(console: ConsoleHarness) -> None:
    # given
    console.sign_in(VIEWER)
    alert_id = console.alert_ids[0]
    page = console.request("GET", f"/alerts/{alert_id}")
    # when
    response = console.request("POST", f"/alerts/{alert_id}/acknowledge", {"csrf": page.csrf, "note": ""})
    # then
    assert response.status == 403
    assert "Only responders may act" in response.body
    assert status_of(console, alert_id) is TriageStatus.NEW


def test_a_resolution_needs_a_note(console: ConsoleHarness) -> None:
    # given
    console.sign_in(RESPONDER)
    alert_id = console.alert_ids[0]
    page = console.request("GET", f"/alerts/{alert_id}")
    # when
    response = console.request(
        "POST", f"/alerts/{alert_id}/resolve", {"csrf": page.csrf, "resolution": "false_alarm", "note": "  "}
    )
    # then
    assert "a note is required" in response.body
    assert status_of(console, alert_id) is TriageStatus.NEW
    assert "alert.action_refused" in [entry.action for entry in console.audit()]


def test_rekognitions_reasons_are_shown_when_it_refuses_the_crop(console: ConsoleHarness) -> None:
    # given: IndexFaces answers (Stubber, the real model) with a face it would not index
    console.sign_in(RESPONDER)
    alert_id = console.alert_ids[0]
    page = console.request("GET", f"/alerts/{alert_id}")
    stubber = Stubber(console.rekognition)
    stubber.add_response(
        "index_faces",
        {"FaceRecords": [], "UnindexedFaces": [{"Reasons": ["LOW_SHARPNESS", "SMALL_BOUNDING_BOX"]}]},
        {
            "CollectionId": ANY,
            "Image": {"S3Object": {"Bucket": console.stack.clip_bucket_name, "Name": ANY}},
            "ExternalImageId": "E1234",
            "MaxFaces": 1,
            "QualityFilter": "AUTO",
            "DetectionAttributes": ["DEFAULT"],
        },
    )
    # when
    with stubber:
        response = console.request(
            "POST",
            f"/alerts/{alert_id}/resolve",
            {"csrf": page.csrf, "resolution": "employee", "employee_id": "E1234", "note": "badge photo"},
        )
    # then
    stubber.assert_no_pending_responses()
    assert "Rekognition did not enrol the face" in response.body
    assert "LOW_SHARPNESS" in response.body
    assert "SMALL_BOUNDING_BOX" in response.body
    assert status_of(console, alert_id) is TriageStatus.NEW
    refused = [entry for entry in console.audit() if entry.action == "alert.action_refused"]
    assert "LOW_SHARPNESS" in str(refused[-1].detail["reason"])


def test_the_replay_is_a_live_replay_session_minted_per_click(console: ConsoleHarness) -> None:
    # given: KVS's HLS API (moto lacks it: Stubbers on the real models)
    console.sign_in(RESPONDER)
    alert_id = console.alert_ids[0]
    page = console.request("GET", f"/alerts/{alert_id}")
    control, media = Stubber(console.kinesisvideo), Stubber(console.archived_media)
    control.add_response(
        "get_data_endpoint",
        {"DataEndpoint": "https://b-1234abcd.kinesisvideo.us-east-1.amazonaws.com"},
        {"StreamARN": ANY, "APIName": "GET_HLS_STREAMING_SESSION_URL"},
    )
    media.add_response(
        "get_hls_streaming_session_url",
        {"HLSStreamingSessionURL": HLS_URL},
        {
            "StreamARN": ANY,
            "PlaybackMode": "LIVE_REPLAY",
            "HLSFragmentSelector": {"FragmentSelectorType": "PRODUCER_TIMESTAMP", "TimestampRange": ANY},
            "Expires": 300,
        },
    )
    # when
    with control, media:
        response = console.request("POST", f"/alerts/{alert_id}/replay", {"csrf": page.csrf})
    # then
    assert response.status == 200
    assert 'src="https://b-1234abcd.kinesisvideo.us-east-1.amazonaws.com/hls/' in response.body
    assert "https://b-1234abcd.kinesisvideo.us-east-1.amazonaws.com" in response.headers["Content-Security-Policy"]
    entry = console.audit()[-1]
    assert (entry.action, entry.target, entry.detail["expires_in_s"]) == ("media.replay", f"alert/{alert_id}", 300)
    assert HLS_URL not in str(console.audit())


def test_a_view_that_cannot_be_audited_is_not_served(console: ConsoleHarness) -> None:
    # given: signed in, then the audit store fails
    console.sign_in(RESPONDER)
    console.audit_bucket_override = "no-such-audit-bucket"
    # when
    response = console.request("GET", f"/alerts/{console.alert_ids[0]}")
    # then
    assert response.status == 503
    assert "could not be recorded in the audit log" in response.body
    assert "X-Amz-Signature" not in response.body
    assert "snapshots/" not in response.body


def test_the_list_filters_by_status_and_counts_the_unacknowledged(console: ConsoleHarness) -> None:
    # given: one alert acknowledged
    console.sign_in(RESPONDER)
    alert_id = console.alert_ids[2]
    page = console.request("GET", f"/alerts/{alert_id}")
    console.request("POST", f"/alerts/{alert_id}/acknowledge", {"csrf": page.csrf, "note": ""})
    # when
    new = console.request("GET", "/alerts?status=new&period=24")
    # then
    assert '<strong id="unacknowledged">2</strong>' in new.body
    assert alert_id not in new.body
    assert all(other in new.body for other in console.alert_ids[:2])
