"""A recorded morning at Seoul HQ: the face-search records three cameras' stream processors write.

`python -m facewatch_local.scenario` regenerates events/scenarios/seoul-hq-morning.jsonl from a fixed
seed (`--check` verifies the committed file instead). One line per Kinesis record, in arrival order:

    {"offset_seconds": ..., "camera_id": ..., "kind": ..., "partition_key": ..., "data": "<record text>"}

`data` is the record exactly as it is put on the stream: the Rekognition face-search shape (Landmarks,
Pose, Quality) with numbers written the way the service's Java serializer writes them
(`1.763769521118E9`). `kind` is for people reading the file; nothing in the pipeline sees it.

What happens in the three minutes (offsets from the start of the recording):
- employees pass the lobby, the third-floor corridor and the parking lift lobby (matched at >= 80);
- an unknown visitor waits in the lobby, seen on every analysed frame in [40 s, 160 s): sightings
  spanning less than two 60 s windows, so the pipeline raises exactly 2 alerts for them;
- a blurred face in the parking garage (Confidence < 90, no match): dropped, no alert;
- the parking camera analyses mostly empty frames (FaceSearchResponse []);
- one record without InputInformation.KinesisVideo.FragmentNumber (a hand-made test record): it
  passes the event source mapping's filter (it has a face) and the detector quarantines it.

At replay the records are re-stamped (`restamp`): frame times move so the newest frame is a few seconds
old, and each camera's StreamArn becomes the ARN of the emulated video stream.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

SCENARIO_PATH: Final = Path(__file__).resolve().parent.parent / "events" / "scenarios" / "seoul-hq-morning.jsonl"
SCENARIO_SEED: Final = 4
# 2025-11-21T23:58:00Z, 08:58 in Seoul: when the recording starts.
RECORDED_AT_EPOCH_SECONDS: Final = 1_763_769_480.0
DURATION_SECONDS: Final = 180.0
# The stream processor analyses about one frame every two seconds per camera in this recording.
FRAME_INTERVAL_SECONDS: Final = 2.0
FRAME_JITTER_SECONDS: Final = 0.25
FRAGMENT_SECONDS: Final = 4.0
# Rekognition results reach Kinesis seconds after the frame (reference: up to tens of seconds).
RESULT_LAG_SECONDS: Final = (2.0, 6.0)
VISITOR_CAMERA: Final = "seoul-hq-lobby-01"
VISITOR_SECONDS: Final = (40.0, 160.0)  # seen on every analysed frame in [start, end)
BLUR_CAMERA: Final = "seoul-hq-parking-b1"
BLUR_SECONDS: Final = (100.0, 107.0)
MALFORMED_CAMERA: Final = "seoul-hq-floor3-east"
MALFORMED_AT_SECONDS: Final = 75.0
RECORDED_ACCOUNT: Final = "111122223333"
RECORDED_REGION: Final = "ap-northeast-2"


@dataclass(frozen=True, slots=True)
class DemoCamera:
    """A camera of the scenario and its camera-registry entry."""

    camera_id: str
    display_name: str
    site: str
    floor: str
    zone: str
    timezone: str = "Asia/Seoul"


DEMO_CAMERAS: Final = (
    DemoCamera("seoul-hq-lobby-01", "Main lobby entrance", "Seoul HQ", "1", "lobby"),
    DemoCamera("seoul-hq-floor3-east", "3F east corridor", "Seoul HQ", "3", "east wing"),
    DemoCamera("seoul-hq-parking-b1", "B1 parking lift lobby", "Seoul HQ", "B1", "parking"),
)


@dataclass(frozen=True, slots=True)
class ScenarioRecord:
    offset_seconds: float  # arrival on the stream, from the start of the recording
    camera_id: str
    kind: str  # employee | visitor | blur | empty | malformed (for readers of the file)
    partition_key: str
    data: str  # the record's text, as put on the stream


@dataclass(frozen=True, slots=True)
class Scenario:
    records: tuple[ScenarioRecord, ...]

    @property
    def camera_ids(self) -> tuple[str, ...]:
        return tuple(sorted({record.camera_id for record in self.records}))

    def newest_frame_time(self) -> float:
        times = [t for t in (frame_time_of(record.data) for record in self.records) if t is not None]
        if not times:
            raise ValueError("the scenario has no record with a frame time")
        return max(times)


def java_double(value: float) -> str:
    """A double as Java's Double.toString writes it: plain in [1e-3, 1e7), else 1.234E9."""
    if value == 0:
        return "-0.0" if math.copysign(1.0, value) < 0 else "0.0"
    if not math.isfinite(value):
        raise ValueError("JSON has no NaN or Infinity")
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)).rstrip("0") or "0"
    scientific_exponent = len(digits) + exponent - 1
    prefix = "-" if sign else ""
    if 1e-3 <= abs(value) < 1e7:
        if scientific_exponent >= 0:
            whole = text[: scientific_exponent + 1].ljust(scientific_exponent + 1, "0")
            fraction = text[scientific_exponent + 1 :] or "0"
        else:
            whole, fraction = "0", "0" * (-scientific_exponent - 1) + text
        return f"{prefix}{whole}.{fraction}"
    return f"{prefix}{text[0]}.{text[1:] or '0'}E{scientific_exponent}"


