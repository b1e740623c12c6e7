"""A stand-in for an OpenSearch Service domain and its Dashboards (no OpenSearch server can run here): an
HTTP server on 127.0.0.1 that records every request and answers with the responses a test queued."""

from __future__ import annotations

import json
import re
import threading
from collections import deque
from dataclasses import dataclass
from email.parser import BytesParser
from email.policy import HTTP
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self
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
                part.get_filename(), part.get_payload(decode=True)
            )
            for part in message.iter_parts()  # type: ignore[attr-defined]
        }

    def signature(self) -> re.Match[str] | None:
        return SIGV4.fullmatch(self.headers.get("authorization", ""))


class LocalDomain:
    """Answers each request with the next queued (status, JSON body), or 200 {} when none is left."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._answers: deque[tuple[int, Any]] = deque()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def answer(self, body: Any, status: int = 200) -> None:
        self._answers.append((status, body))

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
                domain.requests.append(Recorded(self.command, target.path, parse_qs(target.query), headers, body))
                status, answer = domain._answers.popleft() if domain._answers else (200, {})
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
