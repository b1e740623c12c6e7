"""Alert policies: per site (and its cameras), which rules raise which alerts, when, where and for whom.

A policy file is one site's document (YAML or JSON), validated here and stored versioned in PolicyTable
(facewatch.adapters.policy_store). The detector holds the current documents in a short-lived cache and
decides with the pure functions in facewatch.domain.policy_rules. No boto3, no clock reads: time comes in.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Annotated, Literal, Self
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

POLICY_SCHEMA: Literal[1] = 1
# The unknown-face rule's confirmation when a policy file does not say (docs/policies.md, "Defaults", has
# the measurement on events/scenarios/ that chose them): two qualifying sightings within 10 seconds.
DEFAULT_CONFIRM_SIGHTINGS = 2
DEFAULT_CONFIRM_SECONDS = 10.0
MAX_CONFIRM_SIGHTINGS = 20
MAX_CONFIRM_SECONDS = 300.0
# A snooze ends by itself; a policy may lower this bound, never raise it above a week.
DEFAULT_MAX_SNOOZE_MINUTES = 240
MAX_SNOOZE_MINUTES = 7 * 24 * 60
MAX_POLYGON_POINTS = 64
MAX_RULES = 50
MAX_RECIPIENTS = 10
# ExternalImageId of a watchlist face: `wl:<list>:<entry id>`. Employee ids never start with it (the CLI
# refuses them), so the detector tells the two apart by the prefix alone.
WATCHLIST_PREFIX = "wl:"

Severity = Literal["info", "low", "medium", "high", "critical"]
Name = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-z0-9][a-z0-9_-]*$")]
CameraId = Annotated[str, Field(min_length=1, max_length=256, pattern=r"^[a-zA-Z0-9_.-]+$")]
# SNS message attribute values a subscription's filter policy matches on (`recipients` is a String.Array).
Recipient = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[a-zA-Z0-9_.@+-]+$")]
Ratio = Annotated[float, Field(ge=0.0, le=1.0)]

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAYS = re.compile(r"^(?P<first>[a-z]{3})(-(?P<last>[a-z]{3}))?$")
_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$|^24:00$")


class _Policy(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


def weekday_set(days: str) -> frozenset[int]:
    """`mon-fri`, `sat`, `fri-mon` (wraps), or a comma list of those -> ISO weekday numbers 0..6."""
    result: set[int] = set()
    for part in days.replace(" ", "").split(","):
        match = _DAYS.match(part)
        if match is None or match["first"] not in WEEKDAYS or (match["last"] and match["last"] not in WEEKDAYS):
            raise ValueError(f"days {days!r}: use mon..sun, a range like mon-fri, or a comma list")
        first = WEEKDAYS.index(match["first"])
        last = WEEKDAYS.index(match["last"]) if match["last"] else first
        span = (last - first) % 7
        result.update((first + step) % 7 for step in range(span + 1))
    return frozenset(result)


def _minutes(clock: str) -> int:
    hours, minutes = clock.split(":")
    return int(hours) * 60 + int(minutes)


class ArmingWindow(_Policy):
    """Armed on `days` from `start` to `end` (local time). An end at or before the start runs past
    midnight into the next day, which then need not be in `days` (fri 18:00-08:00 covers sat 07:00)."""

    days: str = "mon-sun"
    start: str = "00:00"
    end: str = "24:00"

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        weekday_set(value)
        return value

    @field_validator("start", "end")
    @classmethod
    def _clock(cls, value: str) -> str:
        if not _CLOCK.match(value):
            raise ValueError(f"{value!r} is not a time of day HH:MM (00:00-24:00)")
        return value

    def covers(self, local: datetime) -> bool:
        days = weekday_set(self.days)
        start, end = _minutes(self.start), _minutes(self.end)
        minute = local.hour * 60 + local.minute
        today = local.weekday()
        if start < end:
            return today in days and start <= minute < end
        # Overnight: the evening part on a listed day, the morning part on the day after one.
        return (today in days and minute >= start) or ((today - 1) % 7 in days and minute < end)


class DateException(_Policy):
    """A whole local day that is armed or not whatever the windows say (a holiday, an event)."""

    date: date
    armed: bool
    note: str | None = Field(default=None, max_length=200)


class Schedule(_Policy):
    windows: Annotated[tuple[ArmingWindow, ...], Field(min_length=1, max_length=28)]
    exceptions: Annotated[tuple[DateException, ...], Field(max_length=366)] = ()

    @field_validator("exceptions")
    @classmethod
    def _one_exception_per_date(cls, value: tuple[DateException, ...]) -> tuple[DateException, ...]:
        dates = [exception.date for exception in value]
        if len(dates) != len(set(dates)):
            raise ValueError("an exception date appears twice")
        return value


class RuleBase(_Policy):
    id: Name
    enabled: bool = True
    # Empty: every site this policy covers / every camera of it.
    cameras: Annotated[tuple[CameraId, ...], Field(max_length=500)] = ()
    schedule: Schedule | None = None  # None: always armed
    severity: Severity = "high"
    recipients: Annotated[tuple[Recipient, ...], Field(max_length=MAX_RECIPIENTS)] = ("security",)
    # One alert per camera and rule per window; None: the stack's DedupWindowSeconds.
    dedup_window_seconds: Annotated[float, Field(gt=0, le=86_400)] | None = None


class UnknownFaceRule(RuleBase):
    """A face no employee matched at or above EmployeeMatchThreshold (near misses included) alerts once
    `confirm_sightings` qualifying sightings fell within `confirm_seconds` on the camera."""

    type: Literal["unknown_face"] = "unknown_face"
    confirm_sightings: Annotated[int, Field(ge=1, le=MAX_CONFIRM_SIGHTINGS)] = DEFAULT_CONFIRM_SIGHTINGS
    confirm_seconds: Annotated[float, Field(ge=0, le=MAX_CONFIRM_SECONDS)] = DEFAULT_CONFIRM_SECONDS

    @model_validator(mode="after")
    def _window_for_more_than_one(self) -> Self:
        if self.confirm_sightings > 1 and self.confirm_seconds <= 0:
            raise ValueError("confirm_seconds must be > 0 when confirm_sightings > 1")
        return self


class WatchlistRule(RuleBase):
    """A face matching an active entry of `list` raises a watchlist_match alert (`action: alert`), or
    suppresses every alert for that face (`action: ignore`, e.g. contractors)."""

    type: Literal["watchlist"] = "watchlist"
    list: Name
    action: Literal["alert", "ignore"] = "alert"
    # Lowest similarity that counts as this list's person; None: the stack's EmployeeMatchThreshold.
    min_similarity: Annotated[float, Field(ge=80, le=100)] | None = None


class AfterHoursRule(RuleBase):
    """While armed, any face alerts, employees included (opt-in: it is never in the default policy)."""

    type: Literal["after_hours"] = "after_hours"
    include_employees: bool = True

    @model_validator(mode="after")
    def _needs_schedule(self) -> Self:
        if self.schedule is None:
            raise ValueError("an after_hours rule needs a schedule (when the site is closed)")
        return self


Rule = Annotated[UnknownFaceRule | WatchlistRule | AfterHoursRule, Field(discriminator="type")]


def point_in_polygon(x: float, y: float, polygon: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting; a point on an edge may fall either way (faces are not that precise)."""
    inside = False
    count = len(polygon)
    for index in range(count):
        (x1, y1), (x2, y2) = polygon[index], polygon[(index + 1) % count]
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


