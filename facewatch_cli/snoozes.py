"""`facewatch snooze add|list|end`: pause the alerts of a camera, a zone, a site or a list, for a while.

A snooze always ends by itself (at most the policy's max_snooze_minutes, a week at the very most), shows on
every alert of its scope while it lasts, and is audited (who, why, until when) in PolicyTable.
"""

from __future__ import annotations

import argparse
import uuid

from pydantic import ValidationError

from facewatch.domain.policy import DEFAULT_MAX_SNOOZE_MINUTES, MAX_SNOOZE_MINUTES, SitePolicy
from facewatch.domain.watchlists import Snooze, SnoozeTooLongError, snooze_until
from facewatch_cli import clients, output, policy_table
from facewatch_cli.main import CommandError

SCOPES = ("camera", "zone", "site", "list")


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("snooze", help="pause alerts of a camera, zone, site or list; ends by itself")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    add = commands.add_parser("add", help="pause alerts in a scope for some minutes")
    add.add_argument("scope", choices=SCOPES)
    add.add_argument("target", metavar="TARGET", help="the camera id, zone name, site or list name")
    add.add_argument("--minutes", type=float, required=True, help="how long (at most the policy's max_snooze_minutes)")
    add.add_argument("--reason", required=True, help="why (shown on the alerts of the scope, and audited)")
    policy_table.add_arguments(add)
    add.set_defaults(run=add_snooze)

    list_ = commands.add_parser("list", help="snoozes in force")
    list_.add_argument("--json", action="store_true")
    policy_table.add_arguments(list_, changes=False)
    list_.set_defaults(run=list_snoozes)

    end = commands.add_parser("end", help="end a snooze now")
    end.add_argument("snooze_id", metavar="SNOOZE_ID")
    policy_table.add_arguments(end)
    end.set_defaults(run=end_snooze)


def max_minutes(policies: dict[str, SitePolicy], scope: str, target: str) -> int:
    """The bound that applies: the site's policy for a site or its camera, else the smallest of all policies."""
    if scope == "site" and target in policies:
        return policies[target].max_snooze_minutes
    if scope == "camera":
        for policy in policies.values():
            if target in policy.cameras:
                return policy.max_snooze_minutes
    bounds = [policy.max_snooze_minutes for policy in policies.values()]
    return min(bounds) if bounds else DEFAULT_MAX_SNOOZE_MINUTES


@clients.aws_errors
def add_snooze(args: argparse.Namespace) -> int:
    store = policy_table.store_of(args)
    now = policy_table.now()
    bound = min(max_minutes(store.load_current().policies, args.scope, args.target), MAX_SNOOZE_MINUTES)
    try:
        until = snooze_until(now, args.minutes, bound)
        snooze = Snooze(
            snooze_id=uuid.uuid4().hex[:12],
            scope=args.scope,
            target=args.target,
            starts_at=now,
            until=until,
            reason=args.reason,
            by=policy_table.caller(args),
        )
    except SnoozeTooLongError as error:
        raise CommandError(str(error)) from error
    except ValidationError as error:
        raise CommandError(f"snooze: {error.errors(include_url=False, include_input=False)[0]['msg']}") from None
    detail: policy_table.Detail = {"until": policy_table.when(until), "minutes": args.minutes, "reason": args.reason}
    policy_table.audit(args, "snooze.add", f"snooze/{args.scope}/{args.target}", detail)
    store.put_snooze(snooze)
    print(f"Snoozed {args.scope} {args.target} until {policy_table.when(until)} (id {snooze.snooze_id}).")
    return 0


@clients.aws_errors
def list_snoozes(args: argparse.Namespace) -> int:
    now = policy_table.now()
    snoozes = sorted(
        (s for s in policy_table.store_of(args).load_current().snoozes if s.active_at(now)), key=lambda s: s.until
    )
    if args.json:
        output.print_json([s.model_dump() for s in snoozes])
        return 0
    rows = [[s.snooze_id, s.scope, s.target, policy_table.when(s.until), s.by, s.reason] for s in snoozes]
    print(output.table(["ID", "SCOPE", "TARGET", "UNTIL", "BY", "REASON"], rows))
    return 0


@clients.aws_errors
def end_snooze(args: argparse.Namespace) -> int:
    store = policy_table.store_of(args)
    if not any(s.snooze_id == args.snooze_id for s in store.load_current().snoozes):
        raise CommandError(f"no snooze {args.snooze_id} (it may have ended already)")
    policy_table.audit(args, "snooze.end", f"snooze/{args.snooze_id}", {})
    try:
        store.end_snooze(args.snooze_id)
    except KeyError:
        raise CommandError(f"no snooze {args.snooze_id} (it may have ended already)") from None
    print(f"Ended snooze {args.snooze_id}.")
    return 0
