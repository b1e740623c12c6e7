"""Phase 1's picture: the frame at the sighting (KVS GetImages, or the image-mode upload) rendered with the
face box and a padded crop, stored under snapshots/. Whatever fails, the outcome says why and the alert
goes out; nothing here raises for a missing picture."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Literal

from aws_lambda_powertools.metrics import MetricUnit
from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters import aws
from facewatch.adapters.snapshots import ImageUnavailableError, KvsImages, SnapshotStore
from facewatch.domain.alert_job import AlertJob
from facewatch.domain.notification import SnapshotLinks
from facewatch.domain.snapshot import (
    SnapshotOutcome,
    edge_snapshot_problem,
    image_missing_reason,
    snapshot_keys,
)
from facewatch.domain.snapshot_render import SnapshotRenderError, render_snapshot
from facewatch.observability import logger, metrics


def snapshot_metadata(job: AlertJob) -> dict[str, str]:
    return {"alert-id": job.alert_id, "camera-id": job.camera_id}


class SnapshotTaker:
    def __init__(
        self, *, images: KvsImages, store: SnapshotStore, monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._images = images
        self._store = store
        self._monotonic = monotonic

    def take(self, job: AlertJob) -> SnapshotOutcome:
        started = self._monotonic()
        try:
            outcome = self._take(job)
        except Exception as error:  # a bug or an unforeseen answer must not hold the alert back either
            logger.error(
                "snapshot failed",
                extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "error_code": aws.error_code(error)},
            )
            outcome = SnapshotOutcome.missing(f"the snapshot failed ({aws.error_code(error)})")
        metrics.add_metric(
            name="SnapshotOk" if outcome.status == "ok" else "SnapshotMissing", unit=MetricUnit.Count, value=1
        )
        metrics.add_metric(name="SnapshotSeconds", unit=MetricUnit.Seconds, value=round(self._monotonic() - started, 3))
        if outcome.status != "ok":
            logger.warning(
                "alert goes out without a snapshot",
                extra={"alert_id": job.alert_id, "camera_id": job.camera_id, "reason": outcome.reason},
            )
        return outcome

    def links(self, snapshot: SnapshotOutcome, expires_in_seconds: int, now: float) -> SnapshotLinks | None:
        """Presigned links to the stored frame and crop (signed locally: no AWS call)."""
        if snapshot.status != "ok" or not snapshot.frame_key or not snapshot.crop_key:
            return None
        return SnapshotLinks(
            frame_url=self._store.presign(snapshot.frame_key, expires_in_seconds),
            crop_url=self._store.presign(snapshot.crop_key, expires_in_seconds),
            expires_at=now + expires_in_seconds,
        )

    def _take(self, job: AlertJob) -> SnapshotOutcome:
        source: Literal["kvs", "edge"]
        if job.edge_snapshot is not None:
            source = "edge"
            problem = edge_snapshot_problem(job.edge_snapshot, job.camera_id, self._store.bucket)
            if problem is not None:
                return SnapshotOutcome.missing(problem, source)
            assert job.edge_snapshot.key is not None  # checked by edge_snapshot_problem
            try:
                image = self._store.read_edge_frame(job.edge_snapshot.key)
            except ImageUnavailableError as error:
                return SnapshotOutcome.missing(f"the image-mode frame could not be read ({error.code})", source)
        else:
            source = "kvs"
            try:
                image = self._images.frame_jpeg(job.kvs_stream_arn, job.frame_time)
            except ImageUnavailableError as error:
                return SnapshotOutcome.missing(image_missing_reason(error.code), source)
        try:
            rendered = render_snapshot(image, job.face.bounding_box)
        except SnapshotRenderError as error:
            return SnapshotOutcome.missing(str(error), source)
        keys = snapshot_keys(job.camera_id, job.frame_time, job.alert_id)
        try:
            self._store.store(keys, rendered.frame_jpeg, rendered.crop_jpeg, snapshot_metadata(job))
        except (ClientError, BotoCoreError) as error:
            return SnapshotOutcome.missing(f"the snapshot could not be stored ({aws.error_code(error)})", source)
        return SnapshotOutcome.stored(self._store.bucket, keys, source)
