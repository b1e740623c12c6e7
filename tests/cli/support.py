"""Test support for the CLI: run `facewatch` in-process, and give its commands stubbed or moto clients."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from facewatch_cli import clients
from facewatch_cli.main import main

REGION = "us-east-1"


@dataclass(frozen=True, slots=True)
class Run:
    code: int
    out: str
    err: str


@dataclass(frozen=True, slots=True)
class Cli:
    capsys: pytest.CaptureFixture[str]

    def __call__(self, *argv: str) -> Run:
        self.capsys.readouterr()
        code = main(list(argv))
        out, err = self.capsys.readouterr()
        return Run(code, out, err)


class AwsClients:
    """Installed as facewatch_cli.clients.client_factory: the client a test put in place for a service
    (a stubbed one: botocore Stubber, requests and responses checked against the real service model),
    else a moto-backed one."""

    def __init__(self, session: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> None:
        self._session = session
        self._clients: dict[str, Any] = {}
        self._stubbers: dict[str, Stubber] = {}
        monkeypatch.setattr(clients, "client_factory", self._client)

    def new_client(self, service_name: str) -> Any:
        return self._session.client(service_name, region_name=REGION)  # type: ignore[call-overload]

    def put(self, service_name: str, client: Any) -> Any:
        self._clients[service_name] = client
        self._stubbers.pop(service_name, None)
        return client

    def stub(self, service_name: str) -> Stubber:
        """The service's Stubber (a new stubbed client unless the service has one already)."""
        if service_name not in self._stubbers:
            stubber = Stubber(self.put(service_name, self.new_client(service_name)))
            stubber.activate()
            self._stubbers[service_name] = stubber
        return self._stubbers[service_name]

    def client(self, service_name: str) -> Any:
        return self._client(argparse.Namespace(), service_name)

    def _client(self, _args: argparse.Namespace, service_name: str) -> Any:
        return self._clients.get(service_name) or self.new_client(service_name)

    def verify(self) -> None:
        for stubber in self._stubbers.values():
            stubber.assert_no_pending_responses()
            stubber.deactivate()


def provide_camera(session: boto3.session.Session, camera_id: str, rtsp_url_secret: str | None = None) -> None:
    """What `cameras add` checks exists (moto): the camera's Kinesis video stream, and its RTSP URL secret
    (a Secrets Manager secret, or `ssm:NAME`) holding a made-up URL."""
    session.client("kinesisvideo", region_name=REGION).create_stream(StreamName=camera_id, DataRetentionInHours=24)
    if rtsp_url_secret is None:
        return
    url = f"rtsp://viewer:pw@10.0.0.7:554/{camera_id}"
    if rtsp_url_secret.startswith("ssm:"):
        session.client("ssm", region_name=REGION).put_parameter(
            Name=rtsp_url_secret.removeprefix("ssm:"), Value=url, Type="SecureString"
        )
    else:
        session.client("secretsmanager", region_name=REGION).create_secret(Name=rtsp_url_secret, SecretString=url)
