"""Site privacy profiles: what a site may match, how long each artefact may be kept, on what basis a
person may be enrolled, and what the site's notice must say.

A profile is a set of defaults and limits chosen for a jurisdiction (the law behind each figure is
summarised in docs/privacy.md). Where the law gives no certain figure (GDPR's storage limitation names no
number of days), the limit says so (`certain=False`) and the operator must confirm it when assigning the
profile to a site (`facewatch compliance site set --confirm`).

Pure: no AWS, no clock, no environment.
"""

from __future__ import annotations

import enum
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from facewatch.domain.policy import AfterHoursRule, SitePolicy


class Artefact(enum.StrEnum):
    """Everything facewatch keeps that can show or point to a person, each with its own retention."""

    VIDEO = "video"  # Kinesis video stream retention (the source of clips and frames)
    CLIPS = "clips"  # clips/ in the clip bucket
    SNAPSHOTS = "snapshots"  # snapshots/ (frame with box, face crop) in the clip bucket
    QUARANTINE = "quarantine"  # rejected input records, kept for inspection
    ALERT_RECORDS = "alert_records"  # the alert's item (DynamoDB TTL)
    DEDUP_ITEMS = "dedup_items"  # camera window items (DynamoDB TTL)
    SEARCH_INDEX = "search_index"  # OpenSearch alert documents (index lifecycle policy)
    AUDIT = "audit"  # who looked at what
    LOGS = "logs"  # CloudWatch log groups
    ENROLMENT = "enrolment"  # an enrolled person's faces, counted from their last refresh


ARTEFACT_DESCRIPTIONS: Mapping[Artefact, str] = {
    Artefact.VIDEO: "camera video in Kinesis Video Streams",
    Artefact.CLIPS: "alert clips (S3, clips/)",
    Artefact.SNAPSHOTS: "alert frames and face crops (S3, snapshots/)",
    Artefact.QUARANTINE: "rejected input records (S3 quarantine bucket)",
    Artefact.ALERT_RECORDS: "alert records (DynamoDB, TTL)",
    Artefact.DEDUP_ITEMS: "camera dedup windows (DynamoDB, TTL)",
    Artefact.SEARCH_INDEX: "alert documents (OpenSearch, index lifecycle policy)",
    Artefact.AUDIT: "audit log of views, actions and exports",
    Artefact.LOGS: "function logs (CloudWatch Logs)",
    Artefact.ENROLMENT: "employee face vectors in the Rekognition collection",
}


class MatchingMode(enum.StrEnum):
    """What a site may match faces for, from the most to the least permissive."""

    UNKNOWN_FACES = "unknown-faces"  # alert on strangers (facewatch's purpose) and on watchlists
    WATCHLIST_ONLY = "watchlist-only"  # alert only on an explicit watchlist; strangers are not alerted
    OFF = "off"  # no alert of any kind from this site's cameras


_PERMISSIVENESS = {MatchingMode.OFF: 0, MatchingMode.WATCHLIST_ONLY: 1, MatchingMode.UNKNOWN_FACES: 2}


class LegalBasis(enum.StrEnum):
    CONSENT = "consent"  # needs a reference to the signed consent or release
    CONTRACT = "contract"  # employment contract or a collective agreement/national law (named in the note)
    LEGITIMATE_INTEREST = "legitimate-interest"  # needs a note: the balancing test it rests on


class PrivacyError(ValueError):
    """A profile, an assignment or a legal basis that the rules do not allow; the message says why."""


@dataclass(frozen=True, slots=True)
class RetentionLimit:
    """The longest an artefact may be kept, in days. `certain=False`: the law gives no figure; this is the
    profile's proposal, which the operator confirms or lowers."""

    days: float
    certain: bool = True
    source: str = ""


