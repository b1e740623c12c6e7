"""`facewatch alerts search` and `facewatch alerts show` on the wire: the queries they send to the alert
index (a local server on 127.0.0.1 stands in for the domain) and how they render its answers."""

from __future__ import annotations

import copy
import json
import os
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from facewatch_cli.main import main
from facewatch_cli.opensearch_http import region_of_host
from tests.support.local_domain import LocalDomain

REGION = "eu-west-1"
SEARCH_PATH = "/face-alerts-*/_search"

LOBBY = {
    "schema": 1,
    "timestamp": "2025-11-22T02:00:01.851Z",
    "alert_id": "3f9c2b7e51d04a8c9e6b1f2a7d3c5e80",
    "camera_id": "seoul-hq-lobby-01",
    "face_detected": True,
    "employee_match": False,
    "confidence": 99.41,
    "faces_in_frame": 2,
    "unknown_faces": 1,
    "bounding_box": {"width": 0.071, "height": 0.162, "left": 0.612, "top": 0.284},
    "s3_location": "s3://facewatch-clipbucket-1a2b3c/clips/seoul-hq-lobby-01/2025/11/22/3f9c2b7e51d04a8c9e6b1f2a7d3c5e80.mp4",
    "clip_status": "ok",
    "clip_reason": None,
    "clip_size_bytes": 2457600,
    "location": {
        "site": "SEOUL-HQ",
        "floor": "1",
        "zone": "lobby",
        "display_name": "Lobby entrance",
        "timezone": "Asia/Seoul",
    },
    "kvs_stream_arn": "arn:aws:kinesisvideo:ap-northeast-2:111122223333:stream/seoul-hq-lobby-01/1731900000000",
    "fragment_number": "91343852333181432392682062612240118245634380512",
    "detected_at": "2025-11-22T02:00:36.250Z",
    "notified_at": "2025-11-22T02:00:51.000Z",
    "alert_latency_seconds": 49.149,
}
GARAGE = {
    **LOBBY,
    "timestamp": "2025-11-22T01:41:17.204Z",
    "alert_id": "a41c0e9d7b2f4e6a8c1d3b5f7e9a0c2d",
    "camera_id": "seoul-hq-garage-02",
    "confidence": 96.02,
    "s3_location": None,
    "clip_status": "missing",
    "clip_reason": "the video was still not available after 5 attempts (ResourceNotFoundException)",
    "clip_size_bytes": None,
    "location": {"site": "SEOUL-HQ", "floor": "B1", "zone": "garage", "timezone": "Asia/Seoul"},
}
RECEPTION = {
    **LOBBY,
    "timestamp": "2025-11-21T19:12:09.530Z",
    "alert_id": "5b7d9f1a3c5e4a6b8d0f2a4c6e8b0d1f",
    "camera_id": "nyc-5th-reception-01",
    "confidence": 93.7,
    "s3_location": "s3://facewatch-clipbucket-1a2b3c/clips/nyc-5th-reception-01/2025/11/21/5b7d9f1a3c5e4a6b8d0f2a4c6e8b0d1f.mp4",
    "location": {"site": "NYC-5TH", "floor": "12", "zone": "reception", "timezone": "America/New_York"},
}
UNREGISTERED = {
    **LOBBY,
    "timestamp": "2025-11-21T23:05:44.010Z",
    "alert_id": "c2e4a6b8d0f14e3a5c7e9b1d3f5a7c9e",
    "camera_id": "busan-dock-03",
    "confidence": 91.5,
    "s3_location": "s3://facewatch-clipbucket-1a2b3c/clips/busan-dock-03/2025/11/21/c2e4a6b8d0f14e3a5c7e9b1d3f5a7c9e.mp4",
    "location": {"timezone": "UTC"},
}


pytestmark = pytest.mark.usefixtures("fresh_cli_session")


def found(*documents: dict[str, Any], total: int | None = None) -> dict[str, Any]:
    """An OpenSearch _search response holding `documents`, newest first."""
    return {
        "took": 4,
        "timed_out": False,
        "_shards": {"total": 2, "successful": 2, "skipped": 0, "failed": 0},
        "hits": {
            "total": {"value": len(documents) if total is None else total, "relation": "eq"},
            "max_score": None,
            "hits": [
                {
                    "_index": f"face-alerts-{document['timestamp'][:4]}.{document['timestamp'][5:7]}",
                    "_id": document["alert_id"],
                    "_score": None,
                    "_source": copy.deepcopy(document),
                    "sort": [0],
                }
                for document in documents
            ],
        },
    }


def alerts(domain: LocalDomain, *arguments: str) -> int:
    command, *rest = arguments
    return main(["--region", REGION, "alerts", command, "--endpoint", domain.url, *rest])


