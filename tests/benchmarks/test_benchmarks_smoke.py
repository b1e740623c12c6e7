"""`python -m benchmarks --quick`: every benchmark runs once on tiny inputs, so the code cannot rot.

Nothing here asserts on speed. What is asserted: each section's results keep their shape, the AWS calls
the benchmarks count are exactly what the inputs imply, and the in-memory AWS the throughput figures rest
on answers real botocore clients exactly as it answers the stub clients.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from benchmarks.__main__ import main
from benchmarks.harness import captured_output, factory_answers
from benchmarks.throughput import Bench
from benchmarks.workload import mixed_batch
from tests.support.kinesis import kinesis_event

from facewatch.handlers import detector as detector_handler

SECTIONS = ("machine", "throughput", "call_economy", "cold_start", "cost", "targets")


@pytest.fixture(scope="module")
def quick_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[dict[str, Any], Path]:
    output = tmp_path_factory.mktemp("bench") / "latest.json"
    assert main(["--quick", "--output", str(output)]) == 0
    return json.loads(output.read_text()), output


@pytest.fixture(scope="module")
def results(quick_run: tuple[dict[str, Any], Path]) -> dict[str, Any]:
    return quick_run[0]


def case(results: dict[str, Any], scenario: str, batching: str) -> dict[str, Any]:
    found = [c for c in results["call_economy"]["cases"] if (c["scenario"], c["batching"]) == (scenario, batching)]
    assert len(found) == 1
    return dict(found[0])


def test_the_run_writes_every_section_to_its_json_file(quick_run: tuple[dict[str, Any], Path]) -> None:
    results, output = quick_run

    assert output.is_file()
    assert set(SECTIONS) <= set(results)
    assert results["quick"] is True


def test_throughput_reports_every_variant_per_batch(results: dict[str, Any]) -> None:
    batches = results["throughput"]["batches"]

    assert {b["batch"] for b in batches} == {"no-alert", "mixed"}
    for batch in batches:
        assert set(batch["us_per_record"]) == {"floor", "parse", "detector_loop", "handler", "handler_sdk"}
        assert set(batch["ratio_to_floor"]) == {"parse", "detector_loop", "handler", "handler_sdk"}
        assert all(value > 0 for value in batch["us_per_record"].values())
    assert results["throughput"]["profile_no_alert"]
    assert results["throughput"]["moto_reference"]["us_per_record_handler_on_moto"] > 0


def test_a_throughput_batch_makes_one_claim_and_one_job_per_opener(results: dict[str, Any]) -> None:
    # No window ends within a batch (its footage spans 15 s), so no suppressed count is written yet.
    for batch in results["throughput"]["batches"]:
        openers = batch["kinds"]["opener"]
        expected = {"dynamodb.UpdateItem": openers, "sqs.SendMessage": openers} if openers else {}

        assert batch["aws_calls"] == expected


def test_the_in_memory_aws_answers_stub_and_botocore_clients_alike() -> None:
    # One opener (claim, job), sightings in its window (counted, not written: the window has not ended) and
    # a JSON record that is not a face-search record (quarantined).
    event = kinesis_event([*(f.record for f in mixed_batch(20)), {"hello": 1}], first_sequence=1)
    bench = Bench()
    stores = []

    for sdk in (False, True):
        container, store = bench.container(sdk=sdk)
        with captured_output(), factory_answers(detector_handler, "detector", container):
            response = detector_handler.lambda_handler(event, bench.context)
        stores.append(store)

        assert response == {"batchItemFailures": []}
    stub, botocore = stores
    assert stub.calls == botocore.calls == {"dynamodb.UpdateItem": 1, "sqs.SendMessage": 1, "s3.PutObject": 1}
    assert stub.objects.keys() == botocore.objects.keys()
    assert stub.tables == botocore.tables


def test_a_person_lingering_two_minutes_costs_two_claims_and_one_count_write(results: dict[str, Any]) -> None:
    live = case(results, "lingering", "live")

    # 600 frames at 5/s, batches closed every second: 120 batches, each with suppressed sightings. The first
    # window's count is written once, before the second window's claim; the second has not ended.
    assert (live["records"], live["detector_invocations"], live["alerts"]) == (600, 120, 2)
    assert live["calls_detector"] == {"dynamodb.UpdateItem": 2 + 1, "sqs.SendMessage": 2}
    assert (live["window_claims"], live["suppressed_count_writes"]) == (2, 1)
    assert live["dynamodb_writes_per_alert_detector"] == 1.5
    assert 290 <= live["suppressed_count_stored"] == live["suppressed_count_stored_expected"] <= 300
    stage = dict(live["calls_alert_stage"])
    # moto has no GetImages: each alert asks once and goes out without its snapshot
    assert stage.pop("kinesis-video-archived-media.GetImages", 2) == 2
    assert stage == {
        # per alert: the ledger read, and again once the first message is recorded; the camera's registry
        # entry read once, then cached
        "dynamodb.GetItem": 2 * 2 + 1,
        "kinesisvideo.GetDataEndpoint": 2,  # GET_IMAGES and GET_CLIP, once per stream
        "kinesis-video-archived-media.GetClip": 2,
        "s3.PutObject": 2,
        "sns.Publish": 2 * 2,  # the snapshot message and the clip message
        "dynamodb.UpdateItem": 2 * 2 * 2,  # each message claimed and recorded
        "sqs.SendMessage": 2 * 2,  # the document after each message, queued for the indexer (IndexQueue)
    }
    assert live["opensearch_requests"] == {"PutIndexTemplate": 1, "Index": 2 * 2}  # written, then updated in place


def test_the_same_person_read_as_a_backlog_costs_the_same_writes(results: dict[str, Any]) -> None:
    live, backlog = case(results, "lingering", "live"), case(results, "lingering", "backlog")

    assert (backlog["detector_invocations"], backlog["alerts"]) == (6, 2)
    assert backlog["calls_detector"] == {"dynamodb.UpdateItem": 2 + 1, "sqs.SendMessage": 2}
    assert backlog["suppressed_count_stored"] == live["suppressed_count_stored"]


@pytest.mark.parametrize("batching", ["live", "backlog"])
def test_fleet_calls_follow_the_alerts_and_never_the_quiet_records(results: dict[str, Any], batching: str) -> None:
    fleet = case(results, "fleet", batching)
    alerts = fleet["alerts"]
    stage = fleet["calls_alert_stage"]

    assert alerts >= 1
    assert fleet["window_claims"] == alerts
    assert fleet["calls_detector"]["sqs.SendMessage"] == alerts
    assert 1 <= fleet["suppressed_count_writes"] == fleet["suppressed_count_writes_expected"] <= alerts
    assert fleet["suppressed_count_stored"] == fleet["suppressed_count_stored_expected"]
    assert fleet["calls_detector"]["dynamodb.UpdateItem"] == alerts + fleet["suppressed_count_writes"]
    assert fleet["dynamodb_writes_per_alert_detector"] <= 2
    assert stage["s3.PutObject"] == stage["kinesis-video-archived-media.GetClip"] == alerts
    assert stage["sns.Publish"] == 2 * alerts  # the snapshot message and the clip message
    assert stage["dynamodb.UpdateItem"] == 4 * alerts
    assert fleet["calls_per_record_without_sighting"] == 0
    assert fleet["records_in_batches_without_sighting"] > 0


def test_cold_start_probes_report_imports_and_memory(results: dict[str, Any]) -> None:
    variants = results["cold_start"]["variants"]

    assert set(variants) == {"boto3", "detector", "detector_no_tracing", "alerter", "alerter_no_tracing"}
    assert all(v["import_ms"] > 0 and v["import_cpu_ms"] > 0 and v["peak_rss_mb"] > 0 for v in variants.values())
    # Two mixed 100-record batches, five openers each on the same five cameras, two minutes apart: the second
    # writes each first window's count before claiming the camera's next window.
    assert variants["detector"]["aws_calls"] == {
        "dynamodb.Query": 1,  # the policy cache's one read for the container (PolicyTable, 30 s)
        "dynamodb.UpdateItem": 5 + (5 + 5),
        "sqs.SendMessage": 2 * 5,
    }
    assert results["cold_start"]["packages"]["status"] in ("built", "not built")


@pytest.mark.parametrize("variant", ["alerter", "alerter_no_tracing"])
def test_the_alert_handler_imports_opensearch_and_requests_at_its_first_index_call(
    results: dict[str, Any], variant: str
) -> None:
    alerter = results["cold_start"]["variants"][variant]

    assert not any(alerter["deferred_loaded_after_stage_build"].values())
    assert all(alerter["deferred_loaded_after_first_index_call"].values())


def test_cost_puts_facewatch_next_to_rekognition_and_kvs(results: dict[str, Any]) -> None:
    cost = results["cost"]

    assert {item["group"] for item in cost["items"]} == {"facewatch", "rekognition", "kvs"}
    assert 0 < cost["totals"]["facewatch_share"] < 1
    assert "2025" in cost["prices_as_of"]


def test_every_target_has_a_measurement_and_a_verdict(results: dict[str, Any]) -> None:
    targets = results["targets"]

    assert len(targets) == 7
    assert all(set(t) == {"target", "measured", "met"} and isinstance(t["met"], bool) for t in targets)
