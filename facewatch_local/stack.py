"""An emulated "deploy" of template.yaml: the stack's data resources, created where a boto3 session points.

That is moto's in-process `mock_aws`, or a `ThreadedMotoServer` reached through AWS_ENDPOINT_URL. Every
setting a handler can observe (key schemas, TTL attribute, queue visibility timeout, delay and redrive,
bucket encryption and public access block) is read from the template, so the local demo and the
integration tests break when the template and the code disagree. Only what the handlers use is
created: no functions, roles, keys, log groups or search domain.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import boto3

from facewatch_local.cfn import (
    TEMPLATE_PATH,
    PhysicalResource,
    Resolver,
    TemplateError,
    function_environment,
    load_template,
    prop,
    resolve_parameters,
    resource,
)

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_sns import SNSClient
    from mypy_boto3_sqs import SQSClient

__all__ = ["TEMPLATE_PATH", "EmulatedStack", "TemplateError", "deploy_emulated_stack", "load_template"]

# Bucket names are the strictest of the names derived from the prefix.
_NAME_PREFIX = re.compile(r"^[a-z0-9][a-z0-9-]{0,40}$")

# The emulation has no OpenSearch domain: its endpoint resolves to "" (indexing off) unless the
# OpenSearchEndpoint parameter names one.
_NOT_EMULATED: Final = {
    "AlertSearchDomain": PhysicalResource(ref="", attributes={"DomainEndpoint": ""}),
}

# CloudFormation AWS::SQS::Queue properties that are queue attributes of the same name.
_QUEUE_ATTRIBUTES: Final = (
    "DelaySeconds",
    "MaximumMessageSize",
    "MessageRetentionPeriod",
    "ReceiveMessageWaitTimeSeconds",
    "SqsManagedSseEnabled",
    "VisibilityTimeout",
)


@dataclass(frozen=True)
class EmulatedStack:
    region: str
    face_search_stream_name: str
    face_search_stream_arn: str
    dedup_table_name: str
    camera_table_name: str
    alert_queue_url: str
    alert_dead_letter_queue_url: str
    index_queue_url: str
    index_dead_letter_queue_url: str
    detector_dead_letter_queue_url: str
    clip_bucket_name: str
    quarantine_bucket_name: str
    alert_topic_arn: str
    _detector_env: Mapping[str, str] = field(repr=False, compare=False)
    _alert_env: Mapping[str, str] = field(repr=False, compare=False)

    def detector_env(self) -> dict[str, str]:
        """DetectorFunction's environment (Globals merged, plus AWS_REGION), resolved against this stack."""
        return dict(self._detector_env)

    def alert_env(self) -> dict[str, str]:
        """AlertFunction's environment (Globals merged, plus AWS_REGION), resolved against this stack."""
        return dict(self._alert_env)


@dataclass(frozen=True)
class _Clients:
    kinesis: KinesisClient
    dynamodb: DynamoDBClient
    sqs: SQSClient
    s3: S3Client
    sns: SNSClient
    region: str


_Creator = Callable[[_Clients, Resolver, str, str, Mapping[str, Any]], PhysicalResource]


