"""Where a camera is: the registry entry that turns a stream name into a place people recognise."""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator


class CameraPlace(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    camera_id: str = Field(min_length=1, max_length=256)
    display_name: str | None = Field(default=None, max_length=200)
    site: str | None = Field(default=None, max_length=100)
    floor: str | None = Field(default=None, max_length=50)
    zone: str | None = Field(default=None, max_length=100)
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value

    @classmethod
    def unregistered(cls, camera_id: str) -> CameraPlace:
        """An unregistered camera still alerts, known by its stream name, in UTC."""
        return cls(camera_id=camera_id)

    @property
    def label(self) -> str:
        return f"{self.display_name} ({self.camera_id})" if self.display_name else self.camera_id

    @property
    def where(self) -> str | None:
        parts = [
            self.site,
            f"floor {self.floor}" if self.floor else None,
            f"zone {self.zone}" if self.zone else None,
        ]
        known = [part for part in parts if part]
        return ", ".join(known) if known else None