def test_search_filters_on_camera_and_site_within_the_window_newest_first(domain: LocalDomain) -> None:
    # given
    domain.answer(found())
    # when
    alerts(domain, "search", "--camera", "seoul-hq-lobby-01", "--site", "SEOUL-HQ", "--since", "7d", "--limit", "5")
    # then
    [request] = domain.requests
    assert (request.method, request.path) == ("POST", SEARCH_PATH)
    assert request.json() == {
        "size": 5,
        "track_total_hits": True,
        "sort": [{"timestamp": {"order": "desc"}}],
        "query": {
            "bool": {
                "filter": [
                    {"term": {"camera_id": "seoul-hq-lobby-01"}},
                    {"term": {"location.site": "SEOUL-HQ"}},
                    {"range": {"timestamp": {"gte": "now-7d"}}},
                ]
            }
        },
    }


def test_search_defaults_to_20_alerts_of_the_last_24_hours(domain: LocalDomain) -> None:
    # given
    domain.answer(found())
    # when
    alerts(domain, "search")
    # then
    body = domain.requests[0].json()
    assert body["size"] == 20
    assert body["query"] == {"bool": {"filter": [{"range": {"timestamp": {"gte": "now-24h"}}}]}}


def test_iso_times_bound_the_window_in_utc(domain: LocalDomain) -> None:
    # given
    domain.answer(found())
    # when: a time with an offset, and one without (taken as UTC)
    alerts(domain, "search", "--since", "2025-11-22T09:00:00+09:00", "--until", "2025-11-22T12:00")
    # then
    [window] = domain.requests[0].json()["query"]["bool"]["filter"]
    assert window == {"range": {"timestamp": {"gte": "2025-11-22T00:00:00.000Z", "lte": "2025-11-22T12:00:00.000Z"}}}


def test_search_is_sigv4_signed_for_es(domain: LocalDomain) -> None:
    # given
    domain.answer(found())
    # when
    alerts(domain, "search")
    # then
    signature = domain.requests[0].signature()
    assert signature, domain.requests[0].headers.get("authorization")
    assert (signature["key"], signature["region"], signature["service"]) == (
        os.environ["AWS_ACCESS_KEY_ID"],
        REGION,
        "es",
    )


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("search-facewatch-alerts-abc123.ap-northeast-2.es.amazonaws.com", "ap-northeast-2"),
        ("vpc-facewatch-alerts-abc123.us-gov-west-1.es.amazonaws.com", "us-gov-west-1"),
        ("search-facewatch-alerts-abc123.cn-north-1.es.amazonaws.com.cn", "cn-north-1"),
        ("opensearch.internal.example.com", None),
        ("127.0.0.1", None),
    ],
)
def test_signing_region_is_read_from_a_domain_endpoint(host: str, region: str | None) -> None:
    assert region_of_host(host) == region


