"""The sampler's loop: a reader thread keeps up with the camera, the analyser takes the newest frame.

The reader grabs every frame (an RTSP client that stops reading falls behind and its buffer fills), keeps
the ones the schedule samples, and hands each to a one-frame slot. For a camera, a frame still waiting
when the next arrives is replaced and counted as dropped, so a slow Rekognition or Kinesis call costs
frames, never delay; a file waits for the analyser instead, so every sampled frame is analysed. When the
camera fails, the reader reports it offline and reconnects with backoff until it is back or told to stop.
Two failures end the run instead, with `failure` saying why: a file that cannot be read (there is no
camera to wait for) and a data stream that does not exist or may not be written (StreamUnavailable).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from facewatch_sampler.analysis import FrameAnalyser, FrameOutcome
from facewatch_sampler.backoff import Backoff
from facewatch_sampler.frames import Frame, FrameSource, SourceUnavailable
from facewatch_sampler.kinesis import RecordWriter, StreamUnavailable
from facewatch_sampler.observability import logger
from facewatch_sampler.records import build_record, encode_record
from facewatch_sampler.schedule import SamplingSchedule
from facewatch_sampler.snapshots import EdgeSnapshots
from facewatch_sampler.stats import SamplerStats
from facewatch_sampler.status import StatusReporter

# How long the analyser waits for a frame before it looks at the clock (status, deadline, stop).
POLL_SECONDS = 0.2
READER_JOIN_SECONDS = 15.0
OVER_BUDGET_WARNING_INTERVAL_SECONDS = 60.0


class FrameSlot:
    """Holds at most one frame between the reader and the analyser."""

    def __init__(self, *, drop_when_busy: bool) -> None:
        self._drop_when_busy = drop_when_busy
        self._condition = threading.Condition()
        self._frame: Frame | None = None
        self._closed = False

    def put(self, frame: Frame) -> bool:
        """False when the frame replaced one that was never analysed (dropped)."""
        with self._condition:
            if not self._drop_when_busy:
                while self._frame is not None and not self._closed:
                    self._condition.wait(POLL_SECONDS)
            replaced = self._frame is not None
            self._frame = frame
            self._condition.notify_all()
            return not replaced

    def take(self, timeout: float) -> Frame | None:
        with self._condition:
            if self._frame is None and not self._closed:
                self._condition.wait(timeout)
            frame, self._frame = self._frame, None
            self._condition.notify_all()
            return frame

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def finished(self) -> bool:
        """Closed by the reader and emptied by the analyser."""
        with self._condition:
            return self._closed and self._frame is None


class Sampler:
    def __init__(
        self,
        *,
        stream_arn: str,
        source: FrameSource,
        analyser: FrameAnalyser,
        writer: RecordWriter,
        reporter: StatusReporter,
        stats: SamplerStats,
        schedule: SamplingSchedule,
        reconnect: Backoff,
        drop_when_busy: bool,
        status_interval_seconds: float,
        clock: Callable[[], float] = time.time,
        monotonic: Callable[[], float] = time.monotonic,
        snapshots: EdgeSnapshots | None = None,
    ) -> None:
        self._snapshots = snapshots
        self._stream_arn = stream_arn
        self._source = source
        self._analyser = analyser
        self._writer = writer
        self._reporter = reporter
        self._stats = stats
        self._schedule = schedule
        self._reconnect = reconnect
        self._slot = FrameSlot(drop_when_busy=drop_when_busy)
        self._status_interval_seconds = status_interval_seconds
        self._clock = clock
        self._monotonic = monotonic
        self._stop = threading.Event()
        self._last_budget_warning: float | None = None
        self.failure: str | None = None

    def _fail(self, reason: str) -> None:
        if self.failure is None:
            self.failure = reason
            logger.error("sampler stopped", extra={"camera_id": self._stats.camera_id, "reason": reason})
        self._stop.set()

    def stop(self) -> None:
        """Ends `run` after the frame in hand. Only sets an event: safe from a signal handler."""
        self._stop.set()

    def run(self, *, max_frames: int | None = None, max_seconds: float | None = None) -> SamplerStats:
        """Samples until stopped, a file ends, `max_frames` frames were sampled or `max_seconds` passed."""
        started = self._monotonic()
        deadline = started + max_seconds if max_seconds is not None else None
        reader = threading.Thread(target=self._read, args=(max_frames,), name="facewatch-sampler-reader", daemon=True)
        reader.start()
        next_status = started + self._status_interval_seconds
        try:
            while not self._stop.is_set() and not (deadline is not None and self._monotonic() >= deadline):
                frame = self._slot.take(POLL_SECONDS)
                if frame is not None:
                    self._process(frame)
                elif self._slot.finished:
                    break
                if self._monotonic() >= next_status:
                    next_status += self._status_interval_seconds
                    self._flush()
                    self._sync_writer_stats()
                    self._reporter.summary()
        finally:
            self._stop.set()
            self._slot.close()
            reader.join(READER_JOIN_SECONDS)
            self._flush()
            self._sync_writer_stats()
            self._reporter.summary()
        return self._stats

    def _flush(self) -> None:
        try:
            self._writer.flush()
        except StreamUnavailable as error:
            self._fail(str(error))

    def _process(self, frame: Frame) -> None:
        try:
            analysis = self._analyser.analyse(frame)
            if analysis.outcome is FrameOutcome.OVER_BUDGET:
                self._warn_over_budget(frame.time)
            if analysis.outcome is FrameOutcome.ANALYSED:
                snapshot = self._snapshots.upload(frame) if self._snapshots is not None else None
                record = build_record(self._stream_arn, frame.time, analysis.faces, snapshot)
                self._writer.write(encode_record(record))
        except StreamUnavailable as error:
            self._fail(str(error))
        except Exception as error:  # one bad frame must not end a long-running sampler; it is counted and logged
            self._stats.frames_failed += 1
            logger.exception(
                "frame not processed", extra={"camera_id": self._stats.camera_id, "error": type(error).__name__}
            )
        self._sync_writer_stats()

    def _sync_writer_stats(self) -> None:
        self._stats.records_written = self._writer.written
        self._stats.records_pending = self._writer.pending
        self._stats.records_dropped = self._writer.dropped

    def _warn_over_budget(self, now: float) -> None:
        last = self._last_budget_warning
        if last is None or now - last >= OVER_BUDGET_WARNING_INTERVAL_SECONDS or now < last:
            self._last_budget_warning = now
            logger.warning(
                "camera's Rekognition calls per minute spent: frames with faces dropped",
                extra={"camera_id": self._stats.camera_id, "frames_over_budget": self._stats.frames_over_budget},
            )

    def _read(self, max_frames: int | None) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._source.open()
                    self._schedule.reset()
                    self._read_open_source(max_frames)
                    return  # end of a file, max_frames reached, or stopped
                except SourceUnavailable as error:
                    if not self._source.live:
                        self._fail(str(error))
                        return
                    self._disconnected(str(error))
                except Exception as error:  # a decoder failure is a broken stream too: reconnect
                    logger.exception("reading the camera failed", extra={"camera_id": self._stats.camera_id})
                    self._disconnected(type(error).__name__)
        finally:
            self._source.close()
            self._slot.close()

    def _read_open_source(self, max_frames: int | None) -> None:
        """Reads until the end, a failure (raised), `max_frames` sampled in all, or stop."""
        stats = self._stats
        first = True
        while not self._stop.is_set() and (max_frames is None or stats.frames_sampled < max_frames):
            frame_time = self._source.grab()
            if frame_time is None:
                return
            stats.frames_read += 1
            if first:
                first = False
                self._reconnect.succeed()
                self._reporter.camera_online(self._clock())
            if not self._schedule.due(frame_time):
                continue
            frame = Frame(image=self._source.retrieve(), time=frame_time, index=stats.frames_read - 1)
            stats.frames_sampled += 1
            if not self._slot.put(frame):
                stats.frames_dropped_busy += 1

    def _disconnected(self, reason: str) -> None:
        self._source.close()
        now = self._clock()
        self._reporter.camera_offline(reason, now)
        delay = self._reconnect.fail(now)
        logger.info("reconnecting", extra={"camera_id": self._stats.camera_id, "in_s": round(delay, 2)})
        self._stop.wait(delay)
