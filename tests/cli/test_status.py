"""`facewatch status`: processors stubbed (moto has no Rekognition stream processors), CloudWatch and
Lambda stubbed, CameraTable on moto, the clock fixed."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from botocore.stub import ANY
from facewatch_cli import status
from tests.cli.fleet import DETECTOR, DETECTOR_ARN, NOW, FleetCamera, stub_fleet
from tests.cli.support import AwsClients, Cli


@pytest.fixture(autouse=True)
def _fixed_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "utcnow", lambda: NOW)


def register(cli: Cli, table: str, *cameras: FleetCamera) -> None:
    for camera in cameras:
        run = cli("cameras", "add", camera.camera_id, "--site", "SEOUL-HQ", "--display-name", camera.name,
                  "--timezone", "Asia/Seoul", "--table", table, "--no-verify")  # fmt: skip
        assert run.code == 0, run.err


def status_of(cli: Cli, table: str, *arguments: str) -> tuple[int, str, str]:
    run = cli("status", "--table", table, "--detector-function", DETECTOR_ARN, *arguments)
    return run.code, run.out, run.err


def row(out: str, camera: FleetCamera) -> str:
    [line] = [line for line in out.splitlines() if line.startswith(camera.camera_id + " ")]
    return line


def test_a_running_camera_with_recent_records_is_ok(cli: Cli, aws_clients: AwsClients, camera_table: str) -> None:
    lobby = FleetCamera("Lobby01")
    register(cli, camera_table, lobby)
    stub_fleet(aws_clients, [lobby])

    code, out, _ = status_of(cli, camera_table)

    assert code == 0
    assert row(out, lobby).split() == [
        lobby.camera_id,
        "Lobby01",
        "SEOUL-HQ",
        lobby.processor,
        "RUNNING",
        "1",
        "min",
        "ago",
        "OK",
    ]
    assert out.splitlines()[0] == f"Detector {DETECTOR}: iterator age 1.2 s (max in the minute from 02:08 UTC)"
    assert out.splitlines()[-1] == "All 1 camera(s) OK."


def test_a_processor_that_is_not_running_is_flagged_with_its_message(
    cli: Cli, aws_clients: AwsClients, camera_table: str
) -> None:
    dock = FleetCamera("Dock02", status="FAILED", status_message="Access denied to Role", minutes_since_last_record=47)
    register(cli, camera_table, dock)
    stub_fleet(aws_clients, [dock])

    code, out, _ = status_of(cli, camera_table)

    assert code == 3
    assert row(out, dock).endswith(
        "FAILED  47 min ago   processor FAILED: Access denied to Role; quiet for 47 min (over 5 min)"
    )
    assert out.splitlines()[-1] == "1 of 1 camera(s) need attention."


@pytest.mark.parametrize(
    ("minutes", "quiet_after", "flagged"), [(3, "5m", False), (6, "5m", True), (6, "10m", False), (2, "90s", True)]
)
def test_a_stream_is_quiet_after_the_configured_time(
    cli: Cli, aws_clients: AwsClients, camera_table: str, minutes: int, quiet_after: str, flagged: bool
) -> None:
    lobby = FleetCamera("Lobby01", minutes_since_last_record=minutes)
    register(cli, camera_table, lobby)
    stub_fleet(aws_clients, [lobby])

    code, out, _ = status_of(cli, camera_table, "--quiet-after", quiet_after)

    assert (code == 3) is flagged
    assert ("quiet for" in row(out, lobby)) is flagged


def test_a_stream_without_any_record_in_the_lookback_is_flagged(
    cli: Cli, aws_clients: AwsClients, camera_table: str
) -> None:
    roof = FleetCamera("Roof03", minutes_since_last_record=None)
    register(cli, camera_table, roof)
    stub_fleet(aws_clients, [roof])

    code, out, _ = status_of(cli, camera_table)

    assert code == 3
    assert row(out, roof).endswith("RUNNING  -            no record in the last 3 h")


def test_a_registered_camera_without_a_processor_is_flagged(
    cli: Cli, aws_clients: AwsClients, camera_table: str
) -> None:
    annex = FleetCamera("Annex05", status=None)
    register(cli, camera_table, annex)
    stub_fleet(aws_clients, [annex], foreign_processor=False)
    # nor does a sampler report for it (no heartbeat in CloudWatch)
    aws_clients.stub("cloudwatch").add_response("get_metric_data", {"MetricDataResults": []})

    code, out, _ = status_of(cli, camera_table)

    assert code == 3
    assert row(out, annex).endswith(
        "-          -      -            no stream processor reads this camera's video stream, "
        "and no sampler reports for it"
    )


def test_an_unregistered_camera_the_detector_reads_is_shown_and_foreign_processors_are_not(
    cli: Cli, aws_clients: AwsClients, camera_table: str
) -> None:
    garage = FleetCamera("Garage04", minutes_since_last_record=2)
    stub_fleet(aws_clients, [garage])

    code, out, _ = status_of(cli, camera_table)

    assert code == 0
    assert "(unregistered)" in row(out, garage)
    assert "facewatch-busan" not in out


def test_a_processor_whose_stream_the_detector_does_not_read_is_flagged(
    cli: Cli, aws_clients: AwsClients, camera_table: str
) -> None:
    lobby = FleetCamera("Lobby01", read_by_detector=False)
    register(cli, camera_table, lobby)
    stub_fleet(aws_clients, [lobby])

    code, out, _ = status_of(cli, camera_table)

    assert code == 3
    assert f"the detector does not read data stream {lobby.camera_id}" in row(out, lobby)


def test_a_lagging_detector_is_flagged(cli: Cli, aws_clients: AwsClients, camera_table: str) -> None:
    lobby = FleetCamera("Lobby01")
    register(cli, camera_table, lobby)
    stub_fleet(aws_clients, [lobby], iterator_age_ms=95_000)

    code, out, _ = status_of(cli, camera_table)

    assert code == 3
    assert out.splitlines()[0] == (
        f"Detector {DETECTOR}: iterator age 95.0 s (max in the minute from 02:08 UTC)"
        " - LAGGING: ITERATOR AGE OVER 1 MIN, ALERTS ARE LATE"
    )


def test_status_json(cli: Cli, aws_clients: AwsClients, camera_table: str) -> None:
    dock = FleetCamera("Dock02", status="STOPPED", minutes_since_last_record=30)
    register(cli, camera_table, dock)
    stub_fleet(aws_clients, [dock])

    code, out, _ = status_of(cli, camera_table, "--json")

    assert code == 3
    report = json.loads(out)
    assert report["detector"] == {"function_name": DETECTOR, "iterator_age_ms": 1234.0, "problem": None}
    assert report["cameras"] == [
        {
            "camera_id": dock.camera_id,
            "registered": True,
            "display_name": "Dock02",
            "site": "SEOUL-HQ",
            "processor": dock.processor,
            "processor_status": "STOPPED",
            "processor_status_message": None,
            "data_stream": dock.camera_id,
            "last_record_minute": (NOW.replace(second=0) - timedelta(minutes=30)).isoformat(),
            "last_record_age_seconds": 30 * 60 + 30,
            "mode": "stream",
            "sampler": None,
            "problems": ["processor STOPPED", "quiet for 30 min (over 5 min)"],
        }
    ]


def test_more_than_500_streams_take_more_than_one_get_metric_data(aws_clients: AwsClients) -> None:
    cloudwatch = aws_clients.stub("cloudwatch")
    cloudwatch.add_response("get_metric_data", {"MetricDataResults": []}, {"MetricDataQueries": ANY, "StartTime": ANY,
                            "EndTime": ANY, "ScanBy": "TimestampDescending"})  # fmt: skip
    cloudwatch.add_response("get_metric_data", {"MetricDataResults": []})

    last, age = status.metric_activity(aws_clients.client("cloudwatch"), [f"s{n}" for n in range(500)], "detector", NOW)

    assert len(last) == 500
    assert age is None


def test_of_two_processors_on_one_camera_the_running_one_is_shown() -> None:
    old = status.Processor("cam_80", "STOPPING", None, "cam", "arn:aws:kinesis:us-east-1:1:stream/cam")
    new = status.Processor("cam_90", "RUNNING", None, "cam", "arn:aws:kinesis:us-east-1:1:stream/cam")

    for processors in ([old, new], [new, old]):
        [health] = status.assess({}, processors, {"cam": NOW}, None, NOW, timedelta(minutes=5))
        assert health.processor == new
        assert health.problems == ()


@pytest.mark.parametrize(
    ("age", "text"),
    [(timedelta(seconds=59), "59 s"), (timedelta(minutes=61), "1 h 1 min"), (timedelta(hours=3), "3 h")],
)
def test_ages_read_naturally(age: timedelta, text: str) -> None:
    assert status.describe_age(age) == text


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("5m", 300), ("1h", 3600), ("7", 420)])
def test_durations(text: str, seconds: int) -> None:
    assert status.duration(text) == timedelta(seconds=seconds)


def test_a_bad_quiet_after_is_a_usage_error(cli: Cli) -> None:
    with pytest.raises(SystemExit) as exit_:
        cli("status", "--quiet-after", "soon")

    assert exit_.value.code == 2
