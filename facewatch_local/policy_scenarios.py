"""Recorded cases for the alert policies: one scenario per rule, with the policy file it runs under.

`python -m facewatch_local.policy_scenarios` regenerates events/scenarios/policy-*.jsonl and
events/scenarios/policies/*.json from fixed seeds (`--check` verifies the committed files). Each case is a
few minutes at Seoul HQ in the record format of events/scenarios/seoul-hq-morning.jsonl:

- banned-at-night: a person on the `banned` list in the lobby at 23:40, and an employee (the night guard)
  on the 3rd floor: a watchlist_match alert and an after_hours alert (the site opted in to it);
- contractor-ignored: a plumber on the `contractors` ignore list works in the 3rd-floor corridor all
  morning: no alert, every sighting counted as `ignore_list`;
- snoozed-camera: the parking camera is snoozed for cleaning while a stranger walks through it: no alert
  there (`snoozed`), while a visitor in the lobby at the same time is alerted;
- blurred-employee: employees pass the lobby; in one frame an employee's match is lost (motion blur) but
  the face passes the quality gates: confirmation (2 sightings in 10 s) filters it out (`unconfirmed`),
  while a visitor who stays is confirmed 2 s after being first seen.

`measure_confirmation` replays every recorded scenario (these and seoul-hq-morning) through the policy
step for a grid of N and T: the defaults are the values with no false alert and the shortest delay.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo

from facewatch.adapters.policy_store import StaticPolicies
from facewatch.domain.policy import SitePolicy, UnknownFaceRule
from facewatch.domain.policy_rules import PolicySnapshot
from facewatch.domain.records import MalformedRecordError, parse_face_frame
from facewatch.domain.sightings import FaceGates
from facewatch.domain.watchlists import Snooze, SnoozeScope, WatchlistEntry
from facewatch.services.policy_gate import PolicyGate
from facewatch_local.scenario import (
    RECORDED_ACCOUNT,
    RECORDED_REGION,
    SCENARIO_PATH,
    VISITOR_CAMERA,
    Scenario,
    ScenarioRecord,
    dump_scenario,
    load_scenario,
    to_java_json,
)

SCENARIO_DIR: Final = SCENARIO_PATH.parent
POLICY_DIR: Final = SCENARIO_DIR / "policies"
SEOUL: Final = ZoneInfo("Asia/Seoul")
SITE: Final = "seoul-hq"
LOBBY: Final = "seoul-hq-lobby-01"
FLOOR3: Final = "seoul-hq-floor3-east"
PARKING: Final = "seoul-hq-parking-b1"
CAMERAS: Final = (LOBBY, FLOOR3, PARKING)
FRAME_INTERVAL_SECONDS: Final = 2.0
FRAGMENT_SECONDS: Final = 4.0
RESULT_LAG_SECONDS: Final = (2.0, 5.0)
DAY_SECONDS: Final = 86_400.0


@dataclass(frozen=True, slots=True)
class Walk:
    """One person seen on one camera from `enters` to `leaves` (seconds into the case)."""

    camera_id: str
    enters: float
    leaves: float
    external_image_id: str | None = None  # None: matches nobody in the collection
    similarity: tuple[float, float] = (93.0, 99.5)
    confidence: tuple[float, float] = (95.0, 99.9)
    sharpness: tuple[float, float] = (55.0, 95.0)
    # Frames (seconds into the case, nearest frame) in which the match is lost although the face is clear.
    unmatched_near: tuple[float, ...] = ()
    left: float = 0.55


@dataclass(frozen=True, slots=True)
class WatchlistSeed:
    list: str
    entry_id: str
    reason: str
    days: float


@dataclass(frozen=True, slots=True)
class SnoozeSeed:
    scope: SnoozeScope
    target: str
    minutes: float
    reason: str


@dataclass(frozen=True, slots=True)
class PolicyCase:
    name: str
    title: str
    local_start: datetime  # Seoul time the recording starts
    duration_seconds: float
    walks: tuple[Walk, ...]
    policy: dict[str, Any]
    entries: tuple[WatchlistSeed, ...] = ()
    snoozes: tuple[SnoozeSeed, ...] = ()
    # What the case shows: alerts by (alert type, rule id), and the reasons that must appear.
    expected_alerts: dict[str, int] = field(default_factory=dict)
    expected_reasons: tuple[str, ...] = ()
    seed: int = 17

    @property
    def start(self) -> float:
        return self.local_start.timestamp()

    @property
    def scenario_path(self) -> Path:
        return SCENARIO_DIR / f"policy-{self.name}.jsonl"

    @property
    def policy_path(self) -> Path:
        return POLICY_DIR / f"{self.name}.json"


UNKNOWN_RULE: Final = {"type": "unknown_face", "id": "strangers", "severity": "high", "recipients": ["security"]}
AFTER_HOURS: Final = {
    "type": "after_hours",
    "id": "closed",
    "severity": "high",
    "recipients": ["security"],
    "schedule": {
        "windows": [{"days": "mon-fri", "start": "20:00", "end": "07:00"}, {"days": "sat-sun"}],
        "exceptions": [{"date": "2025-12-25", "armed": True, "note": "closed on Christmas Day"}],
    },
}


def _site(*rules: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "schema": 1,
        "site": SITE,
        "timezone": "Asia/Seoul",
        "cameras": {LOBBY: {}, FLOOR3: {}, PARKING: {}},
        "rules": list(rules),
        **extra,
    }


CASES: Final = (
    PolicyCase(
        name="banned-at-night",
        title="A banned person at night, and the night guard under the after-hours rule",
        local_start=datetime(2025, 11, 25, 23, 40, tzinfo=SEOUL),
        duration_seconds=60.0,
        walks=(
            Walk(LOBBY, 10.0, 30.0, external_image_id="wl:banned:case-118", similarity=(95.0, 99.0)),
            Walk(FLOOR3, 20.0, 32.0, external_image_id="E20417"),
        ),
        policy=_site(
            UNKNOWN_RULE,
            {
                "type": "watchlist",
                "id": "banned",
                "list": "banned",
                "severity": "critical",
                "recipients": ["security", "police-liaison"],
            },
            AFTER_HOURS,
        ),
        entries=(WatchlistSeed("banned", "case-118", "trespass notice served 2025-11-03 (case 118)", 180),),
        expected_alerts={"watchlist_match/banned": 1, "after_hours/closed": 1},
        expected_reasons=("suppressed_by_window",),
    ),
    PolicyCase(
        name="contractor-ignored",
        title="A contractor on the ignore list works in the corridor",
        local_start=datetime(2025, 11, 25, 10, 0, tzinfo=SEOUL),
        duration_seconds=60.0,
        walks=(Walk(FLOOR3, 4.0, 56.0, external_image_id="wl:contractors:acme-plumber"),),
        policy=_site(
            UNKNOWN_RULE, {"type": "watchlist", "id": "contractors", "list": "contractors", "action": "ignore"}
        ),
        entries=(WatchlistSeed("contractors", "acme-plumber", "plumbing work order WO-5521, 3F east", 14),),
        expected_alerts={},
        expected_reasons=("ignore_list",),
    ),
    PolicyCase(
        name="snoozed-camera",
        title="The parking camera snoozed for cleaning while a stranger walks through",
        local_start=datetime(2025, 11, 25, 14, 0, tzinfo=SEOUL),
        duration_seconds=60.0,
        walks=(Walk(PARKING, 6.0, 30.0, left=0.3), Walk(LOBBY, 20.0, 40.0)),
        policy=_site(UNKNOWN_RULE, max_snooze_minutes=120),
        snoozes=(SnoozeSeed("camera", PARKING, 60, "floor cleaning crew, B1"),),
        expected_alerts={"unknown_face/strangers": 1},
        expected_reasons=("snoozed",),
    ),
    PolicyCase(
        name="blurred-employee",
        title="One blurred employee frame, filtered out by confirmation; a visitor who stays is alerted",
        local_start=datetime(2025, 11, 25, 9, 0, tzinfo=SEOUL),
        duration_seconds=90.0,
        walks=(
            Walk(LOBBY, 4.0, 16.0, external_image_id="E10442", unmatched_near=(10.0,)),
            Walk(LOBBY, 30.0, 40.0, external_image_id="E31877", unmatched_near=(34.0,)),
            Walk(FLOOR3, 50.0, 86.0, left=0.4),
        ),
        policy=_site(UNKNOWN_RULE),
        expected_alerts={"unknown_face/strangers": 1},
        expected_reasons=("unconfirmed", "employee_match"),
    ),
)


class _Recorder:
    def __init__(self, case: PolicyCase) -> None:
        self._rng = random.Random(case.seed)  # noqa: S311 - a reproducible recording, not a secret
        self._case = case

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self._rng.uniform(low, high), digits)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def face(self, walk: Walk, at: float, frame_index: int) -> dict[str, Any]:
        height = self.uniform(0.15, 0.2, 4)
        width = round(height * 0.45, 4)
        left = round(walk.left + self.uniform(-0.03, 0.03), 4)
        top = round(0.25 + self.uniform(-0.02, 0.02), 4)
        detected = {
            "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "Confidence": self.uniform(*walk.confidence),
            "Pose": {
                "Pitch": self.uniform(-10, 10, 2),
                "Roll": self.uniform(-6, 6, 2),
                "Yaw": self.uniform(-30, 30, 2),
            },
            "Quality": {"Brightness": self.uniform(40, 80), "Sharpness": self.uniform(*walk.sharpness)},
        }
        lost = any(abs(at - moment) < FRAME_INTERVAL_SECONDS / 2 for moment in walk.unmatched_near)
        matches = []
        if walk.external_image_id is not None and not lost:
            matches.append(
                {
                    "Similarity": self.uniform(*walk.similarity),
                    "Face": {
                        "FaceId": str(uuid.uuid5(uuid.NAMESPACE_URL, walk.external_image_id)),
                        "ExternalImageId": walk.external_image_id,
                        "Confidence": 99.99,
                    },
                }
            )
        return {"DetectedFace": detected, "MatchedFaces": matches}

    def records(self) -> list[ScenarioRecord]:
        case = self._case
        arrivals: list[tuple[float, str, str, str]] = []
        for index, camera_id in enumerate(CAMERAS):
            created_ms = 1_731_900_000_000 + index * 7_919
            arn = f"arn:aws:kinesisvideo:{RECORDED_REGION}:{RECORDED_ACCOUNT}:stream/{camera_id}/{created_ms}"
            frames = int(case.duration_seconds // FRAME_INTERVAL_SECONDS)
            for frame in range(frames):
                at = round(0.3 + index * 0.5 + frame * FRAME_INTERVAL_SECONDS + self.uniform(0, 0.2), 3)
                faces = [
                    self.face(walk, at, frame)
                    for walk in case.walks
                    if walk.camera_id == camera_id and walk.enters <= at < walk.leaves
                ]
                fragment = int(at // FRAGMENT_SECONDS)
                producer = round(case.start + fragment * FRAGMENT_SECONDS + 0.118, 3)
                record = {
                    "InputInformation": {
                        "KinesisVideo": {
                            "StreamArn": arn,
                            "FragmentNumber": str(
                                91_343_852_333_181_432_392_682_062_612_240_118_245_634_380_000 + fragment * 7_351
                            ),
                            "ServerTimestamp": round(producer + 0.3, 3),
                            "ProducerTimestamp": producer,
                            "FrameOffsetInSeconds": max(0.0, round(case.start + at - producer, 3)),
                        }
                    },
                    "StreamProcessorInformation": {"Status": "RUNNING"},
                    "FaceSearchResponse": faces,
                }
                arrived = round(at + self.uniform(*RESULT_LAG_SECONDS), 3)
                arrivals.append((arrived, camera_id, _kind(faces), to_java_json(record)))
        arrivals.sort(key=lambda arrival: arrival[0])
        return [
            ScenarioRecord(offset_seconds=arrived, camera_id=camera, kind=kind, partition_key=self.uuid(), data=data)
            for arrived, camera, kind, data in arrivals
        ]


def case_snapshot(
    case: PolicyCase, *, confirm: tuple[int, float] | None = None, employee_match_threshold: float = 80.0
) -> PolicySnapshot:
    """The policy in force during the case: its file, its watchlist entries and snoozes, as PolicyTable
    would hold them. `confirm` replaces the unknown-face rule's (N, T)."""
    document = json.loads(policy_text(case))
    if confirm is not None:
        for rule in document["rules"]:
            if rule["type"] == "unknown_face":
                rule["confirm_sightings"], rule["confirm_seconds"] = confirm
    policy = SitePolicy.model_validate(document)
    entries = {
        (seed.list, seed.entry_id): WatchlistEntry(
            list=seed.list,
            entry_id=seed.entry_id,
            reason=seed.reason,
            added_at=case.start - DAY_SECONDS,
            expires_at=case.start + seed.days * DAY_SECONDS,
            added_by="security-lead@example.com",
        )
        for seed in case.entries
    }
    snoozes = tuple(
        Snooze(
            snooze_id=f"demo-{index}",
            scope=seed.scope,
            target=seed.target,
            starts_at=case.start,
            until=case.start + seed.minutes * 60,
            reason=seed.reason,
            by="guard-1",
        )
        for index, seed in enumerate(case.snoozes)
    )
    return PolicySnapshot(
        policies={policy.site: policy},
        entries=entries,
        snoozes=snoozes,
        employee_match_threshold=employee_match_threshold,
    )


