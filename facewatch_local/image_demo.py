"""`make demo`'s first part: image mode, the only mode a new AWS account can deploy.

1. A 12 s lobby video is made from two openly licensed photographs committed in events/media/ (sources in
   SOURCES.md): employee E10442 (Grace Hopper, US Navy, public domain) crosses from the left, then a
   visitor (Eileen Collins, NASA, public domain) from the right.
2. The real sampler (facewatch_sampler: OpenCV, the MTCNN local detector, track cache, budget, users
   search with its fallback to faces) reads it and writes face-search records to the stack's
   FaceSearchStream on moto.
3. Rekognition is a STAND-IN (facewatch_local.rekognition_standin): moto has no image search. It holds
   the demo's enrolled photo and answers DetectFaces, SearchUsersByImage and SearchFacesByImage from a
   face detector and the pixel correlation of face thumbnails, not from a face model.
4. The real detector and alerter run as Lambda would run them on moto (facewatch_local.lambda_runtime):
   the employee raises nothing, the visitor one alert, printed as the security team gets it.
"""

from __future__ import annotations

import logging
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TextIO

import boto3
import cv2
import numpy as np
from facewatch_sampler.app import build_sampler
from facewatch_sampler.frames import Image, OpenCvSource
from facewatch_sampler.geometry import Box
from facewatch_sampler.local_detector import MtcnnFaceDetector
from facewatch_sampler.observability import SERVICE_NAME
from facewatch_sampler.rekognition import RekognitionFaces, client_config
from facewatch_sampler.settings import SamplerSettings
from facewatch_sampler.stats import SamplerStats

from facewatch_local.cfn import TEMPLATE_PATH, load_template
from facewatch_local.demo import (
    ALERTER_TIMEOUT_SECONDS,
    DETECTOR_TIMEOUT_SECONDS,
    NEWEST_FRAME_AGE_SECONDS,
    STACK_NAME,
    AlertReport,
    _alert_reports,
    _Output,
    _print_alerts,
    _progress,
    _subscribe_inbox,
    _write_logs,
    create_cameras,
    local_function,
    receive_all,
    run_alerter,
)
from facewatch_local.lambda_runtime import KinesisEventSourceMapping, KinesisMappingSettings, event_source_properties
from facewatch_local.moto_server import emulated_aws
from facewatch_local.rekognition_standin import OracleFace, RekognitionStandIn
from facewatch_local.scenario import DEMO_CAMERAS

if TYPE_CHECKING:
    from facewatch_local.stack import EmulatedStack

MEDIA: Final = Path(__file__).resolve().parent.parent / "events" / "media"
CAMERA: Final = DEMO_CAMERAS[0]  # seoul-hq-lobby-01, the main lobby entrance
EMPLOYEE_ID: Final = "E10442"
COLLECTION_ID: Final = "facewatch-demo-employees"
WIDTH, HEIGHT, FPS = 640, 360, 10
DURATION_SECONDS: Final = 12.0
PORTRAIT_SIZE: Final = (150, 176)  # width, height of a person in the frame
THUMBNAIL_PX: Final = 16


@dataclass(frozen=True, slots=True)
class Walker:
    """A person crossing the lobby: a photograph (cut to head and shoulders), when, from where."""

    name: str
    photo: str
    cut: tuple[int, int, int, int]  # x, y, width, height of the part of the photograph shown
    start: float
    end: float
    x: int
    y: int
    pixels_per_second: float

    def portrait(self) -> Image:
        image = cv2.imread(str(MEDIA / self.photo))
        if image is None:
            raise RuntimeError(f"cannot read {MEDIA / self.photo}")
        x, y, w, h = self.cut
        return np.asarray(cv2.resize(image[y : y + h, x : x + w], PORTRAIT_SIZE, interpolation=cv2.INTER_AREA))


EMPLOYEE: Final = Walker("employee E10442", "grace_hopper.jpg", (0, 0, 512, 600), 2.0, 6.0, 40, 90, 40.0)
VISITOR: Final = Walker("visitor", "astronaut.jpg", (100, 0, 260, 305), 7.0, 11.0, 440, 100, -40.0)


