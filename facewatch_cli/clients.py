"""The AWS clients the commands use, made from the CLI's session (--profile/--region), and how an AWS
failure becomes a one-line CommandError.

`client_factory` is the one seam: tests replace it to hand a command stubbed clients (botocore Stubber)
for the services moto lacks, and moto-backed ones for the rest.
"""

from __future__ import annotations

import argparse
import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

from facewatch.adapters.aws import error_code
from facewatch_cli.aws import session_for
from facewatch_cli.main import CommandError

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_iot import IoTClient
    from mypy_boto3_kinesisvideo import KinesisVideoClient
    from mypy_boto3_lambda import LambdaClient
    from mypy_boto3_rekognition import RekognitionClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

# An operator's command may wait a little longer than a Lambda function, and bulk enrolment meets
# Rekognition's per-second quotas: adaptive retries slow the caller down instead of failing photos.
CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=30, retries={"mode": "adaptive", "max_attempts": 8})


def _default_factory(args: argparse.Namespace, service_name: str) -> Any:
    try:
        return session_for(args).client(service_name, config=CLIENT_CONFIG)  # type: ignore[call-overload]
    except BotoCoreError as error:  # no Region, unknown profile
        raise CommandError(describe(error)) from error


client_factory: Callable[[argparse.Namespace, str], Any] = _default_factory


def cloudformation(args: argparse.Namespace) -> CloudFormationClient:
    return client_factory(args, "cloudformation")  # type: ignore[no-any-return]


def cloudwatch(args: argparse.Namespace) -> CloudWatchClient:
    return client_factory(args, "cloudwatch")  # type: ignore[no-any-return]


def dynamodb(args: argparse.Namespace) -> DynamoDBClient:
    return client_factory(args, "dynamodb")  # type: ignore[no-any-return]


def iot(args: argparse.Namespace) -> IoTClient:
    return client_factory(args, "iot")  # type: ignore[no-any-return]


def kinesisvideo(args: argparse.Namespace) -> KinesisVideoClient:
    return client_factory(args, "kinesisvideo")  # type: ignore[no-any-return]


def lambda_(args: argparse.Namespace) -> LambdaClient:
    return client_factory(args, "lambda")  # type: ignore[no-any-return]


def rekognition(args: argparse.Namespace) -> RekognitionClient:
    return client_factory(args, "rekognition")  # type: ignore[no-any-return]


def s3(args: argparse.Namespace) -> S3Client:
    return client_factory(args, "s3")  # type: ignore[no-any-return]


def secretsmanager(args: argparse.Namespace) -> SecretsManagerClient:
    return client_factory(args, "secretsmanager")  # type: ignore[no-any-return]


def ssm(args: argparse.Namespace) -> SSMClient:
    return client_factory(args, "ssm")  # type: ignore[no-any-return]


def sts(args: argparse.Namespace) -> STSClient:
    return client_factory(args, "sts")  # type: ignore[no-any-return]


def describe(error: Exception) -> str:
    """One line an operator can act on: the AWS error code and message, or the SDK's own complaint."""
    if isinstance(error, ClientError):
        message = error.response.get("Error", {}).get("Message", "")
        operation = getattr(error, "operation_name", "AWS call")
        return f"{operation} failed: {error_code(error)}: {message}".rstrip(": ")
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found (set AWS_PROFILE or use --profile, or log in with `aws sso login`)"
    if isinstance(error, NoRegionError):
        return "no AWS Region configured (use --region or set AWS_REGION)"
    return str(error)


def aws_errors[**P, R](command: Callable[P, R]) -> Callable[P, R]:
    """A command (or a step of one) whose AWS failures end it with one line and exit code 1, no traceback."""

    @functools.wraps(command)
    def run(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return command(*args, **kwargs)
        except (ClientError, BotoCoreError) as error:
            raise CommandError(describe(error)) from error

    return run
