"""Fixtures shared by the whole suite: a fake AWS environment, moto, the detector's resources.

The process environment is set when this module is imported, i.e. before any test module imports
facewatch (Powertools reads its service name and metrics namespace at import). Fixtures that need
facewatch import it inside their body for the same reason.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from typing import TYPE_CHECKING

import boto3
import pytest
from moto import mock_aws
from tests.support.environment import apply_test_environment, endpoint_variables
from tests.support.lambda_context import FakeLambdaContext
from tests.support.logs import CapturedLogs

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack
    from tests.support.detector import DetectorHarness

apply_test_environment(os.environ)


@pytest.fixture(autouse=True)
def _no_aws_endpoint_override(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a previous test or the shell set, boto3 must talk to moto's in-process mock."""
    for name in endpoint_variables(os.environ):
        monkeypatch.delenv(name)


@pytest.fixture(scope="session")
def _boto3_session() -> boto3.session.Session:
    # One session for the run: it caches the service models every new client would otherwise reload.
    return boto3.session.Session()


@pytest.fixture
def aws(_boto3_session: boto3.session.Session) -> Iterator[boto3.session.Session]:
    """moto's mock of every AWS service for the duration of the test; yields a session to make clients."""
    with mock_aws():
        yield _boto3_session


@pytest.fixture
def stack(aws: boto3.session.Session) -> EmulatedStack:
    """The stack's data resources (DedupTable, AlertQueue, QuarantineBucket, ...) in moto, from template.yaml."""
    from facewatch_local.stack import deploy_emulated_stack

    return deploy_emulated_stack(aws)


@pytest.fixture
def lambda_context() -> FakeLambdaContext:
    return FakeLambdaContext()


@pytest.fixture
def harness(aws: boto3.session.Session, stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch) -> DetectorHarness:
    """A Detector built with explicit settings and watched clients, run through the real handler."""
    from tests.support.detector import DetectorHarness

    return DetectorHarness(stack, aws, monkeypatch)


def _clear_detector_caches() -> None:
    from facewatch.adapters import aws as aws_clients
    from facewatch.config import detector_settings
    from facewatch.handlers import detector as detector_handler

    detector_handler.detector.cache_clear()
    detector_settings.cache_clear()
    aws_clients.client.cache_clear()
    aws_clients.session.cache_clear()


@pytest.fixture
def detector_environment(stack: EmulatedStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[dict[str, str]]:
    """DetectorFunction's environment, set as Lambda sets it, with the handler's cached factories reset.

    A test then calls handlers.detector.lambda_handler exactly as Lambda does: settings, clients and
    the Detector come from the environment (a cold start per test).
    """
    env = stack.detector_env()
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    _clear_detector_caches()
    yield env
    _clear_detector_caches()


@pytest.fixture
def powertools_logs() -> Iterator[CapturedLogs]:
    """What the Powertools logger writes (its handler keeps the stdout it saw at import, out of capsys)."""
    from facewatch.observability import logger

    handler = logger.registered_handler
    assert hasattr(handler, "setStream"), "the Powertools logger is expected to log through a StreamHandler"
    captured = CapturedLogs(io.StringIO())
    previous = handler.setStream(captured.stream)
    yield captured
    handler.setStream(previous)
