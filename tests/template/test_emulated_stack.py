"""The emulated deploy: the template's data resources on moto, with the template's settings."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
import yaml
from facewatch_local.cfn import TemplateError
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack
from moto import mock_aws
from tests.template.reading import template_copy

from facewatch.config import AlertSettings, DetectorSettings

REGION = "eu-west-1"


@pytest.fixture
def session() -> Iterator[boto3.session.Session]:
    with mock_aws():
        yield boto3.session.Session(region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing")


@pytest.fixture
def stack(session: boto3.session.Session) -> EmulatedStack:
    return deploy_emulated_stack(session)


def queue_attributes(session: boto3.session.Session, url: str) -> dict[str, str]:
    return session.client("sqs").get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]


def write_template(path: Path, template: dict[str, Any]) -> Path:
    # Long-form intrinsics are plain YAML mappings, which the CloudFormation loader reads back as they are.
    path.write_text(yaml.safe_dump(template, sort_keys=False))
    return path


def test_alert_queue_redrives_to_its_dead_letter_queue_after_the_template_receive_count(
    session: boto3.session.Session, stack: EmulatedStack
) -> None:
    # when
    redrive = json.loads(queue_attributes(session, stack.alert_queue_url)["RedrivePolicy"])
    dead_letter_arn = queue_attributes(session, stack.alert_dead_letter_queue_url)["QueueArn"]
    # then
    assert redrive == {"deadLetterTargetArn": dead_letter_arn, "maxReceiveCount": 10}


def test_alert_queue_takes_visibility_and_delay_from_the_template(
    session: boto3.session.Session, stack: EmulatedStack
) -> None:
    # given
    declared = template_copy()["Resources"]["AlertQueue"]["Properties"]
    # when
    attributes = queue_attributes(session, stack.alert_queue_url)
    # then
    assert attributes["VisibilityTimeout"] == str(declared["VisibilityTimeout"])
    assert attributes["DelaySeconds"] == str(declared["DelaySeconds"])
    assert attributes["SqsManagedSseEnabled"] == "true"


def test_parameter_overrides_reach_the_resources(session: boto3.session.Session) -> None:
    # when
    stack = deploy_emulated_stack(session, parameter_overrides={"AlertMaxReceiveCount": "12"})
    # then
    assert json.loads(queue_attributes(session, stack.alert_queue_url)["RedrivePolicy"])["maxReceiveCount"] == 12


def test_dedup_table_has_the_template_key_and_ttl(session: boto3.session.Session, stack: EmulatedStack) -> None:
    # given
    dynamodb = session.client("dynamodb")
    # when
    table = dynamodb.describe_table(TableName=stack.dedup_table_name)["Table"]
    ttl = dynamodb.describe_time_to_live(TableName=stack.dedup_table_name)["TimeToLiveDescription"]
    # then
    assert table["KeySchema"] == [{"AttributeName": "pk", "KeyType": "HASH"}]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}


def test_camera_table_is_keyed_by_camera_id(session: boto3.session.Session, stack: EmulatedStack) -> None:
    table = session.client("dynamodb").describe_table(TableName=stack.camera_table_name)["Table"]
    assert table["KeySchema"] == [{"AttributeName": "camera_id", "KeyType": "HASH"}]


@pytest.mark.parametrize("bucket_field", ["clip_bucket_name", "quarantine_bucket_name"])
def test_buckets_are_encrypted_and_private(
    session: boto3.session.Session, stack: EmulatedStack, bucket_field: str
) -> None:
    # given
    s3 = session.client("s3")
    bucket = getattr(stack, bucket_field)
    # when
    (rule,) = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"]
    block = s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"]
    # then
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "AES256"
    assert set(block.values()) == {True}


def test_face_search_stream_is_encrypted_and_readable(session: boto3.session.Session, stack: EmulatedStack) -> None:
    # when
    summary = session.client("kinesis").describe_stream_summary(StreamName=stack.face_search_stream_name)
    # then
    assert summary["StreamDescriptionSummary"]["StreamARN"] == stack.face_search_stream_arn
    assert summary["StreamDescriptionSummary"]["EncryptionType"] == "KMS"


def test_only_what_the_handlers_use_is_created(session: boto3.session.Session, stack: EmulatedStack) -> None:
    # then
    assert set(session.client("sqs").list_queues()["QueueUrls"]) == {
        stack.alert_queue_url,
        stack.alert_dead_letter_queue_url,
        stack.index_queue_url,
        stack.index_dead_letter_queue_url,
        stack.detector_dead_letter_queue_url,
    }
    assert set(session.client("dynamodb").list_tables()["TableNames"]) == {
        stack.dedup_table_name,
        stack.camera_table_name,
    }
    assert {bucket["Name"] for bucket in session.client("s3").list_buckets()["Buckets"]} == {
        stack.clip_bucket_name,
        stack.quarantine_bucket_name,
    }
    assert [topic["TopicArn"] for topic in session.client("sns").list_topics()["Topics"]] == [stack.alert_topic_arn]
    assert session.client("kinesis").list_streams()["StreamNames"] == [stack.face_search_stream_name]


def test_detector_environment_parses_into_its_settings(stack: EmulatedStack) -> None:
    # when
    settings = DetectorSettings.from_environ(stack.detector_env())
    # then
    assert settings.dedup_table_name == stack.dedup_table_name
    assert settings.alert_queue_url == stack.alert_queue_url
    assert settings.quarantine_bucket_name == stack.quarantine_bucket_name
    assert settings.min_face_confidence == 90.0


def test_alert_environment_parses_into_its_settings(stack: EmulatedStack) -> None:
    # when
    settings = AlertSettings.from_environ(stack.alert_env())
    # then
    assert settings.dedup_table_name == stack.dedup_table_name
    assert settings.camera_table_name == stack.camera_table_name
    assert settings.clip_bucket_name == stack.clip_bucket_name
    assert settings.alert_topic_arn == stack.alert_topic_arn
    assert settings.alert_dead_letter_queue_url == stack.alert_dead_letter_queue_url
    assert settings.aws_region == REGION
    assert settings.opensearch_url is None


def test_environments_carry_the_template_platform_variables(stack: EmulatedStack) -> None:
    # then
    assert stack.detector_env()["POWERTOOLS_SERVICE_NAME"] == "facewatch-detector"
    assert stack.alert_env()["POWERTOOLS_SERVICE_NAME"] == "facewatch-alerter"
    assert stack.alert_env()["LOG_LEVEL"] == "INFO"


def test_setting_overrides_reach_the_environment(session: boto3.session.Session) -> None:
    # when
    stack = deploy_emulated_stack(
        session,
        parameter_overrides={"MinFaceConfidence": "75", "OpenSearchEndpoint": "http://127.0.0.1:9200"},
    )
    # then
    assert DetectorSettings.from_environ(stack.detector_env()).min_face_confidence == 75.0
    assert AlertSettings.from_environ(stack.alert_env()).opensearch_url == "http://127.0.0.1:9200"


def test_an_existing_stream_is_consumed_instead_of_creating_one(session: boto3.session.Session) -> None:
    # given
    existing = f"arn:aws:kinesis:{REGION}:123456789012:stream/lobby-faces"
    # when
    stack = deploy_emulated_stack(session, parameter_overrides={"ExistingFaceSearchStreamArn": existing})
    # then
    assert (stack.face_search_stream_name, stack.face_search_stream_arn) == ("lobby-faces", existing)
    assert session.client("kinesis").list_streams()["StreamNames"] == []


def test_prefix_names_the_resources_so_two_stacks_can_share_an_emulator(session: boto3.session.Session) -> None:
    # when
    first = deploy_emulated_stack(session, name_prefix="one")
    second = deploy_emulated_stack(session, name_prefix="two")
    # then
    assert first.dedup_table_name != second.dedup_table_name
    assert first.clip_bucket_name.startswith("one-")


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"NoSuchParameter": "1"}, "unknown parameters: NoSuchParameter"),
        ({"MinFaceConfidence": "101"}, "above its MaxValue"),
        ({"EnableRecordFilter": "yes"}, "is not one of"),
    ],
)
def test_overrides_a_deployment_would_reject_are_rejected(
    session: boto3.session.Session, overrides: dict[str, str], message: str
) -> None:
    with pytest.raises(TemplateError, match=message):
        deploy_emulated_stack(session, parameter_overrides=overrides)


def test_deploy_fails_loudly_when_the_template_lacks_a_setting_it_needs(
    session: boto3.session.Session, tmp_path: Path
) -> None:
    # given
    template = template_copy()
    del template["Resources"]["DedupTable"]["Properties"]["KeySchema"]
    # then
    with pytest.raises(TemplateError, match="DedupTable has no KeySchema"):
        deploy_emulated_stack(session, template_path=write_template(tmp_path / "template.yaml", template))


def test_deploy_fails_loudly_when_a_resource_is_missing(session: boto3.session.Session, tmp_path: Path) -> None:
    # given
    template = template_copy()
    del template["Resources"]["AlertDeadLetterQueue"]
    # then
    with pytest.raises(TemplateError, match="template has no resource AlertDeadLetterQueue"):
        deploy_emulated_stack(session, template_path=write_template(tmp_path / "template.yaml", template))


def test_deploy_follows_the_template_when_it_changes(session: boto3.session.Session, tmp_path: Path) -> None:
    # given
    template = template_copy()
    template["Resources"]["DedupTable"]["Properties"]["TimeToLiveSpecification"]["AttributeName"] = "ttl"
    # when
    stack = deploy_emulated_stack(session, template_path=write_template(tmp_path / "template.yaml", template))
    # then
    ttl = session.client("dynamodb").describe_time_to_live(TableName=stack.dedup_table_name)
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "ttl"
