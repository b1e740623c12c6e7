"""Writes the detector's `sam local invoke` events and events/env.json, reproducibly.

    python -m scripts.make_events           # from the repository root: rewrites the files
    python -m scripts.make_events --check   # exit status 1 when a committed file differs

Each event is a Lambda Kinesis event in the envelope `sam local generate-event kinesis get-records`
prints, around face-search records shaped like real ones (Landmarks, Pose, Quality, timestamps in
scientific notation). tests/integration/test_detector_events.py replays every file.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any

from facewatch_testkit.kinesis import RawData, kinesis_event
from facewatch_testkit.records import ACCOUNT_ID, REGION, employee_face, face_search_record, unknown_face

EVENTS_DIR = Path(__file__).resolve().parent.parent / "events"

# DetectorFunction's tunables at the template's Parameter defaults (tests check they agree).
DETECTOR_DEFAULTS = {
    "MIN_FACE_CONFIDENCE": "90",
    "DEDUP_WINDOW_SECONDS": "60",
    "ALERT_DELAY_SECONDS": "0",
    "CLIP_POST_ROLL_SECONDS": "10",
    "MIN_FACE_HEIGHT_RATIO": "0",
    "MIN_FACE_SHARPNESS": "0",
    "MAX_FACE_ABS_YAW_DEGREES": "0",
    "EMPLOYEE_MATCH_THRESHOLD": "80",
}


def _employee() -> dict[str, Any]:
    """The employee beside the visitor in the reference capture (examples/two-faces-one-unknown.json)."""
    return employee_face(confidence=99.97, width=0.118, height=0.251, left=0.201, top=0.198)


def _matched_faces_as_string() -> dict[str, Any]:
    """A record whose MatchedFaces is the string "[]" instead of a list: a type error, not "no match"."""
    record = face_search_record([unknown_face()])
    broken = copy.deepcopy(record)
    broken["FaceSearchResponse"][0]["MatchedFaces"] = "[]"
    return broken


def detector_events() -> dict[str, dict[str, Any]]:
    """File name -> event. Sequence numbers are pinned so the files never change by themselves."""
    return {
        "detector-unknown-face.json": kinesis_event([face_search_record([unknown_face()])], first_sequence=1),
        "detector-employee-match.json": kinesis_event([face_search_record([_employee()])], first_sequence=101),
        "detector-low-confidence.json": kinesis_event(
            [face_search_record([unknown_face(confidence=71.23, height=0.058, width=0.027, sharpness=38.4)])],
            first_sequence=201,
        ),
        "detector-two-faces-one-unknown.json": kinesis_event(
            [face_search_record([unknown_face(), _employee()])], first_sequence=301
        ),
        "detector-empty-frame.json": kinesis_event([face_search_record([])], first_sequence=401),
        "detector-malformed.json": kinesis_event(
            [
                b"camera 7 firmware 2.1.4: frame dropped",
                _matched_faces_as_string(),
                RawData("this is not base64 at all!"),
            ],
            first_sequence=501,
        ),
    }


def env_vars() -> dict[str, dict[str, str]]:
    """`sam local invoke --env-vars events/env.json`: placeholder resources, template defaults."""
    prefix = f"{REGION}:{ACCOUNT_ID}"
    return {
        "DetectorFunction": {
            "DEDUP_TABLE_NAME": "facewatch-DedupTable-EXAMPLE",
            "ALERT_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/facewatch-AlertQueue-EXAMPLE",
            "QUARANTINE_BUCKET_NAME": "facewatch-quarantinebucket-example",
            "POLICY_TABLE_NAME": "facewatch-PolicyTable-EXAMPLE",
            **DETECTOR_DEFAULTS,
        },
        "AlertFunction": {
            "DEDUP_TABLE_NAME": "facewatch-DedupTable-EXAMPLE",
            "CLIP_BUCKET_NAME": "facewatch-clipbucket-example",
            "ALERT_TOPIC_ARN": f"arn:aws:sns:{prefix}:facewatch-AlertTopic-EXAMPLE",
            "ALERT_DEAD_LETTER_QUEUE_URL": (
                f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/facewatch-AlertDeadLetterQueue-EXAMPLE"
            ),
            "INDEX_QUEUE_URL": f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/facewatch-IndexQueue-EXAMPLE",
            "INDEX_DEAD_LETTER_QUEUE_URL": (
                f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT_ID}/facewatch-IndexDeadLetterQueue-EXAMPLE"
            ),
            "CAMERA_TABLE_NAME": "facewatch-CameraTable-EXAMPLE",
            "PRIVACY_TABLE_NAME": "facewatch-PrivacyTable-EXAMPLE",
            "OPENSEARCH_ENDPOINT": f"search-facewatch-alerts-example.{REGION}.es.amazonaws.com",
            "OPENSEARCH_INDEX": "face-alerts",
            "CLIP_PRE_ROLL_SECONDS": "5",
            "CLIP_POST_ROLL_SECONDS": DETECTOR_DEFAULTS["CLIP_POST_ROLL_SECONDS"],
            "CLIP_MAX_ATTEMPTS": "5",
            "ALERT_MAX_RECEIVE_COUNT": "10",
            "CLIP_URL_EXPIRY_SECONDS": "3600",
            "SEARCH_INDEX_RETENTION_DAYS": "30",
        },
    }


def render(document: Any) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def rendered_files() -> dict[str, str]:
    files = {name: render(event) for name, event in detector_events().items()}
    files["env.json"] = render(env_vars())
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="only report files that differ")
    args = parser.parse_args(argv)
    stale = []
    for name, text in rendered_files().items():
        path = EVENTS_DIR / name
        if path.exists() and path.read_text() == text:
            continue
        stale.append(name)
        if not args.check:
            path.write_text(text)
    verb = "differ" if args.check else "written"
    print(f"{len(stale)} file(s) {verb}: {', '.join(stale) or '-'}")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
