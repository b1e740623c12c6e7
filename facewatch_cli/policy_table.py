"""What the policy, watchlist and snooze commands share: PolicyTable's store, who is acting, and the audit
log (facewatch.adapters.audit_log), where every change is recorded before it is made."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from facewatch.adapters.audit_log import AuditLog, AuditWriteError
from facewatch.adapters.policy_store import PolicyStore
from facewatch.domain.audit import AuditEntry
from facewatch_cli import clients, stack_outputs
from facewatch_cli.main import CommandError

AUDIT_BUCKET = stack_outputs.StackResource("--audit-bucket", "AuditBucketName", "the audit log bucket (AuditBucket)")

Detail = dict[str, str | int | float | bool | None]


def add_arguments(parser: argparse.ArgumentParser, *more: stack_outputs.StackResource, changes: bool = True) -> None:
    """The table, and for a command that changes something, the audit bucket and --by."""
    stack_outputs.add_arguments(parser, stack_outputs.POLICY_TABLE, *((AUDIT_BUCKET,) if changes else ()), *more)
    if changes:
        parser.add_argument("--by", help="who is acting, for the audit log (default: the caller's AWS identity ARN)")


def store_of(args: argparse.Namespace) -> PolicyStore:
    table = stack_outputs.StackOutputs(args).require(stack_outputs.POLICY_TABLE)
    return PolicyStore(table, clients.dynamodb(args))


@clients.aws_errors
def caller(args: argparse.Namespace) -> str:
    """The audit log's actor: --by, else the AWS identity the command runs as."""
    if getattr(args, "by", None):
        return str(args.by)
    return clients.sts(args).get_caller_identity()["Arn"]


def audit(args: argparse.Namespace, action: str, target: str, detail: Detail, at: float) -> None:
    """Records the change before it is made: a change that cannot be audited is not made."""
    bucket = stack_outputs.StackOutputs(args).require(AUDIT_BUCKET)
    entry = AuditEntry(
        at=datetime.fromtimestamp(at, tz=UTC), actor=caller(args), action=action, target=target, detail=detail
    )
    try:
        AuditLog(bucket, s3=clients.s3(args)).append(entry)
    except AuditWriteError as error:
        raise CommandError(f"nothing changed: the audit log did not take the entry ({error})") from error


def now() -> float:
    return time.time()


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
