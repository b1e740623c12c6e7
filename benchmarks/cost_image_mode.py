"""Cost model, image mode next to stream-processor mode: $ per camera per month.

Stream-processor mode is benchmarks/cost.py as it stands (Rekognition streaming face search on every
minute of video). Image mode replaces that line with Rekognition Image calls made by the edge sampler
(facewatch_sampler): per sampled frame in which the local detector finds a face and no recent search of
that face can be reused, one DetectFaces plus one SearchFacesByImage per new face. Its records are fewer
(analysed frames only), so the facewatch part shrinks too; KVS still takes the video (the clips come from
it) but nothing reads it continuously any more.

Rekognition Image is priced flat at the first volume tier (the first million images a month of an
account): larger accounts pay less per image, so image mode's figures here are an upper bound. Prices are
cost.py's PRICES plus IMAGE_PRICES below, written down without network access: check them before quoting.

`python -m benchmarks.cost_image_mode` prints the table.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from typing import Any

from facewatch_sampler.geometry import Box
from facewatch_sampler.records import AnalysedFace, HeadPose, ImageQuality, Landmark, build_record, encode_record
from facewatch_testkit.records import T0, kvs_stream_arn

from benchmarks import cost
from benchmarks.report import Table, number

IMAGE_PRICES: Mapping[str, cost.Price] = {
    # Rekognition Image, first tier (first 1 M images a month per account); both groups cost the same there.
    "rekognition_detect_faces_image": cost.Price(0.001, "image (DetectFaces, group 2, first 1 M/month)"),
    "rekognition_search_faces_by_image_image": cost.Price(
        0.001, "image (SearchFacesByImage, group 1, first 1 M/month)"
    ),
}
FACE_FRAME_SHARES = (0.01, 0.05, 0.1, 0.25, 0.5, 1.0)
DEFAULT_FACE_FRAME_SHARE = 0.1


@dataclass(frozen=True, slots=True)
class ImageModeAssumptions:
    """The sampler's settings and what a camera sees; printed with the result."""

    sample_fps: float = 2.0  # the sampler's default
    face_frame_share: float = DEFAULT_FACE_FRAME_SHARE  # sampled frames in which the local detector finds a face
    faces_per_face_frame: float = 1.2
    dwell_seconds: float = 8.0  # how long a face stays in view: someone crossing a lobby
    research_after_seconds: float = 10.0  # the track cache (0 = off: every frame with a face is analysed)
    detect_faces: bool = True  # the sampler's --detect-faces always (False: never, one call fewer per frame)
    max_calls_per_minute: int = 30  # the budget guard's default: a ceiling on the month's calls

    @property
    def analysed_share(self) -> float:
        """Of the frames with a face, those analysed: one per face visit and per re-search interval."""
        if self.research_after_seconds <= 0:
            return 1.0
        frames_per_visit = max(1.0, self.dwell_seconds * self.sample_fps)
        searches_per_visit = math.ceil(self.dwell_seconds / self.research_after_seconds)
        return min(1.0, searches_per_visit / frames_per_visit)

    def calls_per_month(self) -> tuple[float, float, float]:
        """(DetectFaces, SearchFacesByImage, analysed frames) a month, capped by the budget guard."""
        analysed = self.sample_fps * cost.SECONDS_PER_MONTH * self.face_frame_share * self.analysed_share
        detect = analysed if self.detect_faces else 0.0
        search = analysed * self.faces_per_face_frame
        ceiling = self.max_calls_per_minute * cost.SECONDS_PER_MONTH / 60
        if detect + search > ceiling:  # the guard drops frames beyond it
            scale = ceiling / (detect + search)
            detect, search, analysed = detect * scale, search * scale, analysed * scale
        return detect, search, analysed


