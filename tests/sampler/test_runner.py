"""The long-running loop: a camera that drops its connection mid-stream is reported offline and
reconnected; a slow Rekognition costs frames (counted), never delay; a status file says how it goes."""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import boto3
import pytest
from facewatch_sampler.app import Reporting, build_sampler
from facewatch_sampler.frames import OpenCvSource
from facewatch_sampler.geometry import Box
from facewatch_sampler.runner import FrameSlot
from facewatch_sampler.settings import SamplerSettings
from tests.sampler.fakes import BlankLiveSource, FakeFaces, FixedBoxes, frame_at
from tests.sampler.scene import FPS
from tests.sampler.support import read_stream
from tests.support.logs import CapturedLogs

CAMERA_ID = "lobby-01"
STREAM_NAME = "lobby-01-faces"
KVS_STREAM_ARN = f"arn:aws:kinesisvideo:us-east-1:123456789012:stream/{CAMERA_ID}/1598784211076"
SETTINGS = SamplerSettings(
    camera_id=CAMERA_ID,
    source="unused",
    stream_name=STREAM_NAME,
    collection_id="employees",
    kvs_stream_arn=KVS_STREAM_ARN,
    reconnect_base_seconds=0.05,
    reconnect_max_seconds=0.2,
)


@pytest.fixture
def data_stream(aws: boto3.session.Session) -> str:
    aws.client("kinesis").create_stream(StreamName=STREAM_NAME, ShardCount=1)
    return STREAM_NAME


class FlakyCamera:
    """An HTTP camera on 127.0.0.1 serving the scene video; the first connection breaks off mid-stream."""

    def __init__(self, video: bytes, first_connection_fraction: float = 0.4) -> None:
        self.connections = 0
        camera = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                camera.connections += 1
                sent = video if camera.connections > 1 else video[: int(len(video) * first_connection_fraction)]
                self.send_response(200)
                self.send_header("Content-Type", "video/x-msvideo")
                self.send_header("Content-Length", str(len(video)))
                self.end_headers()
                self.wfile.write(sent)
                self.close_connection = True

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self._server.server_port}/lobby.avi"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> FlakyCamera:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()


def camera_clock(frame_seconds: float) -> Callable[[], float]:
    """A live camera's frame clock that advances one frame per read, however fast the frames arrive."""
    ticks = itertools.count()
    return lambda: 1_763_776_800.0 + next(ticks) * frame_seconds


def test_a_camera_that_disconnects_mid_stream_is_reported_offline_and_reconnected(
    aws: boto3.session.Session,
    data_stream: str,
    scene_video: Path,
    tmp_path: Path,
    sampler_logs: CapturedLogs,
) -> None:
    # given a camera whose first connection breaks off after 2 of the scene's 12 s
    status_file = tmp_path / "status.json"
    with FlakyCamera(scene_video.read_bytes(), first_connection_fraction=0.4) as camera:
        source = OpenCvSource(camera.url, clock=camera_clock(1 / FPS))
        sampler = build_sampler(
            replace(SETTINGS, source=camera.url),
            aws,
            reporting=Reporting(status_file=status_file),
            source=source,
            faces=FakeFaces(faces=[Box(0.2, 0.3, 0.1, 0.2)]),
        )

        # when the sampler reads 30 frames' worth
        stats = sampler.run(max_frames=30, max_seconds=30)

    # then it came back on a second connection and went on sampling and writing
    assert camera.connections >= 2
    assert stats.reconnects >= 1
    assert stats.frames_sampled == 30
    assert stats.online
    events = [record["message"] for record in sampler_logs.records if record.get("camera_id") == CAMERA_ID]
    assert events[:3] == ["camera online", "camera offline", "reconnecting"]
    assert "camera online" in events[3:]
    offline = next(r for r in sampler_logs.records if r["message"] == "camera offline")
    assert "stopped sending frames" in offline["reason"]
    assert camera.url.split("/lobby")[0] in offline["reason"]
    # 2 s of the first connection hold no face; every record written came after the reconnect
    assert stats.records_written == len(read_stream(aws.client("kinesis"), data_stream)) > 0
    assert json.loads(status_file.read_text())["reconnects"] == stats.reconnects


def test_a_camera_that_cannot_be_reached_is_retried_with_backoff_until_it_answers(
    aws: boto3.session.Session, data_stream: str, sampler_logs: CapturedLogs
) -> None:
    source = BlankLiveSource(frames=1000)
    source.fail_opens = [True, True, False]
    settings = replace(SETTINGS, frames_per_second=10.0)
    sampler = build_sampler(settings, aws, source=source, faces=FakeFaces(), detector=FixedBoxes())

    stats = sampler.run(max_frames=3, max_seconds=20)

    assert source.opened == 3
    assert stats.online
    messages = [record["message"] for record in sampler_logs.records]
    assert messages.count("camera offline") == 1  # reported once, not at every attempt
    assert messages.count("reconnecting") == 2


