"""The detector's policy step: a frame's faces judged under the policy in force, and the unknown-face rule's
confirmation over frames, per camera.

The policies come from a cache (facewatch.adapters.policy_store.PolicyCache: one Query per period, none per
record). Confirmation state lives in the container: a camera's records come from its own data stream, one
shard, which Lambda hands to one invocation at a time; a cold start forgets at most N-1 sightings.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Protocol

from facewatch.domain.alert_policy import AlertPolicyInfo, policy_info
from facewatch.domain.policy import UnknownFaceRule
from facewatch.domain.policy_rules import (
    LEGACY_POLICY,
    Candidate,
    Confirmation,
    NoAlertReason,
    PolicySnapshot,
    SightingRef,
    confirm,
    decide_frame,
)
from facewatch.domain.records import FaceFrame
from facewatch.domain.sightings import FaceGates, Sighting
from facewatch.domain.watchlists import Snooze


class PolicySource(Protocol):
    def snapshot(self) -> PolicySnapshot: ...


@dataclass(frozen=True, slots=True)
class GateVerdict:
    """What a frame yields: at most one alert candidate (confirmed), and why the other faces raise none."""

    sighting: Sighting | None = None
    policy: AlertPolicyInfo | None = None  # None: no site policy applies (the job is as before policies)
    window_scope: str = ""  # the dedup window's key: the camera, or the camera and the rule
    window_seconds: float = 0.0
    candidates: int = 0
    dropped: Counter[NoAlertReason] = field(default_factory=Counter)


def _visible_snoozes(
    snapshot: PolicySnapshot, candidate: Candidate, camera_id: str, site: str, at: float
) -> tuple[Snooze, ...]:
    """Snoozes in force that concern this alert's scope without blocking it (e.g. another list of the site)."""
    return tuple(
        snooze
        for snooze in snapshot.active_snoozes(at)
        if snooze.scope == "list" or snooze.covers(camera_id=camera_id, site=site, zone=candidate.zone)
    )


class PolicyGate:
    def __init__(self, policies: PolicySource, gates: FaceGates, max_cameras: int) -> None:
        self._policies = policies
        self._gates = gates
        self._max_cameras = max_cameras
        self._history: dict[tuple[str, str], tuple[SightingRef, ...]] = {}

    def judge(self, frame: FaceFrame) -> GateVerdict:
        if not frame.faces:
            return GateVerdict()
        snapshot = self._policies.snapshot()
        decision = decide_frame(frame, snapshot, self._gates)
        if not decision.candidates:
            return GateVerdict(dropped=decision.dropped)
        dropped = Counter(decision.dropped)
        best = decision.candidates[0]
        source = frame.source
        camera_id = source.camera_id
        site_policy = snapshot.policy_for(camera_id)
        confirmation: Confirmation | None = None
        needed, within = 1, 0.0
        if isinstance(best.rule, UnknownFaceRule):
            needed, within = best.rule.confirm_sightings, best.rule.confirm_seconds
            confirmation = self._confirm(camera_id, best, frame, needed, within)
            if not confirmation.confirmed:
                dropped[NoAlertReason.UNCONFIRMED] += 1
                return GateVerdict(candidates=len(decision.candidates), dropped=dropped)
        employees = dropped[NoAlertReason.EMPLOYEE] + sum(
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
