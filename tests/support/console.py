"""The console's functions on moto (in process), driven with HTTP API events as API Gateway sends them."""

from __future__ import annotations

import base64
import re
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import boto3
from facewatch_local.console import (
    COLLECTION_ID,
    TEMPORARY_PASSWORD,
    Route,
    add_user,
    demo_jobs,
    deploy_user_pool,
    http_api_event,
    put_snapshots,
    raise_alerts,
)
from facewatch_local.console_stack import deploy_audit_bucket
from facewatch_local.demo import create_cameras
from facewatch_local.scenario import DEMO_CAMERAS
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack

from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.audit_log import AuditLog
from facewatch.adapters.face_collection import FaceCollection
from facewatch.adapters.media_links import MediaLinks
from facewatch.adapters.sign_in import CognitoSignIn
from facewatch.domain.audit import AuditEntry
from facewatch.handlers.console import ConsoleApp
from facewatch.services.console import ConsoleService

HOST = "console.example.com"
NEW_PASSWORD = "Chosen-Passw0rd!!"
RESPONDER = "responder@example.com"
VIEWER = "viewer@example.com"


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    cookies: list[str]
    body: str

    def cookie(self, name: str) -> str | None:
        for cookie in self.cookies:
            if cookie.startswith(f"{name}="):
                return cookie.split(";", 1)[0].split("=", 1)[1]
        return None

    @property
    def csrf(self) -> str:
        match = re.search(r'name="csrf" value="([0-9a-f]+)"', self.body)
        assert match, "the page has no CSRF token"
        return match.group(1)


@dataclass
class ConsoleHarness:
    session: boto3.session.Session
    stack: EmulatedStack
    audit_bucket: str
    client_id: str
    alert_ids: tuple[str, ...]
    rekognition: Any
    kinesisvideo: Any
    archived_media: Any
    audit_bucket_override: str | None = None
    cookies: dict[str, str] = field(default_factory=dict)
    passwords_changed: set[str] = field(default_factory=set)

    def service(self) -> ConsoleService:
        s3 = self.session.client("s3")
        return ConsoleService(
            records=AlertRecords(self.stack.alert_record_table_name, self.session.client("dynamodb")),
            media=MediaLinks(
                self.stack.clip_bucket_name,
                s3=s3,
                kinesisvideo=self.kinesisvideo,
                archived_media_factory=lambda _endpoint: self.archived_media,
            ),
            audit=AuditLog(self.audit_bucket_override or self.audit_bucket, s3=s3),
            link_expiry_seconds=300,
            collection=FaceCollection(COLLECTION_ID, self.rekognition),
            clip_bucket=self.stack.clip_bucket_name,
        )

    def app(self, routes: str) -> ConsoleApp:
        sign_in = CognitoSignIn(self.client_id, self.session.client("cognito-idp"))
        return ConsoleApp(routes, service=self.service, sign_in=lambda: sign_in)  # type: ignore[arg-type]

    def request(
        self, method: str, path: str, form: dict[str, str] | None = None, *, origin: str | None = f"https://{HOST}"
    ) -> Response:
        routes = "actions" if re.search(r"/(acknowledge|resolve)$", path) else "pages"
        headers = {"Host": HOST, "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        if origin:
            headers["Origin"] = origin
        body = urlencode(form or {}).encode()
        event = http_api_event(method, path, headers, body, "198.51.100.7", Route(method, path, routes))
        raw = self.app(routes).resolver.resolve(event, None)  # type: ignore[arg-type]
        text = raw.get("body") or ""
        if raw.get("isBase64Encoded"):
            text = base64.b64decode(text).decode()
        response = Response(int(raw["statusCode"]), raw.get("headers") or {}, raw.get("cookies") or [], text)
        for cookie in response.cookies:
            name, value = cookie.split(";", 1)[0].split("=", 1)
            if "Max-Age=0" in cookie:
                self.cookies.pop(name, None)
            else:
                self.cookies[name] = value
        return response

    def sign_in(self, username: str) -> Response:
        """Whatever Cognito asks: the first time a new password and the authenticator set-up, later the
        password and the app's code (moto checks no code unless told to)."""
        self.cookies.clear()
        password = NEW_PASSWORD if username in self.passwords_changed else TEMPORARY_PASSWORD
        response = self.request("POST", "/signin", {"username": username, "password": password})
        for _ in range(3):
            if 'action="/signin/new-password"' in response.body:
                response = self.request("POST", "/signin/new-password", {"new_password": NEW_PASSWORD})
                self.passwords_changed.add(username)
            elif 'action="/signin/mfa-setup"' in response.body:
                response = self.request("POST", "/signin/mfa-setup", {"code": "123456"})
            elif 'action="/signin/mfa"' in response.body:
                response = self.request("POST", "/signin/mfa", {"code": "123456"})
        assert response.status == 303, response.body
        return response

    def audit(self) -> list[AuditEntry]:
        log = AuditLog(self.audit_bucket, s3=self.session.client("s3"))
        return list(log.read(_epoch_start()))


def _epoch_start() -> Any:
    from datetime import UTC, datetime

    return datetime(2000, 1, 1, tzinfo=UTC)


def deploy_console_harness(session: boto3.session.Session) -> ConsoleHarness:
    stack = deploy_emulated_stack(session)
    audit = deploy_audit_bucket(session)
    cognito = session.client("cognito-idp")
    pool_id, client_id = deploy_user_pool(cognito, "facewatch")
    add_user(cognito, pool_id, RESPONDER, "responders")
    add_user(cognito, pool_id, VIEWER, "viewers")
    stream_arns = create_cameras(session, stack, DEMO_CAMERAS)
    jobs = demo_jobs(stream_arns, time.time())
    for job in jobs:
        put_snapshots(session.client("s3"), stack.clip_bucket_name, job)
    raise_alerts(session, stack, f"https://{HOST}", jobs)
    return ConsoleHarness(
        session=session,
        stack=stack,
        audit_bucket=audit.bucket_name,
        client_id=client_id,
        alert_ids=tuple(job.alert_id for job in reversed(jobs)),
        rekognition=session.client("rekognition"),
        kinesisvideo=session.client("kinesisvideo"),
        archived_media=session.client("kinesis-video-archived-media"),
    )
