"""The camera registry (CameraTable): site, floor, zone, display name and time zone per camera,
cached in the container so an alert costs at most one read per camera per TTL."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import ValidationError

from facewatch.adapters import aws
from facewatch.domain.cameras import CameraPlace
from facewatch.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

REGISTRY_CACHE_SECONDS = 300
_FIELDS = ("display_name", "site", "floor", "zone", "timezone")


class CameraRegistry:
    def __init__(
        self,
        table_name: str,
        dynamodb: DynamoDBClient | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._table = table_name
        self._client: aws.LazyClient[DynamoDBClient] = aws.LazyClient("dynamodb", dynamodb)
        self._clock = clock
        self._cache: dict[str, tuple[float, CameraPlace]] = {}

    def place_of(self, camera_id: str) -> CameraPlace:
        """The camera's place; an unregistered (or badly registered) camera is known by its stream name."""
        cached = self._cache.get(camera_id)
        now = self._clock()
        if cached is not None and now - cached[0] < REGISTRY_CACHE_SECONDS:
            return cached[1]
        item = self._client.get().get_item(TableName=self._table, Key={"camera_id": {"S": camera_id}}).get("Item")
        place = CameraPlace.unregistered(camera_id)
        if item:
            values = {name: item[name]["S"] for name in _FIELDS if "S" in item.get(name, {})}
            try:
                place = CameraPlace(camera_id=camera_id, **values)
            except ValidationError as error:
                logger.warning(
                    "camera registry entry ignored",
                    extra={
                        "camera_id": camera_id,
                        "reason": str(error.errors(include_input=False)[0]["msg"]),
                    },
                )
        self._cache[camera_id] = (now, place)
        return place
