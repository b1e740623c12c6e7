"""Alarms, their topic and the operations dashboard: each watches what the functions really emit, under the
names and dimensions Powertools gives it, and tells the operators, not the security team."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_lambda_powertools import Metrics
from aws_lambda_powertools.metrics import MetricUnit
from facewatch_local.cfn import PhysicalResource, function_environment
from tests.template.reading import properties, resolver, resources_of_type

from facewatch.domain.clip import ClipFailure

OPS_TOPIC = {"Ref": "OpsAlarmTopic"}
FUNCTIONS = ("DetectorFunction", "AlertFunction")
DEAD_LETTER_QUEUES = ("AlertDeadLetterQueue", "IndexDeadLetterQueue", "DetectorDeadLetterQueue")


def alarms(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        logical_id: definition["Properties"]
        for logical_id, definition in resources_of_type(template, "AWS::CloudWatch::Alarm")
    }


def namespace(template: dict[str, Any]) -> str:
    return str(template["Globals"]["Function"]["Environment"]["Variables"]["POWERTOOLS_METRICS_NAMESPACE"])


def service(template: dict[str, Any], function: str) -> str:
    return str(function_environment(template, function)["POWERTOOLS_SERVICE_NAME"])


def stat_metrics(alarm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A metric-math alarm's metrics by id (MetricStat.Metric with Period and Stat beside it)."""
    return {
        query["Id"]: {
            **query["MetricStat"]["Metric"],
            "Period": query["MetricStat"]["Period"],
            "Stat": query["MetricStat"]["Stat"],
        }
        for query in alarm["Metrics"]
        if "MetricStat" in query
    }


def expression(alarm: dict[str, Any]) -> str:
    [returned] = [query for query in alarm["Metrics"] if query.get("ReturnData", True)]
    return str(returned["Expression"])


def dashboard(template: dict[str, Any]) -> dict[str, Any]:
    """The dashboard body as deployed: every resource stands for itself (<Name>, arn:<Name>, <Name>-queue)."""
    stand_ins = {
        logical_id: PhysicalResource(
            f"<{logical_id}>", {"Arn": f"arn:{logical_id}", "QueueName": f"{logical_id}-queue"}
        )
        for logical_id in template["Resources"]
    }
    body = resolver(template, resources=stand_ins).resolve(properties(template, "OperationsDashboard")["DashboardBody"])
    return json.loads(body)  # type: ignore[no-any-return]


def widget(board: dict[str, Any], title_start: str) -> dict[str, Any]:
    [found] = [w["properties"] for w in board["widgets"] if w["properties"].get("title", "").startswith(title_start)]
    return dict(found)


def test_every_alarm_tells_the_ops_topic_both_ways_and_never_the_alert_topic(template: dict[str, Any]) -> None:
    # when
    found = alarms(template)
    # then
    assert len(found) >= 8
    for logical_id, alarm in found.items():
        assert alarm["AlarmActions"] == [OPS_TOPIC], logical_id
        assert alarm["OKActions"] == [OPS_TOPIC], logical_id
        # A camera's silence alarm fires on missing data: no record at all is what it watches for.
        silence = logical_id.startswith("Camera") and logical_id.endswith("SilentAlarm")
        assert alarm["TreatMissingData"] == ("breaching" if silence else "notBreaching"), logical_id
        assert "AlertTopic" not in json.dumps(alarm), logical_id


@pytest.mark.parametrize("queue", DEAD_LETTER_QUEUES)
def test_a_single_message_in_a_dead_letter_queue_fires_its_alarm(template: dict[str, Any], queue: str) -> None:
    # when
    alarm = alarms(template)[f"{queue}Alarm"]
    # then
    assert (alarm["Namespace"], alarm["MetricName"]) == ("AWS/SQS", "ApproximateNumberOfMessagesVisible")
    assert alarm["Dimensions"] == [{"Name": "QueueName", "Value": {"Fn::GetAtt": [queue, "QueueName"]}}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Maximum", 60, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("metric", ["Errors", "Throttles"])
def test_any_error_or_throttle_of_a_function_fires_its_alarm(
    template: dict[str, Any], function: str, metric: str
) -> None:
    # given: records fail one by one (partial batch responses), so an Error is a crash or a timeout
    name = f"{function.removesuffix('Function')}{metric}Alarm"
    # when
    alarm = alarms(template)[name]
    # then
    assert (alarm["Namespace"], alarm["MetricName"], alarm["Statistic"]) == ("AWS/Lambda", metric, "Sum")
    assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": function}}]
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_iterator_age_alarm_compares_seconds_with_its_parameter(template: dict[str, Any]) -> None:
    # when
    alarm = alarms(template)["DetectorIteratorAgeAlarm"]
    [age] = stat_metrics(alarm).values()
    # then: Lambda reports IteratorAge in milliseconds
    assert (age["Namespace"], age["MetricName"], age["Stat"]) == ("AWS/Lambda", "IteratorAge", "Maximum")
    assert age["Dimensions"] == [{"Name": "FunctionName", "Value": {"Ref": "DetectorFunction"}}]
    assert expression(alarm) == "age / 1000"
    assert alarm["Threshold"] == {"Ref": "IteratorAgeAlarmSeconds"}
    assert template["Parameters"]["IteratorAgeAlarmSeconds"]["Default"] == 60


def test_clip_missing_alarm_counts_every_missing_reason_against_the_alerts_notified(template: dict[str, Any]) -> None:
    # given: the alerter emits ClipMissing_<ClipFailure> and AlertsNotified
    wanted = {f"ClipMissing_{failure.value}" for failure in ClipFailure} | {"AlertsNotified"}
    # when
    alarm = alarms(template)["ClipMissingRateAlarm"]
    metrics = stat_metrics(alarm)
    # then: under the alerter's namespace and service dimension, every one of them, and the expression uses each
    assert {metric["MetricName"] for metric in metrics.values()} == wanted
    for metric in metrics.values():
        assert metric["Namespace"] == namespace(template)
        assert metric["Dimensions"] == [{"Name": "service", "Value": service(template, "AlertFunction")}]
        assert (metric["Stat"], metric["Period"]) == ("Sum", 3600)
    assert all(metric_id in expression(alarm) for metric_id in metrics)
    assert alarm["Threshold"] == {"Ref": "ClipMissingAlarmPercent"}


def test_any_quarantined_record_fires_the_stack_wide_quarantine_alarm_within_five_minutes(
    template: dict[str, Any],
) -> None:
    # when
    alarm = alarms(template)["DetectorQuarantineAlarm"]
    # then: MalformedRecords counts every record the detector quarantined, whatever the camera or stream
    assert (alarm["Namespace"], alarm["MetricName"]) == (namespace(template), "MalformedRecords")
    assert alarm["Dimensions"] == [{"Name": "service", "Value": service(template, "DetectorFunction")}]
    assert (alarm["Statistic"], alarm["Period"], alarm["EvaluationPeriods"]) == ("Sum", 300, 1)
    assert (alarm["ComparisonOperator"], alarm["Threshold"]) == ("GreaterThanThreshold", 0)


def test_powertools_puts_emf_metrics_under_the_namespace_with_the_service_dimension(template: dict[str, Any]) -> None:
    # given the alerter's namespace and service name, as the template sets them
    metrics = Metrics(namespace=namespace(template), service=service(template, "AlertFunction"))
    metrics.add_metric(name="AlertsNotified", unit=MetricUnit.Count, value=1)
    # when it serialises the metric set (what the function prints)
    document: dict[str, Any] = dict(metrics.serialize_metric_set())
    metrics.clear_metrics()
    # then the dimension the alarms use is called "service" and holds the service name
    [directive] = document["_aws"]["CloudWatchMetrics"]
    assert directive["Namespace"] == "Facewatch"
    assert directive["Dimensions"] == [["service"]]
    assert document["service"] == "facewatch-alerter"


def test_ops_topic_is_encrypted_with_a_rotating_key_only_this_accounts_alarms_use(template: dict[str, Any]) -> None:
    # when
    key = properties(template, "OpsAlarmTopicKey")
    statements = {statement["Sid"]: statement for statement in key["KeyPolicy"]["Statement"]}
    publish = {s["Sid"]: s for s in properties(template, "OpsAlarmTopicPolicy")["PolicyDocument"]["Statement"]}
    # then
    assert properties(template, "OpsAlarmTopic")["KmsMasterKeyId"] == {"Ref": "OpsAlarmTopicKey"}
    assert key["EnableKeyRotation"] is True
    for statement in (statements["AlarmsOfThisAccountPublish"], publish["AlarmsOfThisAccountPublish"]):
        assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
        assert statement["Condition"]["StringEquals"] == {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}
    assert set(statements) == {"AccountAdministersAndDelegatesThroughIam", "AlarmsOfThisAccountPublish"}
    assert properties(template, "OpsAlarmTopic") != properties(template, "AlertTopic")


def test_ops_email_is_subscribed_only_when_given(template: dict[str, Any]) -> None:
    # when
    subscription = template["Resources"]["OpsEmailSubscription"]
    # then
    assert subscription["Condition"] == "HasOpsEmail"
    assert subscription["Properties"] == {"TopicArn": OPS_TOPIC, "Protocol": "email", "Endpoint": {"Ref": "OpsEmail"}}
    assert template["Parameters"]["OpsEmail"]["Default"] == ""
    assert not resolver(template).condition("HasOpsEmail")
    assert resolver(template, {"OpsEmail": "ops@example.com"}).condition("HasOpsEmail")


def test_dashboard_counts_alerts_per_hour_per_camera_from_the_alerters_log_lines(template: dict[str, Any]) -> None:
    # when
    query = widget(dashboard(template), "Alerts per hour")["query"]
    # then: the alerter logs "alert notified" with camera_id once per alert (tests/reliability/test_observability.py)
    assert query.startswith("SOURCE '<AlertFunctionLogGroup>' |")
    assert 'filter message = "alert notified"' in query
    assert query.endswith("stats count(*) as alerts by bin(1h), camera_id")


def test_dashboard_shows_frame_to_first_message_latency_p50_and_p95(template: dict[str, Any]) -> None:
    # when: AlertLatency is frame -> the first message (the snapshot), without a camera dimension
    metrics = widget(dashboard(template), "Frame to first message (snapshot)")["metrics"]
    # then
    alerter = [namespace(template), "AlertLatency", "service", service(template, "AlertFunction")]
    assert [metric[:4] for metric in metrics] == [alerter, alerter]
    assert [metric[4]["stat"] for metric in metrics] == ["p50", "p95"]


def test_dashboard_shows_every_alarm_and_what_they_watch(template: dict[str, Any]) -> None:
    # when
    board = dashboard(template)
    text = json.dumps(board)
    # then
    # every stack-level alarm; the per-camera silence alarms vary with CameraNames and are not listed
    stack_alarms = [logical_id for logical_id in alarms(template) if not logical_id.startswith("Camera")]
    assert widget(board, "Alarms")["alarms"] == [f"arn:{logical_id}" for logical_id in stack_alarms]
    for watched in ("IteratorAge", "ApproximateNumberOfMessagesVisible", "Errors", "Throttles", "AlertsNotified"):
        assert watched in text
    for queue in DEAD_LETTER_QUEUES:
        assert f"{queue}-queue" in text
    # the dashboard's clip-missing rate is the alarm's
    [rate] = [m[0] for m in widget(board, "Alerts without a clip")["metrics"] if isinstance(m[0], dict)]
    assert rate["expression"] == expression(alarms(template)["ClipMissingRateAlarm"])


def test_the_dashboard_graphs_every_reason_a_face_raised_no_alert_per_camera(template: dict[str, Any]) -> None:
    # when
    reasons = widget(dashboard(template), "Faces that raised no alert")
    # then: one search over the detector's per-camera metric sets (NotAlerted_<reason>, dimension CameraId)
    [[query]] = reasons["metrics"]
    assert query["expression"] == "SEARCH('{Facewatch,CameraId,service} NotAlerted', 'Sum', 300)"
