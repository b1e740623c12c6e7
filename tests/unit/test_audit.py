"""The audit entry model and its keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from pydantic import ValidationError

from facewatch.domain.audit import AuditEntry, audit_key, key_bound


def make(**changes: object) -> AuditEntry:
    fields: dict[str, object] = {
        "at": datetime(2026, 12, 3, 9, 30, 1, 250_000, tzinfo=UTC),
        "actor": "alice",
        "action": "alert.view",
        "target": "alert/abc",
        "source_ip": "198.51.100.4",
    }
    return AuditEntry.model_validate({**fields, **changes})


def test_times_are_kept_in_utc() -> None:
    # given: a time in Seoul
    seoul = datetime(2026, 12, 4, 2, 0, tzinfo=timezone(timedelta(hours=9)))
    # then
    assert make(at=seoul).at == datetime(2026, 12, 3, 17, 0, tzinfo=UTC)


def test_a_time_without_a_zone_is_refused() -> None:
    with pytest.raises(ValidationError, match="time zone"):
        make(at=datetime(2026, 12, 3, 9, 30))


@pytest.mark.parametrize("action", ["view", "Alert.View", "alert view", "alert."])
def test_an_action_must_be_a_dotted_name(action: str) -> None:
    with pytest.raises(ValidationError, match="dotted"):
        make(action=action)


def test_the_json_is_versioned_and_round_trips() -> None:
    # given
    entry = make(detail={"status": "acknowledged", "note": "checked"})
    # when
    text = entry.to_json()
    # then
    assert '"schema":1' in text
    assert AuditEntry.model_validate_json(text) == entry


def test_keys_sort_in_time_order_and_bounds_separate_before_from_after() -> None:
    # given
    earlier, later = make(), make(at=datetime(2026, 12, 3, 9, 30, 1, 250_001, tzinfo=UTC))
    # then
    assert audit_key(earlier) < key_bound(later.at) < audit_key(later)
    assert audit_key(earlier).startswith("audit/2026/12/03/2026-12-03T09:30:01.250000Z-")
    assert audit_key(earlier).endswith(f"-{earlier.entry_id}.json")


def test_a_long_detail_is_refused() -> None:
    with pytest.raises(ValidationError, match="longer than"):
        make(detail={"note": "x" * 2001})