# --- choosing N and T: replay the recordings through the policy step ---

MORNING_STRANGER_CAMERAS: Final = (VISITOR_CAMERA,)
CONFIRM_GRID: Final = tuple((n, t) for n in (1, 2, 3, 4) for t in (5.0, 10.0, 20.0, 30.0))
DEDUP_WINDOW_SECONDS: Final = 60.0
# A stream processor may skip frames under load: T must hold N sightings with two frames lost.
FRAMES_LOST_TOLERATED: Final = 2


@dataclass(frozen=True, slots=True)
class ConfirmationMeasure:
    sightings: int
    seconds: float
    false_alerts: int  # alerts on a camera where no stranger was (an employee's lost match)
    missed_strangers: int  # strangers never alerted
    worst_delay_seconds: float  # from a stranger's first qualifying sighting to the alert

    @property
    def tolerates_lost_frames(self) -> bool:
        return self.seconds >= (self.sightings + FRAMES_LOST_TOLERATED) * FRAME_INTERVAL_SECONDS or self.sightings == 1


def _stranger_cameras(name: str) -> set[str]:
    if name == "seoul-hq-morning":
        return set(MORNING_STRANGER_CAMERAS)
    case = next(case for case in CASES if case.name == name)
    return {walk.camera_id for walk in case.walks if walk.external_image_id is None}