@dataclass(frozen=True, slots=True)
class PrivacyProfile:
    name: str
    title: str
    law: str
    matching: MatchingMode
    matching_certain: bool
    after_hours_employee_alerts: bool
    legal_bases: frozenset[LegalBasis]
    retention: Mapping[Artefact, RetentionLimit]
    notice_items: tuple[str, ...]
    duties: tuple[str, ...] = ()

    @property
    def uncertain(self) -> tuple[str, ...]:
        """What the operator must confirm before the profile applies to a site."""
        items = [
            f"{artefact.value} retention {limit.days:g} days ({limit.source or 'no figure in the law'})"
            for artefact, limit in self.retention.items()
            if not limit.certain
        ]
        if not self.matching_certain:
            items.append(f"matching mode {self.matching.value} (needs a documented legal basis for visitors)")
        return tuple(items)


def _limits(**days: float | tuple[float, str]) -> dict[Artefact, RetentionLimit]:
    limits: dict[Artefact, RetentionLimit] = {}
    for name, value in days.items():
        if isinstance(value, tuple):
            limits[Artefact(name)] = RetentionLimit(value[0], certain=False, source=value[1])
        else:
            limits[Artefact(name)] = RetentionLimit(value)
    return limits


_COMMON_NOTICE = (
    "purpose: alerting security staff when a person who is not an employee is on camera",
    "who is responsible (controller) and how to contact them",
    "what is kept and for how long",
    "how to exercise your rights (access, erasure, objection)",
)
_EU_NOTICE = (
    *_COMMON_NOTICE,
    "the legal basis (GDPR Art. 6 and the Art. 9(2) condition for biometric data)",
    "the right to complain to a supervisory authority",
)
_EDPB = "EDPB Guidelines 3/2019: a few days, 72 hours unless justified"

