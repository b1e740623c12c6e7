"""The sampler's CloudWatch metrics, per camera, once per status interval (optional).

In image mode a camera with nobody in front of it writes no record at all, so a quiet data stream says
nothing about the camera: CameraOnline (1/0) does. One PutMetricData call per camera per interval.
The names are a contract (status and alarms read them): add new ones, never rename. RekognitionBudgetUse
is the camera's calls since the last publish as a percentage of its share of the account's TPS over that
time; FramesOverBudget counts the frames with a face it could not afford.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING

from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from facewatch_sampler.observability import logger
from facewatch_sampler.stats import SamplerStats

if TYPE_CHECKING:
    from mypy_boto3_cloudwatch import CloudWatchClient
    from mypy_boto3_cloudwatch.type_defs import DimensionTypeDef, MetricDatumTypeDef

CLIENT_CONFIG = Config(connect_timeout=5, read_timeout=10, retries={"mode": "standard", "max_attempts": 2})
# Counters published as the increase since the previous publish.
COUNTERS: Mapping[str, Callable[[SamplerStats], int]] = {
    "FramesSampled": lambda s: s.frames_sampled,
    "FramesWithFaces": lambda s: s.frames_sampled - s.frames_without_face - s.frames_dropped_busy,
    "FramesDropped": lambda s: s.frames_dropped,
    "RekognitionCalls": lambda s: sum(s.rekognition_calls.values()),
    "RecordsWritten": lambda s: s.records_written,
    "FramesOverBudget": lambda s: s.frames_over_budget,
}
BUDGET_USE_METRIC = "RekognitionBudgetUse"


class SamplerMetrics:
    def __init__(
        self,
        namespace: str,
        camera_id: str,
        *,
        client: CloudWatchClient | None = None,
        client_factory: Callable[[], CloudWatchClient] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if client is None and client_factory is None:
            raise ValueError("give a client or a client_factory")
        self._namespace = namespace
        self._camera_id = camera_id
        self._client = client
        self._client_factory = client_factory
        self._last: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        self._clock = clock
        self._last_at = clock()

    @property
    def client(self) -> CloudWatchClient:
        if self._client is None:
            assert self._client_factory is not None
            self._client = self._client_factory()
        return self._client

    def publish(self, stats: SamplerStats) -> None:
        """Never raises: a metric lost is logged, the sampler goes on."""
        dimensions: list[DimensionTypeDef] = [{"Name": "CameraId", "Value": self._camera_id}]
        data: list[MetricDatumTypeDef] = [
            {"MetricName": "CameraOnline", "Dimensions": dimensions, "Value": 1.0 if stats.online else 0.0}
        ]
        current = {name: read(stats) for name, read in COUNTERS.items()}
        for name, value in current.items():
            data.append(
                {
                    "MetricName": name,
                    "Dimensions": dimensions,
                    "Value": float(value - self._last[name]),
                    "Unit": "Count",
                }
            )
        now = self._clock()
        allowed = stats.budget_share_tps * (now - self._last_at)
        if allowed > 0:
            calls = current["RekognitionCalls"] - self._last["RekognitionCalls"]
            data.append(
                {
                    "MetricName": BUDGET_USE_METRIC,
                    "Dimensions": dimensions,
                    "Value": round(100.0 * calls / allowed, 1),
                    "Unit": "Percent",
                }
            )
        try:
            self.client.put_metric_data(Namespace=self._namespace, MetricData=data)
        except (ClientError, BotoCoreError) as error:
            logger.warning("metrics not published", extra={"camera_id": self._camera_id, "error": str(error)})
            return
        self._last = current
        self._last_at = now