def _morning_policy(confirm: tuple[int, float]) -> PolicySnapshot:
    rule = UnknownFaceRule(id="strangers", confirm_sightings=confirm[0], confirm_seconds=confirm[1])
    return PolicySnapshot(policies={"default": SitePolicy(site="default", rules=(rule,))})


def measure(confirm: tuple[int, float], gates: FaceGates) -> ConfirmationMeasure:
    """Every recorded scenario replayed in arrival order through the policy step (PolicyGate) and 60 s
    camera windows, as the detector runs them, without AWS."""
    false_alerts = missed = 0
    worst = 0.0
    for name, scenario in all_scenarios():
        case = next((case for case in CASES if case.name == name), None)
        snapshot = case_snapshot(case, confirm=confirm) if case else _morning_policy(confirm)
        gate = PolicyGate(StaticPolicies(snapshot), gates, max_cameras=100)
        strangers = _stranger_cameras(name)
        first_seen: dict[str, float] = {}
        alerted: dict[str, float] = {}
        window_end: dict[str, float] = {}
        for record in scenario.records:
            try:
                frame = parse_face_frame(record.data.encode())
            except MalformedRecordError:
                continue
            camera = frame.source.camera_id
            at = frame.source.frame_time
            verdict = gate.judge(frame)
            if verdict.candidates and camera in strangers:
                first_seen.setdefault(camera, at)
            if verdict.sighting is None or at < window_end.get(verdict.window_scope, -1.0):
                continue
            window_end[verdict.window_scope] = at + DEDUP_WINDOW_SECONDS
            if verdict.policy is not None and verdict.policy.alert_type != "unknown_face":
                continue
            if camera not in strangers:
                false_alerts += 1
            alerted.setdefault(camera, at)
        case_missed, case_worst = _missed_and_worst(strangers, first_seen, alerted, name == "seoul-hq-morning")
        missed += case_missed
        worst = max(worst, case_worst)
    return ConfirmationMeasure(confirm[0], confirm[1], false_alerts, missed, round(worst, 3))