def deploy_emulated_stack(
    session: boto3.session.Session,
    *,
    name_prefix: str = "facewatch",
    parameter_overrides: Mapping[str, str] | None = None,
    template_path: Path = TEMPLATE_PATH,
) -> EmulatedStack:
    """Creates the stack's data resources, named `<name_prefix>-...`, with the template's settings."""
    if not _NAME_PREFIX.match(name_prefix):
        raise ValueError(f"name_prefix {name_prefix!r} must be lowercase letters, digits and dashes")
    region = session.region_name
    if not region:
        raise ValueError("the session has no region")
    template = load_template(template_path, parameter_overrides)
    parameters = resolve_parameters(template, parameter_overrides)
    account_id = session.client("sts").get_caller_identity()["Account"]
    resolver = Resolver(
        template,
        parameters,
        pseudo_parameters={
            "AWS::Region": region,
            "AWS::AccountId": account_id,
            "AWS::Partition": "aws",
            "AWS::StackName": name_prefix,
            "AWS::URLSuffix": "amazonaws.com",
        },
        resources=_NOT_EMULATED,
    )
    clients = _Clients(
        kinesis=session.client("kinesis"),
        dynamodb=session.client("dynamodb"),
        sqs=session.client("sqs"),
        s3=session.client("s3"),
        sns=session.client("sns"),
        region=region,
    )
    # In dependency order: a queue's redrive policy names its dead-letter queue's ARN.
    creators: tuple[tuple[str, str, str, _Creator], ...] = (
        ("FaceSearchStream", "AWS::Kinesis::Stream", "face-search", _create_stream),
        ("DedupTable", "AWS::DynamoDB::Table", "dedup", _create_table),
        ("CameraTable", "AWS::DynamoDB::Table", "cameras", _create_table),
        ("DetectorDeadLetterQueue", "AWS::SQS::Queue", "detector-dlq", _create_queue),
        ("AlertDeadLetterQueue", "AWS::SQS::Queue", "alerts-dlq", _create_queue),
        ("AlertQueue", "AWS::SQS::Queue", "alerts", _create_queue),
        ("IndexDeadLetterQueue", "AWS::SQS::Queue", "index-dlq", _create_queue),
        ("IndexQueue", "AWS::SQS::Queue", "index", _create_queue),
        ("ClipBucket", "AWS::S3::Bucket", "clips", _create_bucket),
        ("QuarantineBucket", "AWS::S3::Bucket", "quarantine", _create_bucket),
        ("AlertTopic", "AWS::SNS::Topic", "alerts", _create_topic),
    )
    for logical_id, resource_type, suffix, create in creators:
        definition = resource(template, logical_id, resource_type)
        if resolver.is_created(logical_id):
            name = f"{name_prefix}-{suffix}"
            resolver.resources[logical_id] = create(clients, resolver, logical_id, name, definition)

    # The stream the detector consumes: FaceSearchStream, or the one ExistingFaceSearchStreamArn names.
    stream_arn = resolver.resolve_string(prop(_kinesis_event(template), "DetectorFunction Kinesis event", "Stream"))
    created = resolver.resources
    return EmulatedStack(
        region=region,
        face_search_stream_name=stream_arn.rsplit("/", 1)[-1],
        face_search_stream_arn=stream_arn,
        dedup_table_name=created["DedupTable"].ref,
        camera_table_name=created["CameraTable"].ref,
        alert_queue_url=created["AlertQueue"].ref,
        alert_dead_letter_queue_url=created["AlertDeadLetterQueue"].ref,
        index_queue_url=created["IndexQueue"].ref,
        index_dead_letter_queue_url=created["IndexDeadLetterQueue"].ref,
        detector_dead_letter_queue_url=created["DetectorDeadLetterQueue"].ref,
        clip_bucket_name=created["ClipBucket"].ref,
        quarantine_bucket_name=created["QuarantineBucket"].ref,
        alert_topic_arn=created["AlertTopic"].ref,
        _detector_env=_environment(template, resolver, "DetectorFunction", region),
        _alert_env=_environment(template, resolver, "AlertFunction", region),
    )


def _kinesis_event(template: Mapping[str, Any]) -> Mapping[str, Any]:
    events = resource(template, "DetectorFunction", "AWS::Serverless::Function").get("Properties", {}).get("Events", {})
    kinesis = [event for event in events.values() if event.get("Type") == "Kinesis"]
    if len(kinesis) != 1:
        raise TemplateError(f"DetectorFunction has {len(kinesis)} Kinesis events, expected 1")
    return kinesis[0]  # type: ignore[no-any-return]


def _environment(template: Mapping[str, Any], resolver: Resolver, logical_id: str, region: str) -> dict[str, str]:
    # What the function sees: the template's variables plus the region variables Lambda always sets.
    variables = function_environment(template, logical_id)
    resolved = {name: resolver.resolve_string(value) for name, value in variables.items()}
    return {"AWS_REGION": region, "AWS_DEFAULT_REGION": region, **resolved}


def _create_stream(
    clients: _Clients, resolver: Resolver, logical_id: str, name: str, definition: Mapping[str, Any]
) -> PhysicalResource:
    # One shard whatever the template's capacity mode: enough for local traffic, and easy to read back.
    clients.kinesis.create_stream(StreamName=name, ShardCount=1)
    clients.kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
    encryption = resolver.resolve(prop(definition, logical_id, "StreamEncryption"))
    clients.kinesis.start_stream_encryption(
        StreamName=name,
        EncryptionType=prop(encryption, f"{logical_id}.StreamEncryption", "EncryptionType"),
        KeyId=prop(encryption, f"{logical_id}.StreamEncryption", "KeyId"),
    )
    arn = clients.kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    return PhysicalResource(ref=name, attributes={"Arn": arn})


