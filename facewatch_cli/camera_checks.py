"""Before a camera is registered: its Kinesis video stream and its RTSP URL secret must exist, or the
registry names a camera nobody can stream. Existence only: the secret's value is never read here."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

from facewatch.adapters.aws import error_code
from facewatch_cli import clients

if TYPE_CHECKING:
    from facewatch_cli.registry import RegisteredCamera, RtspUrlSecret

NOT_FOUND = {"ResourceNotFoundException", "ParameterNotFound"}


@clients.aws_errors
def missing_resources(args: argparse.Namespace, camera: RegisteredCamera) -> list[str]:
    """What the camera needs that does not exist, each as a sentence saying how to make it."""
    problems = []
    if not _video_stream_exists(args, camera.camera_id):
        problems.append(
            f"no Kinesis video stream {camera.camera_id}: deploy it with the stack's CameraNames, or "
            f"`aws kinesisvideo create-stream --stream-name {camera.camera_id} --data-retention-in-hours 24`"
        )
    secret = camera.rtsp_url_secret
    if secret is not None and not _secret_exists(args, secret):
        where = "Secrets Manager secret" if secret.store == "secretsmanager" else "SSM parameter"
        problems.append(f"no {where} {secret.name}: store the camera's RTSP URL there first")
    return problems


def _video_stream_exists(args: argparse.Namespace, stream_name: str) -> bool:
    try:
        clients.kinesisvideo(args).describe_stream(StreamName=stream_name)
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return False
        raise
    return True


def _secret_exists(args: argparse.Namespace, secret: RtspUrlSecret) -> bool:
    try:
        if secret.store == "secretsmanager":
            clients.secretsmanager(args).describe_secret(SecretId=secret.name)
        else:
            # Without decryption: a SecureString's value stays encrypted.
            clients.ssm(args).get_parameter(Name=secret.name, WithDecryption=False)
    except ClientError as error:
        if error_code(error) in NOT_FOUND:
            return False
        raise
    return True
