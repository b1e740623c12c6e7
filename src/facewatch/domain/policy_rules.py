"""The rules' decisions, as pure functions of a face, the policy in force and a time passed in.

For each face of a frame: who it is (watchlist person, ignored person, employee, near miss, unknown),
whether it is inside the camera's zones, whether it passes the quality gates, which rule would alert on
it, and whether that rule is armed and not snoozed. Confirmation over frames (`confirm`) and caps
(`cap_decision`) decide from the counts the caller keeps. Every face that does not alert gets a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from facewatch.domain.policy import (
    WATCHLIST_PREFIX,
    AfterHoursRule,
    Caps,
    RuleBase,
    SitePolicy,
    UnknownFaceRule,
    WatchlistRule,
    legacy_policy,
    schedule_armed,
)
from facewatch.domain.records import FaceFrame, FaceSearchResult
from facewatch.domain.sightings import DropReason, FaceGates, drop_reason
from facewatch.domain.watchlists import Snooze, WatchlistEntry, parse_watchlist_image_id

AlertType = Literal["unknown_face", "watchlist_match", "after_hours"]
# When faces of one frame would raise alerts of different types, the frame raises the first of these.
ALERT_TYPE_PRIORITY: tuple[AlertType, ...] = ("watchlist_match", "after_hours", "unknown_face")


class NoAlertReason(StrEnum):
    """Why a detected face raised no alert: counted per camera, and on the alert item of its window.

    The quality-gate values are DropReason's (facewatch.domain.sightings), so one name means one thing."""

    EMPLOYEE = "employee_match"
    UNCONFIRMED = "unconfirmed"  # fewer than N qualifying sightings in T (near misses included)
    LOW_CONFIDENCE = "low_confidence"
    TOO_SMALL = "too_small"
    TOO_BLURRY = "too_blurry"
    TURNED_AWAY = "turned_away"
    OUTSIDE_ZONE = "outside_zone"
    NOT_ARMED = "not_armed"
    SNOOZED = "snoozed"
    SUPPRESSED_BY_WINDOW = "suppressed_by_window"
    CAPPED = "capped"
    IGNORE_LIST = "ignore_list"
    NO_RULE = "no_rule"  # no enabled rule of the site covers this camera and face


@dataclass(frozen=True, slots=True)
class NearMiss:
    """The closest employee of a face no employee matched at EmployeeMatchThreshold."""

    employee_id: str
    similarity: float


@dataclass(frozen=True, slots=True)
class WatchlistHit:
    list: str
    entry_id: str
    similarity: float


@dataclass(frozen=True, slots=True)
class Identity:
    kind: Literal["watchlist", "ignored", "employee", "unknown"]
    watchlist: WatchlistHit | None = None
    employee_id: str | None = None
    near_miss: NearMiss | None = None


@dataclass(frozen=True, slots=True)
class PolicySnapshot:
    """Everything the rules need, as loaded at one time: site policies, watchlist entries, snoozes."""

    policies: Mapping[str, SitePolicy]
    entries: Mapping[tuple[str, str], WatchlistEntry] = field(default_factory=dict)
    snoozes: tuple[Snooze, ...] = ()
    employee_match_threshold: float = 80.0
    default_dedup_window_seconds: float = 60.0

    def policy_for(self, camera_id: str) -> SitePolicy:
        """The policy listing the camera, else the `default` site's, else facewatch's legacy behaviour."""
        for policy in self.policies.values():
            if camera_id in policy.cameras:
                return policy
        return self.policies.get("default") or LEGACY_POLICY

    def active_snoozes(self, at: float) -> tuple[Snooze, ...]:
        return tuple(snooze for snooze in self.snoozes if snooze.active_at(at))


LEGACY_POLICY = legacy_policy()


