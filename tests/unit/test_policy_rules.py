"""Each rule's decision as a pure function: a face, the policy in force and a frame time in; an outcome out."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tests.support.records import employee_face, encode_record, face_search_record, unknown_face

from facewatch.domain.policy import Caps, SitePolicy, WatchlistRule
from facewatch.domain.policy_rules import (
    Candidate,
    FaceOutcome,
    NearMiss,
    NoAlertReason,
    PolicySnapshot,
    SightingRef,
    cap_decision,
    confirm,
    decide_face,
    decide_frame,
    identify,
)
from facewatch.domain.records import FaceSearchResult, parse_face_frame
from facewatch.domain.sightings import FaceGates
from facewatch.domain.watchlists import Snooze, WatchlistEntry, parse_watchlist_image_id, watchlist_image_id

SEOUL = ZoneInfo("Asia/Seoul")
LOBBY = "seoul-hq-lobby-01"
GATES = FaceGates(min_confidence=90.0, min_sharpness=30.0)
NIGHT = {"windows": [{"days": "mon-sun", "start": "20:00", "end": "07:00"}]}
# Tuesday 2025-11-25 in Seoul.
NOON = datetime(2025, 11, 25, 12, 0, tzinfo=SEOUL).timestamp()
MIDNIGHT = datetime(2025, 11, 25, 23, 30, tzinfo=SEOUL).timestamp()
DAY = 86_400.0


def site(**fields: Any) -> SitePolicy:
    document = {
        "site": "seoul-hq",
        "timezone": "Asia/Seoul",
        "cameras": {LOBBY: {}},
        "rules": [{"type": "unknown_face", "id": "strangers"}],
        **fields,
    }
    return SitePolicy.model_validate(document)


def face(document: dict[str, Any]) -> FaceSearchResult:
    return FaceSearchResult.model_validate_json(json.dumps(document))


def listed(list_name: str, entry_id: str, similarity: float = 96.0, **detected: float) -> dict[str, Any]:
    document = employee_face(watchlist_image_id(list_name, entry_id), similarity, **detected)
    return document


def entry(list_name: str, entry_id: str, *, expires_at: float = NOON + DAY) -> WatchlistEntry:
    return WatchlistEntry(
        list=list_name,
        entry_id=entry_id,
        reason="trespass notice 2025-11",
        added_at=NOON - DAY,
        expires_at=expires_at,
        added_by="ops@example.com",
    )


def snooze(scope: str, target: str, *, until: float = NOON + 3600) -> Snooze:
    return Snooze.model_validate(
        {
            "snooze_id": f"{scope}-{target}",
            "scope": scope,
            "target": target,
            "starts_at": NOON - 60,
            "until": until,
            "reason": "cleaning crew in the lobby",
            "by": "guard-1",
        }
    )


def decide(
    document: dict[str, Any],
    policy: SitePolicy | None = None,
    *,
    at: float = NOON,
    entries: tuple[WatchlistEntry, ...] = (),
    snoozes: tuple[Snooze, ...] = (),
    threshold: float = 80.0,
) -> FaceOutcome:
    policy = policy or site()
    snapshot = PolicySnapshot(
        policies={policy.site: policy},
        entries={(e.list, e.entry_id): e for e in entries},
        snoozes=snoozes,
        employee_match_threshold=threshold,
    )
    return decide_face(face(document), 0, camera_id=LOBBY, policy=policy, snapshot=snapshot, gates=GATES, at=at)


def alert_type(outcome: FaceOutcome) -> str:
    assert outcome.candidate is not None, f"no alert: {outcome.reason}"
    return outcome.candidate.alert_type


# --- unknown faces and near misses ------------------------------------------------------------------


def test_an_unknown_face_that_passes_the_gates_is_an_unknown_face_candidate() -> None:
    assert alert_type(decide(unknown_face())) == "unknown_face"


@pytest.mark.parametrize(
    ("detected", "reason"),
    [
        ({"confidence": 70.0}, NoAlertReason.LOW_CONFIDENCE),
        ({"sharpness": 10.0}, NoAlertReason.TOO_BLURRY),
    ],
)
def test_an_unknown_face_below_a_quality_gate_is_dropped_with_that_gate(
    detected: dict[str, float], reason: NoAlertReason
) -> None:
    assert decide(unknown_face(**detected)).reason is reason


def test_an_employee_match_at_the_threshold_is_an_employee() -> None:
    assert decide(employee_face(similarity=92.0), threshold=90.0).reason is NoAlertReason.EMPLOYEE


def test_a_match_below_employee_match_threshold_is_a_near_miss_that_names_the_closest_employee() -> None:
    result = face(employee_face("E10442", similarity=86.5))

    identity = identify(result, 90.0, {}, {}, NOON)

    assert identity.kind == "unknown"
    assert identity.near_miss == NearMiss(employee_id="E10442", similarity=86.5)
    outcome = decide(employee_face("E10442", similarity=86.5), threshold=90.0)
    assert outcome.candidate is not None
    assert outcome.candidate.alert_type == "unknown_face"
    assert outcome.candidate.identity.near_miss == NearMiss("E10442", 86.5)


def test_a_near_miss_still_has_to_pass_the_quality_gates() -> None:
    assert decide(employee_face(similarity=85.0, sharpness=5.0), threshold=90.0).reason is NoAlertReason.TOO_BLURRY


# --- watchlists ---------------------------------------------------------------------------------------

BANNED = {"type": "watchlist", "id": "banned", "list": "banned", "severity": "critical", "recipients": ["security"]}
CONTRACTORS = {"type": "watchlist", "id": "contractors", "list": "contractors", "action": "ignore"}


def test_a_face_on_an_alert_list_raises_a_watchlist_match_never_an_employee_match() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, BANNED])

    outcome = decide(listed("banned", "case-118"), policy, entries=(entry("banned", "case-118"),))

    assert outcome.candidate is not None
    assert outcome.candidate.alert_type == "watchlist_match"
    assert outcome.candidate.rule.severity == "critical"
    assert outcome.candidate.identity.watchlist is not None
    assert (outcome.candidate.identity.watchlist.list, outcome.candidate.identity.watchlist.entry_id) == (
        "banned",
        "case-118",
    )


def test_an_expired_entry_is_no_match_and_its_face_is_judged_as_an_unknown_one() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, BANNED])

    outcome = decide(listed("banned", "case-118"), policy, entries=(entry("banned", "case-118", expires_at=NOON),))

    assert alert_type(outcome) == "unknown_face"


def test_a_watchlist_match_below_the_lists_similarity_is_no_match() -> None:
    policy = site(rules=[{**BANNED, "min_similarity": 95.0}])

    outcome = decide(listed("banned", "case-118", similarity=91.0), policy, entries=(entry("banned", "case-118"),))

    assert outcome.reason is NoAlertReason.NO_RULE, "judged as an unknown face: this policy has no unknown-face rule"


def test_a_contractor_on_the_ignore_list_raises_nothing_until_the_entry_expires() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, CONTRACTORS])
    contractor = entry("contractors", "acme-plumber", expires_at=NOON + 3600)

    assert decide(listed("contractors", "acme-plumber"), policy, entries=(contractor,)).reason is (
        NoAlertReason.IGNORE_LIST
    )
    later = decide(listed("contractors", "acme-plumber"), policy, at=NOON + 7200, entries=(contractor,))
    assert alert_type(later) == "unknown_face"


def test_an_alert_list_wins_over_the_ignore_list() -> None:
    policy = site(rules=[BANNED, CONTRACTORS])
    both = employee_face(watchlist_image_id("contractors", "x1"), 97.0)
    both["MatchedFaces"] += listed("banned", "case-7", 92.0)["MatchedFaces"]

    outcome = decide(both, policy, entries=(entry("banned", "case-7"), entry("contractors", "x1")))

    assert alert_type(outcome) == "watchlist_match"


def test_watchlist_face_ids_round_trip_and_employee_ids_are_not_watchlist_faces() -> None:
    assert parse_watchlist_image_id(watchlist_image_id("vip", "ceo-guest")) == ("vip", "ceo-guest")
    assert parse_watchlist_image_id("E10442") is None
    assert parse_watchlist_image_id("wl:Not Valid") is None


# --- schedules and after hours -------------------------------------------------------------------------


def test_a_rule_outside_its_schedule_is_not_armed() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers", "schedule": NIGHT}])

    assert decide(unknown_face(), policy, at=NOON).reason is NoAlertReason.NOT_ARMED
    assert alert_type(decide(unknown_face(), policy, at=MIDNIGHT)) == "unknown_face"


def test_after_hours_alerts_on_employees_too_and_only_while_armed() -> None:
    policy = site(rules=[{"type": "after_hours", "id": "night", "schedule": NIGHT}])

    assert alert_type(decide(employee_face(similarity=99.0), policy, at=MIDNIGHT)) == "after_hours"
    assert decide(employee_face(similarity=99.0), policy, at=NOON).reason is NoAlertReason.EMPLOYEE


def test_after_hours_can_leave_employees_out() -> None:
    policy = site(rules=[{"type": "after_hours", "id": "night", "schedule": NIGHT, "include_employees": False}])

    assert decide(employee_face(similarity=99.0), policy, at=MIDNIGHT).reason is NoAlertReason.EMPLOYEE
    assert alert_type(decide(unknown_face(), policy, at=MIDNIGHT)) == "after_hours"


def test_a_banned_person_at_night_is_a_watchlist_match_not_just_an_after_hours_face() -> None:
    policy = site(rules=[{"type": "after_hours", "id": "night", "schedule": NIGHT}, BANNED])

    outcome = decide(listed("banned", "case-118"), policy, at=MIDNIGHT, entries=(entry("banned", "case-118"),))

    assert alert_type(outcome) == "watchlist_match"


# --- zones -----------------------------------------------------------------------------------------------

DOOR = {"zones": [{"name": "door", "polygon": [[0.5, 0.0], [1.0, 0.0], [1.0, 1.0], [0.5, 1.0]]}]}


def test_a_face_whose_box_centre_is_outside_every_zone_is_dropped_as_outside_zone() -> None:
    policy = site(cameras={LOBBY: DOOR})

    assert decide(unknown_face(left=0.1, width=0.1), policy).reason is NoAlertReason.OUTSIDE_ZONE
    inside = decide(unknown_face(left=0.6, width=0.1), policy)
    assert inside.candidate is not None
    assert inside.candidate.zone == "door"


def test_a_zone_applies_to_watchlist_faces_as_well() -> None:
    policy = site(cameras={LOBBY: DOOR}, rules=[BANNED])

    outcome = decide(listed("banned", "b1", left=0.1, width=0.1), policy, entries=(entry("banned", "b1"),))

    assert outcome.reason is NoAlertReason.OUTSIDE_ZONE


# --- snoozes -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("scope", "target"), [("camera", LOBBY), ("site", "seoul-hq"), ("zone", "door")])
def test_a_snoozed_camera_site_or_zone_raises_nothing_while_the_snooze_lasts(scope: str, target: str) -> None:
    policy = site(cameras={LOBBY: DOOR})
    paused = snooze(scope, target, until=NOON + 600)

    assert decide(unknown_face(left=0.6), policy, snoozes=(paused,)).reason is NoAlertReason.SNOOZED
    assert alert_type(decide(unknown_face(left=0.6), policy, at=NOON + 600, snoozes=(paused,))) == "unknown_face"


def test_a_snoozed_list_pauses_that_list_only() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, BANNED])
    paused = snooze("list", "banned")

    banned = decide(listed("banned", "b1"), policy, entries=(entry("banned", "b1"),), snoozes=(paused,))
    stranger = decide(unknown_face(), policy, snoozes=(paused,))

    assert banned.reason is NoAlertReason.SNOOZED
    assert alert_type(stranger) == "unknown_face"


def test_a_disabled_rule_or_one_for_other_cameras_does_not_apply() -> None:
    disabled = site(rules=[{"type": "unknown_face", "id": "strangers", "enabled": False}])
    elsewhere = site(
        cameras={LOBBY: {}, "garage": {}}, rules=[{"type": "unknown_face", "id": "strangers", "cameras": ["garage"]}]
    )

    assert decide(unknown_face(), disabled).reason is NoAlertReason.NO_RULE
    assert decide(unknown_face(), elsewhere).reason is NoAlertReason.NO_RULE


# --- a frame -------------------------------------------------------------------------------------------


def test_a_frame_lists_its_candidates_by_alert_type_then_confidence_and_counts_the_rest() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, BANNED])
    snapshot = PolicySnapshot(policies={"seoul-hq": policy}, entries={("banned", "b1"): entry("banned", "b1")})
    record = face_search_record(
        [
            unknown_face(confidence=99.0),
            listed("banned", "b1", confidence=93.0),
            employee_face(),
            unknown_face(confidence=50.0),
        ],
        producer_timestamp=NOON,
    )

    decision = decide_frame(parse_face_frame(encode_record(record)), snapshot, GATES)

    assert [(c.alert_type, c.face_index) for c in decision.candidates] == [
        ("watchlist_match", 1),
        ("unknown_face", 0),
    ]
    assert decision.dropped == {NoAlertReason.EMPLOYEE: 1, NoAlertReason.LOW_CONFIDENCE: 1}


def test_a_camera_no_policy_names_uses_the_default_sites_policy_or_else_the_legacy_rule() -> None:
    other = site(site="busan", cameras={"busan-door": {}})
    default = site(site="default", cameras={}, rules=[{"type": "unknown_face", "id": "u", "confirm_sightings": 5}])

    assert PolicySnapshot(policies={"busan": other}).policy_for(LOBBY).site == "default"
    assert PolicySnapshot(policies={"busan": other, "default": default}).policy_for(LOBBY) is default


# --- confirmation (N of T) ------------------------------------------------------------------------------


def ref(t: float, index: int = 0) -> SightingRef:
    return SightingRef(frame_time=t, fragment_number="9134", face_index=index, confidence=97.0)


def test_one_sighting_confirms_when_n_is_1() -> None:
    result = confirm((), ref(100.0), needed=1, within_seconds=0.0)

    assert result.confirmed
    assert result.used == (ref(100.0),)


def test_n_sightings_within_t_confirm_and_the_alert_lists_the_frames_used() -> None:
    first = confirm((), ref(100.0), needed=3, within_seconds=10.0)
    second = confirm(first.history, ref(104.0), needed=3, within_seconds=10.0)
    third = confirm(second.history, ref(109.0), needed=3, within_seconds=10.0)

    assert (first.confirmed, second.confirmed, third.confirmed) == (False, False, True)
    assert third.used == (ref(100.0), ref(104.0), ref(109.0))


def test_sightings_further_apart_than_t_do_not_confirm() -> None:
    first = confirm((), ref(100.0), needed=2, within_seconds=10.0)
    later = confirm(first.history, ref(111.0), needed=2, within_seconds=10.0)

    assert not later.confirmed
    assert later.history == (ref(111.0),), "what fell out of the window is forgotten"


def test_a_sighting_arriving_out_of_order_counts_with_the_ones_around_it() -> None:
    newer = confirm((), ref(108.0), needed=2, within_seconds=10.0)
    older = confirm(newer.history, ref(101.0), needed=2, within_seconds=10.0)

    assert not older.confirmed, "the window ends at this sighting: the newer one is not in [91, 101]"
    again = confirm(older.history, ref(109.0), needed=2, within_seconds=10.0)
    assert again.confirmed
    assert again.used == (ref(108.0), ref(109.0))


def test_a_redelivered_sighting_is_not_counted_twice() -> None:
    once = confirm((), ref(100.0), needed=2, within_seconds=10.0)
    twice = confirm(once.history, ref(100.0), needed=2, within_seconds=10.0)

    assert not twice.confirmed


# --- caps and digests -----------------------------------------------------------------------------------

CAPS = Caps(max_alerts=3, per_minutes=5)


def test_alerts_up_to_the_cap_go_out_one_by_one() -> None:
    assert [cap_decision(k, 0, CAPS) for k in (1, 2, 3)] == ["send", "send", "send"]


def test_the_alert_over_the_cap_sends_the_digest_and_the_later_ones_are_indexed_only() -> None:
    assert [cap_decision(k, 0, CAPS) for k in (4, 5, 6)] == ["digest", "capped", "capped"]


def test_digest_mode_lasts_until_a_whole_bucket_stays_under_the_cap() -> None:
    assert [cap_decision(k, 7, CAPS) for k in (1, 2, 3)] == ["digest", "capped", "capped"], "the rate has not dropped"
    assert cap_decision(1, 3, CAPS) == "send", "the previous bucket stayed at the cap: the rate dropped"


def test_no_caps_always_sends() -> None:
    assert cap_decision(10_000, 10_000, None) == "send"


def test_a_candidate_window_is_per_camera_for_unknown_faces_and_per_rule_otherwise() -> None:
    policy = site(rules=[{"type": "unknown_face", "id": "strangers"}, BANNED])
    unknown = decide(unknown_face(), policy)
    banned = decide(listed("banned", "b1"), policy, entries=(entry("banned", "b1"),))

    assert isinstance(unknown.candidate, Candidate)
    assert isinstance(banned.candidate, Candidate)
    assert unknown.candidate.dedup_scope == ""
    assert banned.candidate.dedup_scope == "banned"
    assert isinstance(banned.candidate.rule, WatchlistRule)
