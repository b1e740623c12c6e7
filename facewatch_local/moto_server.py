"""moto's server on a free 127.0.0.1 port, in this process, with every AWS client pointed at it.

Every client (ours and the handlers') reaches it through the standard AWS_ENDPOINT_URL variable with dummy
credentials, so src/facewatch has no local-only branch. The server runs in this process on purpose: the
demo reads moto's record of what SNS published (see demo.py), which only an in-process server has.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cache
from typing import Any, Final
from urllib.request import Request, urlopen

import botocore.session
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
from moto.server import ThreadedMotoServer
from werkzeug.serving import make_server

LOOPBACK: Final = "127.0.0.1"
DUMMY_CREDENTIALS: Final = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
}
# Settings that would send boto3 somewhere else, or to a real account, if a shell had them.
_SHADOWING_VARIABLES: Final = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_SECURITY_TOKEN")


@cache
def _archived_media_paths() -> frozenset[str]:
    """Request paths of the KVS archived-media API (GetClip, GetImages, ...), from botocore's model."""
    model = botocore.session.get_session().get_service_model("kinesis-video-archived-media")
    return frozenset(model.operation_model(name).http["requestUri"] for name in model.operation_names)


class _Dispatcher(DomainDispatcherApplication):
    """moto's server picks a backend from the SigV4 signing name. KVS archived media signs as
    `kinesisvideo`, so moto sends GetClip to the control-plane app, which answers 404; route the
    archived-media paths to moto's archived-media backend (its URL pattern is the data-plane host)."""

    def infer_service_region_host(self, environ: dict[str, Any], path: str) -> str | None:
        host = super().infer_service_region_host(environ, path)
        if host is not None and host.startswith("kinesisvideo.") and path in _archived_media_paths():
            return f"data.{host}"
        return host


class LocalMotoServer(ThreadedMotoServer):
    """ThreadedMotoServer with the archived-media routing above."""

    def _server_entry(self) -> None:
        self._server = make_server(
            self._ip_address,
            self._port,
            _Dispatcher(create_backend_app),
            True,
            request_handler=MotoRequestHandler,
        )
        self._server_ready_event.set()
        self._server.serve_forever()


def aws_environment(endpoint_url: str, region: str) -> dict[str, str]:
    """What every AWS client in the process needs to talk to the emulation and nothing else."""
    return {
        **DUMMY_CREDENTIALS,
        "AWS_ENDPOINT_URL": endpoint_url,
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        # A developer's ~/.aws files (profiles, endpoint_url, credentials) must not leak in.
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    }


@contextmanager
def patched_environ(
    values: Mapping[str, str], *, remove: Iterable[str] = (), keep: Callable[[str], bool] | None = None
) -> Iterator[None]:
    """Sets `values` in os.environ after removing `remove` (and, with `keep`, every variable it rejects);
    restores the previous environment on exit."""
    saved = dict(os.environ)
    try:
        for name in [*remove, *(name for name in saved if keep is not None and not keep(name))]:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def _reset_moto(endpoint_url: str) -> None:
    # moto's backends live in this process and outlive the server: start and end from nothing.
    with urlopen(Request(f"{endpoint_url}/moto-api/reset", method="POST"), timeout=10) as response:  # noqa: S310
        response.read()


@contextmanager
def emulated_aws(region: str, port: int = 0) -> Iterator[str]:
    """Starts moto's server on 127.0.0.1 (a free port unless `port` is given), points the process's AWS
    settings at it, and yields its URL. On exit the server is stopped and the environment restored."""
    werkzeug_logger = logging.getLogger("werkzeug")
    previous_level = werkzeug_logger.level
    werkzeug_logger.setLevel(logging.ERROR)  # one access-log line per request otherwise
    server = LocalMotoServer(ip_address=LOOPBACK, port=port, verbose=False)
    server.start()
    try:
        host, bound_port = server.get_host_and_port()
        endpoint_url = f"http://{host}:{bound_port}"
        _reset_moto(endpoint_url)
        with patched_environ(aws_environment(endpoint_url, region), remove=_SHADOWING_VARIABLES):
            try:
                yield endpoint_url
            finally:
                _reset_moto(endpoint_url)
    finally:
        server.stop()
        werkzeug_logger.setLevel(previous_level)


@dataclass(frozen=True, slots=True)
class PublishedMessage:
    message_id: str
    subject: str | None
    message: str  # as published: with MessageStructure=json, the per-protocol JSON object


def published_messages(account_id: str, region: str, topic_arn: str) -> list[PublishedMessage]:
    """Every message published to the topic, from moto's in-process backend (its documented internal
    API; moto delivers nothing to email subscribers, but it keeps what was published)."""
    from moto.sns.models import sns_backends

    topic = sns_backends[account_id][region].topics[topic_arn]
    return [
        PublishedMessage(message_id=message_id, subject=subject, message=message)
        for message_id, message, subject, *_ in topic.sent_notifications
    ]
