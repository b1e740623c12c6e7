"""`facewatch alerts search` and `facewatch alerts show`: the alert index (OpenSearch) from a terminal.

Times are shown in each camera's time zone (location.timezone; UTC for an unregistered camera). `show`
mints a fresh presigned link to the clip with the operator's own credentials.
"""

from __future__ import annotations

import argparse
import json
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit

from botocore.config import Config
from pydantic import ValidationError

from facewatch.adapters import aws
from facewatch.adapters.clips import ClipStore
from facewatch.domain.cameras import CameraPlace
from facewatch.domain.notification import local_time
from facewatch_cli import opensearch_http
from facewatch_cli.aws import session_for
from facewatch_cli.main import CommandError

DEFAULT_LIMIT = 20
MAX_LIMIT = 10_000  # OpenSearch's default index.max_result_window
# SigV4 presigned URLs live at most 7 days.
MIN_EXPIRES_SECONDS, MAX_EXPIRES_SECONDS = 1, 604_800
# Virtual-hosted style on the Region's endpoint: botocore otherwise presigns against the global s3.amazonaws.com.
PRESIGN_CONFIG = aws.SERVICE_CONFIG["s3"].merge(Config(s3={"addressing_style": "virtual"}))
# A duration back from now, as OpenSearch date math takes it: 30m, 24h, 7d, 2w.
_DURATION = re.compile(r"(?P<amount>\d+)(?P<unit>[smhdw])")
COLUMNS = ("TIME (CAMERA'S ZONE)", "CAMERA", "SITE / ZONE", "CONFIDENCE", "CLIP", "ALERT ID")


def time_bound(value: str) -> str:
    """A duration back from now (24h, 30m, 7d) as OpenSearch date math, or an ISO 8601 time (UTC if no zone)."""
    if match := _DURATION.fullmatch(value.strip()):
        return f"now-{match['amount']}{match['unit']}"
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{value!r} is neither a duration (24h, 30m, 7d) nor an ISO 8601 time"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _bounded_int(low: int, high: int) -> Any:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a whole number") from None
        if not low <= number <= high:
            raise argparse.ArgumentTypeError(f"{number} is not between {low} and {high}")
        return number

    return parse


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    group = subparsers.add_parser("alerts", help="search the alerts indexed in OpenSearch")
    commands = group.add_subparsers(dest="command", required=True, metavar="COMMAND")

    search = commands.add_parser(
        "search", help="recent alerts, newest first", description="Alerts in the alert index, newest first."
    )
    opensearch_http.add_arguments(search)
    search.add_argument("--camera", metavar="CAMERA_ID", help="only this camera (its KVS stream name)")
    search.add_argument("--site", help="only cameras registered at this site")
    search.add_argument(
        "--since", type=time_bound, default="24h", help="a duration back from now (30m, 24h, 7d) or an ISO time"
    )
    search.add_argument("--until", type=time_bound, help="a duration back from now or an ISO time (default: now)")
    search.add_argument(
        "--limit",
        type=_bounded_int(1, MAX_LIMIT),
        default=DEFAULT_LIMIT,
        help=f"most alerts to list (default: {DEFAULT_LIMIT})",
    )
    search.add_argument("--json", action="store_true", help="print the alert documents as a JSON array")
    search.set_defaults(run=search_alerts)

    show = commands.add_parser(
        "show", help="one alert, with a fresh link to its clip", description="One alert, with a fresh clip link."
    )
    show.add_argument("alert_id", metavar="ALERT_ID")
    opensearch_http.add_arguments(show)
    show.add_argument(
        "--expires",
        type=_bounded_int(MIN_EXPIRES_SECONDS, MAX_EXPIRES_SECONDS),
        default=3600,
        metavar="SECONDS",
        help="lifetime of the clip link (default: %(default)s; it also ends when your credentials expire)",
    )
    show.add_argument("--json", action="store_true", help="print the alert document (and clip link) as JSON")
    show.set_defaults(run=show_alert)


def search_body(camera: str | None, site: str | None, since: str, until: str | None, limit: int) -> dict[str, Any]:
    window = {"gte": since, **({"lte": until} if until else {})}
    filters: list[dict[str, Any]] = [{"term": {"camera_id": camera}}] if camera else []
    filters += [{"term": {"location.site": site}}] if site else []
    filters.append({"range": {"timestamp": window}})
    return {
        "size": limit,
        "track_total_hits": True,
        "sort": [{"timestamp": {"order": "desc"}}],
        "query": {"bool": {"filter": filters}},
    }


def place_of(document: dict[str, Any]) -> CameraPlace:
    """Where the alert's camera is, as the alerter recorded it (an unusable entry reads as unregistered)."""
    camera_id = str(document.get("camera_id") or "?")
    try:
        return CameraPlace.model_validate({**(document.get("location") or {}), "camera_id": camera_id})
    except ValidationError:
        return CameraPlace.unregistered(camera_id)


