"""Site privacy profiles as pure decisions: assignment, matching, legal basis, retention, notices."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from facewatch.domain.index_lifecycle import index_lifecycle_policy, policy_retention_days
from facewatch.domain.privacy import (
    BUILTIN_PROFILES,
    Artefact,
    DeploymentFacts,
    LegalBasis,
    MatchingMode,
    PrivacyError,
    alert_allowed,
    assign,
    check_legal_basis,
    load_profiles,
    render_notice,
    retention_findings,
)

AT = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_every_builtin_profile_sets_a_limit_for_every_artefact() -> None:
    assert set(BUILTIN_PROFILES) == {"default", "eu", "uk", "kr", "us-il", "us-tx"}
    for profile in BUILTIN_PROFILES.values():
        assert set(profile.retention) == set(Artefact), profile.name


def test_a_profile_with_figures_the_law_does_not_fix_needs_a_confirmation() -> None:
    with pytest.raises(PrivacyError, match="confirm them"):
        assign("berlin", BUILTIN_PROFILES["eu"], matching=None, confirmed_by=None, at=AT)

    assignment = assign("berlin", BUILTIN_PROFILES["eu"], matching=None, confirmed_by="dpo@example.com", at=AT)

    assert (assignment.profile, assignment.confirmed_by, assignment.confirmed_at) == (
        "eu",
        "dpo@example.com",
        AT.isoformat(),
    )


def test_a_site_may_be_stricter_than_its_profile_never_looser() -> None:
    kr = BUILTIN_PROFILES["kr"]  # watchlist-only at most

    off = assign("seoul", kr, matching=MatchingMode.OFF, confirmed_by="ops", at=AT)

    assert off.matching is MatchingMode.OFF
    with pytest.raises(PrivacyError, match="at most matching watchlist-only"):
        assign("seoul", kr, matching=MatchingMode.UNKNOWN_FACES, confirmed_by="ops", at=AT)


@pytest.mark.parametrize(
    ("matching", "alert_type", "allowed"),
    [
        (MatchingMode.UNKNOWN_FACES, "unknown_face", True),
        (MatchingMode.UNKNOWN_FACES, "watchlist_match", True),
        (MatchingMode.WATCHLIST_ONLY, "unknown_face", False),
        (MatchingMode.WATCHLIST_ONLY, "after_hours", False),
        (MatchingMode.WATCHLIST_ONLY, "watchlist_match", True),
        (MatchingMode.OFF, "watchlist_match", False),
        (MatchingMode.OFF, "unknown_face", False),
    ],
)
def test_the_matching_mode_decides_which_alerts_a_site_may_raise(
    matching: MatchingMode, alert_type: str, allowed: bool
) -> None:
    assert alert_allowed(matching, alert_type) is allowed


def test_consent_needs_its_reference_and_legitimate_interest_its_note() -> None:
    default = [BUILTIN_PROFILES["default"]]
    with pytest.raises(PrivacyError, match="--consent-ref"):
        check_legal_basis(LegalBasis.CONSENT, reference=" ", note=None, profiles=default)
    with pytest.raises(PrivacyError, match="--basis-note"):
        check_legal_basis(LegalBasis.LEGITIMATE_INTEREST, reference=None, note=None, profiles=default)
    check_legal_basis(LegalBasis.CONSENT, reference="HR-2026-0042", note=None, profiles=default)


def test_an_illinois_site_accepts_only_a_written_release() -> None:
    profiles = [BUILTIN_PROFILES["default"], BUILTIN_PROFILES["us-il"]]

    with pytest.raises(PrivacyError, match="not accepted by the profile\\(s\\) in force: us-il"):
        check_legal_basis(LegalBasis.CONTRACT, reference=None, note="employment contract", profiles=profiles)


def test_retention_findings_use_the_strictest_profile_in_force() -> None:
    deployed: dict[Artefact, float | None] = {Artefact.CLIPS: 90.0, Artefact.QUARANTINE: 7.0, Artefact.LOGS: None}

    findings = retention_findings(deployed, [BUILTIN_PROFILES["default"], BUILTIN_PROFILES["eu"]])

    assert [(f.artefact, f.limit_days, f.profiles) for f in findings] == [
        (Artefact.CLIPS, 30.0, ("default", "eu")),
        (Artefact.LOGS, 30.0, ("eu",)),
    ]
    assert findings[1].message.startswith("function logs (CloudWatch Logs): kept without a limit")


def test_artefacts_not_deployed_are_not_findings() -> None:
    assert retention_findings({}, [BUILTIN_PROFILES["eu"]]) == []


def test_a_profiles_file_extends_a_builtin_profile(tmp_path: Path) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(
        json.dumps({"profiles": [{"name": "eu-strict", "extends": "eu", "retention_days": {"clips": 7}}]}),
        encoding="utf-8",
    )

    profiles = load_profiles(path)

    strict = profiles["eu-strict"]
    assert strict.retention[Artefact.CLIPS].days == 7
    assert strict.retention[Artefact.VIDEO] == BUILTIN_PROFILES["eu"].retention[Artefact.VIDEO]
    assert strict.legal_bases == BUILTIN_PROFILES["eu"].legal_bases


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ({"name": "x", "extends": "mars"}, "extends unknown profile 'mars'"),
        ({"name": "x", "retention_days": {"faces": 3}}, "unknown artefact 'faces'"),
        ({"name": "x", "retention_days": {"clips": -1}}, "positive number of days"),
        ({"title": "no name"}, "needs a non-empty 'name'"),
    ],
)
def test_a_bad_profiles_file_is_refused_with_the_reason(tmp_path: Path, entry: dict[str, object], message: str) -> None:
    path = tmp_path / "profiles.json"
    path.write_text(json.dumps({"profiles": [entry]}), encoding="utf-8")

    with pytest.raises(PrivacyError, match=message):
        load_profiles(path)


def test_the_notice_of_a_korean_site_carries_the_signage_fields_of_pipa() -> None:
    kr = BUILTIN_PROFILES["kr"]
    assignment = assign("seoul", kr, matching=None, confirmed_by="ops", at=AT)
    facts = DeploymentFacts(
        controller_contact="Facewatch Korea, privacy@example.kr",
        retention_days={Artefact.CLIPS: 30.0, Artefact.VIDEO: 1.0},
        cameras=("lobby-1",),
    )

    notice = render_notice(assignment, kr, facts)

    assert "compare faces only with a list of named persons" in notice
    assert "Controller and contact: Facewatch Korea, privacy@example.kr" in notice
    assert "  - alert clips (S3, clips/): 30 days" in notice
    assert "  - range and hours of filming (PIPA Art. 25(4))" in notice
    assert "Cameras: lobby-1" in notice


def test_the_index_lifecycle_policy_deletes_after_the_retention_and_reads_back() -> None:
    policy = index_lifecycle_policy("face-alerts", 45)

    assert policy["policy"]["ism_template"] == [{"index_patterns": ["face-alerts-*"], "priority": 100}]
    assert policy_retention_days(policy) == 45
    assert policy_retention_days({"policy": {"states": [{"name": "open", "transitions": []}]}}) is None


def test_an_after_hours_rule_on_employees_conflicts_with_an_eu_profile() -> None:
    from facewatch.domain.policy import SitePolicy
    from facewatch.domain.privacy import policy_conflicts

    policy = SitePolicy.model_validate(
        {
            "site": "berlin",
            "rules": [
                {
                    "type": "after_hours",
                    "id": "night",
                    "schedule": {"windows": [{"days": "mon-fri", "start": "19:00", "end": "07:00"}]},
                }
            ],
        }
    )
    eu = BUILTIN_PROFILES["eu"]
    off = assign("berlin", eu, matching=MatchingMode.OFF, confirmed_by="dpo", at=AT)
    allowed = assign("berlin", eu, matching=None, confirmed_by="dpo", at=AT)

    assert policy_conflicts(policy, allowed, eu) == [
        "rule night: profile eu does not allow after-hours alerts on employees (set include_employees: false)"
    ]
    assert policy_conflicts(policy, off, eu) == ["rule night: matching is off at site berlin"]
    assert policy_conflicts(policy, allowed, BUILTIN_PROFILES["us-il"]) == []
