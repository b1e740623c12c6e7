"""`make invoke`: one event through one function on the embedded emulation, and what landed."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest
from facewatch_local.invoke import ENV_FILE, InvokeResult, main, run_invoke

EVENTS = Path(__file__).resolve().parents[2] / "events"
DETECTOR_EVENTS = sorted(EVENTS.glob("detector-*.json"))
CAMERA_ID = "seoul-hq-lobby-01"


def invoke(function: str, event: Path, env_file: Path | None = ENV_FILE) -> tuple[InvokeResult, str]:
    printed = io.StringIO()
    result = run_invoke(function, event, env_file=env_file, stream=printed, log_stream=io.StringIO())
    return result, printed.getvalue()


def alert_jobs(result: InvokeResult) -> list[dict[str, Any]]:
    return [json.loads(body) for body in result.landed.queue_messages["AlertQueue"]]


def landed_anything(result: InvokeResult) -> bool:
    landed = result.landed
    return bool(
        any(landed.queue_messages.values())
        or any(landed.delayed_messages.values())
        or any(landed.objects.values())
        or landed.published
        or landed.dedup_items
    )


@pytest.mark.skipif(not DETECTOR_EVENTS, reason="no events/detector-*.json")
@pytest.mark.parametrize("event", DETECTOR_EVENTS, ids=lambda path: path.stem)
def test_every_detector_event_is_handled_without_a_failed_record(event: Path) -> None:
    result, printed = invoke("DetectorFunction", event)

    assert result.invocation.error is None
    assert result.invocation.response == {"batchItemFailures": []}
    assert 'return value: {"batchItemFailures": []}' in printed


def test_an_unknown_face_queues_one_alert_job_and_opens_the_cameras_window() -> None:
    result, printed = invoke("DetectorFunction", EVENTS / "detector-unknown-face.json")

    [job] = alert_jobs(result)
    assert job["camera_id"] == CAMERA_ID
    assert (job["faces_in_frame"], job["unmatched_faces_in_frame"]) == (1, 1)
    [window] = result.landed.dedup_items
    assert window["pk"] == f"camera#{CAMERA_ID}"
    assert window["alert_id"] == job["alert_id"]
    assert "AlertQueue: 1 message(s)" in printed


def test_two_faces_one_unknown_queue_one_job_that_counts_both_faces() -> None:
    result, _ = invoke("DetectorFunction", EVENTS / "detector-two-faces-one-unknown.json")

    [job] = alert_jobs(result)
    assert (job["faces_in_frame"], job["unmatched_faces_in_frame"]) == (2, 1)


@pytest.mark.parametrize("name", ["detector-employee-match.json", "detector-low-confidence.json"])
def test_a_face_that_is_no_sighting_lands_nothing(name: str) -> None:
    result, printed = invoke("DetectorFunction", EVENTS / name)

    assert not landed_anything(result)
    assert printed.rstrip().endswith("landed:\n  nothing")


def test_an_empty_frame_reaches_the_handler_without_a_filter_and_lands_nothing() -> None:
    # No event source mapping here: the FilterCriteria that drops it in AWS does not apply.
    result, _ = invoke("DetectorFunction", EVENTS / "detector-empty-frame.json")

    assert len(result.invocation.event["Records"]) == 1
    assert not landed_anything(result)


def test_each_malformed_record_is_quarantined_with_its_reason() -> None:
    result, _ = invoke("DetectorFunction", EVENTS / "detector-malformed.json")

    quarantined = result.landed.objects["QuarantineBucket"]
    assert len(quarantined) == len(result.invocation.event["Records"]) == 3
    assert all(description.startswith("reason: ") for description in quarantined.values())
    assert alert_jobs(result) == []


def test_env_json_sets_tuning_variables_but_never_the_stacks_resource_names() -> None:
    env_file = json.loads(ENV_FILE.read_text(encoding="utf-8"))["DetectorFunction"]

    result, printed = invoke("DetectorFunction", EVENTS / "detector-unknown-face.json")

    assert "MIN_FACE_CONFIDENCE" in result.from_env_file
    assert set(result.kept_from_stack) == {"DEDUP_TABLE_NAME", "ALERT_QUEUE_URL", "QUARANTINE_BUCKET_NAME"}
    for name in result.kept_from_stack:
        assert result.environment[name] != env_file[name]
    assert result.environment["DEDUP_TABLE_NAME"] == "facewatch-dedup"
    assert "stack resources kept" in printed


def test_a_stricter_confidence_in_the_env_file_is_what_the_function_runs_with(tmp_path: Path) -> None:
    env_file = tmp_path / "env.json"
    env_file.write_text(json.dumps({"DetectorFunction": {"MIN_FACE_CONFIDENCE": "99.9", "NOT_IN_TEMPLATE": "x"}}))

    result, _ = invoke("DetectorFunction", EVENTS / "detector-unknown-face.json", env_file=env_file)

    assert result.environment["MIN_FACE_CONFIDENCE"] == "99.9"
    assert "NOT_IN_TEMPLATE" not in result.environment
    assert alert_jobs(result) == []


def test_a_body_that_is_no_alert_job_goes_to_the_alert_dead_letter_queue() -> None:
    result, _ = invoke("AlertFunction", EVENTS / "alerter-malformed.json")

    assert result.invocation.error is None
    assert len(result.landed.queue_messages["AlertDeadLetterQueue"]) == len(result.invocation.event["Records"])


def test_a_failed_record_is_printed_with_the_reason_it_failed() -> None:
    # given an alert job whose queue (the event's eventSourceARN) is not the emulated stack's
    # when it is invoked: the clip is not ready and postponing the job on that queue fails
    result, printed = invoke("AlertFunction", EVENTS / "alerter-unknown-face.json")

    # then the failed record is printed with the cause, not only counted
    assert len(result.invocation.batch_item_failures) == 1
    assert "failed record(s): 1" in printed
    assert "alert job failed, will retry (AWS.SimpleQueueService.NonExistentQueue)" in printed


def test_main_exits_zero_and_prints_the_return_value(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["--function", "DetectorFunction", "--event", str(EVENTS / "detector-unknown-face.json")])

    assert status == 0
    assert "return value:" in capsys.readouterr().out
