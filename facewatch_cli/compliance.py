"""`facewatch compliance profiles|site|verify|notice|report`: site privacy profiles, and proof of what
the deployment keeps, for how long and on what basis."""

from __future__ import annotations

import argparse
import getpass
from collections import Counter
from pathlib import Path
from typing import Any

from facewatch.adapters.privacy_records import PrivacyRecords
from facewatch.domain.privacy import (
    ARTEFACT_DESCRIPTIONS,
    RETENTION_PARAMETERS,
    Artefact,
    DeploymentFacts,
    MatchingMode,
    PrivacyError,
    PrivacyProfile,
    SiteAssignment,
    assign,
    load_profiles,
    parameter_overrides,
    render_notice,
    retention_findings,
    strictest_limits,
)
from facewatch_cli import clients, opensearch_http, output, retention, stack_outputs
from facewatch_cli.main import CommandError

DEFAULT_PROFILE = "default"
NO_SITE = "(no site)"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser(
        "compliance", help="site privacy profiles; verify retention, render notices, report for a DPIA"
    )
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    profiles = commands.add_parser("profiles", help="the privacy profiles and their limits")
    _profile_file_argument(profiles)
    shown = profiles.add_mutually_exclusive_group()
    shown.add_argument("--json", action="store_true", help="print JSON instead of text")
    shown.add_argument("--markdown", action="store_true", help="print one comparison table (docs/privacy.md)")
    profiles.set_defaults(run=show_profiles)

    site = commands.add_parser("site", help="assign a privacy profile to a site, or list the assignments")
    site_commands = site.add_subparsers(dest="site_command", required=True, metavar="COMMAND")
    set_ = site_commands.add_parser("set", help="assign a profile (and optionally a stricter matching mode)")
    set_.add_argument("--site", required=True, help="the site, as the camera registry names it")
    set_.add_argument("--profile", required=True, help="default, eu, uk, kr, us-il, us-tx or one of --profiles-file")
    set_.add_argument(
        "--matching",
        choices=[m.value for m in MatchingMode],
        help="stricter than the profile: watchlist-only (no stranger alerts) or off (no alert at all)",
    )
    set_.add_argument(
        "--confirm",
        metavar="WHO",
        nargs="?",
        const=getpass.getuser(),
        help="confirm the profile's figures that the law does not fix (recorded with your name)",
    )
    _profile_file_argument(set_)
    stack_outputs.add_arguments(set_, retention.PRIVACY_TABLE)
    set_.set_defaults(run=set_site)
    list_ = site_commands.add_parser("list", help="sites, their profile and matching mode")
    _profile_file_argument(list_)
    stack_outputs.add_arguments(list_, retention.PRIVACY_TABLE, stack_outputs.CAMERA_TABLE)
    list_.set_defaults(run=list_sites)

    verify = commands.add_parser(
        "verify",
        help="compare the deployed retention with every site's profile; list data older than its limit",
        description="Exit code 0: every artefact within every profile's limit; 3: findings (listed).",
    )
    _deployment_arguments(verify)
    verify.set_defaults(run=verify_retention)

    parameters = commands.add_parser(
        "parameters",
        help="the stack's retention parameters that keep within the given profiles (for sam deploy)",
        description="Prints Name=Value pairs for `sam deploy --parameter-overrides`: the strictest figure of the "
        "profiles given (or, without --profile, of the profiles the sites use).",
    )
    parameters.add_argument("--profile", action="append", default=[], help="a profile (repeatable)")
    _profile_file_argument(parameters)
    stack_outputs.add_arguments(parameters, retention.PRIVACY_TABLE, stack_outputs.CAMERA_TABLE)
    parameters.set_defaults(run=retention_parameters)

    notice = commands.add_parser("notice", help="the privacy notice / signage text of a site")
    notice.add_argument("--site", required=True)
    _deployment_arguments(notice)
    notice.add_argument("--controller-contact", dest="controller_contact", help="default: the stack's output")
    notice.set_defaults(run=site_notice)

    report = commands.add_parser("report", help="what is stored where, for how long, on what basis (for a DPIA)")
    _deployment_arguments(report)
    report.add_argument("--json", action="store_true", help="print JSON instead of text")
    report.set_defaults(run=compliance_report)


def _profile_file_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profiles-file", type=Path, metavar="JSON", help='more profiles: {"profiles": [{"name": ..., ...}]}'
    )


