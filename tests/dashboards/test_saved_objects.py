"""facewatch_cli/data/facewatch.ndjson, the saved objects `facewatch dashboards install` imports: they parse as
Dashboards reads them, hang together, and use only fields the alert index template maps, with types
the aggregations accept (the test reads both files, so they cannot drift apart)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from facewatch.domain.document import index_template

ROOT = Path(__file__).resolve().parents[2]
SAVED_OBJECTS = ROOT / "facewatch_cli" / "data" / "facewatch.ndjson"
TEMPLATE = index_template("face-alerts")
# Attributes Dashboards stores as JSON strings.
JSON_ATTRIBUTES = ("visState", "uiStateJSON", "panelsJSON", "optionsJSON", "fields", "fieldFormatMap")
NUMBERS = {"integer", "long", "float", "double"}
AGGREGATABLE = NUMBERS | {"keyword", "date", "boolean"}
# The mapping types each aggregation accepts for its field.
AGGREGATION_FIELD_TYPES = {
    "date_histogram": {"date"},
    "histogram": NUMBERS,
    "percentiles": NUMBERS,
    "avg": NUMBERS,
    "sum": NUMBERS,
    "min": NUMBERS | {"date"},
    "max": NUMBERS | {"date"},
    "terms": AGGREGATABLE,
    "cardinality": AGGREGATABLE,
}
META_FIELDS = {"_id", "_index", "_score", "_source"}


def mapped(properties: dict[str, Any], prefix: str = "") -> dict[str, str]:
    """Dotted field name -> mapping type, for every leaf of the index template's mapping."""
    fields: dict[str, str] = {}
    for name, spec in properties.items():
        if "properties" in spec:
            fields.update(mapped(spec["properties"], f"{prefix}{name}."))
        else:
            fields[f"{prefix}{name}"] = spec["type"]
    return fields


MAPPING = mapped(TEMPLATE["template"]["mappings"]["properties"])


def saved_objects() -> list[dict[str, Any]]:
    return [json.loads(line) for line in SAVED_OBJECTS.read_text().splitlines()]


def of_type(object_type: str) -> list[dict[str, Any]]:
    return [item for item in saved_objects() if item["type"] == object_type]


def index_pattern_fields() -> list[dict[str, Any]]:
    [pattern] = of_type("index-pattern")
    return json.loads(pattern["attributes"]["fields"])  # type: ignore[no-any-return]


def scripted_fields() -> dict[str, dict[str, Any]]:
    return {field["name"]: field for field in index_pattern_fields() if field["scripted"]}


