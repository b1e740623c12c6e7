"""A simulated fleet against a Rekognition stand-in that enforces the account's TPS quota.

Each camera is the sampler's real FrameAnalyser (track cache, budget with its share of the account's TPS,
backoff) calling the stand-in through a real boto3 Rekognition client (facewatch_sampler.rekognition). The
stand-in (facewatch_local.rekognition_standin, on 127.0.0.1) enforces `quota_tps` per API over any
second, as Rekognition does, and answers a throttled call with ProvisionedThroughputExceededException.
Every camera sees a new face on every sampled frame (2 frames/s, nothing to reuse): each asks for about
4 calls a second, far more than its share, so the budget alone keeps the fleet inside the quota.

Reported: the most calls any API received in one second (throttled ones included) against the quota,
the fleet's average TPS, throttled calls, and per camera the frames analysed and dropped over budget; a
camera that analysed no frame starved. `configured_tps` above `quota_tps` shows what throttling does.

`python -m benchmarks.fleet_budget` prints the table; `--quick` runs a smaller fleet for a few seconds.
"""

from __future__ import annotations

import argparse
import heapq
import logging
import random
import statistics
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import boto3
import numpy as np
from botocore.config import Config
from facewatch_local.rekognition_standin import OracleFace, RekognitionStandIn
from facewatch_sampler.analysis import AnalysisSettings, FrameAnalyser, TrackResult
from facewatch_sampler.backoff import Backoff
from facewatch_sampler.budget import CallBudget, CameraBudget, camera_share_tps, share_bucket
from facewatch_sampler.frames import Frame, Image
from facewatch_sampler.geometry import Box
from facewatch_sampler.observability import SERVICE_NAME
from facewatch_sampler.rekognition import RekognitionFaces
from facewatch_sampler.settings import DetectFacesMode, SearchMode
from facewatch_sampler.stats import SamplerStats
from facewatch_sampler.tracks import TrackCache

from benchmarks.report import Table, number

FRAME: Image = np.full((180, 320, 3), 128, dtype=np.uint8)
FACE = Box(0.4, 0.3, 0.2, 0.35)
SAMPLED_FPS = 2.0
# Each camera's own minute cap is kept out of the way: the account's share is what is measured.
MAX_CALLS_PER_MINUTE = 10_000


class OneStranger:
    """The oracle: one face, matching nobody, in every image."""

    def faces(self, image: bytes) -> list[OracleFace]:
        return [OracleFace(0.3, 0.2, 0.4, 0.6)]


