"""Data at rest is encrypted, in transit is TLS-only, and nothing is kept longer than it is needed."""

from __future__ import annotations

import json
from typing import Any

import pytest
from tests.template.reading import properties, resources_of_type

from facewatch.adapters.dedup_windows import DedupWindows
from facewatch.domain.dedup import DedupWindow

BUCKETS = ("ClipBucket", "QuarantineBucket", "AuditBucket")
TABLES = ("DedupTable", "CameraTable", "PolicyTable", "PrivacyTable", "AlertRecordTable")


def bucket_policy(template: dict[str, Any], bucket: str) -> dict[str, Any]:
    (policy,) = (
        definition["Properties"]["PolicyDocument"]
        for _, definition in resources_of_type(template, "AWS::S3::BucketPolicy")
        if definition["Properties"]["Bucket"] == {"Ref": bucket}
    )
    return policy


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_encrypts_objects_at_rest(template: dict[str, Any], bucket: str) -> None:
    # when
    (rule,) = properties(template, bucket)["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    # then
    assert rule["ServerSideEncryptionByDefault"]["SSEAlgorithm"] in ("AES256", "aws:kms")


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_blocks_every_kind_of_public_access(template: dict[str, Any], bucket: str) -> None:
    # when
    block = properties(template, bucket)["PublicAccessBlockConfiguration"]
    # then
    assert block == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_disables_acls(template: dict[str, Any], bucket: str) -> None:
    rules = properties(template, bucket)["OwnershipControls"]["Rules"]
    assert rules == [{"ObjectOwnership": "BucketOwnerEnforced"}]


@pytest.mark.parametrize("bucket", BUCKETS)
def test_bucket_refuses_requests_without_tls(template: dict[str, Any], bucket: str) -> None:
    # when
    policy = bucket_policy(template, bucket)
    # then
    denials = [
        statement
        for statement in policy["Statement"]
        if statement["Effect"] == "Deny"
        and statement["Principal"] == "*"
        and statement["Action"] in ("s3:*", ["s3:*"])
        and statement["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    ]
    assert len(denials) == 1
    assert denials[0]["Resource"] == [
        {"Fn::GetAtt": [bucket, "Arn"]},
        {"Fn::Sub": f"${{{bucket}.Arn}}/*"},
    ]


def test_clip_bucket_expires_clips_after_the_retention_parameter(template: dict[str, Any]) -> None:
    # when
    rules = properties(template, "ClipBucket")["LifecycleConfiguration"]["Rules"]
    # then
    assert {
        "Id": "ExpireClips",
        "Status": "Enabled",
        "Prefix": "clips/",
        "ExpirationInDays": {"Ref": "ClipRetentionDays"},
    } in rules
    assert template["Parameters"]["ClipRetentionDays"]["Default"] == 30


def test_quarantine_bucket_expires_everything_after_the_retention_parameter(template: dict[str, Any]) -> None:
    # when
    rules = properties(template, "QuarantineBucket")["LifecycleConfiguration"]["Rules"]
    # then
    expiring = [rule for rule in rules if "ExpirationInDays" in rule]
    assert expiring == [
        {"Id": "ExpireQuarantinedInputs", "Status": "Enabled", "ExpirationInDays": {"Ref": "QuarantineRetentionDays"}}
    ]
    assert template["Parameters"]["QuarantineRetentionDays"]["Default"] == 7


def test_clip_bucket_keeps_no_old_versions(template: dict[str, Any]) -> None:
    # given: a version would outlive the clip's expiry
    versioning = properties(template, "ClipBucket").get("VersioningConfiguration", {"Status": "Suspended"})
    # then
    assert versioning["Status"] != "Enabled"


def test_every_queue_is_encrypted_at_rest(template: dict[str, Any]) -> None:
    # when
    unencrypted = [
        logical_id
        for logical_id, queue in resources_of_type(template, "AWS::SQS::Queue")
        if queue["Properties"].get("SqsManagedSseEnabled") is not True and "KmsMasterKeyId" not in queue["Properties"]
    ]
    # then
    assert unencrypted == []


def test_alert_topic_is_encrypted_with_its_rotating_key(template: dict[str, Any]) -> None:
    # when
    topic = properties(template, "AlertTopic")
    key = properties(template, "AlertTopicKey")
    # then
    assert topic["KmsMasterKeyId"] == {"Ref": "AlertTopicKey"}
    assert key["EnableKeyRotation"] is True


def test_every_topic_is_encrypted_with_a_rotating_key_of_its_own(template: dict[str, Any]) -> None:
    # when
    keys = [topic["Properties"].get("KmsMasterKeyId") for _, topic in resources_of_type(template, "AWS::SNS::Topic")]
    # then: AlertTopic and OpsAlarmTopic at least, each with a key of the stack that rotates
    assert len(keys) >= 2
    assert len({json.dumps(key) for key in keys}) == len(keys)
    for key in keys:
        assert set(key) == {"Ref"}
        assert properties(template, key["Ref"])["EnableKeyRotation"] is True


def test_every_key_rotates(template: dict[str, Any]) -> None:
    assert all(
        key["Properties"]["EnableKeyRotation"] is True for _, key in resources_of_type(template, "AWS::KMS::Key")
    )


def test_every_data_stream_is_encrypted(template: dict[str, Any]) -> None:
    # when: FaceSearchStream, and each camera's when the stack provisions cameras
    streams = dict(resources_of_type(template, "AWS::Kinesis::Stream"))
    # then
    assert "FaceSearchStream" in streams
    for logical_id, stream in streams.items():
        assert stream["Properties"]["StreamEncryption"]["EncryptionType"] == "KMS", logical_id


def test_every_bucket_and_table_is_one_the_checks_above_cover(template: dict[str, Any]) -> None:
    # then: a new bucket or table joins BUCKETS or TABLES, and with them every check of this file
    assert {logical_id for logical_id, _ in resources_of_type(template, "AWS::S3::Bucket")} == set(BUCKETS)
    assert {logical_id for logical_id, _ in resources_of_type(template, "AWS::DynamoDB::Table")} == set(TABLES)


def test_alert_topic_key_lets_only_this_account_and_its_services_use_it(template: dict[str, Any]) -> None:
    # when
    principals = [
        statement["Principal"] for statement in properties(template, "AlertTopicKey")["KeyPolicy"]["Statement"]
    ]
    # then
    assert principals == [
        {"AWS": {"Fn::Sub": "arn:${AWS::Partition}:iam::${AWS::AccountId}:root"}},
        {"Service": ["sns.amazonaws.com", "cloudwatch.amazonaws.com"]},
    ]


@pytest.mark.parametrize("table", TABLES)
def test_table_is_encrypted_and_recoverable(template: dict[str, Any], table: str) -> None:
    # when
    table_properties = properties(template, table)
    # then
    assert table_properties["SSESpecification"] == {"SSEEnabled": True}
    assert table_properties["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
    assert table_properties["BillingMode"] == "PAY_PER_REQUEST"


def test_dedup_table_expires_window_items_by_the_attribute_the_detector_writes(template: dict[str, Any]) -> None:
    # given
    ttl = properties(template, "DedupTable")["TimeToLiveSpecification"]
    written: list[dict[str, Any]] = []

    class RecordingDynamoDB:
        def update_item(self, **request: Any) -> dict[str, Any]:
            written.append(request)
            return {}

    # when
    DedupWindows("dedup", RecordingDynamoDB()).claim(DedupWindow("lobby-01", 100.0, 160.0, "alert-1"))  # type: ignore[arg-type]
    # then
    assert ttl["Enabled"] is True
    assert f"{ttl['AttributeName']} = :expires" in written[0]["UpdateExpression"]


def test_camera_table_is_keyed_by_camera_id(template: dict[str, Any]) -> None:
    assert properties(template, "CameraTable")["KeySchema"] == [{"AttributeName": "camera_id", "KeyType": "HASH"}]


def test_policy_table_keeps_versions_and_expires_snoozes_by_the_attribute_the_store_writes(
    template: dict[str, Any],
) -> None:
    table = properties(template, "PolicyTable")
    assert table["KeySchema"] == [
        {"AttributeName": "pk", "KeyType": "HASH"},
        {"AttributeName": "sk", "KeyType": "RANGE"},
    ]
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expires_at", "Enabled": True}
    assert template["Resources"]["PolicyTable"]["DeletionPolicy"] == "Retain"


def test_face_search_stream_is_encrypted_and_on_demand(template: dict[str, Any]) -> None:
    # when
    stream = properties(template, "FaceSearchStream")
    # then
    assert stream["StreamEncryption"] == {"EncryptionType": "KMS", "KeyId": "alias/aws/kinesis"}
    assert stream["StreamModeDetails"] == {"StreamMode": "ON_DEMAND"}


def test_search_domain_encrypts_at_rest_between_nodes_and_in_transit(template: dict[str, Any]) -> None:
    # when
    domain = properties(template, "AlertSearchDomain")
    # then
    assert domain["EncryptionAtRestOptions"] == {"Enabled": True}
    assert domain["NodeToNodeEncryptionOptions"] == {"Enabled": True}
    assert domain["DomainEndpointOptions"] == {
        "EnforceHTTPS": True,
        "TLSSecurityPolicy": "Policy-Min-TLS-1-2-2019-07",
    }


def test_search_domain_is_the_smallest_single_node(template: dict[str, Any]) -> None:
    # when
    domain = properties(template, "AlertSearchDomain")
    # then
    assert domain["DomainName"] == {"Ref": "OpenSearchDomainName"}
    assert domain["ClusterConfig"]["InstanceType"] == "t3.small.search"
    assert domain["ClusterConfig"]["InstanceCount"] == 1
    assert domain["EBSOptions"] == {"EBSEnabled": True, "VolumeType": "gp3", "VolumeSize": 10}


@pytest.mark.parametrize("function", ["DetectorFunction", "AlertFunction"])
def test_function_logs_to_its_own_group_with_the_retention_parameter(template: dict[str, Any], function: str) -> None:
    # when
    log_group = properties(template, function)["LoggingConfig"]["LogGroup"]
    # then
    assert log_group == {"Ref": f"{function}LogGroup"}
    assert properties(template, f"{function}LogGroup")["RetentionInDays"] == {"Ref": "LogRetentionDays"}