def identify(
    result: FaceSearchResult,
    employee_match_threshold: float,
    watchlists: Mapping[str, WatchlistRule],
    entries: Mapping[tuple[str, str], WatchlistEntry],
    at: float,
) -> Identity:
    """Who a face is. A watchlist face is never an employee; an alert list wins over the ignore list, which
    wins over an employee match. An entry that expired (or a list without a rule) is no match at all."""
    best_employee: tuple[float, str] | None = None
    alert_hit: WatchlistHit | None = None
    ignore_hit: WatchlistHit | None = None
    for match in result.MatchedFaces:
        image_id = match.Face.ExternalImageId if match.Face else None
        listed = parse_watchlist_image_id(image_id)
        if listed is not None:
            found = _watchlist_hit(listed, match.Similarity, employee_match_threshold, watchlists, entries, at)
            if found is not None and found[0] == "alert":
                alert_hit = _stronger(alert_hit, found[1])
            elif found is not None and found[0] == "ignore":
                ignore_hit = _stronger(ignore_hit, found[1])
            continue
        if best_employee is None or match.Similarity > best_employee[0]:
            best_employee = (match.Similarity, image_id or "(no id)")
    if alert_hit is not None:
        return Identity(kind="watchlist", watchlist=alert_hit)
    if ignore_hit is not None:
        return Identity(kind="ignored", watchlist=ignore_hit)
    if best_employee is not None and best_employee[0] >= employee_match_threshold:
        return Identity(kind="employee", employee_id=best_employee[1])
    near = NearMiss(employee_id=best_employee[1], similarity=best_employee[0]) if best_employee else None
    return Identity(kind="unknown", near_miss=near)


def _watchlist_hit(
    listed: tuple[str, str],
    similarity: float,
    employee_match_threshold: float,
    watchlists: Mapping[str, WatchlistRule],
    entries: Mapping[tuple[str, str], WatchlistEntry],
    at: float,
) -> tuple[str, WatchlistHit] | None:
    """(the list rule's action, the hit) for a match on a watchlist face; None when its entry expired, its
    list has no rule, or the similarity is below the list's threshold (no match at all)."""
    rule = watchlists.get(listed[0])
    entry = entries.get(listed)
    if rule is None or entry is None or not entry.active_at(at):
        return None
    threshold = rule.min_similarity if rule.min_similarity is not None else employee_match_threshold
    if similarity < threshold:
        return None
    return rule.action, WatchlistHit(list=listed[0], entry_id=listed[1], similarity=similarity)


def _stronger(current: WatchlistHit | None, hit: WatchlistHit) -> WatchlistHit:
    return hit if current is None or hit.similarity > current.similarity else current


def face_centre(result: FaceSearchResult) -> tuple[float, float]:
    box = result.DetectedFace.BoundingBox
    return box.Left + box.Width / 2, box.Top + box.Height / 2


def zone_of(policy: SitePolicy, camera_id: str, result: FaceSearchResult) -> tuple[bool, str | None]:
    """(inside, zone name): a camera without zones takes the whole picture (inside, no zone name)."""
    camera = policy.cameras.get(camera_id)
    if camera is None or not camera.zones:
        return True, None
    zone = camera.zone_at(*face_centre(result))
    return zone is not None, zone


def rule_applies(rule: RuleBase, camera_id: str) -> bool:
    return rule.enabled and (not rule.cameras or camera_id in rule.cameras)


def blocking_snooze(
    snoozes: Iterable[Snooze], *, camera_id: str, site: str, zone: str | None, lists: tuple[str, ...] = ()
) -> Snooze | None:
    """The first active snooze (pass active ones only) whose scope covers this face and rule."""
    for snooze in snoozes:
        if snooze.covers(camera_id=camera_id, site=site, zone=zone, lists=lists):
            return snooze
    return None


@dataclass(frozen=True, slots=True)
class Candidate:
    """A face that would alert under `rule` (unknown-face candidates still need confirmation)."""

    face_index: int
    result: FaceSearchResult
    alert_type: AlertType
    rule: RuleBase
    identity: Identity
    zone: str | None

    @property
    def dedup_scope(self) -> str:
        """Windows are per camera for unknown faces (as before policies), per camera and rule otherwise."""
        return "" if self.alert_type == "unknown_face" else self.rule.id


@dataclass(frozen=True, slots=True)
class FaceOutcome:
    candidate: Candidate | None = None
    reason: NoAlertReason | None = None


def _pick_rule[R: RuleBase](
    rules: Iterable[R],
    *,
    policy: SitePolicy,
    camera_id: str,
    zone: str | None,
    at: float,
    snoozes: tuple[Snooze, ...],
    lists: tuple[str, ...] = (),
) -> R | NoAlertReason:
    """The first applicable rule that is armed and not snoozed, else why none is."""
    applicable = [rule for rule in rules if rule_applies(rule, camera_id)]
    if not applicable:
        return NoAlertReason.NO_RULE
    armed = [rule for rule in applicable if schedule_armed(rule.schedule, at, policy.zone_info)]
    if not armed:
        return NoAlertReason.NOT_ARMED
    if blocking_snooze(snoozes, camera_id=camera_id, site=policy.site, zone=zone, lists=lists) is not None:
        return NoAlertReason.SNOOZED
    return armed[0]


