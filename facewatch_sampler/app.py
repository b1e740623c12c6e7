"""Puts a sampler together from its settings: the one place that knows every part's constructor."""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from facewatch_sampler.analysis import AnalysisSettings, FrameAnalyser, LocalDetector, TrackResult
from facewatch_sampler.backoff import Backoff
from facewatch_sampler.budget import CallBudget, CameraBudget, camera_share_tps, default_account_tps, share_bucket
from facewatch_sampler.frames import FrameSource, OpenCvSource
from facewatch_sampler.kinesis import CLIENT_CONFIG as KINESIS_CONFIG
from facewatch_sampler.kinesis import RecordWriter
from facewatch_sampler.kinesis_video import video_stream_arn
from facewatch_sampler.local_detector import local_detector
from facewatch_sampler.metrics import CLIENT_CONFIG as METRICS_CONFIG
from facewatch_sampler.metrics import SamplerMetrics
from facewatch_sampler.rekognition import FaceService, RekognitionFaces, client_config
from facewatch_sampler.runner import Sampler
from facewatch_sampler.schedule import SamplingSchedule
from facewatch_sampler.settings import SamplerSettings
from facewatch_sampler.snapshots import EdgeSnapshots
from facewatch_sampler.stats import SamplerStats
from facewatch_sampler.status import StatusReporter
from facewatch_sampler.tracks import TrackCache
from facewatch_sampler.zones import zoned

if TYPE_CHECKING:
    import boto3

    from facewatch.domain.policy import Zone


@dataclass(frozen=True, slots=True)
class Reporting:
    status_file: Path | None = None
    metrics_namespace: str | None = None


def build_sampler(
    settings: SamplerSettings,
    session: boto3.session.Session,
    *,
    reporting: Reporting = Reporting(),
    source: FrameSource | None = None,
    faces: FaceService | None = None,
    detector: LocalDetector | None = None,
    jitter: Callable[[], float] = random.random,
    zones: Sequence[Zone] = (),
) -> Sampler:
    """A sampler for one camera. AWS clients come from `session`, each made on first use; `source`,
    `faces` and `detector` replace the camera, Rekognition and the Haar cascade (tests, benchmarks)."""
    stats = SamplerStats(camera_id=settings.camera_id)
    account_tps = settings.account_tps or default_account_tps(session.region_name)
    stats.budget_share_tps = camera_share_tps(account_tps, settings.fleet_cameras, settings.quota_utilisation)
    stream_arn = settings.kvs_stream_arn or video_stream_arn(session.client("kinesisvideo"), settings.camera_id)
    source = source or OpenCvSource(settings.source)
    faces = faces or RekognitionFaces(
        settings.collection_id,
        settings.face_match_threshold,
        client_factory=lambda: session.client(
            "rekognition", config=client_config(settings.rekognition_timeout_seconds)
        ),
    )
    detector, faces = zoned(
        detector
        or local_detector(
            settings.local_detector, detect_width_px=settings.detect_width_px, min_face_px=settings.min_face_px
        ),
        faces,
        zones,
    )
    analyser = FrameAnalyser(
        AnalysisSettings(
            detect_faces=settings.detect_faces,
            research_after_seconds=settings.research_after_seconds,
            no_face_recheck_seconds=settings.no_face_recheck_seconds,
            max_image_side_px=settings.max_image_side_px,
            jpeg_quality=settings.jpeg_quality,
            search=settings.search,
        ),
        detector=detector,
        faces=faces,
        tracks=TrackCache[TrackResult](
            iou_threshold=settings.track_iou, forget_after_seconds=settings.forget_track_after_seconds
        ),
        budget=CameraBudget(
            CallBudget(settings.max_calls_per_minute),
            share_bucket(stats.budget_share_tps, jitter=jitter),
        ),
        backoff=Backoff(settings.throttle_base_seconds, settings.throttle_max_seconds, jitter=jitter),
        stats=stats,
    )
    writer = RecordWriter(
        settings.stream_name,
        partition_key=settings.camera_id,
        client_factory=lambda: session.client("kinesis", config=KINESIS_CONFIG),
    )
    metrics = (
        SamplerMetrics(
            reporting.metrics_namespace,
            settings.camera_id,
            client_factory=lambda: session.client("cloudwatch", config=METRICS_CONFIG),
        )
        if reporting.metrics_namespace
        else None
    )
    drop_when_busy = settings.drop_when_busy if settings.drop_when_busy is not None else source.live
    snapshots = (
        EdgeSnapshots(
            settings.snapshot_bucket,
            settings.camera_id,
            client_factory=lambda: session.client("s3"),
            max_side_px=settings.max_image_side_px,
            jpeg_quality=settings.jpeg_quality,
        )
        if settings.snapshot_bucket
        else None
    )
    return Sampler(
        stream_arn=stream_arn,
        source=source,
        analyser=analyser,
        writer=writer,
        reporter=StatusReporter(stats, status_file=reporting.status_file, metrics=metrics),
        stats=stats,
        schedule=SamplingSchedule(settings.frames_per_second),
        reconnect=Backoff(settings.reconnect_base_seconds, settings.reconnect_max_seconds, jitter=jitter),
        drop_when_busy=drop_when_busy,
        status_interval_seconds=settings.status_interval_seconds,
        snapshots=snapshots,
    )