def test_a_slow_rekognition_costs_frames_not_delay(aws: boto3.session.Session, data_stream: str) -> None:
    # given a live camera at 20 frames/s sampled at 10/s, and Rekognition taking 0.3 s a call
    source = BlankLiveSource(frames=1000, frame_interval=0.05)
    faces = FakeFaces(faces=[Box(0.2, 0.3, 0.1, 0.2)], delay_seconds=0.3)
    sampler = build_sampler(
        replace(SETTINGS, frames_per_second=10.0, max_calls_per_minute=1000, research_after_seconds=0.0),
        aws,
        source=source,
        faces=faces,
        detector=FixedBoxes(Box(0.2, 0.3, 0.1, 0.2)),
    )

    # when 3 s of video go by (30 frames sampled)
    started = time.monotonic()
    stats = sampler.run(max_frames=30, max_seconds=20)
    elapsed = time.monotonic() - started

    # then the reader kept pace with the camera (30 frames analysed in turn would take 18 s) and replaced
    # the frames the analyser could not take
    assert elapsed < 9
    assert stats.frames_dropped_busy > 0
    assert stats.frames_sampled == stats.frames_dropped_busy + stats.frames_analysed + stats.frames_without_face
    assert stats.frames_analysed <= 3 / 0.6 + 1  # two calls of 0.3 s per analysed frame


def test_for_a_camera_a_frame_waiting_when_the_next_arrives_is_replaced() -> None:
    slot = FrameSlot(drop_when_busy=True)

    assert slot.put(frame_at(0.0))
    assert not slot.put(frame_at(0.5))  # the first was never taken: dropped
    taken = slot.take(timeout=0.1)

    assert taken is not None
    assert taken.time == 0.5
    assert slot.take(timeout=0.01) is None


def test_for_a_file_every_sampled_frame_waits_for_the_analyser() -> None:
    slot = FrameSlot(drop_when_busy=False)
    slot.put(frame_at(0.0))
    putter = threading.Thread(target=slot.put, args=(frame_at(0.5),))
    putter.start()
    putter.join(timeout=0.3)
    assert putter.is_alive()  # waiting for the analyser

    first = slot.take(timeout=1)
    putter.join(timeout=2)
    second = slot.take(timeout=1)

    assert first is not None
    assert second is not None
    assert (first.time, second.time) == (0.0, 0.5)


def test_stop_ends_a_run_that_would_go_on_forever(aws: boto3.session.Session, data_stream: str) -> None:
    # given a camera that never ends and no limit on the run
    sampler = build_sampler(
        SETTINGS, aws, source=BlankLiveSource(frames=10**9), faces=FakeFaces(), detector=FixedBoxes()
    )
    threading.Timer(0.5, sampler.stop).start()  # what the SIGTERM handler calls

    # when
    started = time.monotonic()
    stats = sampler.run(max_seconds=20)

    # then
    assert time.monotonic() - started < 5
    assert stats.frames_read > 0


def test_a_stream_that_does_not_exist_ends_a_camera_run_instead_of_queueing_forever(
    aws: boto3.session.Session,
) -> None:
    # given a live camera with a face in view, and no data stream of that name (a role that may not
    # describe streams skips the CLI's check, so the first PutRecord finds out)
    source = BlankLiveSource(frames=10_000, frame_interval=0.01)
    sampler = build_sampler(
        SETTINGS,
        aws,
        source=source,
        faces=FakeFaces(faces=[Box(0.4, 0.3, 0.1, 0.2)]),
        detector=FixedBoxes(Box(0.4, 0.3, 0.1, 0.2)),
    )

    # when
    started = time.monotonic()
    stats = sampler.run(max_seconds=30)

    # then the run ends at the first write, saying why
    assert time.monotonic() - started < 10
    assert sampler.failure == f"cannot write to Kinesis data stream {STREAM_NAME}: ResourceNotFoundException"
    assert stats.records_written == 0


def test_a_video_file_that_cannot_be_read_ends_the_run_without_reconnecting(
    aws: boto3.session.Session, data_stream: str, tmp_path: Path
) -> None:
    missing = tmp_path / "gone.avi"
    sampler = build_sampler(replace(SETTINGS, source=str(missing)), aws, source=OpenCvSource(str(missing)))

    stats = sampler.run(max_seconds=30)

    assert sampler.failure == f"cannot read video file {missing}: no such file"
    assert stats.reconnects == 0