def write_video(path: Path) -> Path:
    """The lobby: a textured wall, the employee crossing at 2-6 s, the visitor at 7-11 s (MJPEG AVI)."""
    noise = np.random.default_rng(7).integers(90, 140, size=(HEIGHT, WIDTH, 3), dtype=np.uint8)
    wall = np.asarray(cv2.GaussianBlur(noise, (9, 9), 0), dtype=np.uint8)
    portraits = {walker.name: walker.portrait() for walker in (EMPLOYEE, VISITOR)}
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), FPS, (WIDTH, HEIGHT))
    if not writer.isOpened():
        raise RuntimeError("OpenCV cannot write an MJPEG AVI here")
    try:
        for index in range(round(DURATION_SECONDS * FPS)):
            t = index / FPS
            frame = wall.copy()
            for walker in (EMPLOYEE, VISITOR):
                if walker.start <= t < walker.end:
                    x = int(walker.x + (t - walker.start) * walker.pixels_per_second)
                    frame[walker.y : walker.y + PORTRAIT_SIZE[1], x : x + PORTRAIT_SIZE[0]] = portraits[walker.name]
            writer.write(frame)
    finally:
        writer.release()
    return path


class EnrolledPhotos:
    """The stand-in's oracle: faces found by MTCNN; who they are by the correlation of 16x16 grey
    thumbnails with the enrolled photos' faces. Similarity = 50 + 50 x correlation: about 90 for the
    employee's own face in the video, about 65 for the visitor's (printed by the demo)."""

    def __init__(self, enrolled: Mapping[str, Image]) -> None:
        self._detector = MtcnnFaceDetector(detect_width_px=960, min_face_px=20)
        self._thumbnails = {}
        for identity, photo in enrolled.items():
            boxes = self._detector.detect(photo)
            if not boxes:
                raise ValueError(f"no face in the enrolled photo of {identity}")
            self._thumbnails[identity] = self._thumbnail(photo, max(boxes, key=lambda box: box.area))

    @staticmethod
    def _thumbnail(image: Image, box: Box) -> np.ndarray[Any, np.dtype[np.float32]]:
        rect = box.to_pixels(int(image.shape[1]), int(image.shape[0]))
        grey = cv2.cvtColor(image[rect.y : rect.y + rect.height, rect.x : rect.x + rect.width], cv2.COLOR_BGR2GRAY)
        small = cv2.equalizeHist(cv2.resize(grey, (THUMBNAIL_PX, THUMBNAIL_PX), interpolation=cv2.INTER_AREA))
        vector = small.astype(np.float32).ravel()
        vector -= vector.mean()
        return np.asarray(vector / (np.linalg.norm(vector) + 1e-6), dtype=np.float32)

    def faces(self, image: bytes) -> list[OracleFace]:
        decoded = cv2.imdecode(np.frombuffer(image, dtype=np.uint8), cv2.IMREAD_COLOR)
        if decoded is None:
            return []
        frame = np.asarray(decoded, dtype=np.uint8)
        found = []
        for box in self._detector.detect(frame):
            thumbnail = self._thumbnail(frame, box)
            scores = {identity: float(thumbnail @ known) for identity, known in self._thumbnails.items()}
            identity = max(scores, key=lambda name: scores[name]) if scores else None
            similarity = round(50.0 + 50.0 * max(0.0, scores[identity]), 2) if identity else 0.0
            found.append(OracleFace(box.left, box.top, box.width, box.height, 99.0, identity, similarity))
        return found


@dataclass(frozen=True, slots=True)
class ImageDemoSummary:
    sampler: SamplerStats
    records_written: int
    stand_in_calls: Mapping[str, int]
    similarities: Mapping[str, float]  # walker -> the best similarity the stand-in answered
    alerts: tuple[AlertReport, ...]
    elapsed_seconds: float
    log_path: Path
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return not self.problems


def _sampler_settings(stack: EmulatedStack, video: Path, stream_arn: str) -> SamplerSettings:
    return SamplerSettings(
        camera_id=CAMERA.camera_id,
        source=str(video),
        stream_name=stack.face_search_stream_name,
        collection_id=COLLECTION_ID,
        kvs_stream_arn=stream_arn,
    )