def _missed_and_worst(
    strangers: set[str], first_seen: dict[str, float], alerted: dict[str, float], unseen_count: bool
) -> tuple[int, float]:
    """(strangers never alerted on, the longest delay from a stranger's first sighting to its alert). A
    stranger never seen is missed only when `unseen_count` (the morning replay, where every one walks in)."""
    missed = 0
    worst = 0.0
    for camera in strangers:
        if camera not in alerted:
            if camera in first_seen or unseen_count:
                missed += 1
        else:
            worst = max(worst, alerted[camera] - first_seen.get(camera, alerted[camera]))
    return missed, worst


def measure_confirmation(gates: FaceGates | None = None) -> list[ConfirmationMeasure]:
    """The grid, measured with the template's default quality gates unless told otherwise."""
    return [measure(confirm, gates or FaceGates()) for confirm in CONFIRM_GRID]


def chosen(measures: Sequence[ConfirmationMeasure]) -> ConfirmationMeasure:
    """No false alert, no stranger missed, the shortest worst delay; then the smallest T that still
    holds N sightings with two frames lost."""
    fine = [m for m in measures if m.false_alerts == 0 and m.missed_strangers == 0 and m.tolerates_lost_frames]
    return min(fine, key=lambda m: (m.worst_delay_seconds, m.sightings, m.seconds))