def image_mode_record_sizes(faces: int = 1) -> dict[str, float]:
    """Size of an image-mode record with `faces` unknown faces, exact and as Kinesis on-demand bills it."""
    face = AnalysedFace(
        box=Box(0.5503, 0.2359, 0.0773, 0.1717),
        confidence=99.97,
        pose=HeadPose(3.21, -2.08, 12.53),
        quality=ImageQuality(51.73, 86.86),
        landmarks=tuple(
            Landmark(kind, 0.58 + i / 100, 0.3)
            for i, kind in enumerate(("eyeLeft", "eyeRight", "mouthLeft", "mouthRight", "nose"))
        ),
    )
    size = len(encode_record(build_record(kvs_stream_arn(), T0, (face,) * faces)))
    return {"record_bytes": float(size), "record_kb_billed": float(math.ceil(size / 1024))}


def _usd(key: str, quantity: float) -> float:
    price = IMAGE_PRICES.get(key) or cost.PRICES[key]
    return price.usd * quantity


def image_mode_items(
    camera: cost.CameraAssumptions,
    measured: cost.Measured,
    deployment: cost.Deployment,
    image: ImageModeAssumptions,
) -> list[dict[str, Any]]:
    """cost.py's line items for the traffic image mode writes, with Rekognition and KVS as image mode uses them."""
    detect, search, analysed = image.calls_per_month()
    records_per_second = analysed / cost.SECONDS_PER_MONTH
    traffic = replace(camera, records_per_second=records_per_second, face_record_share=1.0)
    sizes = image_mode_record_sizes()
    items = [
        item
        for item in cost.line_items(traffic, replace(measured, **sizes), deployment)
        if item["group"] == "facewatch"
    ]
    items.append(
        {
            "group": "rekognition",
            "item": "Rekognition Image (DetectFaces + SearchFacesByImage)",
            "usd": _usd("rekognition_detect_faces_image", detect)
            + _usd("rekognition_search_faces_by_image_image", search),
            "basis": f"{detect / 1e3:,.0f} k DetectFaces + {search / 1e3:,.0f} k SearchFacesByImage",
        }
    )
    video_gb = camera.video_bitrate_mbps / 8 * cost.SECONDS_PER_MONTH / 1024
    stored_gb = camera.video_bitrate_mbps / 8 * deployment.video_retention_hours * 3600 / 1024
    items.append(
        {
            "group": "kvs",
            "item": "Kinesis Video Streams",
            "usd": _usd("kvs_ingest_gb", video_gb) + _usd("kvs_storage_gb_month", stored_gb),
            "basis": f"{video_gb:.0f} GB in, {stored_gb:.0f} GB kept; no stream processor reads it",
        }
    )
    return items


def _group(items: Sequence[Mapping[str, Any]], group: str) -> float:
    return sum(float(i["usd"]) for i in items if i["group"] == group)


def break_even_face_frame_share(image: ImageModeAssumptions) -> float:
    """The share of sampled frames with a face above which image mode's Rekognition bill passes streaming's
    (inf when even every frame with a face costs less, e.g. thanks to the track cache or the budget guard)."""
    streaming = cost.PRICES["rekognition_streaming_face_search_minute"].usd * cost.SECONDS_PER_MONTH / 60
    at_full = replace(image, face_frame_share=1.0)
    detect, search, _ = at_full.calls_per_month()
    full = _usd("rekognition_detect_faces_image", detect) + _usd("rekognition_search_faces_by_image_image", search)
    return streaming / full if full > streaming else math.inf