def _run_sampler(
    session: boto3.session.Session, stack: EmulatedStack, video: Path, stream_arn: str, stand_in_url: str
) -> SamplerStats:
    """The real sampler, its Rekognition client pointed at the stand-in, frames stamped so that the
    newest is NEWEST_FRAME_AGE_SECONDS old (as the stream-mode replay)."""
    settings = _sampler_settings(stack, video, stream_arn)
    rekognition = session.client(
        "rekognition", endpoint_url=stand_in_url, config=client_config(settings.rekognition_timeout_seconds)
    )
    start_time = time.time() - NEWEST_FRAME_AGE_SECONDS - DURATION_SECONDS
    sampler = build_sampler(
        settings,
        session,
        source=OpenCvSource(str(video), start_time=start_time),
        faces=RekognitionFaces(settings.collection_id, settings.face_match_threshold, client=rekognition),
        # No randomness: the budget's bucket starts full and backoffs are at their ceiling, so every run
        # makes the same calls (a fleet's buckets start at random levels so as not to burst together).
        jitter=lambda: 1.0,
    )
    # The sampler's info lines (camera online, status) are for journald; the demo prints its own summary.
    sampler_logger = logging.getLogger(SERVICE_NAME)
    level = sampler_logger.level
    sampler_logger.setLevel(logging.WARNING)
    try:
        stats = sampler.run(max_seconds=60)
    finally:
        sampler_logger.setLevel(level)
    if sampler.failure:
        raise RuntimeError(f"the sampler stopped: {sampler.failure}")
    return stats


def _best_similarities(stand_in: EnrolledPhotos, video: Path) -> dict[str, float]:
    """What the stand-in makes of each walker at the middle of their crossing (for the printout)."""
    capture = cv2.VideoCapture(str(video))
    best: dict[str, float] = {}
    try:
        for walker in (EMPLOYEE, VISITOR):
            capture.set(cv2.CAP_PROP_POS_FRAMES, round((walker.start + walker.end) / 2 * FPS))
            ok, frame = capture.read()
            ok_jpeg, jpeg = cv2.imencode(".jpg", frame) if ok else (False, None)
            faces = stand_in.faces(jpeg.tobytes()) if ok_jpeg and jpeg is not None else []
            best[walker.name] = max((face.similarity for face in faces), default=0.0)
    finally:
        capture.release()
    return best


