"""AlertFunction under faults injected BELOW botocore's retry loop (tests/support/sdk_faults.py), through its
handler, on moto, with the production clients (facewatch.adapters.aws): what SNS delivered, what landed in the
dead-letter queue and its attributes, what was logged and counted.

One test per failure class of issue 12 on the alerter's side:
2 - a publish SNS accepted is never repeated: no SDK retry, a 5xx or a lost answer is "in doubt";
3 - a ledger claim whose answer was lost is recognised as the caller's own; a live copy is retried later;
4 - a hanging OpenSearch delays no notification;
5 - permission errors, malformed settings and failed records are logged, counted and dead-lettered with why;
8 - a job whose alert id does not belong to its fields is dead-lettered untouched; camera text stays one line.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
from facewatch_local.moto_server import published_messages
from facewatch_testkit.sqs import ACCOUNT_ID
from tests.support.alerts import (
    CAMERA_TABLE,
    DEDUP_TABLE,
    MAX_RECEIVE_COUNT,
    REGION,
    SEOUL_LOBBY,
    AlertWorld,
    alert_world,
    failed_ids,
    invoke_alerter,
    sample_job,
    sqs_event,
    sqs_record,
)
from tests.support.logs import CapturedLogs, emf_metric_sets
from tests.support.sdk_faults import SdkFaults, SilentServer, attempts, instant_retries

from facewatch.adapters import aws
from facewatch.adapters.search_index import OPENSEARCH_TIMEOUT_SECONDS
from facewatch.config import SettingsError
from facewatch.handlers import alerter
from facewatch.services.alert import NotifyInProgressError, QueueMessage

pytestmark = pytest.mark.filterwarnings("ignore:No application metrics to publish:UserWarning")

IN_DOUBT = "notification in doubt"


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


@pytest.fixture
def faults(world: AlertWorld) -> Iterator[SdkFaults]:
    """Every client the function's container makes (one boto3 session) is watched; SDK back-off is skipped."""
    with instant_retries(), SdkFaults.install(aws.session()) as injector:
        yield injector


def reason(message: dict[str, Any]) -> str:
    return str(message["MessageAttributes"]["reason"]["StringValue"])


def metric_names(output: str) -> set[str]:
    return {name for metric_set in emf_metric_sets(output) for name in metric_set}


# Class 2: exactly-once notification that survives the SDK


def event_types(world: AlertWorld) -> list[str]:
    """The event type of every message the team's queue got, in order (one per phase when all is well)."""
    return [json.loads(envelope["Message"])["event_type"] for envelope in world.notifications()]


BOTH_PHASES = ["alert_snapshot", "alert_clip"]


@pytest.mark.parametrize("phase", [1, 2], ids=["phase 1 (snapshot)", "phase 2 (clip)"])
@pytest.mark.parametrize("fault", ["5xx after SNS accepted it", "answer lost after SNS accepted it"])
def test_a_publish_sns_may_have_taken_goes_out_once_and_is_dead_lettered_in_doubt(
    world: AlertWorld, faults: SdkFaults, fault: str, phase: int
) -> None:
    # given SNS takes one phase's publish, then answers 500 (or the answer never arrives)
    if fault.startswith("5xx"):
        faults.fail_after_apply("Publish", attempts(phase))
    else:
        faults.lose_answer("Publish", attempts(phase))
    job = sample_job()
    world.send_job(job.to_message())

    # when the job is handled
    _, response = world.deliver()

    # then the SDK repeated no publish: each phase reached the team once (the one in doubt too, as SNS took
    # it), and a copy of the job waits in the DLQ in doubt; a first message in doubt does not lose the second
    assert faults.attempts("Publish") == 2
    assert event_types(world) == BOTH_PHASES
    assert failed_ids(response) == []
    [dead] = world.dead_letters()
    assert reason(dead).startswith(IN_DOUBT)
    assert dead["MessageAttributes"]["alert_id"]["StringValue"] == job.alert_id
    assert "error_code" in dead["MessageAttributes"]
    assert world.receive(world.alert_queue_url) == []


