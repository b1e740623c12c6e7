"""Synthetic but realistic face-search traffic: what the detector is fed in every benchmark.

Records come from the shared factory (facewatch_testkit/records.py): every field a real record has,
Landmarks included, numbers written the way the stream processor writes them. Sizes span the real range:
an unknown face alone ~0.8 KB, each further face ~0.7 KB (up to ~2.4 KB for three faces); a frame with no
face is ~0.4 KB.
"""

from __future__ import annotations

import random
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from facewatch_testkit.kinesis import ARRIVAL_LAG_SECONDS, kinesis_event
from facewatch_testkit.records import employee_face, encode_record, frame_at, unknown_face

# Below MinFaceConfidence (90): a face the detector drops as low_confidence.
LOW_CONFIDENCE = 62.0
# The mix for a busy batch: 70 % no sighting, 25 % sightings inside an open window, 5 % openers.
OPENER_SHARE = 0.05
IN_WINDOW_SHARE = 0.25
# Of the records without a sighting, this share has no face at all (the rest: employees, blurred faces).
EMPTY_SHARE_OF_QUIET = 1 / 7
SEED = 6


class Kind(StrEnum):
    EMPTY = "empty"  # FaceSearchResponse [] (the template's record filter keeps these from the detector)
    EMPLOYEES = "employees"  # 1-3 faces, all matched to the collection
    BLURRED = "blurred"  # an employee and an unknown face below MinFaceConfidence
    OPENER = "opener"  # an unknown face on a camera with no open window: an alert
    IN_WINDOW = "in_window"  # an unknown face inside the camera's open window: suppressed
    SIGHTING = "sighting"  # an unknown face; the detector decides whether it opens a window

    @property
    def is_sighting(self) -> bool:
        return self in (Kind.OPENER, Kind.IN_WINDOW, Kind.SIGHTING)


@dataclass(frozen=True, slots=True)
class Frame:
    """One record as the stream processor writes it, and when it reaches Kinesis."""

    kind: Kind
    camera_id: str
    seconds: float  # frame time, seconds after the footage's start (facewatch_testkit.records.T0)
    record: dict[str, Any]

    @property
    def arrival(self) -> float:
        return self.seconds + ARRIVAL_LAG_SECONDS


def faces_for(kind: Kind, rng: random.Random) -> list[dict[str, Any]]:
    employees = [employee_face() for _ in range(rng.randint(1, 3))]
    match kind:
        case Kind.EMPTY:
            return []
        case Kind.EMPLOYEES:
            return employees
        case Kind.BLURRED:
            return [employees[0], unknown_face(confidence=LOW_CONFIDENCE)]
        case Kind.OPENER | Kind.IN_WINDOW | Kind.SIGHTING:
            return [unknown_face(), *employees[: rng.randint(0, 2)]]


def frame(kind: Kind, camera_id: str, seconds: float, rng: random.Random) -> Frame:
    return Frame(kind, camera_id, seconds, frame_at(seconds, faces_for(kind, rng), camera_id=camera_id))


def quiet_kind(rng: random.Random, empty_share: float = EMPTY_SHARE_OF_QUIET) -> Kind:
    return Kind.EMPTY if rng.random() < empty_share else rng.choice((Kind.EMPLOYEES, Kind.BLURRED))