def run(
    *, region: str, log_path: Path, stream: TextIO, alerter_timeout_seconds: float = ALERTER_TIMEOUT_SECONDS
) -> ImageDemoSummary:
    started = time.monotonic()
    output = _Output(stream)
    template = load_template(TEMPLATE_PATH)
    enrolled = {EMPLOYEE_ID: EMPLOYEE.portrait()}
    oracle = EnrolledPhotos(enrolled)
    stand_in = RekognitionStandIn(oracle)
    with (
        tempfile.TemporaryDirectory(prefix="facewatch-demo-video-") as directory,
        emulated_aws(region) as endpoint_url,
        stand_in.serving() as stand_in_url,
    ):
        video = write_video(Path(directory) / "lobby.avi")
        output.line("=== Image mode (the mode a new AWS account can deploy)")
        output.line(f"  emulated  AWS by moto at {endpoint_url} (region {region})")
        output.line(
            f"  emulated  Rekognition by a STAND-IN at {stand_in_url} (facewatch_local.rekognition_standin): it holds "
            f"the enrolled photo of {EMPLOYEE_ID} and answers DetectFaces/SearchUsersByImage/SearchFacesByImage "
            "by thumbnail correlation, not a face model"
        )
        output.line(
            "  real      the sampler (OpenCV, MTCNN local detector, track cache, budget), the detector, the alerter"
        )
        output.line(
            f"  video     {DURATION_SECONDS:g} s of {CAMERA.display_name}: {EMPLOYEE.name} ({EMPLOYEE.photo}) "
            f"walks past, then a {VISITOR.name} ({VISITOR.photo}); photos from events/media (SOURCES.md)"
        )
        session = boto3.session.Session(region_name=region)
        account_id = session.client("sts").get_caller_identity()["Account"]
        stack = deploy_stack(session)
        stream_arn = create_cameras(session, stack, [CAMERA])[CAMERA.camera_id]
        inbox_url = _subscribe_inbox(session, stack.alert_topic_arn)
        detector = local_function(
            template, "DetectorFunction", stack.detector_env(), stack, account_id, _progress(output, "detector")
        )
        alerter = local_function(
            template, "AlertFunction", stack.alert_env(), stack, account_id, _progress(output, "alerter")
        )
        sqs = session.client("sqs")
        mapping = KinesisEventSourceMapping(
            detector,
            stack.face_search_stream_arn,
            KinesisMappingSettings.from_properties(
                event_source_properties(template, "DetectorFunction", "Kinesis", {})
            ),
            kinesis=session.client("kinesis"),
            sqs=sqs,
            on_failure_queue_url=stack.detector_dead_letter_queue_url,
        )
        mapping.start()
        stats = _run_sampler(session, stack, video, stream_arn, stand_in_url)
        output.line(
            f"  sampler   {stats.frames_sampled} frames sampled, {stats.frames_sampled - stats.frames_without_face} "
            f"with a face, {stats.frames_cached} answered by the track cache; calls: "
            + ", ".join(f"{name} {count}" for name, count in sorted(stats.rekognition_calls.items()))
            + f"; {stats.records_written} records written to {stack.face_search_stream_name}"
        )
        kinesis_report = mapping.run(timeout_seconds=DETECTOR_TIMEOUT_SECONDS)
        sqs_report, index_report = run_alerter(alerter, stack, template, {}, sqs, alerter_timeout_seconds)
        output.line()
        inbox = receive_all(sqs, inbox_url)
        alerts = _alert_reports(session, stack, alerter, inbox, {}, account_id)
        similarities = _best_similarities(oracle, video)
        calls: dict[str, int] = {}
        for call in stand_in.calls:
            calls[call.operation] = calls.get(call.operation, 0) + 1
        problems = _problems(stats, alerts, kinesis_report.drained and sqs_report.drained and index_report.drained)
        summary = ImageDemoSummary(
            sampler=stats,
            records_written=stats.records_written,
            stand_in_calls=calls,
            similarities=similarities,
            alerts=tuple(alerts),
            elapsed_seconds=time.monotonic() - started,
            log_path=log_path,
            problems=problems,
        )
        _write_logs(log_path, (detector, alerter))
        _print_alerts(output, summary.alerts, stack)
        print_summary(output, summary)
    return summary


def deploy_stack(session: boto3.session.Session) -> EmulatedStack:
    from facewatch_local.stack import deploy_emulated_stack

    return deploy_emulated_stack(session, name_prefix=STACK_NAME)


def _problems(stats: SamplerStats, alerts: list[AlertReport], drained: bool) -> tuple[str, ...]:
    problems = []
    if len(alerts) != 1:
        problems.append(f"expected one alert (the visitor), got {len(alerts)}")
    if not drained:
        problems.append("the detector or the alerter did not finish in time")
    if stats.frames_failed or stats.rekognition_errors:
        problems.append(f"the sampler failed frames: {dict(stats.rekognition_errors)}")
    problems += [f"alert {a.alert_id} was not notified" for a in alerts if not a.sns_message_id]
    return tuple(problems)


def print_summary(output: _Output, summary: ImageDemoSummary) -> None:
    output.line("=== Image mode summary")
    for walker, similarity in summary.similarities.items():
        verdict = "an employee: no alert" if similarity >= 80.0 else "nobody enrolled: alert"
        output.line(f"  {walker:<16} stand-in similarity {similarity:5.1f} to {EMPLOYEE_ID} -> {verdict}")
    output.line(
        "  stand-in  "
        + ", ".join(f"{name} {count}" for name, count in sorted(summary.stand_in_calls.items()))
        + " call(s) answered"
    )
    output.line(f"  alerts    {len(summary.alerts)} (the visitor's)")
    output.line(f"  function logs {summary.log_path}")
    status = "ok" if summary.ok else "FAILED: " + "; ".join(summary.problems)
    output.line(f"  image mode done in {summary.elapsed_seconds:.1f} s: {status}")
    output.line()
