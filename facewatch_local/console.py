"""`make console`: the alert console on http://127.0.0.1, against the emulated stack, for the demo's cameras.

1. moto's server starts on a free 127.0.0.1 port (facewatch_local.moto_server); the stack's resources are
   created from template.yaml (facewatch_local.stack), with the audit bucket and the Cognito user pool,
   its app client and groups as the template defines them (moto's Cognito, TOTP codes checked).
2. The demo's cameras are registered, and alerts on them go through the real alert stage (clip from
   moto's KVS, email, the console's record). Their snapshots are put where the snapshot writer puts them
   (snapshots/{camera}/{Y}/{M}/{D}/{alert}-frame.jpg and -crop.jpg): a stand-in for it, named as such.
3. A local HTTP server turns each request into the HTTP API's event (payload 2.0) and hands it to the
   function the template routes it to (ConsolePagesFunction or ConsoleActionsFunction), as API Gateway does.

Rekognition's IndexFaces is not in moto: `CollectionStandIn` answers it (indexed, or SMALL_BOUNDING_BOX for
a crop under 80 px), a local stand-in named as such.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import os
import re
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from facewatch.adapters import aws
from facewatch.adapters.alert_ledger import AlertLedger
from facewatch.adapters.alert_records import AlertRecords
from facewatch.adapters.camera_registry import CameraRegistry
from facewatch.adapters.clips import ClipStore
from facewatch.adapters.face_collection import FaceCollection
from facewatch.adapters.job_queue import IndexQueue, JobQueue
from facewatch.adapters.notifier import AlertNotifier
from facewatch.adapters.sign_in import CognitoSignIn
from facewatch.adapters.snapshots import KvsImages, SnapshotStore
from facewatch.config import AlertSettings, ConsoleActionsSettings, ConsolePagesSettings
from facewatch.domain.alert_job import AlertJob, FaceBox, TriggeringFace
from facewatch.domain.dedup import alert_id_for
from facewatch.domain.snapshot import snapshot_keys
from facewatch.domain.snapshot_render import render_snapshot
from facewatch.handlers.console import ConsoleApp, build_console_service
from facewatch.services.alert import AlertStage, QueueMessage
from facewatch.services.console import ConsoleService
from facewatch.services.snapshot import SnapshotTaker
from facewatch_local.cfn import load_template, resolve_parameters
from facewatch_local.console_stack import deploy_audit_bucket
from facewatch_local.demo import create_cameras
from facewatch_local.moto_server import emulated_aws
from facewatch_local.scenario import DEMO_CAMERAS
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

REGION = "ap-northeast-2"
STACK_NAME = "facewatch-console"
DEFAULT_PORT = 8080
RESPONDER = "responder@example.com"
VIEWER = "viewer@example.com"
TEMPORARY_PASSWORD = "Temporary-Passw0rd!"  # noqa: S105 - an emulated user's first password, printed for the demo
COLLECTION_ID = f"{STACK_NAME}-employees"
# The portrait committed for the tests and demos (events/media/grace_hopper.jpg, public domain, 512 x 600) and
# its face as a Rekognition box.
PORTRAIT_PATH = Path(__file__).resolve().parent.parent / "events" / "media" / "grace_hopper.jpg"
FACE_BOX = FaceBox(width=0.42, height=0.42, left=0.29, top=0.12)
# moto issues this TOTP secret to every authenticator app it sets up.
MOTO_TOTP_SETTING = "MOTO_COGNITO_IDP_USER_POOL_ENABLE_TOTP"
MIN_INDEXABLE_PIXELS = 80
CONSOLE_SERVICES = ("s3", "dynamodb", "kinesisvideo", "cognito-idp", "rekognition")


def totp_code(secret: str, at: float | None = None) -> str:
    """RFC 6238 (30 s steps, 6 digits, HMAC-SHA1): what an authenticator app shows for `secret`."""
    import hmac
    import struct

    key = base64.b32decode(secret + "=" * (-len(secret) % 8), casefold=True)
    counter = struct.pack(">Q", int((time.time() if at is None else at) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = (struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000
    return f"{value:06d}"


@dataclass
class CollectionStandIn:
    """IndexFaces for the employee collection, which moto lacks (a local stand-in): the S3 object is read
    from the emulated S3; a crop smaller than MIN_INDEXABLE_PIXELS is refused as SMALL_BOUNDING_BOX, as
    Rekognition's quality filter would. `enrolled` lists (employee id, face id, key) in order."""

    s3: Any
    collection_id: str = COLLECTION_ID
    enrolled: list[tuple[str, str, str]] = field(default_factory=list)

    def attach(self, client: Any) -> Any:
        # As botocore's Stubber: the answer is made from the API parameters, then returned instead of a call.
        client.meta.events.register("before-parameter-build.rekognition.IndexFaces", self._answer)
        client.meta.events.register("before-call.rekognition.IndexFaces", self._reply)
        return client

    def _reply(self, context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:
        return context.pop("stand_in_response")  # type: ignore[no-any-return]

    def _answer(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["stand_in_response"] = (
            AWSResponse("https://rekognition.stand-in.invalid/", 200, HTTPHeaders(), None),
            self._index_faces(params),
        )

    def _index_faces(self, params: dict[str, Any]) -> dict[str, Any]:
        from PIL import Image

        s3_object = params["Image"]["S3Object"]
        data = self.s3.get_object(Bucket=s3_object["Bucket"], Key=s3_object["Name"])["Body"].read()
        width, height = Image.open(io.BytesIO(data)).size
        box = {"Width": 1.0, "Height": 1.0, "Left": 0.0, "Top": 0.0}
        if min(width, height) < MIN_INDEXABLE_PIXELS:
            response: dict[str, Any] = {
                "FaceRecords": [],
                "UnindexedFaces": [{"Reasons": ["SMALL_BOUNDING_BOX"], "FaceDetail": {"BoundingBox": box}}],
            }
        else:
            face_id = str(uuid.uuid4())
            self.enrolled.append((params["ExternalImageId"], face_id, s3_object["Name"]))
            face = {
                "FaceId": face_id,
                "ExternalImageId": params["ExternalImageId"],
                "BoundingBox": box,
                "Confidence": 99.9,
            }
            response = {"FaceRecords": [{"Face": face, "FaceDetail": {"BoundingBox": box}}], "UnindexedFaces": []}
        return response


@dataclass(frozen=True)
class EmulatedConsole:
    endpoint_url: str
    stack: EmulatedStack
    audit_bucket: str
    user_pool_id: str
    client_id: str
    pages: ConsolePagesSettings
    actions: ConsoleActionsSettings
    alert_ids: tuple[str, ...]
    collection: CollectionStandIn


def deploy_user_pool(cognito: CognitoIdentityProviderClient, name_prefix: str) -> tuple[str, str]:
    """ConsoleUserPool, its app client and groups, with the template's MFA and auth-flow settings."""
    template = load_template()
    resources = template["Resources"]
    pool = resources["ConsoleUserPool"]["Properties"]
    client = resources["ConsoleUserPoolClient"]["Properties"]
    pool_id = cognito.create_user_pool(
        PoolName=f"{name_prefix}-console",
        AdminCreateUserConfig={"AllowAdminCreateUserOnly": pool["AdminCreateUserConfig"]["AllowAdminCreateUserOnly"]},
        Policies={"PasswordPolicy": pool["Policies"]["PasswordPolicy"]},
    )["UserPool"]["Id"]
    cognito.set_user_pool_mfa_config(
        UserPoolId=pool_id,
        SoftwareTokenMfaConfiguration={"Enabled": "SOFTWARE_TOKEN_MFA" in pool["EnabledMfas"]},
        MfaConfiguration=pool["MfaConfiguration"],
    )
    client_id = cognito.create_user_pool_client(
        UserPoolId=pool_id,
        ClientName=f"{name_prefix}-console",
        GenerateSecret=client["GenerateSecret"],
        ExplicitAuthFlows=client["ExplicitAuthFlows"],
    )["UserPoolClient"]["ClientId"]
    for logical_id in ("ConsoleViewersGroup", "ConsoleRespondersGroup"):
        cognito.create_group(UserPoolId=pool_id, GroupName=resources[logical_id]["Properties"]["GroupName"])
    return pool_id, client_id


def add_user(cognito: CognitoIdentityProviderClient, pool_id: str, username: str, group: str) -> None:
    """What docs/console.md tells an administrator to run: a user with a temporary password, in a group."""
    cognito.admin_create_user(
        UserPoolId=pool_id, Username=username, TemporaryPassword=TEMPORARY_PASSWORD, MessageAction="SUPPRESS"
    )
    cognito.admin_add_user_to_group(UserPoolId=pool_id, Username=username, GroupName=group)


def _sample_face() -> tuple[bytes, bytes]:
    """(frame with the box drawn, padded crop) of the committed portrait, rendered as the snapshot writer does."""
    rendered = render_snapshot(PORTRAIT_PATH.read_bytes(), FACE_BOX)
    return rendered.frame_jpeg, rendered.crop_jpeg


def put_snapshots(s3: Any, bucket: str, job: AlertJob) -> None:
    """Stand-in for the snapshot writer: the alert's frame and face crop under the agreed keys."""
    frame, crop = _sample_face()
    keys = snapshot_keys(job.camera_id, job.frame_time, job.alert_id)
    for key, body in ((keys.frame, frame), (keys.crop, crop)):
        s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="image/jpeg")


def demo_jobs(stream_arns: Mapping[str, str], now: float) -> list[AlertJob]:
    """One unknown face per demo camera, minutes apart, the newest a minute ago; ids as the detector makes them."""
    jobs = []
    for minutes_ago, (confidence, camera) in zip(
        (41, 17, 1), zip((99.2, 97.8, 99.9), DEMO_CAMERAS, strict=True), strict=True
    ):
        producer_timestamp = round(now - minutes_ago * 60 - 1.5, 3)
        job = AlertJob(
            alert_id="0" * 32,
            camera_id=camera.camera_id,
            kvs_stream_arn=stream_arns[camera.camera_id],
            fragment_number="91343852333181432392682062622220590765191907586",
            producer_timestamp=producer_timestamp,
            server_timestamp=producer_timestamp + 0.3,
            frame_offset_seconds=1.5,
            frame_time=producer_timestamp + 1.5,
            face=TriggeringFace(index=0, bounding_box=FACE_BOX, confidence=confidence),
            faces_in_frame=1,
            unmatched_faces_in_frame=1,
            kinesis_sequence_number="49590338271490256608559692538361571095921575989136588898",
            detected_at=producer_timestamp + 3.6,
        )
        jobs.append(job.model_copy(update={"alert_id": alert_id_for(job.source, job.face.index)}))
    return jobs


def raise_alerts(session: boto3.session.Session, stack: EmulatedStack, console_url: str, jobs: list[AlertJob]) -> None:
    """The jobs through the real alert stage: clip from KVS, email, and the console's record."""
    # With moto's server, KVS's data plane is reached through its endpoint (AWS_ENDPOINT_URL), as in the demo.
    endpoint = {"AWS_ENDPOINT_URL": os.environ["AWS_ENDPOINT_URL"]} if os.environ.get("AWS_ENDPOINT_URL") else {}
    settings = AlertSettings.from_environ({**stack.alert_env(), "CONSOLE_URL": console_url, **endpoint})
    stage = AlertStage(
        settings,
        ledger=AlertLedger(settings.dedup_table_name, session.client("dynamodb")),
        clips=ClipStore(
            settings.clip_bucket_name,
            kinesisvideo=session.client("kinesisvideo"),
            s3=session.client("s3"),
            data_endpoint_override=settings.kvs_data_endpoint_override,
        ),
        snapshots=SnapshotTaker(
            images=KvsImages(
                kinesisvideo=session.client("kinesisvideo"),
                data_endpoint_override=settings.kvs_data_endpoint_override,
            ),
            store=SnapshotStore(settings.clip_bucket_name, session.client("s3")),
        ),
        cameras=CameraRegistry(settings.camera_table_name, session.client("dynamodb")),
        notifier=AlertNotifier(settings.alert_topic_arn, session.client("sns")),
        index_queue=IndexQueue(settings.index_queue_url, session.client("sqs")),
        queue=JobQueue(settings.alert_dead_letter_queue_url, session.client("sqs")),
        records=AlertRecords(settings.alert_record_table_name, session.client("dynamodb")),
    )
    for job in jobs:
        message = QueueMessage(job.to_message(), str(uuid.uuid4()), 1, "local", stack.alert_queue_url, time.time() + 60)
        stage.process(message)


def deploy_console(session: boto3.session.Session, console_url: str, now: float | None = None) -> EmulatedConsole:
    """The stack, the console's resources, users and the demo's alerts, on the emulation `session` reaches."""
    stack = deploy_emulated_stack(session, name_prefix=STACK_NAME)
    audit = deploy_audit_bucket(session, name_prefix=STACK_NAME)
    cognito = session.client("cognito-idp")
    pool_id, client_id = deploy_user_pool(cognito, STACK_NAME)
    add_user(cognito, pool_id, RESPONDER, "responders")
    add_user(cognito, pool_id, VIEWER, "viewers")
    stream_arns = create_cameras(session, stack, DEMO_CAMERAS)
    jobs = demo_jobs(stream_arns, time.time() if now is None else now)
    s3 = session.client("s3")
    for job in jobs:
        put_snapshots(s3, stack.clip_bucket_name, job)
    raise_alerts(session, stack, console_url, jobs)
    parameters = resolve_parameters(load_template())
    pages = ConsolePagesSettings.from_environ(
        {
            "ALERT_RECORD_TABLE_NAME": stack.alert_record_table_name,
            "CLIP_BUCKET_NAME": stack.clip_bucket_name,
            "AUDIT_BUCKET_NAME": audit.bucket_name,
            "USER_POOL_CLIENT_ID": client_id,
            "CONSOLE_MEDIA_LINK_EXPIRY_SECONDS": parameters["ConsoleMediaLinkExpirySeconds"],
            "AWS_REGION": stack.region,
        }
    )
    actions = ConsoleActionsSettings.from_environ(
        {
            **pages.model_dump(by_alias=True, exclude_none=True),
            "EMPLOYEE_COLLECTION_ID": COLLECTION_ID,
            "OPENSEARCH_INDEX": parameters["OpenSearchIndex"],
            "ENROL_QUALITY_FILTER": parameters["ConsoleEnrolQualityFilter"],
        }
    )
    return EmulatedConsole(
        endpoint_url=str(session.client("s3").meta.endpoint_url),
        stack=stack,
        audit_bucket=audit.bucket_name,
        user_pool_id=pool_id,
        client_id=client_id,
        pages=pages,
        actions=actions,
        alert_ids=tuple(job.alert_id for job in reversed(jobs)),
        collection=CollectionStandIn(s3),
    )


# --- API Gateway's part: routes from the template, requests as HTTP API events ----------------------


@dataclass(frozen=True, slots=True)
class Route:
    method: str
    path: str
    function: str

    @property
    def pattern(self) -> re.Pattern[str]:
        regex = re.sub(r"\\\{[^}]+\\\+\\\}", ".+", re.escape(self.path))
        regex = re.sub(r"\\\{[^}]+\\\}", "[^/]+", regex)
        return re.compile(f"^{regex}$")

    @property
    def specificity(self) -> tuple[int, int]:
        # API Gateway prefers a full match, then path variables, then a greedy {proxy+}.
        return ("+}" in self.path, self.path.count("{"))


def template_routes() -> list[Route]:
    template = load_template()
    routes = []
    for function in ("ConsolePagesFunction", "ConsoleActionsFunction"):
        for event in template["Resources"][function]["Properties"]["Events"].values():
            if event["Type"] == "HttpApi":
                routes.append(Route(event["Properties"]["Method"], event["Properties"]["Path"], function))
    return sorted(routes, key=lambda route: route.specificity)


def http_api_event(
    method: str, target: str, headers: Mapping[str, str], body: bytes, source_ip: str, route: Route
) -> dict[str, Any]:
    """API Gateway HTTP API payload format 2.0 for one request."""
    parts = urlsplit(target)
    lowered = {name.lower(): value for name, value in headers.items() if name.lower() != "cookie"}
    cookies = [
        c.strip()
        for value in [headers.get("Cookie") or headers.get("cookie") or ""]
        for c in value.split(";")
        if c.strip()
    ]
    query = dict(parse_qsl(parts.query, keep_blank_values=True))
    return {
        "version": "2.0",
        "routeKey": f"{route.method} {route.path}",
        "rawPath": parts.path,
        "rawQueryString": parts.query,
        "cookies": cookies,
        "headers": lowered,
        "queryStringParameters": query or None,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": lowered.get("host", "127.0.0.1"),
            "http": {
                "method": method,
                "path": parts.path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", ""),
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{route.method} {route.path}",
            "stage": "$default",
            "time": datetime.now(UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(time.time() * 1000),
        },
        "body": base64.b64encode(body).decode() if body else None,
        "isBase64Encoded": bool(body),
    }


class LocalGateway:
    """Dispatches requests to the console's two functions by the template's routes."""

    def __init__(self, apps: Mapping[str, ConsoleApp]) -> None:
        self._apps = apps
        self._routes = template_routes()

    def route(self, method: str, path: str) -> Route | None:
        return next((r for r in self._routes if r.method == method and r.pattern.match(path)), None)

    def handle(
        self, method: str, target: str, headers: Mapping[str, str], body: bytes, source_ip: str
    ) -> dict[str, Any]:
        route = self.route(method, urlsplit(target).path)
        if route is None:
            return {"statusCode": 404, "headers": {"Content-Type": "text/plain"}, "body": "Not Found"}
        event = http_api_event(method, target, headers, body, source_ip, route)
        return self._apps[route.function].resolver.resolve(event, None)  # type: ignore[arg-type]


def _handler_class(gateway: LocalGateway) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            response = gateway.handle(self.command, self.path, dict(self.headers.items()), body, self.client_address[0])
            payload = response.get("body") or ""
            data = base64.b64decode(payload) if response.get("isBase64Encoded") else str(payload).encode()
            self.send_response(int(response["statusCode"]))
            for name, value in (response.get("headers") or {}).items():
                self.send_header(name, str(value))
            for cookie in response.get("cookies") or []:
                self.send_header("Set-Cookie", cookie)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = _serve
        do_POST = _serve

        def log_message(self, format: str, *args: Any) -> None:
            return

    return Handler


@contextmanager
def serve_console(port: int = 0, now: float | None = None) -> Iterator[tuple[str, EmulatedConsole]]:
    """Everything above, running; yields the console's URL and what was deployed. Stops it all on exit."""
    os.environ[MOTO_TOTP_SETTING] = "true"
    server = ThreadingHTTPServer(("127.0.0.1", port), BaseHTTPRequestHandler)
    console_url = f"http://127.0.0.1:{server.server_address[1]}"
    aws.client.cache_clear()
    aws.session.cache_clear()
    try:
        with emulated_aws(REGION) as _endpoint:
            session = boto3.session.Session(region_name=REGION)
            # The functions' clients, made now while the environment points at the emulation: they are
            # cached for the process, so requests reach moto whatever the environment says later.
            for service in CONSOLE_SERVICES:
                aws.client(service)
            deployed = deploy_console(session, console_url, now)
            rekognition = deployed.collection.attach(session.client("rekognition"))

            def service_of(settings: ConsolePagesSettings) -> Callable[[], ConsoleService]:
                collection = None
                if isinstance(settings, ConsoleActionsSettings):
                    collection = FaceCollection(settings.employee_collection_id, rekognition)
                service = build_console_service(settings, collection=collection)
                return lambda: service

            sign_in = CognitoSignIn(deployed.client_id, session.client("cognito-idp"))
            apps = {
                "ConsolePagesFunction": ConsoleApp(
                    "pages", service=service_of(deployed.pages), sign_in=lambda: sign_in, secure_cookies=False
                ),
                "ConsoleActionsFunction": ConsoleApp(
                    "actions", service=service_of(deployed.actions), sign_in=lambda: sign_in, secure_cookies=False
                ),
            }
            server.RequestHandlerClass = _handler_class(LocalGateway(apps))
            thread = threading.Thread(target=server.serve_forever, name="local-console", daemon=True)
            thread.start()
            try:
                yield console_url, deployed
            finally:
                server.shutdown()
                thread.join(timeout=10)
    finally:
        server.server_close()
        os.environ.pop(MOTO_TOTP_SETTING, None)
        aws.client.cache_clear()
        aws.session.cache_clear()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Serve the alert console on 127.0.0.1 for the demo's alerts.")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="port on 127.0.0.1 (default %(default)s)")
    args = parser.parse_args(argv)
    with serve_console(args.port) as (url, deployed):
        print(f"facewatch console (local: moto's Cognito, S3, DynamoDB, KVS) at {url}")
        print(
            f"  {len(deployed.alert_ids)} alerts on the demo's cameras; audit log in s3://{deployed.audit_bucket}/audit/"
        )
        print(f"  responder: {RESPONDER}   viewer: {VIEWER}   first password: {TEMPORARY_PASSWORD}")
        print("  The first sign-in asks for a new password and sets up an authenticator app (moto's key is shown;")
        print("  any TOTP app, or `python -c 'from facewatch_local.console import totp_code; print(totp_code(KEY))'`).")
        print("  Ctrl-C stops it.")
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