class Zone(_Policy):
    """A region of interest in a camera's picture: a polygon in ratios of the frame (0,0 top left)."""

    name: Name
    polygon: Annotated[tuple[tuple[Ratio, Ratio], ...], Field(min_length=3, max_length=MAX_POLYGON_POINTS)]

    def contains(self, x: float, y: float) -> bool:
        return point_in_polygon(x, y, self.polygon)


class CameraPolicy(_Policy):
    """One camera of the site. No zones: the whole picture counts."""

    zones: Annotated[tuple[Zone, ...], Field(max_length=16)] = ()

    def zone_at(self, x: float, y: float) -> str | None:
        """The first zone holding the point; None when the camera has zones and none holds it."""
        for zone in self.zones:
            if zone.contains(x, y):
                return zone.name
        return None


class Caps(_Policy):
    """Above `max_alerts` alerts on the site in `per_minutes` minutes, one digest message replaces the
    individual ones until the rate drops; every alert is still indexed."""

    max_alerts: Annotated[int, Field(ge=1, le=10_000)]
    per_minutes: Annotated[int, Field(ge=1, le=1_440)]


class SitePolicy(_Policy):
    """One site's policy document: what `facewatch policy apply` stores and the detector reads."""

    schema_version: Literal[1] = Field(default=POLICY_SCHEMA, alias="schema")
    site: Name
    timezone: str = "UTC"
    cameras: dict[CameraId, CameraPolicy] = Field(default_factory=dict, max_length=500)
    rules: Annotated[tuple[Rule, ...], Field(max_length=MAX_RULES)] = ()
    caps: Caps | None = None
    max_snooze_minutes: Annotated[int, Field(ge=1, le=MAX_SNOOZE_MINUTES)] = DEFAULT_MAX_SNOOZE_MINUTES

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False, populate_by_name=True)

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as error:
            raise ValueError(f"unknown IANA time zone {value!r}") from error
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        ids = [rule.id for rule in self.rules]
        if len(ids) != len(set(ids)):
            raise ValueError("two rules share an id")
        for rule in self.rules:
            unknown = [camera for camera in rule.cameras if self.cameras and camera not in self.cameras]
            if unknown:
                raise ValueError(f"rule {rule.id}: camera {unknown[0]} is not one of this site's cameras")
        lists = [rule.list for rule in self.rules if isinstance(rule, WatchlistRule)]
        if len(lists) != len(set(lists)):
            raise ValueError("a watchlist has two rules")
        return self

    @property
    def zone_info(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True, exclude_none=True)


def legacy_policy(site: str = "default") -> SitePolicy:
    """What facewatch did before policies: one unknown-face rule, alert on the first sighting (N=1)."""
    return SitePolicy(site=site, rules=(UnknownFaceRule(id="unknown-face", confirm_sightings=1, confirm_seconds=0),))


def local_day(epoch: float, zone: ZoneInfo) -> datetime:
    return datetime.fromtimestamp(epoch, tz=zone)


def schedule_armed(schedule: Schedule | None, epoch: float, zone: ZoneInfo) -> bool:
    """Armed at `epoch` in the site's local time: a date exception decides its whole day, else the windows."""
    if schedule is None:
        return True
    local = local_day(epoch, zone)
    for exception in schedule.exceptions:
        if exception.date == local.date():
            return exception.armed
    return any(window.covers(local) for window in schedule.windows)
