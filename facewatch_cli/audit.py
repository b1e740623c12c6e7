"""`facewatch audit export`: the audit log (who signed in, viewed, minted a media link, acted, exported)
for the compliance team, as JSON lines or CSV. The export itself is audited: an `audit.export` entry with
the caller's identity and the range exported is appended before anything is printed."""

from __future__ import annotations

import argparse
import csv
import io
import json
import socket
import sys
from datetime import UTC, datetime, timedelta

from facewatch.adapters.audit_log import AuditLog, AuditWriteError
from facewatch.domain.audit import AuditAction, AuditEntry
from facewatch_cli import clients, stack_outputs
from facewatch_cli.main import CommandError
from facewatch_cli.stack_outputs import StackOutputs, StackResource

AUDIT_BUCKET = StackResource("--bucket", "AuditBucketName", "the audit log bucket (AuditBucket)")
CSV_COLUMNS = ("at", "actor", "action", "target", "source_ip", "detail", "entry_id")
_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def moment(value: str, now: datetime | None = None) -> datetime:
    """A duration back from now (30m, 24h, 7d, 2w) or an ISO 8601 time (UTC if it names no zone)."""
    text = value.strip()
    if len(text) > 1 and text[-1] in _UNITS and text[:-1].isdigit():
        return (now or datetime.now(UTC)) - timedelta(**{_UNITS[text[-1]]: int(text[:-1])})
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a duration (30m, 24h, 7d) nor an ISO 8601 time"
        ) from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("audit", help="the audit log of the console and the CLI")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    export = commands.add_parser(
        "export",
        help="audit entries in a time range, oldest first",
        description="Audit entries with SINCE <= time < UNTIL, oldest first. The export is itself audited.",
    )
    stack_outputs.add_arguments(export, AUDIT_BUCKET)
    export.add_argument("--since", type=moment, required=True, help="a duration back from now (24h, 7d) or an ISO time")
    export.add_argument("--until", type=moment, help="a duration back from now or an ISO time (default: now)")
    export.add_argument("--format", choices=("jsonl", "csv"), default="jsonl", help="output format (default: jsonl)")
    export.add_argument("--output", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(run=export_audit)


def render_csv(entries: list[AuditEntry]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for entry in entries:
        writer.writerow(
            [
                entry.at.isoformat(timespec="microseconds"),
                entry.actor,
                entry.action,
                entry.target,
                entry.source_ip,
                json.dumps(entry.detail, sort_keys=True),
                entry.entry_id,
            ]
        )
    return buffer.getvalue()


@clients.aws_errors
def _caller(args: argparse.Namespace) -> str:
    return clients.sts(args).get_caller_identity()["Arn"]


@clients.aws_errors
def export_audit(args: argparse.Namespace) -> int:
    now = datetime.now(UTC)
    # Without --until the export ends just after its own entry, which it then lists last.
    until: datetime = args.until or now + timedelta(microseconds=1)
    if args.since >= until:
        raise CommandError("--since must be before --until")
    log = AuditLog(StackOutputs(args).require(AUDIT_BUCKET), s3=clients.s3(args))
    record = AuditEntry(
        at=now,
        actor=_caller(args),
        action=AuditAction.EXPORT,
        target="audit",
        detail={"since": args.since.isoformat(), "until": until.isoformat(), "host": socket.gethostname()},
    )
    try:
        log.append(record)
    except AuditWriteError as error:
        raise CommandError(f"the export could not be audited ({error}); nothing exported") from error
    entries = list(log.read(args.since, until))
    text = render_csv(entries) if args.format == "csv" else "".join(f"{entry.to_json()}\n" for entry in entries)
    if args.output:
        with open(args.output, "w", encoding="utf-8") as out:
            out.write(text)
    else:
        sys.stdout.write(text)
    print(f"{len(entries)} audit entr{'y' if len(entries) == 1 else 'ies'} exported.", file=sys.stderr)
    return 0
