"""A site's privacy profile decides which alerts it may raise: a watchlist-only or matching-off site gets no
stranger alert — no clip, no message, no document — and the withheld alert is counted. Through
AlertFunction's handler on moto, with the site's assignment in PrivacyTable as `facewatch compliance site
set` writes it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from scripts.make_alert_events import sample_job
from tests.support.alerts import PRIVACY_TABLE, SEOUL_LOBBY, AlertWorld, alert_world, failed_ids

from facewatch.adapters.privacy_records import PrivacyRecords
from facewatch.domain.privacy import MatchingMode, SiteAssignment


@pytest.fixture
def world(monkeypatch: pytest.MonkeyPatch) -> Iterator[AlertWorld]:
    with alert_world(monkeypatch) as world:
        yield world


def assign(world: AlertWorld, matching: MatchingMode) -> None:
    site = SEOUL_LOBBY.site
    assert site is not None
    PrivacyRecords(PRIVACY_TABLE, world.dynamodb).put_site(SiteAssignment(site, "kr", matching, "dpo", "2026-12-01"))


@pytest.mark.parametrize("matching", [MatchingMode.WATCHLIST_ONLY, MatchingMode.OFF])
def test_a_site_that_may_not_match_strangers_raises_no_stranger_alert(
    world: AlertWorld, matching: MatchingMode, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    assign(world, matching)
    world.send_job(sample_job().to_message())

    messages, response = world.deliver()

    assert len(messages) == 1
    assert failed_ids(response) == []
    assert world.notifications() == []
    assert world.index_jobs() == []
    assert world.clip_keys() == []
    assert world.dead_letters() == []
    assert world.receive(world.alert_queue_url) == []  # done with, not retried
    printed = capsys.readouterr().out
    assert '"AlertsWithheld_privacy_profile":[1.0]' in printed.replace(" ", "")
    (withheld,) = [r for r in caplog.records if r.getMessage().startswith("alert withheld")]
    assert withheld.__dict__["matching"] == matching.value


def test_a_site_that_matches_unknown_faces_alerts_as_before(world: AlertWorld) -> None:
    assign(world, MatchingMode.UNKNOWN_FACES)
    world.send_job(sample_job().to_message())

    world.deliver()

    events = [envelope["MessageAttributes"]["event_type"]["Value"] for envelope in world.notifications()]
    assert events == ["alert_snapshot", "alert_clip"]