def quiet_batch(size: int, *, seed: int = SEED, offset_seconds: float = 0.0) -> list[Frame]:
    """A batch in which no record is a sighting: no AWS call may be made for it."""
    rng = random.Random(seed)
    cameras = max(1, size // 20)
    frames = [
        frame(quiet_kind(rng), f"quiet-{n % cameras:03d}", offset_seconds + rng.uniform(0, 15), rng)
        for n in range(size)
    ]
    return sorted(frames, key=lambda f: f.arrival)


def mixed_batch(size: int, *, seed: int = SEED, offset_seconds: float = 0.0) -> list[Frame]:
    """The issue's mix: 5 % window openers, 25 % sightings inside an open window, 70 % no sighting.

    Each opener is a person appearing on a camera of their own; the in-window sightings are the same
    people on the following frames (within seconds, well inside the 60 s window), so a fresh container
    makes one claim and queues one job per opener, and one suppressed-count write per such camera.
    `offset_seconds` moves the footage (a later batch whose windows are not those of an earlier one).
    """
    rng = random.Random(seed)
    openers = max(1, round(size * OPENER_SHARE))
    followers = round(size * IN_WINDOW_SHARE)
    frames: list[Frame] = []
    for n in range(openers):
        camera, start = f"visited-{n:03d}", offset_seconds + rng.uniform(0, 10)
        frames.append(frame(Kind.OPENER, camera, start, rng))
        mine = followers // openers + (1 if n < followers % openers else 0)
        frames += [frame(Kind.IN_WINDOW, camera, start + 0.4 * (k + 1), rng) for k in range(mine)]
    quiet = quiet_batch(size - len(frames), seed=seed + 1, offset_seconds=offset_seconds)
    return sorted(frames + quiet, key=lambda f: f.arrival)


def event_of(frames: Sequence[Frame], *, first_sequence: int = 1) -> dict[str, Any]:
    """The Lambda event for these records, in the envelope Lambda's Kinesis event source mapping builds."""
    return kinesis_event((f.record for f in frames), first_sequence=first_sequence)


def size_summary(frames: Iterable[Frame]) -> dict[str, float]:
    sizes = [len(encode_record(f.record)) for f in frames]
    return {"min_bytes": min(sizes), "median_bytes": statistics.median(sizes), "max_bytes": max(sizes)}


def kind_counts(frames: Iterable[Frame]) -> Mapping[str, int]:
    counts = dict.fromkeys((k.value for k in Kind), 0)
    for f in frames:
        counts[f.kind.value] += 1
    return counts


def lingering_person(*, minutes: float = 10, records_per_second: float = 5, camera_id: str = "lobby-01") -> list[Frame]:
    """One camera, one visitor in every analysed frame for `minutes`."""
    rng = random.Random(SEED)
    count = round(minutes * 60 * records_per_second)
    return [frame(Kind.SIGHTING, camera_id, n / records_per_second, rng) for n in range(count)]


def camera_fleet(
    *,
    cameras: int = 100,
    records_per_second: float = 2,
    minutes: float = 5,
    sighting_share: float = 0.01,
    visit_seconds: float = 10,
    empty_share: float = 0.7,
    seed: int = SEED,
) -> list[Frame]:
    """Many cameras, mostly empty scenes and employees; `sighting_share` of the records are visitors.

    A visitor is seen on every analysed frame of one camera for `visit_seconds` (visits do not overlap on
    a camera), so sightings come in runs as they do in front of a real camera, not one frame at a time.
    """
    rng = random.Random(seed)
    duration = minutes * 60
    per_camera = round(duration * records_per_second)
    wanted = round(sighting_share * cameras * per_camera / (visit_seconds * records_per_second))
    visits: dict[str, list[tuple[float, float]]] = {}
    for _ in range(wanted):
        for _attempt in range(1000):
            camera, start = f"cam-{rng.randrange(cameras):03d}", rng.uniform(0, duration - visit_seconds)
            spans = visits.setdefault(camera, [])
            if all(start + visit_seconds <= begin or end <= start for begin, end in spans):
                spans.append((start, start + visit_seconds))
                break
        else:
            raise ValueError("too many visits for the cameras and minutes given")
    frames = []
    for number in range(cameras):
        camera = f"cam-{number:03d}"
        phase = rng.uniform(0, 1 / records_per_second)
        for n in range(per_camera):
            seconds = phase + n / records_per_second
            seen = any(begin <= seconds < end for begin, end in visits.get(camera, ()))
            frames.append(frame(Kind.SIGHTING if seen else quiet_kind(rng, empty_share), camera, seconds, rng))
    return sorted(frames, key=lambda f: (f.arrival, f.camera_id))
