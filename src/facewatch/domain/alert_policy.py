"""What an alert carries of the policy that raised it (an additive field of the alert job), and how the
alert stage passes it on: SNS message attributes for filter policies, email lines, document fields.

A job without it (queued before policies existed) is an unknown-face alert under no policy, as before.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from facewatch.domain.policy import Caps, Severity
from facewatch.domain.policy_rules import AlertType, Candidate, Confirmation, Identity
from facewatch.domain.watchlists import Snooze

MAX_LISTED_SNOOZES = 10


class _Info(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class NearMissInfo(_Info):
    """The closest employee of a face no employee matched at EmployeeMatchThreshold."""

    employee_id: str = Field(max_length=256)
    similarity: float = Field(ge=0, le=100)


class WatchlistInfo(_Info):
    list: str = Field(max_length=64)
    entry_id: str = Field(max_length=128)
    similarity: float = Field(ge=0, le=100)


class ConfirmedFrame(_Info):
    frame_time: float
    fragment_number: str = Field(max_length=128)
    face_index: int = Field(ge=0)
    confidence: float = Field(ge=0, le=100)


class ConfirmationInfo(_Info):
    """The verdict of the unknown-face rule's N-of-T confirmation and the frames it used."""

    sightings_needed: int = Field(ge=1)
    within_seconds: float = Field(ge=0)
    frames: Annotated[tuple[ConfirmedFrame, ...], Field(max_length=20)]


class SnoozeInfo(_Info):
    """A snooze in force in the alert's scope (e.g. a list snoozed on this site), shown on the alert."""

    scope: Literal["camera", "zone", "site", "list"]
    target: str = Field(max_length=256)
    until: float
    reason: str = Field(max_length=500)


class AlertPolicyInfo(_Info):
    alert_type: AlertType = "unknown_face"
    site: str = Field(max_length=64)
    rule_id: str = Field(max_length=64)
    severity: Severity = "high"
    recipients: Annotated[tuple[str, ...], Field(max_length=10)] = ()
    zone: str | None = Field(default=None, max_length=64)
    near_miss: NearMissInfo | None = None
    watchlist: WatchlistInfo | None = None
    confirmation: ConfirmationInfo | None = None
    snoozes: Annotated[tuple[SnoozeInfo, ...], Field(max_length=MAX_LISTED_SNOOZES)] = ()
    # The site's cap, for the alert stage's digest decision (no policy read there).
    caps: Caps | None = None


def _identity_info(identity: Identity) -> tuple[NearMissInfo | None, WatchlistInfo | None]:
    near = identity.near_miss
    listed = identity.watchlist
    return (
        NearMissInfo(employee_id=near.employee_id, similarity=near.similarity) if near else None,
        WatchlistInfo(list=listed.list, entry_id=listed.entry_id, similarity=listed.similarity) if listed else None,
    )


def policy_info(
    candidate: Candidate,
    *,
    site: str,
    caps: Caps | None,
    confirmation: Confirmation | None,
    needed: int,
    within_seconds: float,
    snoozes: tuple[Snooze, ...],
) -> AlertPolicyInfo:
    """The job's policy field for a candidate that won its window. `snoozes`: those in force in its scope."""
    near, listed = _identity_info(candidate.identity)
    confirmed = (
        ConfirmationInfo(
            sightings_needed=needed,
            within_seconds=within_seconds,
            frames=tuple(
                ConfirmedFrame(
                    frame_time=ref.frame_time,
                    fragment_number=ref.fragment_number,
                    face_index=ref.face_index,
                    confidence=ref.confidence,
                )
                for ref in confirmation.used
            ),
        )
        if confirmation is not None
        else None
    )
    return AlertPolicyInfo(
        alert_type=candidate.alert_type,
        site=site,
        rule_id=candidate.rule.id,
        severity=candidate.rule.severity,
        recipients=candidate.rule.recipients,
        zone=candidate.zone,
        near_miss=near,
        watchlist=listed,
        confirmation=confirmed,
        snoozes=tuple(
            SnoozeInfo(scope=s.scope, target=s.target, until=s.until, reason=s.reason)
            for s in snoozes[:MAX_LISTED_SNOOZES]
        ),
        caps=caps,
    )


# --- the alert stage's side: pure pass-through ---


def sns_attributes(info: AlertPolicyInfo | None) -> dict[str, dict[str, str]]:
    """Attributes a subscription's filter policy matches: alert_type, severity, and recipients (a String.Array,
    so {"recipients": ["security"]} matches an alert for security and reception alike). `event_type` is the
    message's phase (alert_snapshot, alert_clip), set with the place's attributes."""
    if info is None:
        return {}
    attributes = {
        "alert_type": {"DataType": "String", "StringValue": info.alert_type},
        "severity": {"DataType": "String", "StringValue": info.severity},
        "rule_id": {"DataType": "String", "StringValue": info.rule_id},
    }
    if info.recipients:
        attributes["recipients"] = {"DataType": "String.Array", "StringValue": _json_array(info.recipients)}
    return attributes


def _json_array(values: tuple[str, ...]) -> str:
    return "[" + ",".join(f'"{value}"' for value in values) + "]"


def email_lines(info: AlertPolicyInfo | None) -> list[str]:
    if info is None:
        return []
    lines = [f"Rule:       {info.rule_id} ({info.alert_type}, {info.severity})"]
    if info.watchlist is not None:
        lines.append(
            f"Watchlist:  {info.watchlist.list} entry {info.watchlist.entry_id} "
            f"(similarity {info.watchlist.similarity:.1f}%)"
        )
    if info.near_miss is not None:
        lines.append(
            f"Near miss:  closest employee {info.near_miss.employee_id} at {info.near_miss.similarity:.1f}% "
            "(below the employee threshold)"
        )
    if info.confirmation is not None and info.confirmation.sightings_needed > 1:
        lines.append(
            f"Confirmed:  {len(info.confirmation.frames)} sightings within {info.confirmation.within_seconds:g} s"
        )
    if info.zone:
        lines.append(f"Zone:       {info.zone}")
    lines += [f"Snoozed:    {s.scope} {s.target} ({s.reason})" for s in info.snoozes]
    return lines


def document_fields(info: AlertPolicyInfo | None) -> dict[str, Any]:
    """The policy's part of the alert's OpenSearch document and structured notice."""
    if info is None:
        return {"alert_type": "unknown_face"}
    return info.model_dump(mode="json", exclude={"caps", "recipients"}, exclude_none=True)


def document_mappings() -> dict[str, Any]:
    keyword = {"type": "keyword"}
    return {
        "alert_type": keyword,
        "site": keyword,
        "rule_id": keyword,
        "severity": keyword,
        "zone": keyword,
        "near_miss": {"properties": {"employee_id": keyword, "similarity": {"type": "float"}}},
        "watchlist": {"properties": {"list": keyword, "entry_id": keyword, "similarity": {"type": "float"}}},
        "confirmation": {"properties": {"sightings_needed": {"type": "integer"}, "within_seconds": {"type": "float"}}},
        "snoozes": {"properties": {"scope": keyword, "target": keyword, "reason": {"type": "text"}}},
        "notification": keyword,
    }