def decide_face(
    result: FaceSearchResult,
    face_index: int,
    *,
    camera_id: str,
    policy: SitePolicy,
    snapshot: PolicySnapshot,
    gates: FaceGates,
    at: float,
) -> FaceOutcome:
    """One face's outcome under the camera's policy at frame time `at` (active snoozes only)."""
    snoozes = snapshot.active_snoozes(at)
    watchlist_rules = {rule.list: rule for rule in policy.rules if isinstance(rule, WatchlistRule)}
    identity = identify(result, snapshot.employee_match_threshold, watchlist_rules, snapshot.entries, at)
    inside, zone = zone_of(policy, camera_id, result)
    if not inside:
        return FaceOutcome(reason=NoAlertReason.OUTSIDE_ZONE)

    def outcome(rules: Iterable[RuleBase], alert_type: AlertType, lists: tuple[str, ...] = ()) -> FaceOutcome:
        picked = _pick_rule(rules, policy=policy, camera_id=camera_id, zone=zone, at=at, snoozes=snoozes, lists=lists)
        if isinstance(picked, NoAlertReason):
            return FaceOutcome(reason=picked)
        return FaceOutcome(candidate=Candidate(face_index, result, alert_type, picked, identity, zone))

    if identity.kind == "watchlist" and identity.watchlist is not None:
        listed = identity.watchlist.list
        return outcome((watchlist_rules[listed],), "watchlist_match", (listed,))
    if identity.kind == "ignored":
        return FaceOutcome(reason=NoAlertReason.IGNORE_LIST)
    after_hours = [rule for rule in policy.rules if isinstance(rule, AfterHoursRule)]
    if identity.kind == "employee":
        return _employee_outcome(after_hours, outcome)
    gate = drop_reason(_unmatched(result), gates)
    if gate is not None:
        return FaceOutcome(reason=NoAlertReason(gate.value))
    if after_hours:
        armed = outcome(after_hours, "after_hours")
        if armed.candidate is not None:
            return armed
    return outcome([rule for rule in policy.rules if isinstance(rule, UnknownFaceRule)], "unknown_face")


def _employee_outcome(
    after_hours: list[AfterHoursRule], outcome: Callable[[Iterable[RuleBase], AlertType], FaceOutcome]
) -> FaceOutcome:
    """An employee alerts only under an armed after-hours rule that includes employees."""
    staff_rules = [rule for rule in after_hours if rule.include_employees]
    if staff_rules:
        armed = outcome(staff_rules, "after_hours")
        if armed.candidate is not None:
            return armed
    return FaceOutcome(reason=NoAlertReason.EMPLOYEE)


def _unmatched(result: FaceSearchResult) -> FaceSearchResult:
    """The face as the quality gates see an unknown one: a near miss's weak matches do not make it an employee."""
    return result if not result.MatchedFaces else result.model_copy(update={"MatchedFaces": []})


@dataclass(slots=True)  # not frozen: one is made per frame with faces, and frozen inits cost more
class FrameDecision:
    """A frame's candidates (best first: alert type priority, then confidence) and its faces that cannot alert."""

    candidates: tuple[Candidate, ...]
    dropped: dict[NoAlertReason, int]


@dataclass(frozen=True, slots=True)
class CameraRules:
    """What a camera's policy means for the common faces, worked out once per policy snapshot.

    `plain` says the camera has no zones and no after-hours rule that alerts on employees: then a face
    matched at EmployeeMatchThreshold to a face outside the watchlist namespace is an employee, and an
    unmatched face below a quality gate is dropped by that gate, without the full decision."""

    policy: SitePolicy
    plain: bool
    threshold: float


def camera_rules(snapshot: PolicySnapshot, camera_id: str) -> CameraRules:
    policy = snapshot.policy_for(camera_id)
    camera = policy.cameras.get(camera_id)
    staff_after_hours = any(
        isinstance(rule, AfterHoursRule) and rule.include_employees and rule_applies(rule, camera_id)
        for rule in policy.rules
    )
    plain = not (camera is not None and camera.zones) and not staff_after_hours
    return CameraRules(policy=policy, plain=plain, threshold=snapshot.employee_match_threshold)


