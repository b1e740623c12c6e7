"""`make demo` is a test: image mode (a video through the real sampler, Rekognition stand-in) and the
recorded stream-mode scenario through the emulated stack, asserted number by number.

The scenario (events/scenarios/seoul-hq-morning.jsonl, seed 4) holds 267 records: 172 frames without a
face, 31 with employees only, 60 with the lobby visitor (sightings spanning [40 s, 160 s) of the
recording), 3 with a blurred face (Confidence < 90) and one record without a FragmentNumber.
"""

from __future__ import annotations

import io
import json
import re
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from facewatch_local import demo as demo_module
from facewatch_local.demo import DemoSummary, run, run_image_mode
from facewatch_local.image_demo import ImageDemoSummary
from facewatch_local.scenario import (
    SCENARIO_PATH,
    dump_scenario,
    frame_time_of,
    generate,
    kinds,
    load_scenario,
    restamp,
)
from tests.support.local_domain import LocalDomain, closed_port, document_api

from facewatch.domain.document import index_name

VISITOR_CAMERA = "seoul-hq-lobby-01"
DEDUP_WINDOW_SECONDS = 60


@dataclass(frozen=True)
class DemoRun:
    summary: DemoSummary
    printed: str
    threads_left: set[threading.Thread]


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoRun:
    printed = io.StringIO()
    threads_before = set(threading.enumerate())
    summary = run(log_path=tmp_path_factory.mktemp("demo") / "functions.log", stream=printed)
    return DemoRun(summary, printed.getvalue(), set(threading.enumerate()) - threads_before)


@pytest.fixture
def summary(demo: DemoRun) -> DemoSummary:
    return demo.summary


def test_the_committed_scenario_is_what_its_seed_generates() -> None:
    assert SCENARIO_PATH.read_text(encoding="utf-8") == dump_scenario(generate())


def test_the_scenario_holds_the_cases_the_demo_is_about() -> None:
    scenario = load_scenario()

    assert kinds(scenario) == {"blur": 3, "employee": 31, "empty": 172, "malformed": 1, "visitor": 60}
    assert scenario.camera_ids == ("seoul-hq-floor3-east", "seoul-hq-lobby-01", "seoul-hq-parking-b1")


def test_re_stamping_moves_the_frame_and_keeps_the_services_number_format() -> None:
    record = next(r for r in load_scenario().records if r.kind == "visitor")
    arn = "arn:aws:kinesisvideo:ap-northeast-2:123456789012:stream/seoul-hq-lobby-01/1598784211076"

    unchanged = restamp(record.data, 0.0, {})
    moved = restamp(record.data, 86_400.0, {VISITOR_CAMERA: arn})

    assert unchanged == record.data
    video = json.loads(moved)["InputInformation"]["KinesisVideo"]
    assert video["StreamArn"] == arn
    assert frame_time_of(moved) == pytest.approx((frame_time_of(record.data) or 0) + 86_400.0)
    assert re.search(r'"ProducerTimestamp":1\.\d+E9,', moved)


def test_every_record_is_read_and_frames_without_a_face_are_filtered_out(summary: DemoSummary) -> None:
    assert summary.records_put == 267
    assert summary.records_read == 267
    assert summary.records_filtered_out == 172
    assert summary.records_processed == 95


def test_the_lingering_visitor_raises_one_alert_per_window_not_one_per_frame(summary: DemoSummary) -> None:
    assert summary.sightings == 60
    assert summary.alerts_raised == 2
    assert summary.suppressed == 58
    assert [alert.camera_id for alert in summary.alerts] == [VISITOR_CAMERA, VISITOR_CAMERA]
    first, second = summary.alerts
    assert second.frame_time - first.frame_time >= DEDUP_WINDOW_SECONDS


def test_employees_blurred_faces_and_empty_frames_raise_no_alert(summary: DemoSummary) -> None:
    assert summary.faces_dropped == {"employee_match": 38, "low_confidence": 3}
    assert {alert.camera_id for alert in summary.alerts} == {VISITOR_CAMERA}


