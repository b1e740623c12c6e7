"""The alert in the channels teams use: Slack and Microsoft Teams incoming webhooks, and a generic HTTPS
webhook signed with HMAC-SHA256. Pure functions of the structured alert (the topic's `sqs` message).

The generic webhook's signature (docs/alerts-and-messages.md, "Signed webhook"): the receiver computes
HMAC-SHA256(secret, f"{timestamp}.{body}") over the raw body bytes, compares it in constant time with the
`v1=` value of X-Facewatch-Signature, and refuses a timestamp more than WEBHOOK_REPLAY_WINDOW_SECONDS away
from its own clock. X-Facewatch-Delivery (alert id and sequence) is the same on every retry, so a receiver
that remembers it for the replay window drops repeats.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import json
import re
from enum import StrEnum
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field

WEBHOOK_REPLAY_WINDOW_SECONDS = 300
SIGNATURE_VERSION = "v1"
TIMESTAMP_HEADER = "X-Facewatch-Timestamp"
SIGNATURE_HEADER = "X-Facewatch-Signature"
EVENT_HEADER = "X-Facewatch-Event"
DELIVERY_HEADER = "X-Facewatch-Delivery"
# Slack: header text at most 150 characters, a section field 2,000, an image URL 3,000.
SLACK_HEADER_MAX_CHARS = 150
SLACK_IMAGE_URL_MAX_CHARS = 3000
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class Channel(StrEnum):
    SLACK = "slack"
    TEAMS = "teams"
    WEBHOOK = "webhook"


class _Notice(BaseModel):
    # The notice is the alerter's versioned message; fields added later must not break delivery.
    model_config = ConfigDict(frozen=True, extra="ignore")


class NoticeCamera(_Notice):
    id: str
    display_name: str | None = None
    site: str | None = None
    floor: str | None = None
    zone: str | None = None
    timezone: str = "UTC"

    @property
    def label(self) -> str:
        return f"{self.display_name} ({self.id})" if self.display_name else self.id

    @property
    def where(self) -> str | None:
        parts = [self.site, f"floor {self.floor}" if self.floor else None, f"zone {self.zone}" if self.zone else None]
        known = [part for part in parts if part]
        return ", ".join(known) if known else None


class NoticeClip(_Notice):
    status: str
    url: str | None = None
    reason: str | None = None


class NoticeSnapshot(_Notice):
    status: str
    frame_url: str | None = None
    crop_url: str | None = None
    reason: str | None = None


class AlertNotice(_Notice):
    """What delivery reads of the structured alert (facewatch.domain.notification.alert_notice)."""

    event_type: str = Field(min_length=1, max_length=64)
    alert_id: str = Field(min_length=8, max_length=64, pattern=r"^[0-9a-f]+$")
    sequence: int = Field(default=1, ge=1)
    camera: NoticeCamera
    frame_time: str
    frame_time_local: str
    confidence: float
    faces_in_frame: int
    unknown_faces: int
    clip: NoticeClip | None = None
    snapshot: NoticeSnapshot | None = None

    @property
    def delivery_id(self) -> str:
        return f"{self.alert_id}:{self.sequence}"

    @property
    def is_follow_up(self) -> bool:
        return self.sequence > 1


def _plain(text: str | None, limit: int = 200) -> str:
    """Registry text (display name, site) as one line: no control characters, bounded."""
    cleaned = _CONTROL.sub(" ", text or "").strip()
    return cleaned if len(cleaned) <= limit else cleaned[: limit - 1] + "…"


def _slack_escape(text: str) -> str:
    # Slack mrkdwn: only &, < and > are control characters; escaped they render as written.
    return _plain(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _when(notice: AlertNotice) -> str:
    local = notice.frame_time_local[:19].replace("T", " ")
    utc = notice.frame_time[:19].replace("T", " ")
    return f"{local} ({_plain(notice.camera.timezone, 64)}) = {utc} UTC"


def title(notice: AlertNotice) -> str:
    camera = _plain(notice.camera.label)
    if notice.is_follow_up:
        return f"Clip for the unknown face on {camera}"
    return f"Unknown face on {camera}"


def _facts(notice: AlertNotice) -> list[tuple[str, str]]:
    facts = [("Camera", _plain(notice.camera.label))]
    if notice.camera.where:
        facts.append(("Where", _plain(notice.camera.where)))
    facts += [
        ("When", _when(notice)),
        ("Confidence", f"{notice.confidence:.1f}% that this is a face; no employee matched"),
        ("Faces", f"{notice.unknown_faces} unknown of {notice.faces_in_frame} in the frame"),
    ]
    clip = notice.clip
    if notice.is_follow_up and clip is not None:
        facts.append(("Clip", "ready (link below)" if clip.url else f"none - {_plain(clip.reason) or 'not available'}"))
    snapshot = notice.snapshot
    if not notice.is_follow_up and snapshot is not None and snapshot.status != "ok":
        facts.append(("Snapshot", f"none - {_plain(snapshot.reason) or 'not available'}"))
    facts.append(("Alert id", f"{notice.alert_id} (message {notice.sequence})"))
    return facts


def _crop_url(notice: AlertNotice) -> str | None:
    snapshot = notice.snapshot
    if snapshot is None or snapshot.status != "ok" or not snapshot.crop_url:
        return None
    return snapshot.crop_url


def slack_payload(notice: AlertNotice) -> dict[str, Any]:
    """An incoming-webhook message in Block Kit: header, facts, the face crop as an image, links."""
    heading = title(notice)[:SLACK_HEADER_MAX_CHARS]
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": heading, "emoji": False}},
        {
            "type": "section",
            "fields": [
                {"type": "mrkdwn", "text": f"*{name}*\n{_slack_escape(value)}"} for name, value in _facts(notice)
            ],
        },
    ]
    crop = _crop_url(notice)
    if crop is not None and len(crop) <= SLACK_IMAGE_URL_MAX_CHARS:
        blocks.append({"type": "image", "image_url": crop, "alt_text": "face crop of the unknown face"})
    links = _links(notice)
    if links:
        buttons = [_slack_button(label, url, index) for index, (label, url) in enumerate(links)]
        blocks.append({"type": "actions", "elements": buttons})
    return {"text": heading, "blocks": blocks}


def _slack_button(label: str, url: str, index: int) -> dict[str, Any]:
    return {
        "type": "button",
        "text": {"type": "plain_text", "text": label},
        "url": url,
        "action_id": f"facewatch-link-{index}",
    }


def _links(notice: AlertNotice) -> list[tuple[str, str]]:
    links: list[tuple[str, str]] = []
    if notice.is_follow_up:
        if notice.clip is not None and notice.clip.url:
            links.append(("Open the clip", notice.clip.url))
    elif notice.snapshot is not None and notice.snapshot.status == "ok" and notice.snapshot.frame_url:
        links.append(("Open the full frame", notice.snapshot.frame_url))
    return links


def teams_payload(notice: AlertNotice) -> dict[str, Any]:
    """An Adaptive Card message, as Teams incoming webhooks and Workflows "post to a channel" accept it."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": title(notice), "weight": "Bolder", "size": "Medium", "wrap": True},
    ]
    crop = _crop_url(notice)
    if crop is not None:
        body.append({"type": "Image", "url": crop, "altText": "face crop of the unknown face", "size": "Medium"})
    body.append({"type": "FactSet", "facts": [{"title": name, "value": value} for name, value in _facts(notice)]})
    card: dict[str, Any] = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    links = _links(notice)
    if links:
        card["actions"] = [{"type": "Action.OpenUrl", "title": label, "url": url} for label, url in links]
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}
        ],
    }