def run(
    camera: cost.CameraAssumptions | None = None,
    measured: cost.Measured | None = None,
    image: ImageModeAssumptions | None = None,
) -> dict[str, Any]:
    deployment = cost.Deployment.from_template()
    camera = camera or cost.CameraAssumptions()
    measured = measured or cost.Measured(**cost.typical_record_sizes())
    image = image or ImageModeAssumptions()
    stream_items = cost.line_items(camera, measured, deployment)
    rows = []
    for share in FACE_FRAME_SHARES:
        row: dict[str, Any] = {"face_frame_share": share}
        for name, variant in (
            ("cache", replace(image, face_frame_share=share)),
            (
                "no_cache",
                replace(image, face_frame_share=share, research_after_seconds=0.0, max_calls_per_minute=10**9),
            ),
        ):
            items = image_mode_items(camera, measured, deployment, variant)
            detect, search, _ = variant.calls_per_month()
            row[name] = {
                "calls": round(detect + search),
                "rekognition_usd": round(_group(items, "rekognition"), 2),
                "total_usd": round(sum(float(i["usd"]) for i in items), 2),
            }
        rows.append(row)
    return {
        "prices_as_of": cost.PRICES_AS_OF,
        "image_prices": {key: asdict(price) for key, price in IMAGE_PRICES.items()},
        "camera": asdict(camera),
        "image_mode": {**asdict(image), "analysed_share": round(image.analysed_share, 4)},
        "stream_processor": {
            "rekognition_usd": round(_group(stream_items, "rekognition"), 2),
            "total_usd": round(sum(float(i["usd"]) for i in stream_items), 2),
        },
        "rows": rows,
        "break_even_face_frame_share": {
            "cache": break_even_face_frame_share(image),
            "no_cache": break_even_face_frame_share(
                replace(image, research_after_seconds=0.0, max_calls_per_minute=10**9)
            ),
            "no_cache_1_fps": break_even_face_frame_share(
                replace(image, sample_fps=1.0, research_after_seconds=0.0, max_calls_per_minute=10**9)
            ),
        },
    }


def _share(value: float) -> str:
    return "never (cheaper at any share)" if math.isinf(value) else f"{value:.0%} of sampled frames"


def tables(result: Mapping[str, Any]) -> list[Table]:
    image = result["image_mode"]
    stream = result["stream_processor"]
    table = Table(
        "Image mode vs stream-processor mode, USD per camera per month "
        f"({image['sample_fps']:g} frames/s sampled; prices {result['prices_as_of']})",
        [
            "frames with a face",
            "calls (cache on)",
            "Rekognition (cache on)",
            "total (cache on)",
            "calls (cache off)",
            "Rekognition (cache off)",
            "total (cache off)",
            "stream-processor total",
        ],
    )
    for row in result["rows"]:
        on, off = row["cache"], row["no_cache"]
        table.add(
            f"{row['face_frame_share']:.0%}",
            f"{on['calls'] / 1e3:,.0f} k",
            number(on["rekognition_usd"], 2),
            number(on["total_usd"], 2),
            f"{off['calls'] / 1e3:,.0f} k",
            number(off["rekognition_usd"], 2),
            number(off["total_usd"], 2),
            number(stream["total_usd"], 2),
        )
    even = result["break_even_face_frame_share"]
    table.notes += [
        f"Stream-processor mode: Rekognition streaming ${stream['rekognition_usd']:,.2f} of "
        f"${stream['total_usd']:,.2f} per camera per month, whatever the camera sees.",
        f"Image mode: {image['faces_per_face_frame']:g} faces per frame with a face, DetectFaces "
        f"{'on' if image['detect_faces'] else 'off'}; cache on = track cache re-searching a face every "
        f"{image['research_after_seconds']:g} s with faces in view {image['dwell_seconds']:g} s per visit "
        f"({image['analysed_share']:.1%} of frames with a face analysed) and the budget guard at "
        f"{image['max_calls_per_minute']} calls/min; cache off = every frame with a face analysed, no guard.",
        f"Image mode's Rekognition bill passes streaming's above: cache on {_share(even['cache'])}; cache off "
        f"{_share(even['no_cache'])} (at 1 frame/s {_share(even['no_cache_1_fps'])}).",
        "Rekognition Image at its first-tier price; accounts above 1 M images a month pay less per image.",
    ]
    return [table]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.cost_image_mode", description=__doc__)
    parser.parse_args(argv)
    for table in tables(run()):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