def _kind(faces: Sequence[dict[str, Any]]) -> str:
    if not faces:
        return "empty"
    ids = [m["Face"]["ExternalImageId"] for face in faces for m in face["MatchedFaces"]]
    if any(i.startswith("wl:") for i in ids):
        return "watchlist"
    if all(face["MatchedFaces"] for face in faces):
        return "employee"
    return "visitor"


def generate(case: PolicyCase) -> Scenario:
    return Scenario(records=tuple(_Recorder(case).records()))


def policy_text(case: PolicyCase) -> str:
    return json.dumps(case.policy, indent=2) + "\n"


def outputs() -> list[tuple[Path, str]]:
    return [
        item
        for case in CASES
        for item in ((case.scenario_path, dump_scenario(generate(case))), (case.policy_path, policy_text(case)))
    ]


def load_case(case: PolicyCase) -> Scenario:
    return load_scenario(case.scenario_path)


def all_scenarios() -> Iterable[tuple[str, Scenario]]:
    yield "seoul-hq-morning", load_scenario(SCENARIO_PATH)
    for case in CASES:
        yield case.name, load_case(case)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail if a committed file differs from its seed's")
    parser.add_argument("--measure", action="store_true", help="print the N-of-T measurement on the recordings")
    args = parser.parse_args(argv)
    if args.measure:
        measures = measure_confirmation()
        print("N   T(s)  false alerts  missed strangers  worst delay (s)  tolerates 2 lost frames")
        for m in measures:
            print(
                f"{m.sightings:<3} {m.seconds:<5g} {m.false_alerts:<13} {m.missed_strangers:<17} "
                f"{m.worst_delay_seconds:<16g} {'yes' if m.tolerates_lost_frames else 'no'}"
            )
        best = chosen(measures)
        print(f"chosen: N={best.sightings}, T={best.seconds:g} s")
        return 0
    stale = []
    for path, text in outputs():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(path)
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(f"wrote {path}")
    if stale:
        print("out of date (run python -m facewatch_local.policy_scenarios): " + ", ".join(map(str, stale)))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
