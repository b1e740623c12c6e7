"""A stand-in for an OpenSearch Service domain and its Dashboards (no OpenSearch server can run here): an
HTTP server on 127.0.0.1 that records every request and answers with the responses a test queued, and a
port on which nothing listens."""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qs, urlsplit

SIGV4 = re.compile(
    r"AWS4-HMAC-SHA256 Credential=(?P<key>[^/]+)/(?P<date>\d{8})/(?P<region>[a-z0-9-]+)/(?P<service>[a-z0-9]+)"
    r"/aws4_request, SignedHeaders=(?P<signed>[a-z0-9;-]+), Signature=[0-9a-f]{64}"
)


@dataclass(frozen=True)
class FormPart:
    filename: str | None
    data: bytes


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str  # without the query string
    query: dict[str, list[str]]
    headers: dict[str, str]  # names lower-cased
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def form(self) -> dict[str, FormPart]:
        """The multipart/form-data fields by name."""
        head = f"Content-Type: {self.headers['content-type']}\r\n\r\n".encode()
        message = BytesParser(policy=HTTP).parsebytes(head + self.body)
        assert message.is_multipart(), self.headers["content-type"]
        return {
            str(part.get_param("name", header="content-disposition")): FormPart(
                part.get_filename(), cast(bytes, part.get_payload(decode=True))
            )
            for part in message.iter_parts()
        }

    def signature(self) -> re.Match[str] | None:
        return SIGV4.fullmatch(self.headers.get("authorization", ""))


Responder = Callable[[Recorded], tuple[int, Any]]


def empty_ok(_request: Recorded) -> tuple[int, Any]:
    return 200, {}


def document_api(request: Recorded) -> tuple[int, Any]:
    """What a domain answers to PUTting an index template, an index lifecycle policy or a document."""
    if request.path.startswith("/_index_template/"):
        return 200, {"acknowledged": True}
    if request.path.startswith("/_plugins/_ism/policies/"):
        policy_id = request.path.rsplit("/", 1)[-1]
        return 201, {"_id": policy_id, "_version": 1, "_seq_no": 0, "_primary_term": 1, **(request.json() or {})}
    if request.path.startswith("/_plugins/_ism/add/"):
        return 200, {"updated_indices": 0, "failures": False, "failed_indices": []}
    index, _, doc_id = request.path.strip("/").partition("/_doc/")
    return 200, {
        "_index": index,
        "_id": doc_id,
        "_version": 1,
        "result": "created",
        "_shards": {"total": 1, "successful": 1, "failed": 0},
        "_seq_no": 0,
        "_primary_term": 1,
    }


def closed_port() -> int:
    """A port on 127.0.0.1 nobody listens on: connections are refused at once."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalDomain:
    """Answers each request with the next queued (status, JSON body), or with `respond(request)` when none is
    left (200 {} by default). While `down` holds a status, every request is answered with it instead (an
    OpenSearch error body), as by a domain that is unavailable."""

    def __init__(self, respond: Responder = empty_ok) -> None:
        self.requests: list[Recorded] = []
        self.down: int | None = None
        self._respond = respond
        self._answers: deque[tuple[int, Any]] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, body: Any, status: int = 200) -> None:
        self._answers.append((status, body))

    def respond_to(self, request: Recorded) -> tuple[int, Any]:
        if self.down is not None:
            return self.down, {"error": {"type": "unavailable_shards_exception"}, "status": self.down}
        return self._answers.popleft() if self._answers else self._respond(request)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: type[BaseException] | BaseException | TracebackType | None) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        domain = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                target = urlsplit(self.path)
                headers = {name.lower(): value for name, value in self.headers.items()}
                request = Recorded(self.command, target.path, parse_qs(target.query), headers, body)
                domain.requests.append(request)
                status, answer = domain.respond_to(request)
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = do_PUT = do_POST = do_DELETE = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler
