"""How the functions are fed: the Kinesis mapping cannot block a shard, the alert queue cannot lose jobs."""

from __future__ import annotations

from typing import Any

from facewatch_local.cfn import PhysicalResource
from tests.template.reading import event, parameter, parameter_default, properties, ref_target, resolver

from facewatch.adapters.search_index import OPENSEARCH_TIMEOUT_SECONDS
from facewatch.config import AlertSettings
from facewatch.domain.document import INDEX_MAX_ATTEMPTS

# Lambda's advice for an SQS event source: a visibility timeout of at least 6x the function timeout.
SQS_VISIBILITY_TO_TIMEOUT_RATIO = 6
# SQS's largest per-message DelaySeconds.
SQS_MAX_DELAY_SECONDS = 900


def kinesis_event(template: dict[str, Any]) -> dict[str, Any]:
    return event(template, "DetectorFunction", "FaceSearchRecords")


def function_timeout(template: dict[str, Any], function: str) -> int:
    return int(properties(template, function).get("Timeout", template["Globals"]["Function"].get("Timeout", 3)))


def test_detector_reports_failed_records_instead_of_failing_the_batch(template: dict[str, Any]) -> None:
    assert kinesis_event(template)["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_detector_bisects_a_failing_batch(template: dict[str, Any]) -> None:
    assert kinesis_event(template)["BisectBatchOnFunctionError"] is True


def test_detector_retries_are_bounded_and_cannot_be_made_infinite(template: dict[str, Any]) -> None:
    # given: -1, Lambda's default, retries until the record expires
    retries = kinesis_event(template)["MaximumRetryAttempts"]
    # then
    assert int(parameter_default(template, retries)) == 10
    assert parameter(template, ref_target(retries))["MinValue"] >= 0


def test_detector_record_age_is_bounded_and_cannot_be_made_infinite(template: dict[str, Any]) -> None:
    # given
    age = kinesis_event(template)["MaximumRecordAgeInSeconds"]
    # then
    assert int(parameter_default(template, age)) == 3600
    assert parameter(template, ref_target(age))["MinValue"] >= 60


def test_detector_sends_batches_it_gives_up_on_to_its_dead_letter_queue(template: dict[str, Any]) -> None:
    destination = kinesis_event(template)["DestinationConfig"]["OnFailure"]["Destination"]
    assert destination == {"Fn::GetAtt": ["DetectorDeadLetterQueue", "Arn"]}


def test_detector_starts_from_new_records_in_small_latency_batches(template: dict[str, Any]) -> None:
    # given
    mapping = kinesis_event(template)
    # then: an alerting system has no use for a backlog of old frames, nor for waiting to fill a batch
    assert mapping["StartingPosition"] == "LATEST"
    assert mapping["MaximumBatchingWindowInSeconds"] in (0, 1)
    assert int(parameter_default(template, mapping["BatchSize"])) == 100


def test_detector_consumes_the_stack_stream_by_default(template: dict[str, Any]) -> None:
    # given
    created = {"FaceSearchStream": PhysicalResource("created", {"Arn": "arn:aws:kinesis:eu-west-1:1:stream/created"})}
    # when
    stream = resolver(template, resources=created).resolve(kinesis_event(template)["Stream"])
    # then
    assert stream == "arn:aws:kinesis:eu-west-1:1:stream/created"


def test_detector_consumes_an_existing_stream_instead_when_one_is_given(template: dict[str, Any]) -> None:
    # given
    existing = "arn:aws:kinesis:eu-west-1:111122223333:stream/lobby-faces"
    deployment = resolver(template, {"ExistingFaceSearchStreamArn": existing})
    # when
    stream = deployment.resolve(kinesis_event(template)["Stream"])
    # then
    assert stream == existing
    assert not deployment.is_created("FaceSearchStream")


def test_alert_queue_visibility_timeout_covers_six_alerter_timeouts(template: dict[str, Any]) -> None:
    # given
    visibility = properties(template, "AlertQueue")["VisibilityTimeout"]
    # then
    assert visibility >= SQS_VISIBILITY_TO_TIMEOUT_RATIO * function_timeout(template, "AlertFunction")


def test_functions_have_the_timeouts_their_work_needs(template: dict[str, Any]) -> None:
    assert function_timeout(template, "DetectorFunction") == 60
    assert function_timeout(template, "AlertFunction") == 60


def test_alert_jobs_reach_the_dead_letter_queue_only_after_every_clip_attempt(template: dict[str, Any]) -> None:
    # given
    redrive = properties(template, "AlertQueue")["RedrivePolicy"]
    max_receive_count = int(parameter_default(template, redrive["maxReceiveCount"]))
    # then
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["AlertDeadLetterQueue", "Arn"]}
    assert max_receive_count > int(template["Parameters"]["ClipMaxAttempts"]["Default"])
    assert max_receive_count > AlertSettings.model_fields["clip_max_attempts"].default


def test_dead_letter_queues_keep_messages_longer_than_the_alert_queue(template: dict[str, Any]) -> None:
    # given: a dead-lettered message keeps its original enqueue time
    alert_retention = properties(template, "AlertQueue")["MessageRetentionPeriod"]
    # then
    for queue in ("AlertDeadLetterQueue", "DetectorDeadLetterQueue"):
        assert properties(template, queue)["MessageRetentionPeriod"] == 14 * 24 * 3600 > alert_retention


def test_alert_queue_adds_no_delay_of_its_own(template: dict[str, Any]) -> None:
    # then: the detector sets each job's delay; a queue delay would add to it
    assert properties(template, "AlertQueue")["DelaySeconds"] == 0


def test_alert_delay_fits_the_sqs_per_message_delay(template: dict[str, Any]) -> None:
    assert parameter(template, "AlertDelaySeconds")["MaxValue"] <= SQS_MAX_DELAY_SECONDS


def test_alerter_reports_failed_jobs_in_small_batches(template: dict[str, Any]) -> None:
    # given
    mapping = event(template, "AlertFunction", "AlertJobs")
    # then
    assert mapping["Queue"] == {"Fn::GetAtt": ["AlertQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert mapping["BatchSize"] <= 10


def test_documents_have_their_own_event_source_reporting_failed_records(template: dict[str, Any]) -> None:
    # Index batches run in invocations of their own: a slow OpenSearch never shares one with an alert job.
    mapping = event(template, "AlertFunction", "IndexJobs")
    assert mapping["Queue"] == {"Fn::GetAtt": ["IndexQueue", "Arn"]}
    assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert event(template, "AlertFunction", "AlertJobs")["Queue"] == {"Fn::GetAtt": ["AlertQueue", "Arn"]}


def test_an_index_batch_fits_in_the_function_timeout_even_when_opensearch_hangs(template: dict[str, Any]) -> None:
    # Each document costs at most two requests (index template, document), each bounded by the client timeout.
    batch = int(event(template, "AlertFunction", "IndexJobs")["BatchSize"])
    assert batch * 2 * OPENSEARCH_TIMEOUT_SECONDS < function_timeout(template, "AlertFunction")


def test_index_queue_outlives_the_indexers_own_attempts_and_redrives_to_its_dead_letter_queue(
    template: dict[str, Any],
) -> None:
    queue = properties(template, "IndexQueue")
    redrive = queue["RedrivePolicy"]
    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["IndexDeadLetterQueue", "Arn"]}
    # The indexer dead-letters a document itself, with the reason, before SQS would move it without one.
    assert int(redrive["maxReceiveCount"]) > INDEX_MAX_ATTEMPTS
    assert int(queue["VisibilityTimeout"]) >= SQS_VISIBILITY_TO_TIMEOUT_RATIO * function_timeout(
        template, "AlertFunction"
    )
    for name in ("IndexQueue", "IndexDeadLetterQueue"):
        assert properties(template, name)["SqsManagedSseEnabled"] is True
