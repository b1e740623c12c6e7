"""Renders the example messages in docs/alerts-and-messages.md from the code that composes them.

python -m scripts.doc_messages          # rewrite the examples in the page
python -m scripts.doc_messages --check  # exit 1 when the page is out of date (tests/unit/test_doc_messages.py)

Each example sits between <!-- message:NAME:start --> and <!-- message:NAME:end -->.
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path

from scripts.make_alert_events import sample_job

from facewatch.domain.cameras import CameraPlace
from facewatch.domain.channels import AlertNotice, slack_payload, teams_payload, webhook_headers
from facewatch.domain.clip import ClipOutcome
from facewatch.domain.notification import (
    AlertContext,
    ClipLink,
    Phase,
    SnapshotLinks,
    alert_notice,
    compose_email,
    compose_subject,
)
from facewatch.domain.snapshot import SnapshotOutcome, snapshot_keys

PAGE = Path(__file__).resolve().parent.parent / "docs" / "alerts-and-messages.md"
BUCKET = "facewatch-clipbucket-1a2b3c4d5e6f"
PLACE = CameraPlace(
    camera_id="seoul-hq-lobby-01",
    display_name="Lobby entrance",
    site="SEOUL",
    floor="1",
    zone="LOBBY",
    timezone="Asia/Seoul",
)
# Shortened presigned links (real ones carry X-Amz-Credential, -Date, -Expires, -Security-Token, -Signature).
LINK = "https://{bucket}.s3.amazonaws.com/{key}?X-Amz-Expires=3600&X-Amz-Signature=..."
JOB = sample_job(arrived_at=1763776806.25, detected_at=1763776806.71)
PHASE1_AT = 1763776807.93
PHASE2_AT = 1763776815.46
SIGNING_SECRET = b"example-secret-of-the-receiver-0123456789abcdef"


def _link(key: str) -> str:
    return LINK.format(bucket=BUCKET, key=key)


def contexts() -> tuple[AlertContext, AlertContext]:
    keys = snapshot_keys(JOB.camera_id, JOB.frame_time, JOB.alert_id)
    snapshot = SnapshotOutcome.stored(BUCKET, keys, "kvs")
    clip_key = f"clips/{JOB.camera_id}/2025/11/22/{JOB.alert_id}.mp4"
    first = AlertContext(
        job=JOB,
        place=PLACE,
        clip=None,
        link=None,
        notified_at=PHASE1_AT,
        phase=Phase.SNAPSHOT,
        snapshot=snapshot,
        snapshot_links=SnapshotLinks(_link(keys.frame), _link(keys.crop), PHASE1_AT + 3600),
    )
    second = AlertContext(
        job=JOB,
        place=PLACE,
        clip=ClipOutcome.stored(BUCKET, clip_key, 2_412_544),
        link=ClipLink(_link(clip_key), PHASE2_AT + 3600),
        notified_at=PHASE2_AT,
        phase=Phase.CLIP,
        snapshot=snapshot,
        snapshot_links=SnapshotLinks(_link(keys.frame), _link(keys.crop), PHASE2_AT + 3600),
        phase1_at=PHASE1_AT,
    )
    return first, second


def _email(context: AlertContext) -> str:
    return f"Subject: {compose_subject(context)}\n\n{compose_email(context)}"


def _json(value: object) -> str:
    return json.dumps(value, indent=2, ensure_ascii=False)


def _notice(context: AlertContext) -> AlertNotice:
    return AlertNotice.model_validate(alert_notice(context))


def _webhook(context: AlertContext) -> str:
    body = json.dumps(alert_notice(context), separators=(",", ":")).encode()
    headers = webhook_headers(_notice(context), SIGNING_SECRET, int(context.notified_at), body)
    lines = ["POST /your/path HTTP/1.1", "Content-Type: application/json; charset=utf-8"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    return "\n".join([*lines, "", body.decode()[:160] + "..."])


def renderings() -> dict[str, tuple[str, str]]:
    """Example name -> (code fence language, text)."""
    first, second = contexts()
    examples: dict[str, tuple[str, Callable[[], str]]] = {
        "email-snapshot": ("text", lambda: _email(first)),
        "email-clip": ("text", lambda: _email(second)),
        "notice-snapshot": ("json", lambda: _json(alert_notice(first))),
        "notice-clip": ("json", lambda: _json(alert_notice(second))),
        "slack-snapshot": ("json", lambda: _json(slack_payload(_notice(first)))),
        "teams-clip": ("json", lambda: _json(teams_payload(_notice(second)))),
        "webhook-snapshot": ("http", lambda: _webhook(first)),
    }
    return {name: (language, make()) for name, (language, make) in examples.items()}


def _constant(text: str, _match: re.Match[str]) -> str:
    return text


def render(page: str) -> str:
    for name, (language, text) in renderings().items():
        start, end = f"<!-- message:{name}:start -->", f"<!-- message:{name}:end -->"
        pattern = re.compile(re.escape(start) + ".*?" + re.escape(end), re.DOTALL)
        replacement = f"{start}\n```{language}\n{text}\n```\n{end}"
        # A function, not the text itself: the rendering may hold backslashes re.sub would read as escapes.
        page = pattern.sub(functools.partial(_constant, replacement), page)
    return page


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    current = PAGE.read_text()
    wanted = render(current)
    if args.check:
        if current != wanted:
            print(f"{PAGE.name} is out of date: run python -m scripts.doc_messages", file=sys.stderr)
            return 1
        return 0
    PAGE.write_text(wanted)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