def search_source(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(item["attributes"]["kibanaSavedObjectMeta"]["searchSourceJSON"])  # type: ignore[no-any-return]


def test_every_line_is_a_saved_object_with_parseable_json_attributes() -> None:
    # when
    objects = saved_objects()
    # then
    assert {item["type"] for item in objects} == {"index-pattern", "visualization", "search", "dashboard"}
    for item in objects:
        assert {"id", "type", "attributes", "references", "migrationVersion"} <= set(item), item.get("id")
        assert item["attributes"]["title"]
        for name in JSON_ATTRIBUTES:
            if name in item["attributes"]:
                json.loads(item["attributes"][name])
        if "kibanaSavedObjectMeta" in item["attributes"]:
            search_source(item)


def test_the_file_is_what_the_generator_builds() -> None:
    # when
    result = subprocess.run(
        [sys.executable, "-m", "dashboards.build", "--check"], cwd=ROOT, capture_output=True, text=True
    )
    # then
    assert result.returncode == 0, result.stderr


def test_index_pattern_covers_the_alert_indices_by_their_timestamp() -> None:
    # when
    [pattern] = of_type("index-pattern")
    # then
    assert [pattern["attributes"]["title"]] == TEMPLATE["index_patterns"]
    assert MAPPING[pattern["attributes"]["timeFieldName"]] == "date"


def test_index_pattern_lists_exactly_the_mapped_fields_with_their_types() -> None:
    # when
    listed = {
        field["name"]: field
        for field in index_pattern_fields()
        if not field["scripted"] and field["name"] not in META_FIELDS
    }
    # then
    assert set(listed) == set(MAPPING)
    for name, field in listed.items():
        assert field["esTypes"] == [MAPPING[name]], name
        assert field["aggregatable"] is (MAPPING[name] in AGGREGATABLE), name


@pytest.mark.parametrize("visualization", of_type("visualization"), ids=lambda item: item["id"])
def test_every_aggregated_field_is_mapped_with_a_type_the_aggregation_takes(visualization: dict[str, Any]) -> None:
    # given
    aggregations = json.loads(visualization["attributes"]["visState"])["aggs"]
    # then
    for aggregation in aggregations:
        field = aggregation["params"].get("field")
        if aggregation["type"] == "count":
            assert field is None
            continue
        assert field in MAPPING, f"{aggregation['type']} on unmapped field {field}"
        assert MAPPING[field] in AGGREGATION_FIELD_TYPES[aggregation["type"]], f"{aggregation['type']} on {field}"


def test_saved_search_shows_mapped_or_scripted_fields_sorted_by_a_date() -> None:
    # given
    [search] = of_type("search")
    # then
    for column in search["attributes"]["columns"]:
        assert column in MAPPING or column in scripted_fields(), column
    for field, direction in search["attributes"]["sort"]:
        assert (MAPPING[field], direction) == ("date", "desc")


def test_recent_alerts_show_time_camera_place_confidence_clip_link_and_alert_id() -> None:
    # given: Discover shows the index pattern's time field first by itself
    [search] = of_type("search")
    # then
    assert search["attributes"]["columns"] == [
        "camera_id",
        "location.site",
        "location.zone",
        "confidence",
        "clip_link",
        "alert_id",
    ]


def test_clip_link_is_built_from_the_mapped_s3_location_and_shown_as_a_url() -> None:
    # given: the document stores s3://bucket/key, which a URL format's template cannot split
    clip_link = scripted_fields()["clip_link"]
    [pattern] = of_type("index-pattern")
    formats = json.loads(pattern["attributes"]["fieldFormatMap"])
    # then: the painless script reads doc values of keyword fields only, and the link opens the S3 console
    assert clip_link["lang"] == "painless"
    read = set(re.findall(r"doc\['([^']+)'\]", clip_link["script"]))
    assert read == {"s3_location"}
    assert {MAPPING[name] for name in read} == {"keyword"}
    assert "https://s3.console.aws.amazon.com/s3/object/" in clip_link["script"]
    assert formats["clip_link"]["id"] == "url"


def test_every_reference_names_an_object_in_the_file() -> None:
    # given
    objects = saved_objects()
    present = {(item["type"], item["id"]) for item in objects}
    # then
    for item in objects:
        declared = {reference["name"] for reference in item["references"]}
        for reference in item["references"]:
            assert (reference["type"], reference["id"]) in present, (item["id"], reference)
        if "kibanaSavedObjectMeta" in item["attributes"]:
            index_ref = search_source(item).get("indexRefName")
            assert index_ref is None or index_ref in declared, item["id"]
        if item["type"] == "dashboard":
            panels = json.loads(item["attributes"]["panelsJSON"])
            assert {panel["panelRefName"] for panel in panels} == declared


def test_dashboard_shows_every_visualization_and_the_saved_search() -> None:
    # given
    [dashboard] = of_type("dashboard")
    # then
    shown = {(reference["type"], reference["id"]) for reference in dashboard["references"]}
    assert shown == {(item["type"], item["id"]) for item in of_type("visualization") + of_type("search")}
    assert dashboard["attributes"]["title"] == "Unknown faces"


def test_dashboard_panels_fit_the_grid_without_overlapping() -> None:
    # given: Dashboards lays panels out on a 48-column grid
    [dashboard] = of_type("dashboard")
    cells: set[tuple[int, int]] = set()
    # then
    for panel in json.loads(dashboard["attributes"]["panelsJSON"]):
        grid = panel["gridData"]
        assert grid["x"] >= 0, panel
        assert grid["x"] + grid["w"] <= 48, panel
        area = {
            (x, y) for x in range(grid["x"], grid["x"] + grid["w"]) for y in range(grid["y"], grid["y"] + grid["h"])
        }
        assert not area & cells, panel
        cells |= area


def test_dashboard_opens_on_the_last_24_hours_and_refreshes_every_minute() -> None:
    # when
    [dashboard] = of_type("dashboard")
    attributes = dashboard["attributes"]
    # then
    assert (attributes["timeRestore"], attributes["timeFrom"], attributes["timeTo"]) == (True, "now-24h", "now")
    assert attributes["refreshInterval"] == {"pause": False, "value": 60_000}
