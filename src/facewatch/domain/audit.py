"""The audit trail: who did what to which alert or person, when, and from where.

One entry per event (a sign-in, an alert viewed, a media link minted, a triage action, an export, an
enrolment). Entries are versioned models stored one object each under `audit/`, keyed so that the
lexicographic order of the keys is the order of time: a range of time is one listing.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

AUDIT_SCHEMA = 1
AUDIT_PREFIX = "audit"
AUDIT_CONTENT_TYPE = "application/json"
# The detail is for facts a reviewer needs (the status set, the note, the minted link's lifetime), never
# for face data, images or URLs that carry credentials.
MAX_DETAIL_ITEMS = 20
MAX_DETAIL_VALUE_CHARS = 2000


class AuditAction(StrEnum):
    """The actions the console and the CLI record. Other writers may use their own dotted names."""

    SIGN_IN = "console.sign_in"
    SIGN_IN_FAILED = "console.sign_in_failed"
    SIGN_OUT = "console.sign_out"
    LIST_ALERTS = "alert.list"
    VIEW_ALERT = "alert.view"
    MINT_MEDIA_LINK = "media.link"
    MINT_REPLAY_SESSION = "media.replay"
    ACKNOWLEDGE = "alert.acknowledge"
    RESOLVE = "alert.resolve"
    ACTION_REFUSED = "alert.action_refused"
    ENROL_FACE = "face.enrol"
    EXPORT = "audit.export"


_ACTION = re.compile(r"^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$")


def _utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        raise ValueError("audit times carry a time zone")
    return value.astimezone(UTC)


def _action(value: str) -> str:
    if not _ACTION.fullmatch(value) or len(value) > 64:
        raise ValueError("an audit action is a dotted lower-case name such as 'alert.view'")
    return value


def _detail(value: dict[str, str | int | float | bool | None]) -> dict[str, str | int | float | bool | None]:
    if len(value) > MAX_DETAIL_ITEMS:
        raise ValueError(f"an audit detail holds at most {MAX_DETAIL_ITEMS} items")
    for key, item in value.items():
        if isinstance(item, str) and len(item) > MAX_DETAIL_VALUE_CHARS:
            raise ValueError(f"audit detail {key!r} is longer than {MAX_DETAIL_VALUE_CHARS} characters")
    return value


UtcTime = Annotated[datetime, AfterValidator(_utc)]


class AuditEntry(BaseModel):
    """One audited event. `actor` is the signed-in user name (or the CLI caller's ARN); `target` what was
    looked at or changed (`alert/<id>`, `employee/<id>`, `audit`); `source_ip` where the request came from."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    schema_version: Literal[1] = Field(1, alias="schema")
    entry_id: str = Field(default_factory=lambda: uuid.uuid4().hex, pattern=r"^[0-9a-f]{32}$")
    at: UtcTime
    actor: Annotated[str, Field(min_length=1, max_length=256)]
    action: Annotated[str, AfterValidator(_action)]
    target: Annotated[str, Field(min_length=1, max_length=512)]
    source_ip: Annotated[str, Field(max_length=64)] = ""
    detail: Annotated[dict[str, str | int | float | bool | None], AfterValidator(_detail)] = Field(default_factory=dict)

    def to_json(self) -> str:
        return self.model_dump_json(by_alias=True)


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{at.microsecond:06d}Z"


def audit_key(entry: AuditEntry) -> str:
    """audit/YYYY/MM/DD/<UTC time to the microsecond>-<entry id>.json: keys sort in time order."""
    at = entry.at.astimezone(UTC)
    return f"{AUDIT_PREFIX}/{at:%Y/%m/%d}/{_stamp(at)}-{entry.entry_id}.json"


def key_bound(at: datetime) -> str:
    """A key that sorts before every entry at or after `at` and after every entry before it."""
    at = _utc(at)
    return f"{AUDIT_PREFIX}/{at:%Y/%m/%d}/{_stamp(at)}"