def signature(secret: bytes, timestamp: int, body: bytes) -> str:
    digest = hmac.new(secret, str(timestamp).encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"{SIGNATURE_VERSION}={digest}"


def webhook_headers(notice: AlertNotice, secret: bytes, timestamp: int, body: bytes) -> dict[str, str]:
    return {
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
        EVENT_HEADER: notice.event_type,
        DELIVERY_HEADER: notice.delivery_id,
    }


def json_body(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


class ChannelUrlError(ValueError):
    """A configured channel URL that delivery will not post to."""


def checked_channel_url(url: str) -> str:
    """https anywhere; plain http only to a loopback address (a local receiver in tests and the demo).
    A webhook URL carries its own credential (Slack, Teams) or signed alerts: never over plain HTTP."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError as error:
        raise ChannelUrlError("not a URL") from error
    if not host or parts.username is not None:
        raise ChannelUrlError("a URL needs a host and no user name")
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and _is_loopback(host):
        return url
    raise ChannelUrlError("only https URLs (or http to a loopback address)")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


DeliveryFailure = Literal["retry", "permanent"]


def classify_http_status(status: int) -> DeliveryFailure | None:
    """None: delivered. 429 and 5xx may pass; any other refusal will be refused again."""
    if 200 <= status < 300:
        return None
    if status == 429 or status >= 500 or status == 408:
        return "retry"
    return "permanent"
