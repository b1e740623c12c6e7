"""Builds facewatch_cli/data/facewatch.ndjson (shipped in the package; `facewatch dashboards install` imports
it): the OpenSearch Dashboards saved objects for the alert index (the format of Dashboards' saved-objects
import), with the index pattern's field list taken from the index template's mapping
(facewatch.domain.document.index_template), so the two cannot drift.

python -m dashboards.build          # rewrite facewatch_cli/data/facewatch.ndjson
python -m dashboards.build --check  # exit 1 when the file is not what this script builds
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from facewatch.config import AlertSettings
from facewatch.domain.document import index_template

OUTPUT = Path(__file__).resolve().parent.parent / "facewatch_cli" / "data" / "facewatch.ndjson"
INDEX_PREFIX: str = AlertSettings.model_fields["opensearch_index"].default
INDEX_PATTERN_ID = "facewatch-face-alerts"
DASHBOARD_ID = "facewatch-unknown-faces"
RECENT_ALERTS_ID = "facewatch-recent-alerts"
TIME_FIELD = "timestamp"
# The version OpenSearch Dashboards stamps on a saved object type's latest migration; objects carrying
# it are imported as they are instead of being migrated from a legacy shape.
MIGRATION_VERSION = {"index-pattern": "7.6.0", "visualization": "7.10.0", "search": "7.9.3", "dashboard": "7.9.3"}
PANEL_VERSION = "2.19.0"  # the domain's engine (template.yaml: OpenSearch_2.19)
SEARCH_INDEX_REF = "kibanaSavedObjectMeta.searchSourceJSON.index"
EMPTY_QUERY = {"query": "", "language": "kuery"}
DASHBOARD_REFRESH_MILLISECONDS = 60_000

# Mapping type -> the field type Dashboards gives it.
DASHBOARDS_FIELD_TYPES = {
    "keyword": "string",
    "text": "string",
    "date": "date",
    "boolean": "boolean",
    "integer": "number",
    "long": "number",
    "float": "number",
    "double": "number",
}

# The document stores the clip as s3://bucket/key. A URL field format's template only knows {{value}}
# and {{rawValue}} (the whole value), so it cannot split bucket from key: this scripted field builds the
# S3 console link, and the URL format on it makes Discover show it as a link.
CLIP_LINK_FIELD = "clip_link"
CLIP_LINK_SCRIPT = (
    "if (doc['s3_location'].size() == 0) { return null; } "
    "String uri = doc['s3_location'].value; "
    "if (!uri.startsWith('s3://')) { return null; } "
    "int slash = uri.indexOf('/', 5); "
    "if (slash < 0) { return null; } "
    "return 'https://s3.console.aws.amazon.com/s3/object/' + uri.substring(5, slash) "
    "+ '?prefix=' + uri.substring(slash + 1);"
)
CLIP_LINK_FORMAT = {"id": "url", "params": {"type": "a", "urlTemplate": None, "labelTemplate": "open clip in S3"}}


def _compact(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"))


def mapped_fields(properties: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    """(dotted name, mapping type) of every leaf field; objects are walked, not listed."""
    for name, spec in properties.items():
        if "properties" in spec:
            yield from mapped_fields(spec["properties"], f"{prefix}{name}.")
        else:
            yield f"{prefix}{name}", spec["type"]


def alert_mapping() -> dict[str, Any]:
    return index_template(INDEX_PREFIX)["template"]["mappings"]["properties"]  # type: ignore[no-any-return]


def index_pattern() -> dict[str, Any]:
    meta = [
        {"name": "_id", "type": "string", "esTypes": ["_id"], "aggregatable": True, "searchable": True},
        {"name": "_index", "type": "string", "esTypes": ["_index"], "aggregatable": True, "searchable": True},
        {"name": "_score", "type": "number", "aggregatable": False, "searchable": False},
        {"name": "_source", "type": "_source", "esTypes": ["_source"], "aggregatable": False, "searchable": False},
    ]
    fields = [{**field, "count": 0, "scripted": False, "readFromDocValues": False} for field in meta]
    for name, mapping_type in mapped_fields(alert_mapping()):
        has_doc_values = mapping_type != "text"
        fields.append(
            {
                "name": name,
                "type": DASHBOARDS_FIELD_TYPES[mapping_type],
                "esTypes": [mapping_type],
                "count": 0,
                "scripted": False,
                "searchable": True,
                "aggregatable": has_doc_values,
                "readFromDocValues": has_doc_values,
            }
        )
    fields.append(
        {
            "name": CLIP_LINK_FIELD,
            "type": "string",
            "count": 0,
            "scripted": True,
            "script": CLIP_LINK_SCRIPT,
            "lang": "painless",
            "searchable": True,
            "aggregatable": True,
            "readFromDocValues": False,
        }
    )
    return {
        "id": INDEX_PATTERN_ID,
        "type": "index-pattern",
        "attributes": {
            "title": f"{INDEX_PREFIX}-*",
            "timeFieldName": TIME_FIELD,
            "fields": _compact(fields),
            "fieldFormatMap": _compact({CLIP_LINK_FIELD: CLIP_LINK_FORMAT}),
        },
        "references": [],
    }


def count(label: str = "Alerts") -> dict[str, Any]:
    return {"id": "1", "enabled": True, "type": "count", "schema": "metric", "params": {"customLabel": label}}


def terms(agg_id: str, schema: str, field: str, label: str, size: int, missing: str | None = None) -> dict[str, Any]:
    params: dict[str, Any] = {
        "field": field,
        "size": size,
        "order": "desc",
        "orderBy": "1",
        "otherBucket": False,
        "missingBucket": missing is not None,
        "customLabel": label,
    }
    if missing is not None:
        params["missingBucketLabel"] = missing
    return {"id": agg_id, "enabled": True, "type": "terms", "schema": schema, "params": params}


def visualization(
    vis_id: str, title: str, description: str, vis_type: str, params: dict[str, Any], aggs: list[dict[str, Any]]
) -> dict[str, Any]:
    """A visualization on the alert index pattern. Params not given take the type's defaults in Dashboards."""
    return {
        "id": vis_id,
        "type": "visualization",
        "attributes": {
            "title": title,
            "description": description,
            "visState": _compact({"title": title, "type": vis_type, "params": params, "aggs": aggs}),
            "uiStateJSON": "{}",
            "version": 1,
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": _compact({"query": EMPTY_QUERY, "filter": [], "indexRefName": SEARCH_INDEX_REF})
            },
        },
        "references": [{"name": SEARCH_INDEX_REF, "type": "index-pattern", "id": INDEX_PATTERN_ID}],
    }