BUILTIN_PROFILES: Mapping[str, PrivacyProfile] = {
    profile.name: profile
    for profile in (
        PrivacyProfile(
            name="default",
            title="Default (no jurisdiction-specific rules)",
            law="none chosen: assign a jurisdiction's profile to every site that has one",
            matching=MatchingMode.UNKNOWN_FACES,
            matching_certain=True,
            after_hours_employee_alerts=True,
            legal_bases=frozenset(LegalBasis),
            retention=_limits(
                video=7,
                clips=30,
                snapshots=30,
                quarantine=14,
                alert_records=90,
                dedup_items=2,
                search_index=90,
                audit=730,
                logs=90,
                enrolment=1095,
            ),
            notice_items=_COMMON_NOTICE,
        ),
        PrivacyProfile(
            name="eu",
            title="European Union (GDPR, EU AI Act)",
            law="GDPR Art. 5(1)(e), 9, 13, 35; EU AI Act (remote biometric identification is high-risk)",
            matching=MatchingMode.UNKNOWN_FACES,
            matching_certain=False,
            after_hours_employee_alerts=False,
            legal_bases=frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT}),
            retention=_limits(
                video=(3, _EDPB),
                clips=(30, "kept as evidence of an incident; justify in the DPIA"),
                snapshots=(30, "kept as evidence of an incident; justify in the DPIA"),
                quarantine=7,
                alert_records=30,
                dedup_items=2,
                search_index=(30, "storage limitation, no figure in the law"),
                audit=(365, "accountability (Art. 5(2)), no figure in the law"),
                logs=30,
                enrolment=(1095, "until employment ends; no figure in the law"),
            ),
            notice_items=_EU_NOTICE,
            duties=("a DPIA before go-live (Art. 35)", "an Art. 9(2) condition for every enrolled person"),
        ),
        PrivacyProfile(
            name="uk",
            title="United Kingdom (UK GDPR, DPA 2018)",
            law="UK GDPR Art. 5(1)(e), 9, 13, 35; DPA 2018 Schedule 1",
            matching=MatchingMode.UNKNOWN_FACES,
            matching_certain=False,
            after_hours_employee_alerts=False,
            legal_bases=frozenset({LegalBasis.CONSENT, LegalBasis.CONTRACT}),
            retention=_limits(
                video=(3, "ICO video surveillance guidance: as short as the purpose allows"),
                clips=(30, "kept as evidence of an incident; justify in the DPIA"),
                snapshots=(30, "kept as evidence of an incident; justify in the DPIA"),
                quarantine=7,
                alert_records=30,
                dedup_items=2,
                search_index=(30, "storage limitation, no figure in the law"),
                audit=(365, "accountability, no figure in the law"),
                logs=30,
                enrolment=(1095, "until employment ends; no figure in the law"),
            ),
            notice_items=_EU_NOTICE,
            duties=("a DPIA before go-live", "an appropriate policy document (DPA 2018 Sch. 1)"),
        ),
        PrivacyProfile(
            name="kr",
            title="Republic of Korea (PIPA)",
            law="PIPA Art. 23 (separate consent for sensitive data), Art. 25 (CCTV signage), Art. 29 (encryption)",
            matching=MatchingMode.WATCHLIST_ONLY,
            matching_certain=False,
            after_hours_employee_alerts=False,
            legal_bases=frozenset({LegalBasis.CONSENT}),
            retention=_limits(
                video=(30, "PIPA guidance: the shortest period the purpose needs"),
                clips=(30, "the shortest period the purpose needs"),
                snapshots=(30, "the shortest period the purpose needs"),
                quarantine=7,
                alert_records=30,
                dedup_items=2,
                search_index=30,
                audit=(365, "no figure in the law"),
                logs=30,
                enrolment=(1095, "until the purpose ends"),
            ),
            notice_items=(
                *_COMMON_NOTICE,
                "purpose and place of installation (PIPA Art. 25(4))",
                "range and hours of filming (PIPA Art. 25(4))",
                "the person in charge and their contact (PIPA Art. 25(4))",
            ),
            duties=("separate consent for biometric data from every enrolled person",),
        ),
        PrivacyProfile(
            name="us-il",
            title="Illinois (BIPA)",
            law="740 ILCS 14/15: written release before collection, public retention schedule, destruction",
            matching=MatchingMode.UNKNOWN_FACES,
            matching_certain=False,
            after_hours_employee_alerts=True,
            legal_bases=frozenset({LegalBasis.CONSENT}),
            retention=_limits(
                video=7,
                clips=30,
                snapshots=30,
                quarantine=14,
                alert_records=90,
                dedup_items=2,
                search_index=90,
                audit=730,
                logs=90,
                # BIPA 15(a): destroyed when the purpose ends or 3 years after the last interaction.
                enrolment=1095,
            ),
            notice_items=(
                *_COMMON_NOTICE,
                "the written, publicly available retention schedule and destruction guidelines (BIPA 15(a))",
                "that biometric identifiers are collected, the purpose and the length of time (BIPA 15(b))",
            ),
            duties=("a written release from every enrolled person before enrolment (BIPA 15(b))",),
        ),
        PrivacyProfile(
            name="us-tx",
            title="Texas (CUBI)",
            law="Tex. Bus. & Com. Code 503.001: notice and consent; destruction within a year of the purpose",
            matching=MatchingMode.UNKNOWN_FACES,
            matching_certain=False,
            after_hours_employee_alerts=True,
            legal_bases=frozenset({LegalBasis.CONSENT}),
            retention=_limits(
                video=7,
                clips=30,
                snapshots=30,
                quarantine=14,
                alert_records=90,
                dedup_items=2,
                search_index=90,
                audit=730,
                logs=90,
                enrolment=(365, "CUBI: within a reasonable time, at most a year after the purpose expires"),
            ),
            notice_items=(*_COMMON_NOTICE, "that biometric identifiers are captured, before capture (CUBI)"),
            duties=("consent from every enrolled person before capture",),
        ),
    )
}