@pytest.mark.parametrize("phase", [1, 2], ids=["phase 1 (snapshot)", "phase 2 (clip)"])
def test_a_throttled_publish_is_a_refusal_retried_by_sqs_and_sent_once(
    world: AlertWorld, faults: SdkFaults, phase: int
) -> None:
    # given SNS throttles one phase's first publish (nothing was sent)
    faults.throttle("Publish", attempts(phase))
    world.send_job(sample_job().to_message())
    messages, first = world.deliver()
    assert len(failed_ids(first)) == 1
    world.expire_visibility(messages)

    # when SQS redelivers the job
    _, second = world.deliver()

    # then that phase is published once, by the redelivery; neither phase twice, nothing in doubt
    assert failed_ids(second) == []
    assert faults.attempts("Publish") == 3
    assert event_types(world) == BOTH_PHASES
    assert world.dead_letters() == []


# Class 3: the ledger claim and its own SDK retry; a live copy of the job


def test_a_ledger_claim_applied_with_its_answer_lost_is_recognised_as_its_own(
    world: AlertWorld, faults: SdkFaults
) -> None:
    # given the notify step's conditional write is applied and its answer lost: the SDK retries it
    faults.lose_answer("UpdateItem", attempts(1))
    world.send_job(sample_job().to_message())

    # when the job is handled
    _, response = world.deliver()

    # then the retry finds the claim its own (attempt token): each message goes out once, no false "in doubt"
    assert faults.attempts("UpdateItem") >= 2
    assert [a.fault for a in faults.injected("UpdateItem")] == ["lose_answer"]
    assert failed_ids(response) == []
    assert event_types(world) == BOTH_PHASES
    assert world.dead_letters() == []


def test_a_copy_of_the_job_arriving_while_the_other_publishes_is_retried_later_not_dead_lettered(
    world: AlertWorld,
) -> None:
    # given two copies of one job (the detector's SendMessage repeated by its SDK), the first one publishing
    body = sample_job().to_message()
    world.send_job(body)
    [second] = world.sqs.receive_message(QueueUrl=world.alert_queue_url, MessageAttributeNames=["All"])["Messages"]
    world.sqs.change_message_visibility(
        QueueUrl=world.alert_queue_url, ReceiptHandle=second["ReceiptHandle"], VisibilityTimeout=0
    )
    world.send_job(body)
    meanwhile: list[BaseException | None] = []

    def second_copy_arrives(**_: Any) -> None:
        if meanwhile:
            return
        copy = QueueMessage(body, "another-copy", 1, "receipt", world.alert_queue_url, deadline=time.time() + 60)
        try:
            alerter.alert_stage().process(copy)
            meanwhile.append(None)
        except NotifyInProgressError as error:
            meanwhile.append(error)

    aws.session().events.register("before-call.sns.Publish", second_copy_arrives)
    [first, _] = world.receive(world.alert_queue_url)
    response = invoke_alerter(world.event_for([first]))

    # then the copy handled meanwhile was told to come back (a transient failure), not dead-lettered
    assert failed_ids(response) == []
    assert isinstance(meanwhile[0], NotifyInProgressError)
    assert world.dead_letters() == []

    # and when it comes back, the alert is notified: it sends nothing more
    world.sqs.purge_queue(QueueUrl=world.alert_queue_url)
    world.send_job(body)
    _, again = world.deliver()
    assert failed_ids(again) == []
    assert event_types(world) == BOTH_PHASES
    assert world.dead_letters() == []


# Class 4: notification never waits for search


def test_a_hanging_opensearch_delays_no_notification(monkeypatch: pytest.MonkeyPatch) -> None:
    # given an OpenSearch endpoint that accepts connections and never answers, and a batch of five jobs
    with SilentServer() as silent, alert_world(monkeypatch, OPENSEARCH_ENDPOINT=silent.url) as world:
        jobs = [sample_job(fragment_number=f"9134385233318143239268206261224011824563438051{i}") for i in range(5)]
        for job in jobs:
            world.send_job(job.to_message())

        # when the batch is handled
        started = time.monotonic()
        messages, response = world.deliver()
        elapsed = time.monotonic() - started

        # then every alert went out, well before a single OpenSearch request could have timed out
        assert len(messages) == len(jobs)
        assert failed_ids(response) == []
        notified = {json.loads(n["Message"])["alert_id"] for n in world.notifications()}
        assert notified == {job.alert_id for job in jobs}
        assert elapsed < OPENSEARCH_TIMEOUT_SECONDS

        # and a document, handled on its own event source, gives up within the bounded client timeout
        [document] = world.sqs.receive_message(
            QueueUrl=world.index_queue_url, MaxNumberOfMessages=1, AttributeNames=["All"]
        )["Messages"]
        started = time.monotonic()
        indexed = invoke_alerter(world.event_for([document], world.index_queue_arn))
        assert failed_ids(indexed) == [document["MessageId"]]
        assert time.monotonic() - started < 2 * OPENSEARCH_TIMEOUT_SECONDS + 2
        assert silent.accepted >= 1


