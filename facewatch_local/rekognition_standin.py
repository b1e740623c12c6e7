"""A Rekognition STAND-IN on 127.0.0.1: answers DetectFaces, SearchFacesByImage and SearchUsersByImage in
Rekognition's JSON 1.1 wire format, so the sampler's real boto3 client, retries and error handling run
against it. It is not Rekognition and has no face model: what it "sees" comes from a `FaceOracle`.

moto has no Rekognition image search, so the demo and the fleet simulation use this, and say so. It can
also enforce a TPS quota per API the way Rekognition does: a call beyond `tps_quota` in the last second
is answered with ProvisionedThroughputExceededException (HTTP 400), and every call is recorded.
"""

from __future__ import annotations

import base64
import json
import threading
import time
from collections import deque
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

TARGET_PREFIX = "RekognitionService."
THROTTLED_ERROR = "ProvisionedThroughputExceededException"
QUOTA_WINDOW_SECONDS = 1.0
OPERATIONS = ("DetectFaces", "SearchFacesByImage", "SearchUsersByImage")


@dataclass(frozen=True, slots=True)
class OracleFace:
    """A face the oracle sees: its box (ratios of the image), and who it is (None: nobody enrolled)."""

    left: float
    top: float
    width: float
    height: float
    confidence: float = 99.9
    identity: str | None = None
    similarity: float = 0.0


class FaceOracle(Protocol):
    def faces(self, image: bytes) -> list[OracleFace]: ...


@dataclass(frozen=True, slots=True)
class Call:
    at: float  # time.monotonic()
    operation: str
    throttled: bool


class NoFaceInImage(Exception):
    pass


def _bounding_box(face: OracleFace) -> dict[str, float]:
    return {"Width": face.width, "Height": face.height, "Left": face.left, "Top": face.top}


def _face_detail(face: OracleFace) -> dict[str, Any]:
    return {
        "BoundingBox": _bounding_box(face),
        "Confidence": face.confidence,
        "Landmarks": [],
        "Pose": {"Roll": 0.0, "Yaw": 0.0, "Pitch": 0.0},
        "Quality": {"Brightness": 60.0, "Sharpness": 80.0},
    }


def _largest(faces: list[OracleFace]) -> OracleFace:
    if not faces:
        raise NoFaceInImage
    return max(faces, key=lambda face: face.width * face.height)


def _matches(face: OracleFace, threshold: float) -> bool:
    return face.identity is not None and face.similarity >= threshold


def answer(operation: str, request: Mapping[str, Any], oracle: FaceOracle) -> dict[str, Any]:
    """The response body Rekognition would send for `request`, as the oracle sees the image."""
    faces = oracle.faces(base64.b64decode(request["Image"]["Bytes"]))
    if operation == "DetectFaces":
        return {"FaceDetails": [_face_detail(face) for face in faces]}
    face = _largest(faces)
    if operation == "SearchFacesByImage":
        matched = _matches(face, float(request.get("FaceMatchThreshold", 80.0)))
        return {
            "SearchedFaceBoundingBox": _bounding_box(face),
            "SearchedFaceConfidence": face.confidence,
            "FaceMatches": [
                {
                    "Similarity": face.similarity,
                    "Face": {"FaceId": f"standin-face-{face.identity}", "ExternalImageId": face.identity},
                }
            ]
            if matched
            else [],
        }
    matched = _matches(face, float(request.get("UserMatchThreshold", 80.0)))
    return {
        "SearchedFace": {"FaceDetail": {"BoundingBox": _bounding_box(face), "Confidence": face.confidence}},
        "UserMatches": [{"Similarity": face.similarity, "User": {"UserId": face.identity, "UserStatus": "ACTIVE"}}]
        if matched
        else [],
        "UnsearchedFaces": [],
    }


@dataclass
class RekognitionStandIn:
    oracle: FaceOracle
    tps_quota: float | None = None
    calls: list[Call] = field(default_factory=list)
    _recent: dict[str, deque[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def admit(self, operation: str) -> bool:
        """Records the call; False when it is over the operation's quota for the last second."""
        now = time.monotonic()
        with self._lock:
            recent = self._recent.setdefault(operation, deque())
            while recent and recent[0] <= now - QUOTA_WINDOW_SECONDS:
                recent.popleft()
            throttled = self.tps_quota is not None and len(recent) >= self.tps_quota
            if not throttled:
                recent.append(now)
            self.calls.append(Call(now, operation, throttled))
            return not throttled

    def handle(self, target: str, body: bytes) -> tuple[int, dict[str, Any]]:
        operation = target.removeprefix(TARGET_PREFIX)
        if operation not in OPERATIONS:
            return 400, {"__type": "UnknownOperationException", "message": f"the stand-in has no {operation}"}
        if not self.admit(operation):
            return 400, {"__type": THROTTLED_ERROR, "message": "Provisioned rate exceeded (stand-in quota)"}
        try:
            return 200, answer(operation, json.loads(body), self.oracle)
        except NoFaceInImage:
            return 400, {"__type": "InvalidParameterException", "message": "There are no faces in the image."}
        except (KeyError, ValueError) as error:
            return 400, {"__type": "InvalidParameterException", "message": f"bad request: {error}"}

    @contextmanager
    def serving(self) -> Iterator[str]:
        """Serves on a free 127.0.0.1 port; yields the endpoint URL."""
        stand_in = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body go out in two writes: without TCP_NODELAY each answer waits ~40 ms for the
            # client's delayed ACK (Nagle), which would cap the stand-in far below any quota.
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                status, payload = stand_in.handle(self.headers.get("X-Amz-Target", ""), body)
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/x-amz-json-1.1")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                pass  # the calls are recorded in `calls`; no access log on stderr

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        thread = threading.Thread(target=server.serve_forever, name="rekognition-stand-in", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_address[1]}"
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)

    def attempted_per_second_max(self, operation: str | None = None) -> int:
        """The most calls (throttled ones included) of `operation` (or of all) in any one-second window."""
        times = [c.at for c in self.calls if operation is None or c.operation == operation]
        best = 0
        start = 0
        for end, at in enumerate(times):
            while times[start] <= at - QUOTA_WINDOW_SECONDS:
                start += 1
            best = max(best, end - start + 1)
        return best

    @property
    def throttled(self) -> int:
        return sum(1 for call in self.calls if call.throttled)
