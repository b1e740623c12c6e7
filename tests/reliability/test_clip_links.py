"""The presigned clip link in an alert lives exactly ClipUrlExpirySeconds, and nothing lets it live longer than
SigV4 allows (7 days)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from facewatch_local.cfn import load_template
from scripts.make_alert_events import sample_job
from tests.support.alerts import AlertWorld, alert_world

from facewatch.config import AlertSettings

# SigV4 presigned URLs live at most 7 days.
SIGV4_MAX_EXPIRY_SECONDS = 604_800


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch, CLIP_URL_EXPIRY_SECONDS=str(request.param)) as world:
        yield world


@pytest.mark.parametrize("world", [60, 3600, SIGV4_MAX_EXPIRY_SECONDS], indirect=True, ids=str)
def test_the_clip_link_lives_exactly_as_long_as_configured(world: AlertWorld) -> None:
    # given a configured link lifetime
    configured = AlertSettings.from_environ(os.environ).clip_url_expiry_seconds
    world.send_job(sample_job().to_message())

    # when the alert goes out
    world.deliver()

    # then the link is signed for exactly that long, and the alert says when it stops working
    _, envelope = world.notifications()
    clip = json.loads(envelope["Message"])["clip"]
    notice = json.loads(envelope["Message"])
    assert parse_qs(urlsplit(clip["url"]).query)["X-Amz-Expires"] == [str(configured)]
    expires = _epoch(clip["url_expires_at"]) - _epoch(notice["notified_at"])
    assert expires == pytest.approx(configured, abs=1)


def test_no_setting_or_parameter_allows_a_link_longer_than_sigv4_does() -> None:
    template = load_template()
    assert template["Parameters"]["ClipUrlExpirySeconds"]["MaxValue"] <= SIGV4_MAX_EXPIRY_SECONDS
    with pytest.raises(ValueError, match="less than or equal"):
        AlertSettings.model_validate(
            {
                "DEDUP_TABLE_NAME": "t",
                "CLIP_BUCKET_NAME": "b",
                "ALERT_TOPIC_ARN": "a",
                "ALERT_DEAD_LETTER_QUEUE_URL": "q",
                "INDEX_QUEUE_URL": "i",
                "INDEX_DEAD_LETTER_QUEUE_URL": "d",
                "CAMERA_TABLE_NAME": "c",
                "PRIVACY_TABLE_NAME": "p",
                "CLIP_URL_EXPIRY_SECONDS": SIGV4_MAX_EXPIRY_SECONDS + 1,
            }
        )


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()