def test_the_malformed_record_is_quarantined_with_its_reason(summary: DemoSummary) -> None:
    assert summary.malformed == 1
    [(key, reason)] = summary.quarantined.items()
    assert key.startswith("quarantine/detector/facewatch-face-search/")
    assert reason == "InputInformation.KinesisVideo.FragmentNumber: Field required"


def test_every_alert_has_a_stored_clip_and_an_sns_delivery(summary: DemoSummary) -> None:
    assert summary.alert_jobs_received == 2
    for alert in summary.alerts:
        assert alert.clip_status == "ok"
        assert alert.clip_bytes > 0
        assert alert.clip_uri is not None
        assert alert.clip_uri.startswith("s3://facewatch-clips/clips/seoul-hq-lobby-01/")
        assert alert.sns_message_id is not None
        assert alert.delivered_to_sqs
        assert alert.email_text is not None
        assert "Main lobby entrance (seoul-hq-lobby-01)" in alert.email_text
        assert alert.alert_id in alert.email_text


def test_without_opensearch_the_demo_shows_the_document_it_would_have_written(demo: DemoRun) -> None:
    summary, printed = demo.summary, demo.printed

    assert all(alert.index_target is None for alert in summary.alerts)
    assert "OpenSearch: not configured" in printed
    for alert in summary.alerts:
        assert alert.document["alert_id"] == alert.alert_id
        assert alert.document["clip_status"] == "ok"
        assert alert.document["location"]["site"] == "Seoul HQ"


def test_alert_latency_in_scenario_time_is_seconds_not_minutes(summary: DemoSummary) -> None:
    for alert in summary.alerts:
        assert 2.0 <= alert.recorded_lag_seconds <= 6.0
        assert 0.0 < alert.pipeline_seconds < 30.0


def test_nothing_fails_and_nothing_is_dead_lettered(summary: DemoSummary) -> None:
    assert summary.problems == ()
    assert summary.ok
    assert summary.function_errors == 0
    assert summary.failed_items == 0
    assert summary.alert_dead_letters == 0
    assert summary.detector_failure_destination_messages == 0
    assert summary.drained


def test_the_demo_prints_each_alert_and_a_summary_and_keeps_the_function_logs(demo: DemoRun) -> None:
    summary, printed = demo.summary, demo.printed

    assert "=== Alert 1 of 2: seoul-hq-lobby-01" in printed
    assert "=== Alert 2 of 2: seoul-hq-lobby-01" in printed
    assert "alerts       2 raised, 58 sightings suppressed by the dedup window" in printed
    assert printed.rstrip().splitlines()[-1].endswith(": ok")
    logs = summary.log_path.read_text(encoding="utf-8")
    assert logs.count('"message":"alert raised"') == 2
    assert '"level":"ERROR"' not in logs


def test_the_demo_runs_in_under_a_minute(summary: DemoSummary) -> None:
    assert summary.elapsed_seconds < 60


def test_the_demo_leaves_nothing_running(demo: DemoRun) -> None:
    endpoint = re.search(r"moto at http://127\.0\.0\.1:(\d+)", demo.printed)
    assert endpoint is not None

    assert demo.threads_left == set()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", int(endpoint[1])), timeout=2):
        pass


@pytest.fixture
def opensearch() -> Iterator[LocalDomain]:
    with LocalDomain(document_api) as server:
        yield server


def test_with_an_opensearch_endpoint_each_alert_is_indexed_there(opensearch: LocalDomain, tmp_path: Path) -> None:
    summary = run(opensearch_endpoint=opensearch.url, log_path=tmp_path / "functions.log", stream=io.StringIO())

    assert summary.ok, summary.problems
    documents = {seen.path: seen.json() for seen in opensearch.requests if "/_doc/" in seen.path}
    assert set(documents) == {
        f"/{index_name('face-alerts', alert.frame_time)}/_doc/{alert.alert_id}" for alert in summary.alerts
    }
    assert [body["alert_id"] for body in documents.values()] == [alert.alert_id for alert in summary.alerts]
    assert all(alert.index_target for alert in summary.alerts)
    assert all(seen.headers["authorization"].startswith("AWS4-HMAC-SHA256") for seen in opensearch.requests)