def _create_table(
    clients: _Clients, resolver: Resolver, logical_id: str, name: str, definition: Mapping[str, Any]
) -> PhysicalResource:
    sse = resolver.resolve(prop(definition, logical_id, "SSESpecification"))
    response = clients.dynamodb.create_table(
        TableName=name,
        KeySchema=resolver.resolve(prop(definition, logical_id, "KeySchema")),
        AttributeDefinitions=resolver.resolve(prop(definition, logical_id, "AttributeDefinitions")),
        BillingMode=resolver.resolve(prop(definition, logical_id, "BillingMode")),
        SSESpecification={"Enabled": _as_bool(prop(sse, f"{logical_id}.SSESpecification", "SSEEnabled"))},
    )
    ttl = definition.get("Properties", {}).get("TimeToLiveSpecification")
    if ttl is not None:
        ttl = resolver.resolve(ttl)
        clients.dynamodb.update_time_to_live(
            TableName=name,
            TimeToLiveSpecification={
                "AttributeName": prop(ttl, f"{logical_id}.TimeToLiveSpecification", "AttributeName"),
                "Enabled": _as_bool(prop(ttl, f"{logical_id}.TimeToLiveSpecification", "Enabled")),
            },
        )
    return PhysicalResource(ref=name, attributes={"Arn": response["TableDescription"]["TableArn"]})


def _create_queue(
    clients: _Clients, resolver: Resolver, logical_id: str, name: str, definition: Mapping[str, Any]
) -> PhysicalResource:
    properties = definition.get("Properties", {})
    attributes = {
        key: _attribute_value(resolver.resolve(properties[key])) for key in _QUEUE_ATTRIBUTES if key in properties
    }
    if "RedrivePolicy" in properties:
        redrive = resolver.resolve(properties["RedrivePolicy"])
        attributes["RedrivePolicy"] = json.dumps(
            {
                "deadLetterTargetArn": prop(redrive, f"{logical_id}.RedrivePolicy", "deadLetterTargetArn"),
                "maxReceiveCount": int(prop(redrive, f"{logical_id}.RedrivePolicy", "maxReceiveCount")),
            }
        )
    url = clients.sqs.create_queue(QueueName=name, Attributes=attributes)["QueueUrl"]  # type: ignore[arg-type]
    arn = clients.sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return PhysicalResource(ref=url, attributes={"Arn": arn})


def _create_bucket(
    clients: _Clients, resolver: Resolver, logical_id: str, name: str, definition: Mapping[str, Any]
) -> PhysicalResource:
    if clients.region == "us-east-1":
        clients.s3.create_bucket(Bucket=name)
    else:
        clients.s3.create_bucket(
            Bucket=name,
            CreateBucketConfiguration={"LocationConstraint": clients.region},  # type: ignore[typeddict-item]
        )
    encryption = resolver.resolve(prop(definition, logical_id, "BucketEncryption"))
    rules = prop(encryption, f"{logical_id}.BucketEncryption", "ServerSideEncryptionConfiguration")
    clients.s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={
            # CloudFormation's ServerSideEncryptionByDefault is the API's ApplyServerSideEncryptionByDefault.
            "Rules": [
                {
                    "ApplyServerSideEncryptionByDefault": prop(
                        rule, f"{logical_id}.BucketEncryption", "ServerSideEncryptionByDefault"
                    ),
                    "BucketKeyEnabled": _as_bool(rule.get("BucketKeyEnabled", False)),
                }
                for rule in rules
            ]
        },
    )
    public_access = resolver.resolve(prop(definition, logical_id, "PublicAccessBlockConfiguration"))
    where = f"{logical_id}.PublicAccessBlockConfiguration"
    clients.s3.put_public_access_block(
        Bucket=name,
        PublicAccessBlockConfiguration={
            "BlockPublicAcls": _as_bool(prop(public_access, where, "BlockPublicAcls")),
            "IgnorePublicAcls": _as_bool(prop(public_access, where, "IgnorePublicAcls")),
            "BlockPublicPolicy": _as_bool(prop(public_access, where, "BlockPublicPolicy")),
            "RestrictPublicBuckets": _as_bool(prop(public_access, where, "RestrictPublicBuckets")),
        },
    )
    return PhysicalResource(ref=name, attributes={"Arn": f"arn:aws:s3:::{name}"})


def _create_topic(
    clients: _Clients, resolver: Resolver, logical_id: str, name: str, definition: Mapping[str, Any]
) -> PhysicalResource:
    # The topic's KMS key is not emulated: moto does not encrypt, and the handlers never use the key.
    arn = clients.sns.create_topic(Name=name)["TopicArn"]
    return PhysicalResource(ref=arn, attributes={"TopicArn": arn})


def _as_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if str(value).lower() in ("true", "false"):
        return str(value).lower() == "true"
    raise TemplateError(f"{value!r} is not a boolean")


def _attribute_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