def to_java_json(value: Any) -> str:
    """Compact JSON with doubles written as Java writes them."""
    if isinstance(value, bool) or value is None or isinstance(value, str | int):
        return json.dumps(value)
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, Mapping):
        return "{" + ",".join(f"{json.dumps(key)}:{to_java_json(item)}" for key, item in value.items()) + "}"
    if isinstance(value, list | tuple):
        return "[" + ",".join(to_java_json(item) for item in value) + "]"
    raise TypeError(f"not JSON: {type(value).__name__}")


def _video_source(data: str) -> dict[str, Any] | None:
    try:
        record = json.loads(data)
    except ValueError:
        return None
    video = record.get("InputInformation", {}).get("KinesisVideo") if isinstance(record, dict) else None
    return video if isinstance(video, dict) else None


def frame_time_of(data: str) -> float | None:
    video = _video_source(data)
    if video is None:
        return None
    producer, offset = video.get("ProducerTimestamp"), video.get("FrameOffsetInSeconds")
    if not isinstance(producer, float) or not isinstance(offset, float):
        return None
    return producer + offset


def restamp(data: str, shift_seconds: float, stream_arns: Mapping[str, str]) -> str:
    """The record with its fragment timestamps moved by `shift_seconds` and its StreamArn replaced by
    `stream_arns[camera_id]`. Text that is not a face-search record is returned unchanged."""
    if _video_source(data) is None:
        return data
    record = json.loads(data)
    video = record["InputInformation"]["KinesisVideo"]
    for name in ("ProducerTimestamp", "ServerTimestamp"):
        if isinstance(video.get(name), float):
            video[name] = round(video[name] + shift_seconds, 3)
    arn = video.get("StreamArn")
    if isinstance(arn, str):
        camera_id = arn.split("/")[1] if arn.count("/") == 2 else ""
        video["StreamArn"] = stream_arns.get(camera_id, arn)
    return to_java_json(record)


def load_scenario(path: Path = SCENARIO_PATH) -> Scenario:
    records = []
    with path.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                item = json.loads(line)
                records.append(
                    ScenarioRecord(
                        offset_seconds=float(item["offset_seconds"]),
                        camera_id=str(item["camera_id"]),
                        kind=str(item["kind"]),
                        partition_key=str(item["partition_key"]),
                        data=str(item["data"]),
                    )
                )
            except (ValueError, KeyError, TypeError) as error:
                raise ValueError(f"{path}:{number}: not a scenario record ({error})") from None
    return Scenario(records=tuple(records))


def dump_scenario(scenario: Scenario) -> str:
    return "".join(
        json.dumps(
            {
                "offset_seconds": record.offset_seconds,
                "camera_id": record.camera_id,
                "kind": record.kind,
                "partition_key": record.partition_key,
                "data": record.data,
            }
        )
        + "\n"
        for record in scenario.records
    )


@dataclass(frozen=True, slots=True)
class _Person:
    external_image_id: str | None  # None: not in the employee collection
    face_ids: tuple[str, ...]
    camera_id: str
    enters: float
    leaves: float
    left_from: float
    left_to: float
    height: float
    confidence: tuple[float, float]
    sharpness: tuple[float, float]


