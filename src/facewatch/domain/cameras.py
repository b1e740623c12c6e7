"""Where a camera is: the registry entry that turns a stream name into a place people recognise."""

from __future__ import annotations

import re
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator

# Text that goes into an email or a subject line as it is: no line breaks, other control characters, or
# Unicode separators and direction overrides (which could forge a line, or reorder what a reader sees).
_NOT_ONE_LINE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\u200e\u200f]")


def one_line(text: str) -> str:
    """`text` with every character that could break or reorder a line replaced by a space."""
    return _NOT_ONE_LINE.sub(" ", text)


# A camera id is its Kinesis video stream name (letters, digits, "_", ".", "-") and it becomes a path
# segment (clips/<camera id>/..., the links in emails, files of a downloaded clip) and a metric dimension.
# So never "." or "..", and at most 255 characters, a file name's limit on common file systems (KVS
# allows 256; the stack's own cameras, <stack name>_<camera name>, are at most 161).
_CAMERA_ID_CHARACTERS = re.compile(r"[A-Za-z0-9_.-]+", re.ASCII)
MAX_CAMERA_ID_CHARS = 255


# Checked for every record: a stack has a few hundred camera ids, so the answers are kept (bounded).
@lru_cache(maxsize=4096)
def camera_id_problem(camera_id: str) -> str | None:
    """Why `camera_id` is not a safe camera id, without quoting it (it may be hostile); None when it is."""
    if not camera_id:
        return "is empty"
    if len(camera_id) > MAX_CAMERA_ID_CHARS:
        return f"is {len(camera_id)} characters long, over {MAX_CAMERA_ID_CHARS}"
    if not _CAMERA_ID_CHARACTERS.fullmatch(camera_id):
        return "has a character other than letters, digits, '_', '.' and '-' (a slash, space or control character)"
    if camera_id in (".", ".."):
        return "is '.' or '..', which a path would read as a directory"
    return None


class CameraPlace(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore", defer_build=True)

    camera_id: str = Field(min_length=1, max_length=256)
    display_name: str | None = Field(default=None, max_length=200)
    site: str | None = Field(default=None, max_length=100)
    floor: str | None = Field(default=None, max_length=50)
    zone: str | None = Field(default=None, max_length=100)
    timezone: str = Field(default="UTC", max_length=64)

    @field_validator("display_name", "site", "floor", "zone")
    @classmethod
    def _one_line(cls, value: str | None) -> str | None:
        if value is not None and (_NOT_ONE_LINE.search(value) or not value.strip()):
            raise ValueError("must be one line of text, without control characters")
        return value

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