# Class 5: failures nobody could see


@pytest.mark.parametrize(("code", "status"), [("AuthorizationError", 403), ("KMSAccessDeniedException", 400)])
def test_a_publish_denied_by_iam_or_kms_is_logged_counted_and_dead_lettered_with_the_reason(
    world: AlertWorld,
    faults: SdkFaults,
    capsys: pytest.CaptureFixture[str],
    powertools_logs: CapturedLogs,
    code: str,
    status: int,
) -> None:
    # given SNS denies every publish (the role or the topic's KMS key)
    faults.throttle("Publish", code=code, status=status)
    job = sample_job()
    world.send_job(job.to_message())
    capsys.readouterr()

    # when the job is handled
    _, response = world.deliver()
    output = capsys.readouterr().out

    # then at once: a dead letter with the reason and code (AlertDeadLetterQueueAlarm), a log line, a metric
    assert failed_ids(response) == []
    [dead] = world.dead_letters()
    assert reason(dead).startswith(f"SNS denied the publish ({code})")
    assert dead["MessageAttributes"]["error_code"]["StringValue"] == code
    [line] = [line for line in powertools_logs.records if line["message"] == "SNS denied the publish"]
    assert (line["level"], line["error_code"], line["alert_id"], line["camera_id"]) == (
        "ERROR",
        code,
        job.alert_id,
        job.camera_id,
    )
    assert "Failures_publish_denied" in metric_names(output)
    assert world.notifications() == []


def test_a_failing_record_is_logged_with_its_ids_and_error_code_never_its_payload(
    world: AlertWorld, faults: SdkFaults, capsys: pytest.CaptureFixture[str], powertools_logs: CapturedLogs
) -> None:
    # given the ledger's table refuses the alerter (a permission error on DynamoDB)
    faults.throttle("GetItem", code="AccessDeniedException", status=400)
    job = sample_job()
    world.send_job(job.to_message())
    capsys.readouterr()

    # when the job is handled
    _, response = world.deliver()
    output = capsys.readouterr().out

    # then the record failed (SQS retries it) and one line says which alert, which camera and why
    assert len(failed_ids(response)) == 1
    [line] = [line for line in powertools_logs.records if line["message"] == "alert job failed, will retry"]
    assert (line["alert_id"], line["camera_id"], line["error_code"]) == (
        job.alert_id,
        job.camera_id,
        "AccessDeniedException",
    )
    assert job.kvs_stream_arn not in powertools_logs.text
    assert "Failures_record_failed" in metric_names(output)


@pytest.mark.parametrize("endpoint", ["https://search.example.com/alerts", "search.example.com:9200"])
def test_a_malformed_opensearch_endpoint_fails_the_cold_start_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, powertools_logs: CapturedLogs, endpoint: str
) -> None:
    # given OPENSEARCH_ENDPOINT with a path, or host:port without a scheme
    # when the function is invoked
    with (
        alert_world(monkeypatch, OPENSEARCH_ENDPOINT=endpoint),
        pytest.raises(SettingsError, match="OPENSEARCH_ENDPOINT") as raised,
    ):
        invoke_alerter(sqs_event(sqs_record(sample_job().to_message())))

    # then the invocation fails (Lambda Errors, AlertErrorsAlarm) with one log line naming the variable
    assert "OPENSEARCH_ENDPOINT" in str(raised.value)
    [line] = [line for line in powertools_logs.records if line["level"] == "ERROR"]
    assert "OPENSEARCH_ENDPOINT" in line["reason"]