def _deployment_arguments(parser: argparse.ArgumentParser) -> None:
    _profile_file_argument(parser)
    stack_outputs.add_arguments(parser, *retention.RESOURCES)
    parser.add_argument(
        "--endpoint", dest="endpoint", metavar="NAME", help="the OpenSearch domain (default: --stack's)"
    )
    parser.add_argument(
        "--index-prefix", type=opensearch_http.index_prefix, default=opensearch_http.DEFAULT_INDEX_PREFIX
    )


def profiles_of(args: argparse.Namespace) -> dict[str, PrivacyProfile]:
    try:
        return load_profiles(args.profiles_file)
    except PrivacyError as error:
        raise CommandError(str(error)) from error


def _profile(profiles: dict[str, PrivacyProfile], name: str) -> PrivacyProfile:
    if name not in profiles:
        raise CommandError(f"no privacy profile {name!r} (profiles: {', '.join(sorted(profiles))})")
    return profiles[name]


def _records(args: argparse.Namespace) -> PrivacyRecords:
    table = stack_outputs.StackOutputs(args).require(retention.PRIVACY_TABLE)
    return PrivacyRecords(table, clients.dynamodb(args))


def show_profiles(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    if args.json:
        output.print_json({name: _profile_json(p) for name, p in sorted(profiles.items())})
        return 0
    if args.markdown:
        print(profiles_markdown(list(profiles.values())))
        return 0
    for profile in profiles.values():
        print(f"{profile.name}: {profile.title}")
        print(f"  law: {profile.law}")
        print(
            f"  matching at most: {profile.matching.value}; after-hours employee alerts: "
            f"{'allowed' if profile.after_hours_employee_alerts else 'not allowed'}"
        )
        print(f"  legal bases: {', '.join(sorted(b.value for b in profile.legal_bases))}")
        for artefact, limit in profile.retention.items():
            mark = "" if limit.certain else f"  (to confirm: {limit.source})"
            print(f"  {artefact.value}: {limit.days:g} days{mark}")
    return 0


def profiles_markdown(profiles: list[PrivacyProfile]) -> str:
    """Retention limits in days per artefact (* = a figure the law does not fix), then the other rules."""
    lines = ["| | " + " | ".join(p.name for p in profiles) + " |", "|---|" + "---|" * len(profiles)]
    for artefact in Artefact:
        cells = [f"{p.retention[artefact].days:g}{'' if p.retention[artefact].certain else '*'}" for p in profiles]
        lines.append(f"| {ARTEFACT_DESCRIPTIONS[artefact]} (days) | " + " | ".join(cells) + " |")
    rows = {
        "matching at most": [p.matching.value + ("" if p.matching_certain else "*") for p in profiles],
        "after-hours employee alerts": ["yes" if p.after_hours_employee_alerts else "no" for p in profiles],
        "legal bases": [", ".join(sorted(b.value for b in p.legal_bases)) for p in profiles],
    }
    lines += [f"| {name} | " + " | ".join(cells) + " |" for name, cells in rows.items()]
    return "\n".join(lines)


def _profile_json(profile: PrivacyProfile) -> dict[str, Any]:
    return {
        "title": profile.title,
        "law": profile.law,
        "matching": profile.matching.value,
        "after_hours_employee_alerts": profile.after_hours_employee_alerts,
        "legal_bases": sorted(b.value for b in profile.legal_bases),
        "retention_days": {a.value: limit.days for a, limit in profile.retention.items()},
        "to_confirm": list(profile.uncertain),
        "notice_items": list(profile.notice_items),
        "duties": list(profile.duties),
    }


@clients.aws_errors
def set_site(args: argparse.Namespace) -> int:
    profile = _profile(profiles_of(args), args.profile)
    try:
        assignment = assign(
            args.site,
            profile,
            matching=MatchingMode(args.matching) if args.matching else None,
            confirmed_by=args.confirm,
            at=retention.now(),
        )
    except PrivacyError as error:
        raise CommandError(str(error)) from error
    _records(args).put_site(assignment)
    print(f"Site {assignment.site}: profile {assignment.profile}, matching {assignment.matching.value}.")
    if assignment.confirmed_by:
        print(f"Figures the law does not fix confirmed by {assignment.confirmed_by}:")
        print("\n".join(f"  - {item}" for item in profile.uncertain))
    if profile.duties:
        print("Duties facewatch cannot do for you:")
        print("\n".join(f"  - {duty}" for duty in profile.duties))
    return 0


def site_assignments(args: argparse.Namespace) -> tuple[dict[str, SiteAssignment], dict[str, str]]:
    """Every site in force: those assigned a profile and those the camera registry names (default)."""
    outputs = stack_outputs.StackOutputs(args)
    assigned = _records(args).sites()
    cameras = retention.camera_sites(args, outputs)
    sites = dict(assigned)
    for site in set(cameras.values()):
        name = site or NO_SITE
        if name not in sites:
            sites[name] = SiteAssignment(name, DEFAULT_PROFILE, MatchingMode.UNKNOWN_FACES)
    return sites, cameras


@clients.aws_errors
def list_sites(args: argparse.Namespace) -> int:
    sites, cameras = site_assignments(args)
    per_site = Counter(site or NO_SITE for site in cameras.values())
    rows = [
        [name, s.profile, s.matching.value, str(per_site.get(name, 0)), s.confirmed_by or "-"]
        for name, s in sorted(sites.items())
    ]
    print(output.table(["SITE", "PROFILE", "MATCHING", "CAMERAS", "CONFIRMED BY"], rows))
    return 0


def _profiles_in_force(args: argparse.Namespace) -> tuple[dict[str, SiteAssignment], list[PrivacyProfile]]:
    profiles = profiles_of(args)
    sites, _ = site_assignments(args)
    in_force = {s.profile for s in sites.values()} or {DEFAULT_PROFILE}
    return sites, [_profile(profiles, name) for name in sorted(in_force)]


@clients.aws_errors
def verify_retention(args: argparse.Namespace) -> int:
    outputs = stack_outputs.StackOutputs(args)
    sites, in_force = _profiles_in_force(args)
    deployed = retention.read_deployed_retention(args, outputs)
    findings = [finding.message for finding in retention_findings(deployed.days, in_force)]
    limits = {artefact: days for artefact, (days, _) in strictest_limits(in_force).items()}
    findings += [f"{ARTEFACT_DESCRIPTIONS[o.artefact]}: {o.message}" for o in retention.over_age(args, outputs, limits)]
    findings += _stale_enrolments(args, limits)
    print(f"Profiles in force: {', '.join(p.name for p in in_force)} ({len(sites)} site(s))")
    for artefact, reason in sorted(deployed.unchecked.items()):
        print(f"not checked: {ARTEFACT_DESCRIPTIONS[artefact]}: {reason}")
    if not findings:
        print("OK: every artefact is kept within every site's limit, and nothing is older than its limit.")
        return 0
    print(f"{len(findings)} finding(s):")
    print("\n".join(f"  - {finding}" for finding in findings))
    return output.EXIT_ATTENTION


def _kept(checked: bool, days: float | None) -> str:
    if not checked:
        return "not checked"
    return "no limit" if days is None else f"{days:g} d"


def _stale_enrolments(args: argparse.Namespace, limits: dict[Artefact, float]) -> list[str]:
    if Artefact.ENROLMENT not in limits:
        return []
    cutoff = retention.now().timestamp() - limits[Artefact.ENROLMENT] * retention.SECONDS_PER_DAY
    from datetime import datetime

    stale = [
        person.employee_id
        for person in _records(args).people()
        if person.active and person.refreshed_at and datetime.fromisoformat(person.refreshed_at).timestamp() < cutoff
    ]
    if not stale:
        return []
    return [
        f"{ARTEFACT_DESCRIPTIONS[Artefact.ENROLMENT]}: {len(stale)} person(s) not refreshed for over "
        f"{limits[Artefact.ENROLMENT]:g} days: {', '.join(stale[:20])}"
    ]


@clients.aws_errors
def retention_parameters(args: argparse.Namespace) -> int:
    profiles = profiles_of(args)
    if args.profile:
        chosen = [_profile(profiles, name) for name in dict.fromkeys(args.profile)]
    else:
        _, chosen = _profiles_in_force(args)
    outputs = stack_outputs.StackOutputs(args)
    declared = stack_parameter_names(args, outputs.stack_name) if outputs.stack_name else None
    names = declared if declared is not None else [name for name, _ in RETENTION_PARAMETERS.values()]
    overrides = parameter_overrides(chosen, names)
    print(" ".join(f"{name}={value}" for name, value in sorted(overrides.items())))
    return 0


@clients.aws_errors
def stack_parameter_names(args: argparse.Namespace, stack_name: str) -> list[str]:
    stacks = clients.cloudformation(args).describe_stacks(StackName=stack_name)["Stacks"]
    return [p["ParameterKey"] for p in stacks[0].get("Parameters", []) if "ParameterKey" in p]


@clients.aws_errors
def site_notice(args: argparse.Namespace) -> int:
    outputs = stack_outputs.StackOutputs(args)
    profiles = profiles_of(args)
    sites, cameras = site_assignments(args)
    assignment = sites.get(args.site)
    if assignment is None:
        raise CommandError(f"no site {args.site!r} (sites: {', '.join(sorted(sites)) or 'none'})")
    contact = outputs.optional(retention.CONTROLLER_CONTACT)
    deployed = retention.read_deployed_retention(args, outputs)
    facts = DeploymentFacts(
        controller_contact=contact or "MISSING: set the stack's PrivacyControllerContact parameter",
        retention_days=deployed.days,
        cameras=tuple(sorted(c for c, site in cameras.items() if (site or NO_SITE) == args.site)),
    )
    print(render_notice(assignment, _profile(profiles, assignment.profile), facts))
    return 0 if contact else output.EXIT_ATTENTION


@clients.aws_errors
def compliance_report(args: argparse.Namespace) -> int:
    outputs = stack_outputs.StackOutputs(args)
    sites, in_force = _profiles_in_force(args)
    deployed = retention.read_deployed_retention(args, outputs)
    limits = strictest_limits(in_force)
    people = _records(args).people()
    active = [p for p in people if p.active]
    bases = Counter(p.legal_basis.value if p.legal_basis else "none recorded" for p in active)
    stored: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for artefact in Artefact:
        kept = deployed.days.get(artefact)
        limit, set_by = limits.get(artefact, (None, ()))
        stored.append(
            {
                "artefact": artefact.value,
                "what": ARTEFACT_DESCRIPTIONS[artefact],
                "kept_days": kept,
                "checked": artefact in deployed.days,
                "limit_days": limit,
                "limit_set_by": list(set_by),
            }
        )
        shown_limit = "-" if limit is None else f"{limit:g} d ({', '.join(set_by)})"
        rows.append([ARTEFACT_DESCRIPTIONS[artefact], _kept(artefact in deployed.days, kept), shown_limit])
    report = {
        "sites": {name: {"profile": s.profile, "matching": s.matching.value} for name, s in sorted(sites.items())},
        "stored": stored,
        "enrolled_people": len(active),
        "legal_bases": dict(sorted(bases.items())),
        "offboarded_people": len(people) - len(active),
    }
    if args.json:
        output.print_json(report)
        return 0
    print("Sites:")
    for name, site in sorted(sites.items()):
        print(f"  {name}: profile {site.profile}, matching {site.matching.value}")
    print("What is stored, where, for how long:")
    print(output.table(["ARTEFACT", "KEPT", "LIMIT"], rows))
    print(f"Enrolled people: {len(active)}; on what basis: " + ", ".join(f"{k} {v}" for k, v in sorted(bases.items())))
    print(f"Offboarded (faces deleted, record of the deletion kept): {len(people) - len(active)}")
    return 0


def restricted_site_lines(args: argparse.Namespace, camera_sites: dict[str, str | None]) -> list[str]:
    """For `facewatch status`: the sites whose privacy profile limits what their cameras may alert on
    (nothing when the stack has no PrivacyTable output or no site is restricted)."""
    table = stack_outputs.StackOutputs(args).optional(retention.PRIVACY_TABLE)
    if not table:
        return []
    sites = PrivacyRecords(table, clients.dynamodb(args)).sites()
    lines = []
    for name, site in sorted(sites.items()):
        if site.matching is MatchingMode.UNKNOWN_FACES:
            continue
        cameras = sorted(camera for camera, camera_site in camera_sites.items() if camera_site == name)
        what = "no alert at all" if site.matching is MatchingMode.OFF else "watchlist alerts only, no stranger alert"
        lines.append(
            f"Site {name}: matching {site.matching.value} (privacy profile {site.profile}): {what} from "
            f"{len(cameras)} camera(s){': ' + ', '.join(cameras) if cameras else ''}."
        )
    return lines
