"""What the policy, watchlist and snooze commands share: PolicyTable's store and who is running them."""

from __future__ import annotations

import argparse
import time
from datetime import UTC, datetime

from facewatch.adapters.policy_store import PolicyStore
from facewatch_cli import clients, stack_outputs


def add_arguments(parser: argparse.ArgumentParser, *more: stack_outputs.StackResource) -> None:
    stack_outputs.add_arguments(parser, stack_outputs.POLICY_TABLE, *more)
    parser.add_argument("--by", help="who is acting, for the audit trail (default: the caller's AWS identity ARN)")


def store_of(args: argparse.Namespace) -> PolicyStore:
    table = stack_outputs.StackOutputs(args).require(stack_outputs.POLICY_TABLE)
    return PolicyStore(table, clients.dynamodb(args))


@clients.aws_errors
def caller(args: argparse.Namespace) -> str:
    """The audit trail's `by`: --by, else the AWS identity the command runs as."""
    if getattr(args, "by", None):
        return str(args.by)
    return clients.sts(args).get_caller_identity()["Arn"]


def now() -> float:
    return time.time()


def when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, tz=UTC).strftime("%Y-%m-%d %H:%M UTC")
