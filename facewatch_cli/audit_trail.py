"""What the CLI records in the audit log (AuditBucket): offboarding, enrolment and other operator acts on
people. The actor is the caller's AWS identity (its ARN), as STS names it."""

from __future__ import annotations

import argparse
import socket

from facewatch.adapters.audit_log import AuditLog, AuditWriteError
from facewatch.domain.audit import AuditEntry
from facewatch_cli import clients, retention, stack_outputs
from facewatch_cli.main import CommandError

AUDIT_LOG = retention.AUDIT_BUCKET


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        AUDIT_LOG.flag, dest=AUDIT_LOG.dest, metavar="NAME", help=f"{AUDIT_LOG.what} (default: --stack's)"
    )


def actor(args: argparse.Namespace) -> str:
    return str(clients.client_factory(args, "sts").get_caller_identity()["Arn"])


def record(
    args: argparse.Namespace, *, action: str, target: str, detail: dict[str, str | int | float | bool | None]
) -> None:
    """Appends one entry; an operator act that cannot be audited is reported as a failure."""
    bucket = stack_outputs.StackOutputs(args).require(AUDIT_LOG)
    entry = AuditEntry(
        at=retention.now(),
        actor=actor(args),
        action=action,
        target=target,
        source_ip=f"cli@{socket.gethostname()}"[:64],
        detail=detail,
    )
    try:
        AuditLog(bucket, s3=clients.s3(args)).append(entry)
    except AuditWriteError as error:
        raise CommandError(f"the audit log did not take the entry for {target}: {error}") from error