def _epoch(timestamp: str) -> float:
    return datetime.fromisoformat(timestamp).timestamp()


def _row(document: dict[str, Any]) -> tuple[str, ...]:
    place = place_of(document)
    when = f"{local_time(_epoch(document['timestamp']), place.timezone):%Y-%m-%d %H:%M:%S %Z}"
    where = " / ".join(part or "-" for part in (place.site, place.zone)) if place.site or place.zone else "-"
    confidence = document.get("confidence")
    shown_confidence = f"{confidence:.1f}%" if isinstance(confidence, int | float) else "-"
    return (
        when,
        place.camera_id,
        where,
        shown_confidence,
        str(document.get("clip_status") or "-"),
        document["alert_id"],
    )


def render_table(documents: list[dict[str, Any]]) -> str:
    rows = [COLUMNS, *(_row(document) for document in documents)]
    widths = [max(len(row[column]) for row in rows) for column in range(len(COLUMNS))]
    return "\n".join(
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows
    )


def _hits(result: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    hits = result.get("hits") or {}
    documents = [hit["_source"] for hit in hits.get("hits", [])]
    total = hits.get("total", {})
    return documents, int(total.get("value", len(documents)) if isinstance(total, dict) else total)


def search_alerts(args: argparse.Namespace) -> int:
    domain = opensearch_http.connect(args)
    body = search_body(args.camera, args.site, args.since, args.until, args.limit)
    documents, total = _hits(domain.search(f"{args.index_prefix}-*", body))
    if args.json:
        print(json.dumps(documents, indent=2))
        return 0
    scope = "".join(f", {name} {value}" for name, value in (("camera", args.camera), ("site", args.site)) if value)
    window = f"from {args.since} to {args.until or 'now'}{scope}"
    if not documents:
        print(f"No alerts in {args.index_prefix}-* {window}.")
        return 0
    print(render_table(documents))
    print(f"\n{len(documents)} of {total} alert(s) {window}, newest first.")
    return 0


def split_s3_uri(uri: str) -> tuple[str, str]:
    parts = urlsplit(uri)
    if parts.scheme != "s3" or not parts.netloc or len(parts.path) < 2:
        raise CommandError(f"the alert's clip location {uri!r} is not s3://bucket/key")
    return parts.netloc, parts.path[1:]


def render_alert(document: dict[str, Any], clip_url: str | None, expires_in_seconds: int) -> str:
    place = place_of(document)
    epoch = _epoch(document["timestamp"])
    local = local_time(epoch, place.timezone)
    utc = datetime.fromtimestamp(epoch, tz=UTC)
    lines = [f"Alert:      {document['alert_id']}", f"Camera:     {place.label}"]
    if place.where:
        lines.append(f"Where:      {place.where}")
    lines += [
        f"When:       {local:%Y-%m-%d %H:%M:%S %Z} ({place.timezone}) = {utc:%Y-%m-%d %H:%M:%S} UTC",
        f"Confidence: {document.get('confidence', 0):.1f}% that this is a face; no employee matched",
        f"Unknown:    {document.get('unknown_faces', '?')} unknown of {document.get('faces_in_frame', '?')} "
        "face(s) in the frame",
    ]
    if clip_url:
        minutes = max(1, round(expires_in_seconds / 60))
        lines += [
            f"Clip:       {clip_url}",
            f"            (link valid for {minutes} min or until your credentials expire; "
            f"stored at {document['s3_location']})",
        ]
    else:
        lines.append(f"Clip:       none - {document.get('clip_reason') or 'not available'}")
    if isinstance(latency := document.get("alert_latency_seconds"), int | float):
        lines.append(f"Latency:    {latency:.1f} s from the frame to the notification")
    return "\n".join(lines)


def show_alert(args: argparse.Namespace) -> int:
    domain = opensearch_http.connect(args)
    body = {"size": 1, "query": {"term": {"alert_id": args.alert_id}}}
    documents, _ = _hits(domain.search(f"{args.index_prefix}-*", body))
    if not documents:
        raise CommandError(f"no alert {args.alert_id} in {args.index_prefix}-*")
    document = documents[0]
    clip_url = None
    if document.get("clip_status") == "ok" and document.get("s3_location"):
        bucket, key = split_s3_uri(document["s3_location"])
        s3 = session_for(args).client("s3", region_name=domain.region, config=PRESIGN_CONFIG)
        clip_url = ClipStore(bucket, s3=s3).presign(key, args.expires)
    if args.json:
        print(json.dumps({**document, "clip_url": clip_url}, indent=2))
    else:
        print(render_alert(document, clip_url, args.expires))
    return 0
