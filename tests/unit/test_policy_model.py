"""The policy document: what a policy file may say, what it is refused for, and schedules in local time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import ValidationError

from facewatch.domain.policy import (
    DEFAULT_CONFIRM_SECONDS,
    DEFAULT_CONFIRM_SIGHTINGS,
    AfterHoursRule,
    ArmingWindow,
    Schedule,
    SitePolicy,
    UnknownFaceRule,
    Zone,
    legacy_policy,
    schedule_armed,
    weekday_set,
)

SEOUL = ZoneInfo("Asia/Seoul")


def seoul(year: int, month: int, day: int, hour: int, minute: int = 0) -> float:
    return datetime(year, month, day, hour, minute, tzinfo=SEOUL).timestamp()


def policy(**fields: Any) -> SitePolicy:
    return SitePolicy.model_validate({"site": "seoul-hq", "timezone": "Asia/Seoul", **fields})


def test_an_unknown_face_rule_without_confirmation_fields_gets_the_measured_defaults() -> None:
    site = policy(rules=[{"type": "unknown_face", "id": "strangers"}])

    [rule] = site.rules
    assert isinstance(rule, UnknownFaceRule)
    assert (rule.confirm_sightings, rule.confirm_seconds) == (DEFAULT_CONFIRM_SIGHTINGS, DEFAULT_CONFIRM_SECONDS)
    assert (rule.enabled, rule.severity, rule.recipients, rule.dedup_window_seconds) == (
        True,
        "high",
        ("security",),
        None,
    )


def test_the_legacy_policy_alerts_on_the_first_sighting() -> None:
    [rule] = legacy_policy().rules
    assert isinstance(rule, UnknownFaceRule)
    assert rule.confirm_sightings == 1


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "unknown IANA time zone"),
        ({"rules": [{"type": "unknown_face", "id": "a"}, {"type": "unknown_face", "id": "a"}]}, "share an id"),
        ({"rules": [{"type": "after_hours", "id": "night"}]}, "needs a schedule"),
        ({"rules": [{"type": "unknown_face", "id": "a", "confirm_sightings": 3, "confirm_seconds": 0}]}, "> 0"),
        ({"rules": [{"type": "unknown_face", "id": "a", "severity": "urgent"}]}, "severity"),
        ({"rules": [{"type": "panic", "id": "a"}]}, "type"),
        ({"rules": [{"type": "unknown_face", "id": "a", "recipients": ["has space"]}]}, "recipients"),
        ({"cameras": {"lobby": {}}, "rules": [{"type": "unknown_face", "id": "a", "cameras": ["garage"]}]}, "garage"),
        ({"cameras": {"lobby": {"zones": [{"name": "door", "polygon": [[0, 0], [1.2, 0], [0, 1]]}]}}}, "polygon"),
        ({"cameras": {"lobby": {"zones": [{"name": "door", "polygon": [[0, 0], [1, 0]]}]}}}, "polygon"),
        ({"max_snooze_minutes": 20_000}, "max_snooze_minutes"),
        ({"colour": "red"}, "colour"),
        (
            {
                "rules": [
                    {"type": "watchlist", "id": "a", "list": "banned"},
                    {"type": "watchlist", "id": "b", "list": "banned"},
                ]
            },
            "two rules",
        ),
    ],
)
def test_a_policy_file_that_does_not_hold_is_refused_with_the_reason(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        policy(**fields)


def test_a_policy_round_trips_through_its_stored_json() -> None:
    site = policy(
        cameras={"lobby": {"zones": [{"name": "door", "polygon": [[0.1, 0.1], [0.6, 0.1], [0.6, 0.9], [0.1, 0.9]]}]}},
        rules=[
            {"type": "unknown_face", "id": "strangers", "confirm_sightings": 3, "confirm_seconds": 8},
            {"type": "watchlist", "id": "banned", "list": "banned", "severity": "critical"},
            {"type": "after_hours", "id": "night", "schedule": {"windows": [{"start": "20:00", "end": "07:00"}]}},
        ],
        caps={"max_alerts": 10, "per_minutes": 5},
    )

    assert SitePolicy.model_validate_json(site.to_json()) == site


@pytest.mark.parametrize(
    ("days", "expected"),
    [("mon-fri", {0, 1, 2, 3, 4}), ("sat", {5}), ("fri-mon", {4, 5, 6, 0}), ("mon,wed-thu", {0, 2, 3})],
)
def test_weekday_ranges(days: str, expected: set[int]) -> None:
    assert weekday_set(days) == expected


def test_a_weekday_range_that_is_not_one_is_refused() -> None:
    with pytest.raises(ValueError, match=r"mon\.\.sun"):
        weekday_set("monday-friday")


def test_business_hours_are_armed_in_the_sites_local_time_not_utc() -> None:
    business = Schedule(windows=(ArmingWindow(days="mon-fri", start="09:00", end="18:00"),))

    # Monday 2025-11-24 09:30 in Seoul is Monday 00:30 UTC: armed; 08:59 Seoul is Sunday 23:59 UTC: not.
    assert schedule_armed(business, seoul(2025, 11, 24, 9, 30), SEOUL)
    assert not schedule_armed(business, seoul(2025, 11, 24, 8, 59), SEOUL)
    assert not schedule_armed(business, seoul(2025, 11, 24, 18, 0), SEOUL)
    assert not schedule_armed(business, seoul(2025, 11, 22, 10, 0), SEOUL), "a Saturday"


def test_an_overnight_window_runs_into_the_next_day() -> None:
    nights = Schedule(windows=(ArmingWindow(days="fri", start="20:00", end="07:00"),))

    assert schedule_armed(nights, seoul(2025, 11, 21, 23, 0), SEOUL), "Friday night"
    assert schedule_armed(nights, seoul(2025, 11, 22, 6, 59), SEOUL), "Saturday morning, the same night"
    assert not schedule_armed(nights, seoul(2025, 11, 22, 7, 0), SEOUL)
    assert not schedule_armed(nights, seoul(2025, 11, 22, 23, 0), SEOUL), "Saturday night is not listed"


def test_a_date_exception_decides_its_whole_local_day() -> None:
    after_hours = Schedule.model_validate(
        {
            "windows": [{"days": "mon-fri", "start": "18:00", "end": "09:00"}, {"days": "sat-sun"}],
            "exceptions": [{"date": "2025-12-25", "armed": True, "note": "Christmas: closed all day"}],
        }
    )

    assert not schedule_armed(after_hours, seoul(2025, 12, 24, 12, 0), SEOUL), "an ordinary Wednesday noon"
    assert schedule_armed(after_hours, seoul(2025, 12, 25, 12, 0), SEOUL), "Christmas noon"
    # 2025-12-25 00:30 in Seoul is still 24 December in UTC: the site's date is what counts.
    assert schedule_armed(after_hours, seoul(2025, 12, 25, 0, 30), SEOUL)
    assert datetime.fromtimestamp(seoul(2025, 12, 25, 0, 30), tz=UTC).day == 24


def test_no_schedule_means_always_armed() -> None:
    assert schedule_armed(None, seoul(2025, 11, 22, 3, 0), SEOUL)


def test_an_after_hours_rule_is_opt_in_and_includes_employees_by_default() -> None:
    rule = AfterHoursRule.model_validate({"id": "night", "schedule": {"windows": [{"start": "20:00", "end": "07:00"}]}})
    assert rule.include_employees
    assert all(not isinstance(r, AfterHoursRule) for r in legacy_policy().rules)


def test_a_zone_holds_points_inside_its_polygon_only() -> None:
    door = Zone(name="door", polygon=((0.2, 0.0), (0.6, 0.0), (0.6, 1.0), (0.2, 1.0)))
    triangle = Zone(name="desk", polygon=((0.0, 0.0), (1.0, 0.0), (0.0, 1.0)))

    assert door.contains(0.4, 0.5)
    assert not door.contains(0.7, 0.5)
    assert triangle.contains(0.2, 0.2)
    assert not triangle.contains(0.8, 0.8)