class NewFaceEveryFrame:
    """A local detector that sees one face, jumping about so that each frame starts a new track."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng

    def detect(self, image: Image) -> list[Box]:
        return [Box(self._rng.uniform(0.0, 0.8), self._rng.uniform(0.0, 0.6), 0.1, 0.15)]


@dataclass(frozen=True, slots=True)
class FleetResult:
    cameras: int
    quota_tps: float
    configured_tps: float
    seconds: float
    camera_share_tps: float
    calls: int
    throttled: int
    max_calls_in_a_second: dict[str, int]
    frames_analysed: list[int]
    frames_over_budget: list[int]
    frames_backing_off: list[int]

    @property
    def fleet_tps(self) -> float:
        return (self.calls - self.throttled) / self.seconds

    @property
    def starved(self) -> int:
        return sum(1 for analysed in self.frames_analysed if analysed == 0)

    def as_dict(self) -> dict[str, Any]:
        return {
            "cameras": self.cameras,
            "quota_tps_per_api": self.quota_tps,
            "configured_account_tps": self.configured_tps,
            "seconds": round(self.seconds, 1),
            "camera_share_tps": round(self.camera_share_tps, 3),
            "calls": self.calls,
            "throttled": self.throttled,
            "fleet_tps": round(self.fleet_tps, 1),
            "max_calls_in_a_second": self.max_calls_in_a_second,
            "starved_cameras": self.starved,
            "frames_analysed_min": min(self.frames_analysed),
            "frames_analysed_median": statistics.median(self.frames_analysed),
            "frames_analysed_max": max(self.frames_analysed),
            "frames_over_budget_total": sum(self.frames_over_budget),
            "frames_over_budget_min": min(self.frames_over_budget),
            "frames_backing_off_total": sum(self.frames_backing_off),
        }


def _analyser(
    client: Any, share_tps: float, stats: SamplerStats, rng: random.Random, *, collection_id: str
) -> FrameAnalyser:
    return FrameAnalyser(
        AnalysisSettings(
            detect_faces=DetectFacesMode.ALWAYS,
            research_after_seconds=0.0,
            no_face_recheck_seconds=0.0,
            max_image_side_px=1280,
            jpeg_quality=80,
            search=SearchMode.FACES,
        ),
        detector=NewFaceEveryFrame(rng),
        faces=RekognitionFaces(collection_id, 80.0, client=client),
        tracks=TrackCache[TrackResult](iou_threshold=0.9, forget_after_seconds=0.1),
        budget=CameraBudget(CallBudget(MAX_CALLS_PER_MINUTE), share_bucket(share_tps, jitter=rng.random)),
        backoff=Backoff(1.0, 30.0, jitter=rng.random),
        stats=stats,
    )


def simulate(
    *,
    cameras: int,
    quota_tps: float,
    seconds: float,
    configured_tps: float | None = None,
    utilisation: float = 0.8,
    seed: int = 7,
) -> FleetResult:
    """Runs the fleet for `seconds` of wall time (the stand-in's quota is in real seconds)."""
    configured = configured_tps or quota_tps
    share = camera_share_tps(configured, cameras, utilisation)
    rng = random.Random(seed)
    stand_in = RekognitionStandIn(OneStranger(), tps_quota=quota_tps)
    with stand_in.serving() as endpoint:
        # One client for the fleet: the quota is the account's whatever host a call comes from. No SDK
        # retries, as the sampler's own client (facewatch_sampler.rekognition.client_config).
        client = boto3.session.Session(
            aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
        ).client(
            "rekognition",
            endpoint_url=endpoint,
            config=Config(retries={"total_max_attempts": 1, "mode": "standard"}, connect_timeout=2, read_timeout=5),
        )
        stats = [SamplerStats(camera_id=f"camera-{index:03d}") for index in range(cameras)]
        analysers = [_analyser(client, share, s, rng, collection_id="employees") for s in stats]
        started = time.monotonic()
        end = started + seconds
        interval = 1.0 / SAMPLED_FPS
        # Each camera's next frame, in a heap: cameras sample at 2 frames/s with random phases.
        due = [(started + rng.random() * interval, index) for index in range(cameras)]
        heapq.heapify(due)
        frame_index = 0
        while due:
            at, index = heapq.heappop(due)
            if at >= end or time.monotonic() >= end:
                break
            delay = at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            frame_index += 1
            analysers[index].analyse(Frame(image=FRAME, time=time.time(), index=frame_index))
            heapq.heappush(due, (at + interval, index))
        elapsed = time.monotonic() - started
    return FleetResult(
        cameras=cameras,
        quota_tps=quota_tps,
        configured_tps=configured,
        seconds=elapsed,
        camera_share_tps=share,
        calls=len(stand_in.calls),
        throttled=stand_in.throttled,
        max_calls_in_a_second={
            operation: stand_in.attempted_per_second_max(operation)
            for operation in ("DetectFaces", "SearchFacesByImage")
        },
        frames_analysed=[s.frames_analysed for s in stats],
        frames_over_budget=[s.frames_over_budget for s in stats],
        frames_backing_off=[s.frames_backing_off for s in stats],
    )


CASES = (
    {"cameras": 200, "quota_tps": 50.0, "seconds": 30.0},
    # 5 TPS for 100 cameras: one 2-call frame per camera every 50 s, so this one runs longer.
    {"cameras": 100, "quota_tps": 5.0, "seconds": 75.0},
    {"cameras": 200, "quota_tps": 50.0, "seconds": 30.0, "configured_tps": 200.0},
)
QUICK_CASES = ({"cameras": 20, "quota_tps": 30.0, "seconds": 4.0},)


def run(quick: bool = False) -> dict[str, Any]:
    cases = QUICK_CASES if quick else CASES
    # The analysers' per-call warnings (thousands when configured above the quota) would bury the table.
    level = logging.getLogger(SERVICE_NAME).level
    logging.getLogger(SERVICE_NAME).setLevel(logging.ERROR)
    try:
        return {"cases": [simulate(**case).as_dict() for case in cases]}  # type: ignore[arg-type]
    finally:
        logging.getLogger(SERVICE_NAME).setLevel(level)


def tables(result: dict[str, Any]) -> list[Table]:
    table = Table(
        "Simulated fleet against the Rekognition stand-in's quota (every camera asks ~4 calls/s)",
        [
            "cameras",
            "quota per API",
            "configured",
            "fleet TPS",
            "most calls in 1 s: DetectFaces / Search",
            "throttled",
            "frames analysed per camera: min / median",
            "over budget",
            "starved",
        ],
    )
    for case in result["cases"]:
        most = case["max_calls_in_a_second"]
        table.add(
            case["cameras"],
            number(case["quota_tps_per_api"], 0),
            number(case["configured_account_tps"], 0),
            number(case["fleet_tps"]),
            f"{most['DetectFaces']} / {most['SearchFacesByImage']}",
            case["throttled"],
            f"{case['frames_analysed_min']} / {case['frames_analysed_median']:g}",
            case["frames_over_budget_total"],
            case["starved_cameras"],
        )
    table.notes.append(
        "The budget counts every call against the account TPS x 0.8, so each API stays below its own quota even "
        "when cameras' bursts coincide; configured above the real quota, throttling and backoff take over."
    )
    return [table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.fleet_budget", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a small fleet for a few seconds")
    args = parser.parse_args(argv)
    for table in tables(run(quick=args.quick)):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