TABLE = {
    "perPage": 10,
    "showPartialRows": False,
    "showMetricsAtAllLevels": False,
    "showTotal": True,
    "totalFunc": "sum",
}
NO_SITE = "(no site: camera not registered)"


def visualizations() -> list[dict[str, Any]]:
    return [
        visualization(
            "facewatch-alerts-over-time",
            "Alerts over time per site",
            "Unknown-face alerts per time bucket, stacked by the camera's site.",
            "histogram",
            {"type": "histogram", "addLegend": True, "legendPosition": "right", "addTooltip": True},
            [
                count(),
                {
                    "id": "2",
                    "enabled": True,
                    "type": "date_histogram",
                    "schema": "segment",
                    "params": {"field": TIME_FIELD, "interval": "auto", "min_doc_count": 1, "extended_bounds": {}},
                },
                terms("3", "group", "location.site", "Site", 10, NO_SITE),
            ],
        ),
        visualization(
            "facewatch-top-cameras",
            "Top cameras",
            "The ten cameras with the most alerts.",
            "horizontal_bar",
            {"addLegend": False, "addTooltip": True},
            [count(), terms("2", "segment", "camera_id", "Camera", 10)],
        ),
        visualization(
            "facewatch-alerts-by-place",
            "Alerts by site, floor and zone",
            "Alert counts for each site, floor and zone of the camera registry.",
            "table",
            TABLE,
            [
                count(),
                terms("2", "bucket", "location.site", "Site", 50, NO_SITE),
                terms("3", "bucket", "location.floor", "Floor", 50, "-"),
                terms("4", "bucket", "location.zone", "Zone", 100, "-"),
            ],
        ),
        visualization(
            "facewatch-clip-status",
            "Clip status",
            "Alerts whose clip was stored (ok) or could not be had (missing; the alert went out without it).",
            "pie",
            {"type": "pie", "isDonut": True, "addLegend": True, "legendPosition": "right", "addTooltip": True},
            [count(), terms("2", "segment", "clip_status", "Clip", 5)],
        ),
        visualization(
            "facewatch-alert-latency",
            "End-to-end alert latency",
            "Seconds from the frame to the notification (alert_latency_seconds), in 5-second buckets.",
            "histogram",
            {"type": "histogram", "addLegend": False, "addTooltip": True},
            [
                count(),
                {
                    "id": "2",
                    "enabled": True,
                    "type": "histogram",
                    "schema": "segment",
                    "params": {
                        "field": "alert_latency_seconds",
                        "interval": 5,
                        "min_doc_count": False,
                        "has_extended_bounds": False,
                        "extended_bounds": {"min": "", "max": ""},
                        "customLabel": "Seconds from frame to notification",
                    },
                },
            ],
        ),
        visualization(
            "facewatch-alert-latency-percentiles",
            "Alert latency percentiles",
            "Median, 95th and 99th percentile of the end-to-end alert latency in seconds.",
            "metric",
            {"addTooltip": True, "addLegend": False, "type": "metric"},
            [
                {
                    "id": "1",
                    "enabled": True,
                    "type": "percentiles",
                    "schema": "metric",
                    "params": {
                        "field": "alert_latency_seconds",
                        "percents": [50, 95, 99],
                        "customLabel": "Latency (s)",
                    },
                }
            ],
        ),
        visualization(
            "facewatch-offices",
            "Offices",
            "Alerts per office (site). The camera registry has no coordinates, so this is a table, not a map.",
            "table",
            TABLE,
            [
                count(),
                {
                    "id": "2",
                    "enabled": True,
                    "type": "cardinality",
                    "schema": "metric",
                    "params": {"field": "camera_id", "customLabel": "Cameras alerting"},
                },
                {
                    "id": "3",
                    "enabled": True,
                    "type": "max",
                    "schema": "metric",
                    "params": {"field": TIME_FIELD, "customLabel": "Last alert"},
                },
                terms("4", "bucket", "location.site", "Site", 100, NO_SITE),
            ],
        ),
    ]