def test_a_failing_step_fails_the_demo_and_says_which(tmp_path: Path) -> None:
    # OpenSearch refuses connections: each alert is still notified, then its record fails and stays on
    # the queue for redelivery after the visibility timeout, longer than the demo waits.
    summary = run(
        opensearch_endpoint=f"http://127.0.0.1:{closed_port()}",
        log_path=tmp_path / "functions.log",
        stream=io.StringIO(),
        alerter_timeout_seconds=3,
    )

    assert not summary.ok
    # each alert's document is queued after each of its two messages: 2 alerts, 4 index records failing
    assert "AlertFunction reported 4 failed record(s)" in summary.problems
    assert all(alert.sns_message_id for alert in summary.alerts)


@pytest.fixture(scope="module")
def image_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[ImageDemoSummary, str]:
    printed = io.StringIO()
    summary = run_image_mode(log_path=tmp_path_factory.mktemp("image-demo") / "functions.log", stream=printed)
    return summary, printed.getvalue()


def test_image_mode_alerts_once_for_the_visitor_and_never_for_the_employee(
    image_demo: tuple[ImageDemoSummary, str],
) -> None:
    summary, printed = image_demo

    assert summary.ok, summary.problems
    (alert,) = summary.alerts
    assert alert.camera_id == "seoul-hq-lobby-01"
    assert alert.sns_message_id
    assert alert.delivered_to_sqs
    assert summary.similarities["employee E10442"] >= 80.0 > summary.similarities["visitor"]
    assert "=== Alert 1 of 1: seoul-hq-lobby-01" in printed


def test_image_mode_goes_through_the_real_sampler_with_its_local_detector_cache_and_users_search(
    image_demo: tuple[ImageDemoSummary, str],
) -> None:
    summary, _ = image_demo
    stats = summary.sampler

    # 24 sampled frames, 16 with a person; one DetectFaces and one users search per person, the rest
    # answered by the track cache; the visitor's face, matching no user, was searched among faces too
    assert (stats.frames_sampled, stats.frames_sampled - stats.frames_without_face) == (24, 16)
    assert stats.rekognition_calls == {"DetectFaces": 2, "SearchUsersByImage": 2, "SearchFacesByImage": 1}
    assert stats.frames_cached == 14
    assert summary.records_written == 2
    assert summary.stand_in_calls == {"DetectFaces": 2, "SearchUsersByImage": 2, "SearchFacesByImage": 1}


def test_image_mode_says_which_parts_are_emulated(image_demo: tuple[ImageDemoSummary, str]) -> None:
    _, printed = image_demo

    assert printed.startswith("=== Image mode (the mode a new AWS account can deploy)")
    assert "emulated  AWS by moto" in printed
    assert "emulated  Rekognition by a STAND-IN" in printed
    assert "not a face model" in printed
    assert "photos from events/media (SOURCES.md)" in printed


@pytest.mark.parametrize(
    ("mode", "parts"), [("all", ["image", "stream"]), ("image", ["image"]), ("stream", ["stream"])]
)
def test_make_demo_runs_image_mode_first_and_mode_picks_one(
    mode: str, parts: list[str], monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ran: list[str] = []

    def part(name: str) -> _Ok:
        ran.append(name)
        return _Ok()

    monkeypatch.setattr(demo_module, "run_image_mode", lambda **_: part("image"))
    monkeypatch.setattr(demo_module, "run", lambda **_: part("stream"))
    monkeypatch.setenv("MODE", mode)

    assert demo_module.main([]) == 0
    assert ran == parts


class _Ok:
    ok = True