def _quick_reason(result: FaceSearchResult, rules: CameraRules, gates: FaceGates) -> NoAlertReason | None:
    """The reason of an employee or of a face below a gate on a plain camera; None: decide in full."""
    matches = result.MatchedFaces
    if matches:
        best = 0.0
        for match in matches:
            face = match.Face
            if face is not None and face.ExternalImageId and face.ExternalImageId.startswith(WATCHLIST_PREFIX):
                return None  # a watchlist face: its list decides
            if match.Similarity > best:
                best = match.Similarity
        return _EMPLOYEE if best >= rules.threshold else None
    gate = drop_reason(result, gates)
    return _GATE_REASONS[gate] if gate is not None else None


_EMPLOYEE = NoAlertReason.EMPLOYEE
_GATE_REASONS: dict[DropReason, NoAlertReason] = {gate: NoAlertReason(gate.value) for gate in DropReason}


def decide_frame(
    frame: FaceFrame, snapshot: PolicySnapshot, gates: FaceGates, rules: CameraRules | None = None
) -> FrameDecision:
    """Every face of the frame decided; `rules` (camera_rules of this snapshot and camera) may be cached."""
    camera_id = frame.source.camera_id
    rules = rules or camera_rules(snapshot, camera_id)
    candidates: list[Candidate] = []
    dropped: dict[NoAlertReason, int] = {}
    for index, result in enumerate(frame.faces):
        reason = _quick_reason(result, rules, gates) if rules.plain else None
        if reason is None:
            decided = decide_face(
                result,
                index,
                camera_id=camera_id,
                policy=rules.policy,
                snapshot=snapshot,
                gates=gates,
                at=frame.source.frame_time,
            )
            if decided.candidate is not None:
                candidates.append(decided.candidate)
                continue
            reason = decided.reason
        if reason is not None:
            dropped[reason] = dropped.get(reason, 0) + 1
    if len(candidates) > 1:
        candidates.sort(key=lambda c: (ALERT_TYPE_PRIORITY.index(c.alert_type), -c.result.DetectedFace.Confidence))
    return FrameDecision(candidates=tuple(candidates), dropped=dropped)


@dataclass(frozen=True, slots=True)
class SightingRef:
    """A qualifying sighting, as confirmation remembers it and the alert lists it."""

    frame_time: float
    fragment_number: str
    face_index: int
    confidence: float


@dataclass(frozen=True, slots=True)
class Confirmation:
    confirmed: bool
    used: tuple[SightingRef, ...]  # the sightings in the window ending at the newest one, oldest first
    history: tuple[SightingRef, ...]  # what to remember for the next sighting


def confirm(
    history: tuple[SightingRef, ...], sighting: SightingRef, needed: int, within_seconds: float
) -> Confirmation:
    """N-of-T: confirmed once `needed` qualifying sightings fall within `within_seconds` up to this one.

    Frames may arrive out of order: the window is [t - T, t] around this sighting's frame time, over every
    sighting remembered; the history keeps what a later sighting could still count (the newest T seconds)."""
    merged = tuple(sorted({*history, sighting}, key=lambda ref: (ref.frame_time, ref.face_index)))
    start = sighting.frame_time - within_seconds
    used = tuple(ref for ref in merged if start <= ref.frame_time <= sighting.frame_time)
    newest = merged[-1].frame_time
    kept = tuple(ref for ref in merged if ref.frame_time >= newest - within_seconds)[-max(needed, 1) * 4 :]
    return Confirmation(confirmed=len(used) >= needed, used=used[-needed:], history=kept)


CapVerdict = Literal["send", "digest", "capped"]


def cap_decision(count_in_bucket: int, previous_bucket_count: int, caps: Caps | None) -> CapVerdict:
    """What the k-th alert of a site's current M-minute bucket does (k = count_in_bucket, counting itself).

    Digest mode is on while the current or the previous bucket holds more than N alerts: the alert that
    turns it on in a bucket sends the digest message, the others are indexed only; below N again (in this
    bucket and the previous one) alerts go out one by one."""
    if caps is None:
        return "send"
    limit = caps.max_alerts
    if previous_bucket_count > limit:
        return "digest" if count_in_bucket == 1 else "capped"
    if count_in_bucket <= limit:
        return "send"
    return "digest" if count_in_bucket == limit + 1 else "capped"


def cap_bucket(epoch: float, caps: Caps) -> int:
    """The M-minute bucket an alert's time falls in (fixed buckets from the epoch)."""
    return int(epoch // (caps.per_minutes * 60))
