"""`facewatch cameras import FILE`: the registry from one YAML (or JSON) file, in bulk.

The file is a list of cameras, or a mapping with the list under `cameras`:

    cameras:
      - id: facewatch-seoul_Lobby01         # the camera's Kinesis video stream name
        display_name: Lobby entrance
        site: SEOUL-HQ
        floor: 1
        zone: lobby
        timezone: Asia/Seoul                # IANA time zone
        rtsp_url_secret: facewatch-seoul/Lobby01/rtsp-url   # or ssm:NAME

Every entry is checked as `cameras add` checks one (the same function builds it), then that its video stream
and secret exist; one bad entry writes nothing, and every problem is named with the entry's position. An
import is idempotent: an entry equal to the registered camera is left alone, a different one replaces it.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from facewatch_cli import output
from facewatch_cli.main import CommandError
from facewatch_cli.registry import RegisteredCamera

# The file's keys -> `cameras add`'s arguments.
FIELDS = {
    "id": "camera_id",
    "display_name": "display_name",
    "site": "site",
    "floor": "floor",
    "zone": "zone",
    "timezone": "timezone",
    "rtsp_url_secret": "rtsp_url_secret",
}
REQUIRED = ("id", "site", "timezone")


@dataclass(frozen=True, slots=True)
class Entry:
    position: int  # 1-based, in the file
    fields: dict[str, str | None]

    @property
    def label(self) -> str:
        camera_id = self.fields.get("camera_id")
        return f"camera {self.position}" + (f" ({camera_id})" if camera_id else "")


def read_entries(path: Path) -> list[Entry | str]:
    """Each entry of the file, or the reason it is not one (a string naming its position)."""
    try:
        text = path.read_text()
    except OSError as error:
        raise CommandError(f"cannot read {path}: {error.strerror}") from error
    document = _parse(path, text)
    if isinstance(document, dict) and set(document) == {"cameras"}:
        document = document["cameras"]
    if not isinstance(document, list) or not document:
        raise CommandError(f"{path}: expected a list of cameras (or `cameras:` and the list under it)")
    return [_entry(position, item) for position, item in enumerate(document, start=1)]


def _parse(path: Path, text: str) -> Any:
    if path.suffix == ".json":
        try:
            return json.loads(text)
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}: not JSON: {error}") from error
    import yaml

    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as error:
        raise CommandError(f"{path}: not YAML: {str(error).splitlines()[0]}") from error


def _entry(position: int, item: Any) -> Entry | str:
    if not isinstance(item, dict):
        return f"camera {position}: expected a mapping of {', '.join(FIELDS)}"
    unknown = sorted(str(key) for key in item if key not in FIELDS)
    if unknown:
        return f"camera {position}: unknown key(s) {', '.join(unknown)} (known: {', '.join(FIELDS)})"
    missing = [key for key in REQUIRED if item.get(key) in (None, "")]
    if missing:
        return f"camera {position}: missing {', '.join(missing)}"
    fields: dict[str, str | None] = {}
    for key, value in item.items():
        # YAML reads `floor: 1` as a number: a number is its text; anything else is no camera attribute.
        if isinstance(value, bool) or not isinstance(value, str | int | float | None):
            return f"camera {position}: {key} must be text, not {type(value).__name__}"
        fields[FIELDS[key]] = None if value is None else str(value)
    return Entry(position, fields)


def as_arguments(entry: Entry) -> argparse.Namespace:
    """The entry as `cameras add` would have parsed it."""
    return argparse.Namespace(**{name: entry.fields.get(name) for name in FIELDS.values()})


def report_invalid(path: Path, problems: list[str], total: int) -> CommandError:
    for problem in problems:
        output.warn(f"{path}: {problem}")
    return CommandError(f"{len(problems)} of {total} camera(s) in {path} are invalid; nothing was registered")


def plan(
    cameras: list[RegisteredCamera], registered: dict[str, RegisteredCamera]
) -> tuple[list[RegisteredCamera], list[RegisteredCamera], list[RegisteredCamera]]:
    """(to create, to update, unchanged) against what the registry holds."""
    created = [camera for camera in cameras if camera.camera_id not in registered]
    updated = [
        camera for camera in cameras if camera.camera_id in registered and registered[camera.camera_id] != camera
    ]
    unchanged = [camera for camera in cameras if registered.get(camera.camera_id) == camera]
    return created, updated, unchanged
