"""`facewatch policy validate|apply|show|versions`: a site's alert policy, as a JSON file, versioned in PolicyTable.

`validate` reads the file only (no AWS call); `apply` stores it as the site's next version and makes it
current (the detector picks it up within 30 s); `show` prints the current document; `versions` lists them all.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pydantic import ValidationError

from facewatch.adapters.policy_store import PolicyConflictError
from facewatch.adapters.privacy_records import PrivacyRecords
from facewatch.domain.policy import SitePolicy
from facewatch.domain.privacy import load_profiles, policy_conflicts
from facewatch_cli import clients, output, policy_table, retention, stack_outputs
from facewatch_cli.main import CommandError

MAX_POLICY_FILE_BYTES = 256 * 1024


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("policy", help="alert policies per site: validate, apply, show, versions")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    validate = commands.add_parser("validate", help="check a policy file (no AWS call)")
    validate.add_argument("file", type=Path, metavar="FILE", help="the site's policy, JSON (docs/policies.md)")
    validate.set_defaults(run=validate_policy)

    apply = commands.add_parser("apply", help="store a policy file as its site's next version and make it current")
    apply.add_argument("file", type=Path, metavar="FILE")
    apply.add_argument("--note", default="", help="why this change (kept with the version and in the audit trail)")
    policy_table.add_arguments(apply, retention.PRIVACY_TABLE)
    apply.set_defaults(run=apply_policy)

    show = commands.add_parser("show", help="print the current policy of a site (or every site)")
    show.add_argument("site", nargs="?", metavar="SITE")
    policy_table.add_arguments(show, changes=False)
    show.set_defaults(run=show_policy)

    versions = commands.add_parser("versions", help="every version of a site's policy, newest last")
    versions.add_argument("site", metavar="SITE")
    versions.add_argument("--show", type=int, metavar="N", help="print version N's document")
    policy_table.add_arguments(versions, changes=False)
    versions.set_defaults(run=list_versions)


def read_policy(path: Path) -> SitePolicy:
    try:
        if path.stat().st_size > MAX_POLICY_FILE_BYTES:
            raise CommandError(f"{path}: over {MAX_POLICY_FILE_BYTES // 1024} KiB; is it a policy file?")
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandError(f"{path}: {error.strerror}") from error
    try:
        return SitePolicy.model_validate_json(text)
    except ValidationError as error:
        problems = [
            f"  {'.'.join(str(part) for part in detail['loc']) or '(file)'}: {detail['msg']}"
            for detail in error.errors(include_url=False, include_input=False)
        ]
        raise CommandError(f"{path} is not a valid policy:\n" + "\n".join(problems)) from None


def summary(policy: SitePolicy) -> list[str]:
    lines = [f"site {policy.site} ({policy.timezone}): {len(policy.cameras)} camera(s), {len(policy.rules)} rule(s)"]
    for rule in policy.rules:
        state = "on" if rule.enabled else "off"
        armed = "always" if rule.schedule is None else f"{len(rule.schedule.windows)} window(s)"
        scope = ", ".join(rule.cameras) or "every camera"
        lines.append(f"  {rule.id}: {rule.type} [{state}] {rule.severity}, armed {armed}, {scope}")
    if policy.caps:
        lines.append(f"  caps: a digest above {policy.caps.max_alerts} alerts in {policy.caps.per_minutes} min")
    return lines


def validate_policy(args: argparse.Namespace) -> int:
    policy = read_policy(args.file)
    print("\n".join([f"{args.file}: valid", *summary(policy)]))
    return 0


@clients.aws_errors
def apply_policy(args: argparse.Namespace) -> int:
    policy = read_policy(args.file)
    refuse_what_the_site_profile_forbids(args, policy)
    store = policy_table.store_of(args)
    now = policy_table.now()
    detail: policy_table.Detail = {"rules": len(policy.rules), "cameras": len(policy.cameras), "note": args.note}
    policy_table.audit(args, "policy.apply", f"policy/{policy.site}", detail)
    try:
        version = store.apply(policy, by=policy_table.caller(args), note=args.note, now=now)
    except PolicyConflictError as error:
        raise CommandError(str(error)) from error
    print("\n".join([f"Applied version {version} of {policy.site}'s policy.", *summary(policy)]))
    return 0


def refuse_what_the_site_profile_forbids(args: argparse.Namespace, policy: SitePolicy) -> None:
    """A policy may not enable what the site's privacy profile forbids (docs/privacy.md)."""
    table = stack_outputs.StackOutputs(args).optional(retention.PRIVACY_TABLE)
    assignment = PrivacyRecords(table, clients.dynamodb(args)).sites().get(policy.site) if table else None
    if assignment is None:
        return
    profile = load_profiles().get(assignment.profile)
    if profile is None:
        raise CommandError(f"site {policy.site} has privacy profile {assignment.profile!r}, which is not built in")
    problems = policy_conflicts(policy, assignment, profile)
    if problems:
        raise CommandError(
            f"site {policy.site}'s privacy profile ({assignment.profile}, matching {assignment.matching.value}) "
            "does not allow: " + "; ".join(problems)
        )


@clients.aws_errors
def show_policy(args: argparse.Namespace) -> int:
    stored = policy_table.store_of(args).load_current()
    sites = [args.site] if args.site else sorted(stored.policies)
    missing = [site for site in sites if site not in stored.policies]
    if missing:
        raise CommandError(f"no policy for site {missing[0]} (sites with one: {', '.join(sorted(stored.policies))})")
    documents = {
        site: {"version": stored.versions[site], "policy": json.loads(stored.policies[site].to_json())}
        for site in sites
    }
    output.print_json(documents if not args.site else documents[args.site])
    return 0


@clients.aws_errors
def list_versions(args: argparse.Namespace) -> int:
    versions = policy_table.store_of(args).versions(args.site)
    if not versions:
        raise CommandError(f"site {args.site} has no policy")
    if args.show is not None:
        chosen = [v for v in versions if v.version == args.show]
        if not chosen:
            raise CommandError(f"{args.site} has versions 1-{versions[-1].version}, not {args.show}")
        output.print_json(json.loads(chosen[0].document.to_json()))
        return 0
    rows = [[str(v.version), policy_table.when(v.applied_at), v.applied_by, v.note] for v in versions]
    print(output.table(["VERSION", "APPLIED", "BY", "NOTE"], rows))
    return 0
