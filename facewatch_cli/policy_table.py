"""What the policy, watchlist and snooze commands share: PolicyTable's store, and the audit log
(facewatch_cli.audit_trail), where every change is recorded before it is made."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from facewatch.adapters.policy_store import PolicyStore
from facewatch_cli import audit_trail, clients, stack_outputs

Detail = dict[str, str | int | float | bool | None]


def add_arguments(parser: argparse.ArgumentParser, *more: stack_outputs.StackResource, changes: bool = True) -> None:
    """The table, and for a command that changes something, the audit bucket."""
    stack_outputs.add_arguments(parser, stack_outputs.POLICY_TABLE, *more)
    if changes:
        audit_trail.add_arguments(parser)


def store_of(args: argparse.Namespace) -> PolicyStore:
    table = stack_outputs.StackOutputs(args).require(stack_outputs.POLICY_TABLE)
    return PolicyStore(table, clients.dynamodb(args))


@clients.aws_errors
def caller(args: argparse.Namespace) -> str:
    """Who is acting: the AWS identity the command runs as (as the audit log names it)."""
    return audit_trail.actor(args)


def audit(args: argparse.Namespace, action: str, target: str, detail: Detail) -> None:
    """Records the change before it is made: a change that cannot be audited is not made."""
    audit_trail.record(args, action=action, target=target, detail=detail)


def now() -> float:
    return time.time()


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