def recent_alerts() -> dict[str, Any]:
    return {
        "id": RECENT_ALERTS_ID,
        "type": "search",
        "attributes": {
            "title": "Recent alerts",
            "description": "Newest alerts first; the clip link opens the clip in the S3 console.",
            "hits": 0,
            "columns": ["camera_id", "location.site", "location.zone", "confidence", CLIP_LINK_FIELD, "alert_id"],
            "sort": [[TIME_FIELD, "desc"]],
            "version": 1,
            "kibanaSavedObjectMeta": {
                "searchSourceJSON": _compact(
                    {
                        "query": EMPTY_QUERY,
                        "filter": [],
                        "highlightAll": True,
                        "version": True,
                        "indexRefName": SEARCH_INDEX_REF,
                    }
                )
            },
        },
        "references": [{"name": SEARCH_INDEX_REF, "type": "index-pattern", "id": INDEX_PATTERN_ID}],
    }


# (saved object id, type, x, y, width, height) on Dashboards' 48-column grid.
LAYOUT = [
    ("facewatch-alerts-over-time", "visualization", 0, 0, 32, 13),
    ("facewatch-alert-latency-percentiles", "visualization", 32, 0, 16, 13),
    ("facewatch-top-cameras", "visualization", 0, 13, 16, 15),
    ("facewatch-alerts-by-place", "visualization", 16, 13, 16, 15),
    ("facewatch-clip-status", "visualization", 32, 13, 16, 15),
    ("facewatch-alert-latency", "visualization", 0, 28, 24, 13),
    ("facewatch-offices", "visualization", 24, 28, 24, 13),
    (RECENT_ALERTS_ID, "search", 0, 41, 48, 20),
]


def dashboard() -> dict[str, Any]:
    panels, references = [], []
    for number, (object_id, object_type, x, y, width, height) in enumerate(LAYOUT):
        index = str(number + 1)
        panels.append(
            {
                "version": PANEL_VERSION,
                "gridData": {"x": x, "y": y, "w": width, "h": height, "i": index},
                "panelIndex": index,
                "embeddableConfig": {},
                "panelRefName": f"panel_{number}",
            }
        )
        references.append({"name": f"panel_{number}", "type": object_type, "id": object_id})
    return {
        "id": DASHBOARD_ID,
        "type": "dashboard",
        "attributes": {
            "title": "Unknown faces",
            "description": "facewatch: faces that matched no employee, by time, camera, place, clip and latency.",
            "hits": 0,
            "panelsJSON": _compact(panels),
            "optionsJSON": _compact({"useMargins": True, "hidePanelTitles": False}),
            "version": 1,
            "timeRestore": True,
            "timeFrom": "now-24h",
            "timeTo": "now",
            "refreshInterval": {"pause": False, "value": DASHBOARD_REFRESH_MILLISECONDS},
            "kibanaSavedObjectMeta": {"searchSourceJSON": _compact({"query": EMPTY_QUERY, "filter": []})},
        },
        "references": references,
    }


def saved_objects() -> list[dict[str, Any]]:
    """Referenced objects come before the objects that reference them."""
    objects = [index_pattern(), *visualizations(), recent_alerts(), dashboard()]
    return [{**item, "migrationVersion": {item["type"]: MIGRATION_VERSION[item["type"]]}} for item in objects]


def render() -> str:
    return "".join(json.dumps(item, sort_keys=True) + "\n" for item in saved_objects())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--check", action="store_true", help="fail when the file is out of date; write nothing")
    args = parser.parse_args(argv)
    content = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != content:
            print(f"{OUTPUT.name} is out of date: run python -m dashboards.build", file=sys.stderr)
            return 1
        return 0
    OUTPUT.write_text(content)
    print(f"wrote {len(saved_objects())} saved objects to {OUTPUT}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
