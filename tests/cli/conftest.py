"""Fixtures of the CLI tests: `facewatch` run in-process, moto for DynamoDB, S3, CloudFormation and IoT,
and botocore Stubbers (the real service models) for what moto lacks or answers too loosely."""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from facewatch_cli import aws as cli_aws
from facewatch_cli import stack_outputs
from tests.cli.support import AwsClients, Cli
from tests.support.local_domain import LocalDomain

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack


@pytest.fixture(autouse=True)
def _fake_aws_account(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(stack_outputs.STACK_ENV_VAR, raising=False)


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str]) -> Cli:
    return Cli(capsys)


@pytest.fixture
def aws_clients(aws: boto3.session.Session, monkeypatch: pytest.MonkeyPatch) -> Iterator[AwsClients]:
    """The commands' AWS clients: moto-backed, except the services a test stubs."""
    clients = AwsClients(aws, monkeypatch)
    yield clients
    clients.verify()


@pytest.fixture
def camera_table(stack: EmulatedStack, aws_clients: AwsClients) -> str:
    """CameraTable as template.yaml defines it, on moto."""
    return str(stack.camera_table_name)


@pytest.fixture
def fresh_cli_session() -> Iterator[None]:
    """The CLI's cached boto3 session, dropped before and after the test."""
    cli_aws._session.cache_clear()
    yield
    cli_aws._session.cache_clear()


@pytest.fixture
def domain() -> Iterator[LocalDomain]:
    """A local stand-in for an OpenSearch domain and its Dashboards."""
    with LocalDomain() as server:
        yield server