def load_profiles(extra: Path | None = None) -> dict[str, PrivacyProfile]:
    """The built-in profiles, plus those of a JSON file (extensible: a new jurisdiction, or a company's
    stricter variant). A file's profile names what it `extends` and overrides any field."""
    profiles = dict(BUILTIN_PROFILES)
    if extra is None:
        return profiles
    try:
        document = json.loads(extra.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise PrivacyError(f"{extra}: cannot read the profiles file: {error}") from error
    entries = document.get("profiles") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise PrivacyError(f'{extra}: expected {{"profiles": [ ... ]}}')
    for position, entry in enumerate(entries, start=1):
        try:
            profile = profile_from_mapping(entry, profiles)
        except PrivacyError as error:
            raise PrivacyError(f"{extra}: profile {position}: {error}") from error
        profiles[profile.name] = profile
    return profiles


def profile_from_mapping(entry: Any, known: Mapping[str, PrivacyProfile]) -> PrivacyProfile:
    if not isinstance(entry, dict) or not isinstance(entry.get("name"), str) or not entry["name"]:
        raise PrivacyError("a profile needs a non-empty 'name'")
    base_name = entry.get("extends", "default")
    base = known.get(base_name)
    if base is None:
        raise PrivacyError(f"extends unknown profile {base_name!r}")
    retention = dict(base.retention)
    for name, value in (entry.get("retention_days") or {}).items():
        try:
            artefact = Artefact(name)
        except ValueError as error:
            raise PrivacyError(f"unknown artefact {name!r} (one of {', '.join(a.value for a in Artefact)})") from error
        if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
            raise PrivacyError(f"retention_days.{name} must be a positive number of days")
        retention[artefact] = RetentionLimit(float(value), certain=bool(entry.get("certain", True)))
    try:
        matching = MatchingMode(entry.get("matching", base.matching))
        bases = frozenset(LegalBasis(b) for b in entry.get("legal_bases", base.legal_bases))
    except ValueError as error:
        raise PrivacyError(str(error)) from error
    return PrivacyProfile(
        name=entry["name"],
        title=str(entry.get("title", entry["name"])),
        law=str(entry.get("law", base.law)),
        matching=matching,
        matching_certain=bool(entry.get("certain", base.matching_certain)),
        after_hours_employee_alerts=bool(entry.get("after_hours_employee_alerts", base.after_hours_employee_alerts)),
        legal_bases=bases,
        retention=retention,
        notice_items=tuple(entry.get("notice_items", base.notice_items)),
        duties=tuple(entry.get("duties", base.duties)),
    )


@dataclass(frozen=True, slots=True)
class SiteAssignment:
    """A site's profile, the matching mode chosen within it, and who confirmed the uncertain figures."""

    site: str
    profile: str
    matching: MatchingMode
    confirmed_by: str | None = None
    confirmed_at: str | None = None


def assign(
    site: str, profile: PrivacyProfile, *, matching: MatchingMode | None, confirmed_by: str | None, at: datetime
) -> SiteAssignment:
    """Checks an assignment: the matching mode may be stricter than the profile allows, never looser; a
    profile with uncertain figures needs the operator's confirmation."""
    chosen = matching or profile.matching
    if _PERMISSIVENESS[chosen] > _PERMISSIVENESS[profile.matching]:
        raise PrivacyError(
            f"profile {profile.name} allows at most matching {profile.matching.value}; {chosen.value} is not allowed"
        )
    if profile.uncertain and not confirmed_by:
        listed = "; ".join(profile.uncertain)
        raise PrivacyError(
            f"profile {profile.name} has figures the law does not fix; confirm them (--confirm): {listed}"
        )
    return SiteAssignment(
        site=site,
        profile=profile.name,
        matching=chosen,
        confirmed_by=confirmed_by if profile.uncertain else None,
        confirmed_at=at.isoformat() if profile.uncertain and confirmed_by else None,
    )


UNKNOWN_FACE_ALERT = "unknown_face"
WATCHLIST_ALERT = "watchlist_match"


def alert_allowed(matching: MatchingMode, alert_type: str) -> bool:
    """Whether a site in this matching mode may raise an alert of this type (unknown_face, watchlist_match,
    after_hours, ...). Anything that is not an explicit watchlist match counts as matching strangers."""
    if matching is MatchingMode.OFF:
        return False
    if matching is MatchingMode.WATCHLIST_ONLY:
        return alert_type == WATCHLIST_ALERT
    return True


def check_legal_basis(
    basis: LegalBasis, *, reference: str | None, note: str | None, profiles: Iterable[PrivacyProfile]
) -> None:
    """A legal basis is complete (consent has its reference; legitimate interest its note) and allowed
    by every profile in force where the person may be matched."""
    if basis is LegalBasis.CONSENT and not (reference and reference.strip()):
        raise PrivacyError("consent needs --consent-ref: where the signed consent or release is kept")
    if basis is LegalBasis.LEGITIMATE_INTEREST and not (note and note.strip()):
        raise PrivacyError("legitimate-interest needs --basis-note: the balancing test it rests on")
    refused = sorted(p.name for p in profiles if basis not in p.legal_bases)
    if refused:
        raise PrivacyError(
            f"legal basis {basis.value} is not accepted by the profile(s) in force: {', '.join(refused)}"
        )


@dataclass(frozen=True, slots=True)
class RetentionFinding:
    artefact: Artefact
    limit_days: float
    deployed_days: float | None
    profiles: tuple[str, ...]

    @property
    def message(self) -> str:
        deployed = "kept without a limit" if self.deployed_days is None else f"kept {self.deployed_days:g} days"
        return (
            f"{ARTEFACT_DESCRIPTIONS[self.artefact]}: {deployed}, over the {self.limit_days:g}-day limit of "
            f"{', '.join(self.profiles)}"
        )


def strictest_limits(profiles: Iterable[PrivacyProfile]) -> dict[Artefact, tuple[float, tuple[str, ...]]]:
    """Per artefact, the lowest limit among the profiles that share a deployment, and which set it."""
    limits: dict[Artefact, tuple[float, tuple[str, ...]]] = {}
    for profile in profiles:
        for artefact, limit in profile.retention.items():
            current = limits.get(artefact)
            if current is None or limit.days < current[0]:
                limits[artefact] = (limit.days, (profile.name,))
            elif limit.days == current[0] and profile.name not in current[1]:
                limits[artefact] = (current[0], (*current[1], profile.name))
    return limits


def retention_findings(
    deployed_days: Mapping[Artefact, float | None], profiles: Iterable[PrivacyProfile]
) -> list[RetentionFinding]:
    """Artefacts the deployment keeps longer than a profile allows (None deployed = no limit at all).
    Artefacts absent from `deployed_days` are not deployed (for example no search domain) and pass."""
    findings = []
    for artefact, (limit, names) in sorted(strictest_limits(profiles).items()):
        if artefact not in deployed_days:
            continue
        deployed = deployed_days[artefact]
        if deployed is None or deployed > limit:
            findings.append(RetentionFinding(artefact, limit, deployed, names))
    return findings


# The stack parameter that sets each artefact's retention, and its unit in days. Artefacts without one are
# fixed by the code (TTL of alert and window items) or by the operator (enrolment refreshes).
RETENTION_PARAMETERS: Mapping[Artefact, tuple[str, float]] = {
    Artefact.VIDEO: ("CameraVideoRetentionHours", 1 / 24),
    Artefact.CLIPS: ("ClipRetentionDays", 1),
    Artefact.SNAPSHOTS: ("SnapshotRetentionDays", 1),
    Artefact.QUARANTINE: ("QuarantineRetentionDays", 1),
    Artefact.SEARCH_INDEX: ("SearchIndexRetentionDays", 1),
    Artefact.AUDIT: ("AuditRetentionDays", 1),
    Artefact.LOGS: ("LogRetentionDays", 1),
}
# CloudWatch Logs accepts only these retention periods (days).
LOG_RETENTION_DAYS = (
    1,
    3,
    5,
    7,
    14,
    30,
    60,
    90,
    120,
    150,
    180,
    365,
    400,
    545,
    731,
    1096,
    1827,
    2192,
    2557,
    2922,
    3288,
    3653,
)


def parameter_overrides(profiles: Iterable[PrivacyProfile], declared: Iterable[str]) -> dict[str, str]:
    """The stack parameters that keep every artefact within the strictest of `profiles`, for those of
    RETENTION_PARAMETERS the template declares (`sam deploy --parameter-overrides`)."""
    names = set(declared)
    overrides: dict[str, str] = {}
    for artefact, (days, _) in strictest_limits(profiles).items():
        if artefact not in RETENTION_PARAMETERS or RETENTION_PARAMETERS[artefact][0] not in names:
            continue
        parameter, days_per_unit = RETENTION_PARAMETERS[artefact]
        if artefact is Artefact.LOGS:
            value = max((d for d in LOG_RETENTION_DAYS if d <= days), default=LOG_RETENTION_DAYS[0])
        else:
            value = int(days / days_per_unit)
        overrides[parameter] = str(value)
    return overrides


@dataclass(frozen=True, slots=True)
class DeploymentFacts:
    """What a notice says about the deployment, read from the stack by the CLI."""

    controller_contact: str
    retention_days: Mapping[Artefact, float | None] = field(default_factory=dict)
    cameras: tuple[str, ...] = ()


def render_notice(assignment: SiteAssignment, profile: PrivacyProfile, facts: DeploymentFacts) -> str:
    """The site's signage / privacy notice text, from its profile and the deployed settings."""
    lines = [
        "FACE RECOGNITION IN USE",
        "",
        f"Site: {assignment.site}",
        "Purpose: cameras at this site compare faces with the faces of enrolled employees, to alert security "
        "staff when a person who is not an employee is present.",
    ]
    if assignment.matching is MatchingMode.WATCHLIST_ONLY:
        lines[-1] = (
            "Purpose: cameras at this site compare faces only with a list of named persons (watchlist); "
            "visitors are not identified and not recorded unless they are on that list."
        )
    elif assignment.matching is MatchingMode.OFF:
        lines[-1] = "Purpose: face matching is switched off at this site; cameras record video only."
    if facts.cameras:
        lines.append(f"Cameras: {', '.join(facts.cameras)}")
    lines.append(f"Controller and contact: {facts.controller_contact}")
    lines.append("What is kept, and for how long:")
    for artefact in (Artefact.VIDEO, Artefact.CLIPS, Artefact.SNAPSHOTS, Artefact.SEARCH_INDEX, Artefact.AUDIT):
        if artefact in facts.retention_days:
            days = facts.retention_days[artefact]
            kept = "until deleted by an operator" if days is None else f"{days:g} days"
            lines.append(f"  - {ARTEFACT_DESCRIPTIONS[artefact]}: {kept}")
    lines.append("Faces of people who are not employees are not added to any gallery.")
    lines.append(f"Rules applied: {profile.title} ({profile.law}).")
    lines.append("This notice must also state:")
    lines.extend(f"  - {item}" for item in profile.notice_items)
    return "\n".join(lines)


def policy_conflicts(policy: SitePolicy, assignment: SiteAssignment, profile: PrivacyProfile) -> list[str]:
    """What in a site's alert policy its privacy profile and matching mode do not allow (enabled rules only):
    no rule at all where matching is off; only watchlist rules where it is watchlist-only; no after-hours
    rule that alerts on employees where the profile forbids it."""
    problems = []
    for rule in policy.rules:
        if not rule.enabled:
            continue
        if assignment.matching is MatchingMode.OFF:
            problems.append(f"rule {rule.id}: matching is off at site {assignment.site}")
        elif assignment.matching is MatchingMode.WATCHLIST_ONLY and rule.type != "watchlist":
            problems.append(f"rule {rule.id} ({rule.type}): site {assignment.site} matches watchlists only")
        elif isinstance(rule, AfterHoursRule) and rule.include_employees and not profile.after_hours_employee_alerts:
            problems.append(
                f"rule {rule.id}: profile {profile.name} does not allow after-hours alerts on employees "
                "(set include_employees: false)"
            )
    return problems
