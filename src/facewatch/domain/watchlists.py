"""Watchlist entries and snoozes: who a list names (until when, and why), and which alerts are paused.

A watchlist entry's faces sit in the employee collection with ExternalImageId `wl:<list>:<entry id>`, so
stream processors and image mode find them with the employees; its reason and expiry sit in PolicyTable.
A snooze pauses alerts of a camera, a zone, a site or a list until it ends by itself.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from facewatch.domain.policy import WATCHLIST_PREFIX, Name

# Watchlist entries are people who are not employees: keep them no longer than a year at a time.
MAX_ENTRY_DAYS = 366
MIN_REASON_CHARS = 3
EntryId = Annotated[str, Field(min_length=1, max_length=128, pattern=r"^[a-zA-Z0-9_.-]+$")]
_WATCHLIST_FACE = re.compile(r"^wl:(?P<list>[a-z0-9][a-z0-9_-]{0,63}):(?P<entry>[a-zA-Z0-9_.-]{1,128})$")


class _Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def watchlist_image_id(list_name: str, entry_id: str) -> str:
    """The ExternalImageId of an entry's faces in the collection."""
    image_id = f"{WATCHLIST_PREFIX}{list_name}:{entry_id}"
    if not _WATCHLIST_FACE.match(image_id):
        raise ValueError(f"{image_id!r} is not a watchlist face id")
    return image_id


def parse_watchlist_image_id(external_image_id: str | None) -> tuple[str, str] | None:
    """(list, entry id) of a watchlist face; None for an employee's face (or no id)."""
    if not external_image_id or not external_image_id.startswith(WATCHLIST_PREFIX):
        return None
    match = _WATCHLIST_FACE.match(external_image_id)
    return (match["list"], match["entry"]) if match else None


class WatchlistEntry(_Item):
    list: Name
    entry_id: EntryId
    reason: Annotated[str, Field(min_length=MIN_REASON_CHARS, max_length=500)]
    added_at: float
    expires_at: float
    added_by: Annotated[str, Field(min_length=1, max_length=256)]
    face_ids: Annotated[tuple[str, ...], Field(max_length=100)] = ()

    def active_at(self, epoch: float) -> bool:
        return self.added_at <= epoch < self.expires_at


SnoozeScope = Literal["camera", "zone", "site", "list"]


class Snooze(_Item):
    """Pauses alerts in one scope from `starts_at` until `until`; then it is over, whatever happens."""

    snooze_id: Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_-]+$")]
    scope: SnoozeScope
    target: Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9_.-]+$")]
    starts_at: float
    until: float
    reason: Annotated[str, Field(min_length=MIN_REASON_CHARS, max_length=500)]
    by: Annotated[str, Field(min_length=1, max_length=256)]

    def active_at(self, epoch: float) -> bool:
        return self.starts_at <= epoch < self.until

    def covers(self, *, camera_id: str, site: str, zone: str | None, lists: tuple[str, ...] = ()) -> bool:
        if self.scope == "camera":
            return self.target == camera_id
        if self.scope == "site":
            return self.target == site
        if self.scope == "zone":
            return zone is not None and self.target == zone
        return self.target in lists


class SnoozeTooLongError(ValueError):
    pass


def snooze_until(starts_at: float, minutes: float, max_minutes: int) -> float:
    """The end of a snooze of `minutes`, refused above the policy's maximum."""
    if minutes <= 0:
        raise SnoozeTooLongError("a snooze lasts more than 0 minutes")
    if minutes > max_minutes:
        raise SnoozeTooLongError(f"a snooze lasts at most {max_minutes} minutes here (the policy's max_snooze_minutes)")
    return starts_at + minutes * 60.0