def test_credentials_in_a_malformed_opensearch_endpoint_are_never_repeated(
    monkeypatch: pytest.MonkeyPatch, powertools_logs: CapturedLogs
) -> None:
    # given OPENSEARCH_ENDPOINT with credentials in it (the shared SettingsError repeats a rejected value)
    endpoint = "https://admin:s3cret-Pa55@search.example.com"
    # when the function is invoked
    with (
        alert_world(monkeypatch, OPENSEARCH_ENDPOINT=endpoint),
        pytest.raises(SettingsError, match="OPENSEARCH_ENDPOINT") as raised,
    ):
        invoke_alerter(sqs_event(sqs_record(sample_job().to_message())))

    # then neither the error nor the log line carries the password
    [line] = [line for line in powertools_logs.records if line["level"] == "ERROR"]
    assert "OPENSEARCH_ENDPOINT" in line["reason"]
    assert "s3cret-Pa55" not in str(raised.value)
    assert "s3cret-Pa55" not in powertools_logs.text


# Class 8: hostile or wrong input


def test_a_job_carrying_another_alerts_id_is_dead_lettered_and_touches_nothing(world: AlertWorld) -> None:
    # given a job for one frame that names the alert id of another camera's alert
    other_stream = sample_job().kvs_stream_arn.replace(SEOUL_LOBBY.camera_id, "oslo-dock-02")
    other = sample_job(camera_id="oslo-dock-02", kvs_stream_arn=other_stream)
    forged = sample_job(alert_id=other.alert_id)
    world.send_job(forged.to_message())

    # when it is handled
    _, response = world.deliver()

    # then nothing is published, indexed or recorded for that alert; the job is in the DLQ with the reason
    assert failed_ids(response) == []
    assert world.notifications() == []
    assert world.receive(world.index_queue_url) == []
    item = world.dynamodb.get_item(TableName=DEDUP_TABLE, Key={"pk": {"S": f"alert#{other.alert_id}"}})
    assert "Item" not in item
    [dead] = world.dead_letters()
    assert dead["Body"] == forged.to_message()
    assert reason(dead) == "alert job does not add up: alert_id is not the id of this job's frame and face"


def test_a_camera_name_with_a_line_break_cannot_add_a_line_to_the_email(world: AlertWorld) -> None:
    # given a registry entry whose display name smuggles a second "Clip:" line with another URL
    world.dynamodb.put_item(
        TableName=CAMERA_TABLE,
        Item={
            "camera_id": {"S": SEOUL_LOBBY.camera_id},
            "display_name": {"S": "Lobby\nClip:       https://evil.example/clip.mp4"},
            "site": {"S": "SEOUL"},
        },
    )
    world.send_job(sample_job().to_message())

    # when the alert goes out
    world.deliver()

    # then each email has exactly one Clip line, the real one, and no trace of the other URL
    for published in published_messages(ACCOUNT_ID, REGION, world.topic_arn):
        email = json.loads(published.message)["email"]
        clip_lines = [line for line in email.splitlines() if line.startswith("Clip:")]
        assert len(clip_lines) == 1
        assert "evil.example" not in email


def test_a_job_failing_on_every_receive_is_dead_lettered_on_the_last_with_its_reason(
    world: AlertWorld, faults: SdkFaults
) -> None:
    # given the ledger's table refuses the alerter on every call
    faults.throttle("GetItem", code="AccessDeniedException", status=400)
    job = sample_job()
    world.send_job(job.to_message())

    # when SQS delivers the job until it is gone from the queue
    receives = 0
    for _ in range(MAX_RECEIVE_COUNT + 2):
        messages, response = world.deliver()
        if not messages:
            break
        receives += 1
        world.expire_visibility([message for message in messages if message["MessageId"] in failed_ids(response)])

    # then on its last receive the alerter dead-lettered it, whole, with why (not SQS, which says nothing)
    assert receives == MAX_RECEIVE_COUNT
    [dead] = world.dead_letters()
    assert dead["Body"] == job.to_message()
    assert reason(dead).startswith(f"failed on its last receive ({MAX_RECEIVE_COUNT}) with AccessDeniedException")
    assert dead["MessageAttributes"]["error_code"]["StringValue"] == "AccessDeniedException"
