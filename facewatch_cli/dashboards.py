"""`facewatch dashboards install`: the shipped saved objects into the domain's OpenSearch Dashboards."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from facewatch_cli import opensearch_http
from facewatch_cli.main import CommandError

SAVED_OBJECTS_FILE = Path(__file__).resolve().parent.parent / "dashboards" / "facewatch.ndjson"
IMPORT_API = "/api/saved_objects/_import"
RESOLVE_IMPORT_ERRORS_API = "/api/saved_objects/_resolve_import_errors"


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("dashboards", help="OpenSearch Dashboards for the alert index")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")
    install = commands.add_parser(
        "install",
        help="import the 'Unknown faces' dashboard (replaces earlier copies)",
        description="Imports the shipped saved objects (the 'Unknown faces' dashboard, its visualizations, saved "
        "search and index pattern) into the domain's OpenSearch Dashboards, replacing earlier copies, so it can "
        "run after every deploy.",
    )
    opensearch_http.add_arguments(install)
    install.add_argument(
        "--file", type=Path, default=SAVED_OBJECTS_FILE, help="saved objects to import (default: %(default)s)"
    )
    install.set_defaults(run=install_dashboards)


class SavedObjects:
    """The ndjson to import, its index pattern pointed at PREFIX-* when that is not the default."""

    def __init__(self, path: Path, index_prefix: str) -> None:
        try:
            content = path.read_bytes()
            self.objects = [json.loads(line) for line in content.splitlines() if line.strip()]
        except OSError as error:
            raise CommandError(f"cannot read {path}: {error.strerror}") from error
        except ValueError as error:
            raise CommandError(f"{path} is not ndjson (one saved object per line): {error}") from error
        # Dashboards only takes a file whose name ends in .ndjson.
        self.file_name = path.name if path.suffix == ".ndjson" else f"{path.stem}.ndjson"
        self.payload = content
        if index_prefix != opensearch_http.DEFAULT_INDEX_PREFIX:
            for item in self.objects:
                if item.get("type") == "index-pattern":
                    item["attributes"]["title"] = f"{index_prefix}-*"
            self.payload = "".join(json.dumps(item) + "\n" for item in self.objects).encode()

    def dashboards(self) -> list[tuple[str, str]]:
        """(id, title) of each dashboard in the file."""
        return [(item["id"], item["attributes"]["title"]) for item in self.objects if item.get("type") == "dashboard"]


def _errors(result: dict[str, Any]) -> list[dict[str, Any]]:
    return list(result.get("errors") or [])


def _describe(errors: list[dict[str, Any]]) -> str:
    return "; ".join(f"{error.get('type')} {error.get('id')}: {error.get('error', {}).get('type')}" for error in errors)


def install_dashboards(args: argparse.Namespace) -> int:
    saved = SavedObjects(args.file, args.index_prefix)
    domain = opensearch_http.connect(args)
    result = domain.dashboards_form(IMPORT_API, file_name=saved.file_name, file=saved.payload, query="overwrite=true")
    imported = int(result.get("successCount", 0))
    conflicts = [error for error in _errors(result) if error.get("error", {}).get("type") == "conflict"]
    failures = [error for error in _errors(result) if error not in conflicts]
    if conflicts:
        # OpenSearch Service documents that it ignores URL parameters of SigV4-signed POSTs, which would
        # drop overwrite=true: the retries (in the body) overwrite whatever the import found in place.
        retries = [{"type": error["type"], "id": error["id"], "overwrite": True} for error in conflicts]
        resolved = domain.dashboards_form(
            RESOLVE_IMPORT_ERRORS_API,
            file_name=saved.file_name,
            file=saved.payload,
            fields={"retries": json.dumps(retries)},
        )
        imported += int(resolved.get("successCount", 0))
        failures += _errors(resolved)
    if failures:
        raise CommandError(f"Dashboards did not import {len(failures)} saved object(s): {_describe(failures)}")
    print(f"Imported {imported} saved objects into {domain.dashboards_url} (earlier copies replaced).")
    for dashboard_id, title in saved.dashboards():
        print(f"{title}: {domain.dashboards_url}/app/dashboards#/view/{dashboard_id}")
    return 0
