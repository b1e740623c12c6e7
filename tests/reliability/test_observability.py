"""The alarms and the dashboard read what the functions really write: the EMF metric sets the pipeline prints
have the namespace and the one "service" dimension the template's alarms query, and the alerter's log lines
answer the dashboard's Logs Insights query (alerts per camera)."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import boto3
import pytest
from facewatch_local.cfn import function_environment
from tests.reliability.faults import Fault, FaultInjector, SqsTime, refuse
from tests.reliability.pipeline import ALERTER, FaultyOpenSearch, Pipeline

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

# The dashboard's query, in the parts this test evaluates: `filter message = "..."` and `by bin(1h), <field>`.
FILTER = re.compile(r'filter message = "(?P<message>[^"]+)"')
GROUP = re.compile(r"by bin\(1h\), (?P<field>[a-z_]+)$")


def structured(output: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def dashboard_query(template: dict[str, Any]) -> str:
    body = template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"]["Fn::Sub"]
    widgets = json.loads(re.sub(r"\$\{[^}]+\}", "x", body))["widgets"]
    [query] = [w["properties"]["query"] for w in widgets if w["type"] == "log"]
    return str(query)


@pytest.fixture(scope="module")
def pipeline(
    emulated: boto3.session.Session, template: dict[str, Any], injector: FaultInjector, sqs_time: SqsTime
) -> Pipeline:
    """The scenario, with the first clip refused for good (so a ClipMissing_ metric is emitted too)."""
    with FaultyOpenSearch() as opensearch:
        missing = Fault(
            ALERTER, "kinesis-video-archived-media", "GetClip", refuse("NoDataRetentionException"), calls=frozenset({1})
        )
        injector.reset(missing)
        pipeline = Pipeline(emulated, template, "observed", opensearch=opensearch, injector=injector, sqs_time=sqs_time)
        assert pipeline.run().violations() == []
        return pipeline


@pytest.mark.parametrize("function", ["DetectorFunction", "AlertFunction"])
def test_metric_sets_carry_the_namespace_and_service_dimension_the_alarms_query(
    pipeline: Pipeline, template: dict[str, Any], function: str
) -> None:
    # given what the template tells Powertools
    namespace = template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"]
    service = function_environment(template, function)["POWERTOOLS_SERVICE_NAME"]
    local = pipeline.detector if function == "DetectorFunction" else pipeline.alerter
    # when the function ran
    sets = [line for i in local.invocations for line in structured(i.output) if "_aws" in line]
    # then every metric set it printed is where the alarms look
    assert sets
    for metric_set in sets:
        for directive in metric_set["_aws"]["CloudWatchMetrics"]:
            # the function's set, or a per-camera one (quarantined records, latency components) with CameraId
            assert directive["Namespace"] == namespace
            assert [sorted(names) for names in directive["Dimensions"]] in ([["service"]], [["CameraId", "service"]])
        assert metric_set["service"] == service


def test_the_alarms_and_dashboard_watch_metrics_the_alerter_emits(pipeline: Pipeline, template: dict[str, Any]) -> None:
    # when
    emitted = pipeline.alerter.metrics()
    # then: a clip went missing for good, three were stored, four alerts went out, each with its latency
    assert emitted["ClipMissing_permanent"] == 1
    assert emitted["ClipOk"] == 3
    assert emitted["AlertsNotified"] == 4
    body = json.dumps(template["Resources"]["OperationsDashboard"]["Properties"]["DashboardBody"])
    assert all(name in body for name in ("ClipMissing_permanent", "AlertsNotified", "AlertLatency"))
    latencies = [
        line["AlertLatency"]
        for i in pipeline.alerter.invocations
        for line in structured(i.output)
        if "AlertLatency" in line
    ]
    assert sum(len(values) for values in latencies) == 4


def test_the_dashboards_log_query_counts_each_notified_alert_under_its_camera(
    pipeline: Pipeline, template: dict[str, Any]
) -> None:
    # given the dashboard's query
    query = dashboard_query(template)
    message, field = FILTER.search(query), GROUP.search(query)
    assert message is not None
    assert field is not None
    # when it is run over the alerter's log lines
    lines = [line for i in pipeline.alerter.invocations for line in structured(i.output) if "_aws" not in line]
    counted = Counter(line[field["field"]] for line in lines if line.get("message") == message["message"])
    # then it counts what was notified (each alert's first message), camera by camera
    first_messages = [notice for notice in pipeline.notices() if notice["event_type"] == "alert_snapshot"]
    assert counted == Counter(notice["camera"]["id"] for notice in first_messages)
    assert len(counted) == 4
