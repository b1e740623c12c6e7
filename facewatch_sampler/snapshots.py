"""Image mode's snapshot: the frame the sampler analysed, uploaded to the clip bucket under the camera's own
prefix (edge/{camera}/{YYYY}/{MM}/{DD}/{ms}-frame.jpg) and named in the record, so the alerter renders the
alert's snapshot from it without asking KVS (facewatch.domain.snapshot).

Only frames that produce a record are uploaded (faces Rekognition analysed). A failed upload never holds the
record back: the record goes without the reference and the alert says it has no snapshot.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from facewatch.adapters.aws import error_code
from facewatch.domain.snapshot import SNAPSHOT_CONTENT_TYPE, edge_snapshot_key
from facewatch_sampler.frames import Frame
from facewatch_sampler.imaging import encode_jpeg
from facewatch_sampler.observability import logger


class EdgeSnapshots:
    def __init__(
        self,
        bucket: str,
        camera_id: str,
        *,
        client_factory: Callable[[], Any],
        max_side_px: int,
        jpeg_quality: int,
    ) -> None:
        self._bucket = bucket
        self._camera_id = camera_id
        self._client_factory = client_factory
        self._client: Any = None
        self._max_side_px = max_side_px
        self._jpeg_quality = jpeg_quality
        self.uploaded = 0
        self.failed = 0

    def upload(self, frame: Frame) -> dict[str, str] | None:
        """The record's reference ({"Bucket", "Key"}) to the uploaded frame, or None when it was not stored."""
        key = edge_snapshot_key(self._camera_id, frame.time)
        try:
            jpeg = encode_jpeg(frame.image, max_side_px=self._max_side_px, quality=self._jpeg_quality)
            if self._client is None:
                self._client = self._client_factory()
            self._client.put_object(
                Bucket=self._bucket,
                Key=key,
                Body=jpeg,
                ContentType=SNAPSHOT_CONTENT_TYPE,
                ServerSideEncryption="AES256",
            )
        except (ClientError, BotoCoreError, ValueError) as error:
            self.failed += 1
            logger.warning(
                "frame not uploaded: the alert will have no snapshot",
                extra={"camera_id": self._camera_id, "error": error_code(error)},
            )
            return None
        self.uploaded += 1
        return {"Bucket": self._bucket, "Key": key}
