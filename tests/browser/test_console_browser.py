"""Sign in (new password, authenticator set-up), list, open an alert and see its face, acknowledge, resolve as
an employee (the crop is enrolled), and find every step in the audit log; screenshots for docs/console.md."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
from facewatch_local.console import RESPONDER, TEMPORARY_PASSWORD, VIEWER, EmulatedConsole, totp_code
from tests.browser.conftest import SCREENSHOTS

from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.audit_log import AuditLog
from facewatch.domain.alert_record import Resolution, TriageStatus

NEW_PASSWORD = "Chosen-Passw0rd!!"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 390, "height": 844}


def sign_in(page: Any, url: str, username: str) -> None:
    """The first sign-in of an administrator-created user: password, new password, authenticator set-up."""
    page.goto(f"{url}/alerts")
    assert page.url.endswith("/signin")
    page.fill("#username", username)
    page.fill("#password", TEMPORARY_PASSWORD)
    page.click("button[type=submit]")
    page.fill("#new_password", NEW_PASSWORD)
    page.click("button[type=submit]")
    secret = page.inner_text("#secret").strip()
    page.screenshot(path=str(SCREENSHOTS / "console-mfa-setup.png"))
    page.fill("#code", totp_code(secret))
    page.click("button[type=submit]")
    page.wait_for_url(f"{url}/alerts")


def client(deployed: EmulatedConsole, service: str) -> Any:
    """A client of the console's emulation (the test environment points boto3 nowhere)."""
    return boto3.session.Session(region_name=deployed.stack.region).client(  # type: ignore[call-overload]
        service, endpoint_url=deployed.endpoint_url
    )


def image_width(page: Any, selector: str) -> int:
    page.wait_for_function(f"document.querySelector('{selector}').complete")
    return int(page.eval_on_selector(selector, "img => img.naturalWidth"))


def test_a_responder_signs_in_views_acknowledges_and_resolves_as_employee(
    console: tuple[str, EmulatedConsole], browser: Any
) -> None:
    url, deployed = console
    started = datetime.now(UTC) - timedelta(seconds=1)
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    # when: sign in
    sign_in(page, url, RESPONDER)
    # then: the list, newest first, with the unacknowledged count
    assert page.inner_text("#unacknowledged") == "3"
    rows = page.locator("tbody tr")
    assert rows.count() == 3
    assert "B1 parking lift lobby" in rows.nth(0).inner_text()
    page.screenshot(path=str(SCREENSHOTS / "console-alerts.png"), full_page=True)

    # when: open the newest alert
    rows.nth(0).locator("a").click()
    alert_id = deployed.alert_ids[0]
    page.wait_for_url(f"{url}/alerts/{alert_id}")
    # then: the face crop and the frame render, the clip has a player
    assert image_width(page, "#crop") > 0
    assert image_width(page, "#frame") > 0
    assert page.locator("#clip").count() == 1
    page.screenshot(path=str(SCREENSHOTS / "console-alert.jpg"), full_page=True, type="jpeg", quality=70)

    # when: acknowledge, then resolve as an employee
    page.fill("#ack-note", "On my way to the car park")
    page.click("#acknowledge")
    assert "Acknowledged." in page.inner_text(".message")
    page.check("input[name=resolution][value=employee]")
    page.fill("#employee_id", "E1234")
    page.fill("#resolve-note", "Minji Park from facilities, new badge photo")
    page.click("#resolve")
    # then
    assert "their face was enrolled" in page.inner_text(".message")
    assert "Resolved: Employee" in page.inner_text(".status")
    page.screenshot(path=str(SCREENSHOTS / "console-resolved.jpg"), full_page=True, type="jpeg", quality=70)
    (enrolled,) = deployed.collection.enrolled
    assert enrolled[0] == "E1234"
    assert enrolled[2].endswith(f"{alert_id}-crop.jpg")
    record = AlertRecords(deployed.stack.alert_record_table_name, client(deployed, "dynamodb")).get(alert_id)
    assert record is not None
    assert (record.status, record.resolution, record.employee_id) == (
        TriageStatus.RESOLVED,
        Resolution.EMPLOYEE,
        "E1234",
    )
    assert [entry.action for entry in record.history] == ["acknowledged", "resolved"]
    assert {entry.actor for entry in record.history} == {RESPONDER}

    # then: every step is in the audit log, by whom and from where
    entries = list(AuditLog(deployed.audit_bucket, s3=client(deployed, "s3")).read(started))
    actions = [entry.action for entry in entries]
    for expected in (
        "console.sign_in",
        "alert.list",
        "alert.view",
        "media.link",
        "alert.acknowledge",
        "face.enrol",
        "alert.resolve",
    ):
        assert expected in actions, (expected, actions)
    assert actions.index("console.sign_in") < actions.index("alert.view") < actions.index("alert.resolve")
    assert {entry.actor for entry in entries} == {RESPONDER}
    assert {entry.source_ip for entry in entries} == {"127.0.0.1"}
    context.close()


def test_a_viewer_sees_the_alert_on_a_phone_but_cannot_act(console: tuple[str, EmulatedConsole], browser: Any) -> None:
    url, deployed = console
    context = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = context.new_page()
    # when
    sign_in(page, url, VIEWER)
    page.goto(f"{url}/alerts/{deployed.alert_ids[1]}")
    # then
    assert image_width(page, "#crop") > 0
    assert "Viewers cannot act on alerts." in page.inner_text(".actions")
    assert page.locator("#acknowledge").count() == 0
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.screenshot(path=str(SCREENSHOTS / "console-phone.jpg"), full_page=True, type="jpeg", quality=70)
    context.close()


def test_the_pages_forbid_scripts_and_foreign_origins(console: tuple[str, EmulatedConsole], browser: Any) -> None:
    url, _ = console
    page = browser.new_page()
    # when
    response = page.goto(f"{url}/signin")
    # then
    policy = response.headers["content-security-policy"]
    assert "default-src 'none'" in policy
    assert "script-src" not in policy  # so default-src 'none' forbids every script
    assert "frame-ancestors 'none'" in policy
    assert page.locator("script").count() == 0
    page.close()