class _Recorder:
    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - a reproducible recording, not a secret
        self._streams = {
            camera.camera_id: (
                f"arn:aws:kinesisvideo:{RECORDED_REGION}:{RECORDED_ACCOUNT}:stream/{camera.camera_id}/"
                f"{1_731_900_000_000 + index * 7_919}"
            )
            for index, camera in enumerate(DEMO_CAMERAS)
        }

    def uniform(self, low: float, high: float, digits: int = 3) -> float:
        return round(self._rng.uniform(low, high), digits)

    def uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))

    def people(self) -> list[_Person]:
        employees = [f"E{10_000 + self._rng.randrange(90_000)}" for _ in range(9)]
        passes = [  # (employee, camera, enters)
            (0, "seoul-hq-lobby-01", 6.0),
            (1, "seoul-hq-lobby-01", 21.0),
            (2, "seoul-hq-lobby-01", 64.0),
            (3, "seoul-hq-lobby-01", 118.0),
            (4, "seoul-hq-floor3-east", 12.0),
            (5, "seoul-hq-floor3-east", 47.0),
            (6, "seoul-hq-floor3-east", 96.0),
            (1, "seoul-hq-floor3-east", 141.0),
            (7, "seoul-hq-parking-b1", 18.0),
            (8, "seoul-hq-parking-b1", 150.0),
        ]
        face_ids = {employee: tuple(self.uuid() for _ in range(2)) for employee in employees}
        people = []
        for employee_index, camera_id, enters in passes:
            employee = employees[employee_index]
            walking_right = self._rng.random() < 0.5
            people.append(
                _Person(
                    external_image_id=employee,
                    face_ids=face_ids[employee],
                    camera_id=camera_id,
                    enters=enters,
                    leaves=enters + self.uniform(6.0, 10.0, 1),
                    left_from=0.1 if walking_right else 0.8,
                    left_to=0.8 if walking_right else 0.1,
                    height=self.uniform(0.12, 0.24),
                    confidence=(99.2, 99.99),
                    sharpness=(70.0, 98.0),
                )
            )
        people.append(
            _Person(
                external_image_id=None,
                face_ids=(),
                camera_id=VISITOR_CAMERA,
                enters=VISITOR_SECONDS[0],
                leaves=VISITOR_SECONDS[1],
                left_from=0.55,
                left_to=0.62,
                height=0.17,
                confidence=(93.0, 99.9),
                sharpness=(60.0, 95.0),
            )
        )
        people.append(
            _Person(
                external_image_id=None,
                face_ids=(),
                camera_id=BLUR_CAMERA,
                enters=BLUR_SECONDS[0],
                leaves=BLUR_SECONDS[1],
                left_from=0.3,
                left_to=0.7,
                height=0.08,
                confidence=(55.0, 84.0),
                sharpness=(4.0, 18.0),
            )
        )
        return people

    def face(self, person: _Person, at: float) -> dict[str, Any]:
        progress = (at - person.enters) / (person.leaves - person.enters)
        height = round(person.height * self._rng.uniform(0.95, 1.05), 4)
        width = round(height * 0.45, 4)
        left = round(person.left_from + (person.left_to - person.left_from) * progress, 4)
        top = round(0.22 + self._rng.uniform(-0.02, 0.02), 4)
        eye_y, nose_y, mouth_y = (round(top + height * ratio, 4) for ratio in (0.38, 0.55, 0.75))
        x = [round(left + width * ratio, 4) for ratio in (0.3, 0.7, 0.5, 0.35, 0.65)]
        detected = {
            "BoundingBox": {"Width": width, "Height": height, "Left": left, "Top": top},
            "Confidence": self.uniform(*person.confidence),
            "Landmarks": [
                {"Type": "eyeLeft", "X": x[0], "Y": eye_y},
                {"Type": "eyeRight", "X": x[1], "Y": eye_y},
                {"Type": "nose", "X": x[2], "Y": nose_y},
                {"Type": "mouthLeft", "X": x[3], "Y": mouth_y},
                {"Type": "mouthRight", "X": x[4], "Y": mouth_y},
            ],
            "Pose": {
                "Pitch": self.uniform(-12.0, 12.0, 2),
                "Roll": self.uniform(-8.0, 8.0, 2),
                "Yaw": self.uniform(-35.0, 35.0, 2),
            },
            "Quality": {"Brightness": self.uniform(38.0, 82.0), "Sharpness": self.uniform(*person.sharpness)},
        }
        matches = []
        if person.external_image_id is not None:
            # Two collection images of the employee; the list is not sorted by similarity.
            for face_id in person.face_ids:
                matches.append(
                    {
                        "Similarity": self.uniform(84.0, 99.95),
                        "Face": {
                            "BoundingBox": {
                                "Width": self.uniform(0.3, 0.6),
                                "Height": self.uniform(0.4, 0.7),
                                "Left": self.uniform(0.1, 0.3),
                                "Top": self.uniform(0.1, 0.2),
                            },
                            "FaceId": face_id,
                            "ImageId": self.uuid(),
                            "ExternalImageId": person.external_image_id,
                            "Confidence": self.uniform(99.9, 100.0),
                        },
                    }
                )
            if self._rng.random() < 0.5:
                matches.reverse()
        return {"DetectedFace": detected, "MatchedFaces": matches}

    def video_source(self, camera_index: int, camera_id: str, frame_at: float) -> dict[str, Any]:
        fragment = int(frame_at // FRAGMENT_SECONDS)
        fragment_start = fragment * FRAGMENT_SECONDS
        producer = round(RECORDED_AT_EPOCH_SECONDS + fragment_start + 0.118 + camera_index * 0.031, 3)
        frame_offset = round(RECORDED_AT_EPOCH_SECONDS + frame_at - producer, 3)
        return {
            "StreamArn": self._streams[camera_id],
            "FragmentNumber": str(91_343_852_333_181_432_392_682_062_612_240_118_245_634_380_000 + fragment * 7_351),
            "ServerTimestamp": round(producer + self.uniform(0.2, 0.5), 3),
            "ProducerTimestamp": producer,
            "FrameOffsetInSeconds": max(0.0, frame_offset),
        }

    def record(self, camera_index: int, camera_id: str, frame_at: float, people: Iterable[_Person]) -> dict[str, Any]:
        faces = [
            self.face(person, frame_at)
            for person in people
            if person.camera_id == camera_id and person.enters <= frame_at < person.leaves
        ]
        return {
            "InputInformation": {"KinesisVideo": self.video_source(camera_index, camera_id, frame_at)},
            "StreamProcessorInformation": {"Status": "RUNNING"},
            "FaceSearchResponse": faces,
        }


def _kind(record: Mapping[str, Any]) -> str:
    faces = record["FaceSearchResponse"]
    if not faces:
        return "empty"
    if all(face["MatchedFaces"] for face in faces):
        return "employee"
    if any(not face["MatchedFaces"] and face["DetectedFace"]["Confidence"] >= 90 for face in faces):
        return "visitor"
    return "blur"


def generate(seed: int = SCENARIO_SEED) -> Scenario:
    recorder = _Recorder(seed)
    people = recorder.people()
    arrivals: list[tuple[float, str, str, str]] = []
    for camera_index, camera in enumerate(DEMO_CAMERAS):
        phase = 0.4 + camera_index * 0.6
        frame_count = int((DURATION_SECONDS - phase) // FRAME_INTERVAL_SECONDS)
        malformed_frame = round((MALFORMED_AT_SECONDS - phase) / FRAME_INTERVAL_SECONDS)
        for frame in range(frame_count):
            frame_at = round(phase + frame * FRAME_INTERVAL_SECONDS + recorder.uniform(0, FRAME_JITTER_SECONDS), 3)
            record = recorder.record(camera_index, camera.camera_id, frame_at, people)
            kind = _kind(record)
            if camera.camera_id == MALFORMED_CAMERA and frame == malformed_frame:
                # A hand-made test record: a face, but the fragment it came from is missing.
                record["FaceSearchResponse"] = [recorder.face(people[0], people[0].enters)]
                del record["InputInformation"]["KinesisVideo"]["FragmentNumber"]
                kind = "malformed"
            arrived_at = round(frame_at + recorder.uniform(*RESULT_LAG_SECONDS), 3)
            arrivals.append((arrived_at, camera.camera_id, kind, to_java_json(record)))
    arrivals.sort(key=lambda arrival: arrival[0])
    scenario = Scenario(
        records=tuple(
            ScenarioRecord(
                offset_seconds=arrived_at,
                camera_id=camera_id,
                kind=kind,
                partition_key=recorder.uuid(),
                data=data,
            )
            for arrived_at, camera_id, kind, data in arrivals
        )
    )
    _check_visitor_windows(scenario)
    return scenario


def _check_visitor_windows(scenario: Scenario, window_seconds: float = 60.0) -> None:
    """The visitor's sightings must span more than one window and less than two: exactly 2 alerts."""
    times = sorted(t for t in (frame_time_of(r.data) for r in scenario.records if r.kind == "visitor") if t is not None)
    if not times or not (window_seconds <= times[-1] - times[0] < 2 * window_seconds):
        raise AssertionError("the visitor's sightings must span [1, 2) dedup windows")


def kinds(scenario: Scenario) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in scenario.records:
        counts[record.kind] = counts.get(record.kind, 0) + 1
    return dict(sorted(counts.items()))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--seed", type=int, default=SCENARIO_SEED)
    parser.add_argument("--output", type=Path, default=SCENARIO_PATH)
    parser.add_argument("--check", action="store_true", help="fail if the file differs from what the seed gives")
    args = parser.parse_args(argv)
    scenario = generate(args.seed)
    text = dump_scenario(scenario)
    if args.check:
        current = args.output.read_text(encoding="utf-8") if args.output.exists() else ""
        if current != text:
            print(f"{args.output} is not what seed {args.seed} generates; run python -m facewatch_local.scenario")
            return 1
        print(f"{args.output} is up to date")
        return 0
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text, encoding="utf-8")
    print(f"wrote {len(scenario.records)} records to {args.output}: {kinds(scenario)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
