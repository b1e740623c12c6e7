"""Shared by the reliability tests: one moto per module, the SQS clock that can jump, the fault injector,
and the tables they fill in, printed at the end of every run (also without -s)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import load_template
from moto import mock_aws
from tests.reliability.faults import FaultInjector, SqsTime
from tests.reliability.pipeline import FaultyOpenSearch
from tests.reliability.report import TABLES


@pytest.fixture(scope="module")
def emulated() -> Iterator[boto3.session.Session]:
    """moto for the whole module: each pipeline deploys under its own name prefix, so they do not meet."""
    with mock_aws():
        yield boto3.session.Session()


@pytest.fixture(scope="module")
def sqs_time() -> Iterator[SqsTime]:
    with SqsTime().installed() as clock:
        yield clock


@pytest.fixture(scope="module")
def injector() -> Iterator[FaultInjector]:
    with FaultInjector().installed() as installed:
        yield installed


@pytest.fixture
def opensearch() -> Iterator[FaultyOpenSearch]:
    """The local OpenSearch domain of one pipeline."""
    with FaultyOpenSearch() as server:
        yield server


@pytest.fixture(scope="module")
def template() -> dict[str, Any]:
    return load_template()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for table in sorted((table for table in TABLES.values() if table.rows), key=lambda table: table.order):
        terminalreporter.write_sep("=", table.title)
        for line in table.lines():
            terminalreporter.write_line(line)
