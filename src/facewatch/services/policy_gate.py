"""The detector's policy step: a frame's faces judged under the policy in force, and the unknown-face rule's
confirmation over frames, per camera.

The policies come from a cache (facewatch.adapters.policy_store.PolicyCache: one Query per period, none per
record). Confirmation state lives in the container: a camera's records come from its own data stream, one
shard, which Lambda hands to one invocation at a time; a cold start forgets at most N-1 sightings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from facewatch.domain.alert_policy import AlertPolicyInfo, policy_info
from facewatch.domain.policy import UnknownFaceRule
from facewatch.domain.policy_rules import (
    LEGACY_POLICY,
    CameraRules,
    Candidate,
    Confirmation,
    NoAlertReason,
    PolicySnapshot,
    SightingRef,
    camera_rules,
    confirm,
    decide_frame,
)
from facewatch.domain.records import FaceFrame
from facewatch.domain.sightings import FaceGates, Sighting
from facewatch.domain.watchlists import Snooze


class PolicySource(Protocol):
    def snapshot(self) -> PolicySnapshot: ...


@dataclass(slots=True)  # not frozen: one is made per record with faces, and frozen inits cost more
class GateVerdict:
    """What a frame yields: at most one alert candidate (confirmed), and why the other faces raise none."""

    sighting: Sighting | None = None
    policy: AlertPolicyInfo | None = None  # None: no site policy applies (the job is as before policies)
    window_scope: str = ""  # the dedup window's key: the camera, or the camera and the rule
    window_seconds: float = 0.0
    candidates: int = 0
    dropped: dict[NoAlertReason, int] = field(default_factory=dict)


def _visible_snoozes(
    snapshot: PolicySnapshot, candidate: Candidate, camera_id: str, site: str, at: float
) -> tuple[Snooze, ...]:
    """Snoozes in force that concern this alert's scope without blocking it (e.g. another list of the site)."""
    return tuple(
        snooze
        for snooze in snapshot.active_snoozes(at)
        if snooze.scope == "list" or snooze.covers(camera_id=camera_id, site=site, zone=candidate.zone)
    )


_NOTHING = GateVerdict()


class PolicyGate:
    def __init__(self, policies: PolicySource, gates: FaceGates, max_cameras: int) -> None:
        self._policies = policies
        self._gates = gates
        self._max_cameras = max_cameras
        self._history: dict[tuple[str, str], tuple[SightingRef, ...]] = {}
        # Each camera's rules, worked out once per policy snapshot (the cache hands out the same object).
        self._rules_of: PolicySnapshot | None = None
        self._rules: dict[str, CameraRules] = {}

    def _camera_rules(self, snapshot: PolicySnapshot, camera_id: str) -> CameraRules:
        if snapshot is not self._rules_of:
            self._rules_of, self._rules = snapshot, {}
        rules = self._rules.get(camera_id)
        if rules is None:
            if len(self._rules) >= self._max_cameras:
                self._rules.clear()
            rules = self._rules[camera_id] = camera_rules(snapshot, camera_id)
        return rules

    def judge(self, frame: FaceFrame) -> GateVerdict:
        if not frame.faces:
            return _NOTHING
        snapshot = self._policies.snapshot()
        rules = self._camera_rules(snapshot, frame.source.camera_id)
        decision = decide_frame(frame, snapshot, self._gates, rules)
        if not decision.candidates:
            return GateVerdict(dropped=decision.dropped)
        dropped = decision.dropped
        best = decision.candidates[0]
        source = frame.source
        camera_id = source.camera_id
        site_policy = rules.policy
        confirmation: Confirmation | None = None
        needed, within = 1, 0.0
        if isinstance(best.rule, UnknownFaceRule):
            needed, within = best.rule.confirm_sightings, best.rule.confirm_seconds
            confirmation = self._confirm(camera_id, best, frame, needed, within)
            if not confirmation.confirmed:
                dropped[NoAlertReason.UNCONFIRMED] = dropped.get(NoAlertReason.UNCONFIRMED, 0) + 1
                return GateVerdict(candidates=len(decision.candidates), dropped=dropped)
        employees = dropped.get(NoAlertReason.EMPLOYEE, 0) + sum(
            1 for c in decision.candidates if c.identity.kind == "employee"
        )
        sighting = Sighting(
            source=source,
            face_index=best.face_index,
            face=best.result,
            faces_in_frame=len(frame.faces),
            unmatched_faces_in_frame=len(frame.faces) - employees,
        )
        # Without a site policy (facewatch as before policies) the job carries none, unless it is a near miss.
        legacy = site_policy is LEGACY_POLICY and best.identity.near_miss is None
        info = (
            None
            if legacy
            else policy_info(
                best,
                site=site_policy.site,
                caps=site_policy.caps,
                confirmation=confirmation,
                needed=needed,
                within_seconds=within,
                snoozes=_visible_snoozes(snapshot, best, camera_id, site_policy.site, source.frame_time),
            )
        )
        scope = f"{camera_id}#{best.dedup_scope}" if best.dedup_scope else camera_id
        window = best.rule.dedup_window_seconds or snapshot.default_dedup_window_seconds
        return GateVerdict(
            sighting=sighting,
            policy=info,
            window_scope=scope,
            window_seconds=window,
            candidates=len(decision.candidates),
            dropped=dropped,
        )

    def _confirm(
        self, camera_id: str, candidate: Candidate, frame: FaceFrame, needed: int, within: float
    ) -> Confirmation:
        key = (camera_id, candidate.rule.id)
        ref = SightingRef(
            frame_time=frame.source.frame_time,
            fragment_number=frame.source.fragment_number,
            face_index=candidate.face_index,
            confidence=candidate.result.DetectedFace.Confidence,
        )
        if key not in self._history and len(self._history) >= self._max_cameras:
            self._history.clear()  # bounded: a camera forgets at most N-1 sightings
        confirmation = confirm(self._history.get(key, ()), ref, needed, within)
        self._history[key] = confirmation.history
        return confirmation