def test_search_prints_each_alert_in_its_cameras_time_zone(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    domain.answer(found(LOBBY, GARAGE, UNREGISTERED, RECEPTION, total=57))
    # when
    exit_code = alerts(domain, "search", "--limit", "4")
    # then
    assert exit_code == 0
    assert capsys.readouterr().out == (
        """\
TIME (CAMERA'S ZONE)     CAMERA                SITE / ZONE          CONFIDENCE  CLIP     ALERT ID
2025-11-22 11:00:01 KST  seoul-hq-lobby-01     SEOUL-HQ / lobby     99.4%       ok       3f9c2b7e51d04a8c9e6b1f2a7d3c5e80
2025-11-22 10:41:17 KST  seoul-hq-garage-02    SEOUL-HQ / garage    96.0%       missing  a41c0e9d7b2f4e6a8c1d3b5f7e9a0c2d
2025-11-21 23:05:44 UTC  busan-dock-03         -                    91.5%       ok       c2e4a6b8d0f14e3a5c7e9b1d3f5a7c9e
2025-11-21 14:12:09 EST  nyc-5th-reception-01  NYC-5TH / reception  93.7%       ok       5b7d9f1a3c5e4a6b8d0f2a4c6e8b0d1f

4 of 57 alert(s) from now-24h to now, newest first.
"""  # noqa: E501
    )


def test_json_prints_the_alert_documents(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(found(LOBBY, GARAGE))
    # when
    alerts(domain, "search", "--json")
    # then
    assert json.loads(capsys.readouterr().out) == [LOBBY, GARAGE]


def test_no_alerts_is_one_sentence(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(found())
    # when
    exit_code = alerts(domain, "search", "--site", "BUSAN", "--since", "1h")
    # then
    assert exit_code == 0
    assert capsys.readouterr().out == "No alerts in face-alerts-* from now-1h to now, site BUSAN.\n"


def test_no_alerts_as_json_is_an_empty_array(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(found())
    # when
    alerts(domain, "search", "--json")
    # then
    assert json.loads(capsys.readouterr().out) == []


def test_forbidden_search_is_one_line_naming_the_refusal(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    message = "User: anonymous is not authorized to perform: es:ESHttpPost"
    domain.answer({"Message": message}, status=403)
    # when
    exit_code = alerts(domain, "search")
    # then
    assert exit_code == 1
    assert capsys.readouterr().err == (
        f"facewatch: the domain refused POST {SEARCH_PATH} (HTTP 403): {message}. Its access policy must allow "
        "your AWS identity (see docs/alerts-and-messages.md, 'Dashboards and alert search')\n"
    )


def test_unusable_time_is_a_usage_error(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # when
    with pytest.raises(SystemExit) as exit_info:
        alerts(domain, "search", "--since", "yesterday")
    # then
    assert exit_info.value.code == 2
    assert "'yesterday' is neither a duration (24h, 30m, 7d) nor an ISO 8601 time" in capsys.readouterr().err
    assert domain.requests == []


def test_show_looks_the_alert_up_by_its_id(domain: LocalDomain) -> None:
    # given
    domain.answer(found(LOBBY))
    # when
    alerts(domain, "show", LOBBY["alert_id"])
    # then
    [request] = domain.requests
    assert request.path == SEARCH_PATH
    assert request.json() == {"size": 1, "query": {"term": {"alert_id": LOBBY["alert_id"]}}}


def test_show_prints_the_alert_in_the_cameras_time_zone(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    domain.answer(found(LOBBY))
    # when
    exit_code = alerts(domain, "show", LOBBY["alert_id"])
    # then
    assert exit_code == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[:6] == [
        "Alert:      3f9c2b7e51d04a8c9e6b1f2a7d3c5e80",
        "Camera:     Lobby entrance (seoul-hq-lobby-01)",
        "Where:      SEOUL-HQ, floor 1, zone lobby",
        "When:       2025-11-22 11:00:01 KST (Asia/Seoul) = 2025-11-22 02:00:01 UTC",
        "Confidence: 99.4% that this is a face; no employee matched",
        "Unknown:    1 unknown of 2 face(s) in the frame",
    ]
    assert lines[7:] == [
        f"            (link valid for 60 min or until your credentials expire; stored at {LOBBY['s3_location']})",
        "Latency:    49.1 s from the frame to the notification",
    ]


def clip_link(output: str) -> tuple[str, str, dict[str, list[str]]]:
    [line] = [line for line in output.splitlines() if line.startswith("Clip:")]
    link = urlsplit(line.removeprefix("Clip:").strip())
    return link.netloc, link.path, parse_qs(link.query)


def test_show_presigns_the_clip_with_the_operators_credentials(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    domain.answer(found(LOBBY))
    # when
    alerts(domain, "show", LOBBY["alert_id"])
    # then: a SigV4 (s3v4) GET link to the object, valid for the default hour
    host, path, query = clip_link(capsys.readouterr().out)
    assert host == f"facewatch-clipbucket-1a2b3c.s3.{REGION}.amazonaws.com"
    assert path == "/clips/seoul-hq-lobby-01/2025/11/22/3f9c2b7e51d04a8c9e6b1f2a7d3c5e80.mp4"
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert query["X-Amz-Credential"][0].startswith(f"{os.environ['AWS_ACCESS_KEY_ID']}/")
    assert query["X-Amz-Credential"][0].endswith(f"/{REGION}/s3/aws4_request")
    assert query["X-Amz-Expires"] == ["3600"]
    assert query["X-Amz-Security-Token"] == [os.environ["AWS_SESSION_TOKEN"]]


def test_show_expires_sets_the_links_lifetime(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(found(LOBBY))
    # when
    alerts(domain, "show", LOBBY["alert_id"], "--expires", "600")
    # then
    output = capsys.readouterr().out
    assert clip_link(output)[2]["X-Amz-Expires"] == ["600"]
    assert "(link valid for 10 min" in output


def test_show_of_an_alert_without_clip_gives_the_reason(
    domain: LocalDomain, capsys: pytest.CaptureFixture[str]
) -> None:
    # given
    domain.answer(found(GARAGE))
    # when
    alerts(domain, "show", GARAGE["alert_id"])
    # then
    output = capsys.readouterr().out
    assert f"Clip:       none - {GARAGE['clip_reason']}" in output.splitlines()
    assert "https://" not in output


def test_show_of_an_unknown_alert_fails_naming_it(domain: LocalDomain, capsys: pytest.CaptureFixture[str]) -> None:
    # given
    domain.answer(found())
    # when
    exit_code = alerts(domain, "show", "0123456789abcdef0123456789abcdef")
    # then
    assert exit_code == 1
    assert capsys.readouterr().err == "facewatch: no alert 0123456789abcdef0123456789abcdef in face-alerts-*\n"
