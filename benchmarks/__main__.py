"""`python -m benchmarks` (what `make bench` runs): every benchmark, its tables, benchmarks/results/latest.json.

It never fails on speed: each target is reported as met or MISSED. `--quick` runs everything once on tiny
inputs (tests/benchmarks/test_benchmarks_smoke.py does, so the code cannot rot).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import MutableMapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.cost import Measured
    from benchmarks.report import Table

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUTPUT = ROOT / "benchmarks" / "results" / "latest.json"
# What the detector's container sees in-process (the cold-start probes build their own environment).
IN_PROCESS_ENVIRONMENT = {
    "POWERTOOLS_SERVICE_NAME": "facewatch-detector",
    "POWERTOOLS_METRICS_NAMESPACE": "Facewatch",
    # No X-Ray daemon here; in Lambda the Tracer adds one subsegment per invocation, not per record.
    "POWERTOOLS_TRACE_DISABLED": "true",
    "LOG_LEVEL": "INFO",
}


def prepare_environment(environ: MutableMapping[str, str]) -> None:
    """Fake credentials, no ~/.aws files, no endpoint overrides (as the test suite), then the function's
    Powertools settings. Must run before facewatch is imported: Powertools reads them at import."""
    for path in (ROOT / "src", ROOT):
        if str(path) not in sys.path:
            sys.path.insert(0, str(path))
    from tests.support.environment import apply_test_environment

    apply_test_environment(environ)
    environ.update(IN_PROCESS_ENVIRONMENT)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny inputs, one repetition (the smoke test)")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the JSON results")
    args = parser.parse_args(argv)

    from benchmarks import call_economy, cold_start, cost, throughput
    from benchmarks.report import describe_machine, machine, write_json

    started = time.perf_counter()
    info = machine()
    results: dict[str, Any] = {
        "started_at": datetime.now(tz=UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "machine": info,
    }
    print(f"facewatch benchmarks{' (quick)' if args.quick else ''} on {describe_machine(info)}\n", flush=True)

    def show(tables: Sequence[Table]) -> None:
        for table in tables:
            print(table.render(), end="\n\n", flush=True)

    results["throughput"] = throughput.run(quick=args.quick)
    show(throughput.tables(results["throughput"]))
    results["call_economy"] = call_economy.run(quick=args.quick)
    show(call_economy.tables(results["call_economy"]))
    results["cold_start"] = cold_start.run(
        repetitions=1 if args.quick else 5, whole_process_runs=1 if args.quick else cold_start.WHOLE_PROCESS_RUNS
    )
    show(cold_start.tables(results["cold_start"]))
    results["cost"] = cost.run(measured_inputs(results))
    show(cost.tables(results["cost"]))
    results["targets"] = targets(results)
    show([targets_table(results["targets"])])
    results["seconds"] = round(time.perf_counter() - started, 1)
    write_json(args.output, results)
    print(f"{results['seconds']:.0f} s; results in {_shown(args.output)}")
    return 0


def measured_inputs(results: dict[str, Any]) -> Measured:
    """The cost model's measured inputs, from this run's throughput and call-economy results."""
    from benchmarks import cost

    sizes = cost.typical_record_sizes()
    live = [b for b in results["throughput"]["batches"] if b["batch"] == "no-alert" and b["records"] <= 2]
    fleet = next(c for c in results["call_economy"]["cases"] if c["scenario"] == "fleet" and c["batching"] == "live")
    alerts = fleet["alerts"] or 1
    reads = sum(n for name, n in fleet["calls_alert_stage"].items() if name == "dynamodb.GetItem")
    defaults = cost.Measured()
    return cost.Measured(
        detector_cpu_ms_per_live_invocation=(
            live[0]["ms_per_batch"]["handler"] if live else defaults.detector_cpu_ms_per_live_invocation
        ),
        detector_log_bytes_per_invocation=(
            live[0]["output_characters_per_invocation"] if live else defaults.detector_log_bytes_per_invocation
        ),
        detector_calls_per_invocation=sum(fleet["calls_detector"].values()) / max(1, fleet["detector_invocations"]),
        dynamodb_writes_per_alert=fleet["dynamodb_writes_per_alert_pipeline"] or defaults.dynamodb_writes_per_alert,
        dynamodb_reads_per_alert=reads / alerts,
        **sizes,
    )


def targets(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with what was measured and whether it was met."""
    from benchmarks import call_economy, cold_start, cost, throughput

    tp = results["throughput"]["targets"]
    sdk = tp["mixed_ratio_with_sdk_max"]
    ce = results["call_economy"]["targets"]
    cs = results["cold_start"]["targets"]
    share = results["cost"]["totals"]["facewatch_share"]
    return [
        {
            "target": f"handler / floor, no-alert batches <= {throughput.TARGET_NO_ALERT_RATIO}x",
            "measured": f"{tp['no_alert_ratio_max']:.2f}x (worst of 100 and 1,000 records)",
            "met": tp["no_alert_ratio_max"] <= throughput.TARGET_NO_ALERT_RATIO,
        },
        {
            "target": f"handler / floor, mixed batches <= {throughput.TARGET_MIXED_RATIO:g}x (in-memory stubs)",
            "measured": f"{tp['mixed_ratio_max']:.2f}x; with real botocore clients {sdk:.2f}x",
            "met": tp["mixed_ratio_max"] <= throughput.TARGET_MIXED_RATIO,
        },
        {
            "target": f"DynamoDB writes per alert <= {call_economy.TARGET_DYNAMODB_WRITES_PER_ALERT:g}",
            "measured": f"detector {ce['dynamodb_writes_per_alert_detector_max']:g} worst "
            f"(claims alone {ce['dynamodb_claims_per_alert_max']:g}); pipeline "
            f"{ce['dynamodb_writes_per_alert_pipeline_max']:g} worst",
            "met": ce["dynamodb_writes_per_alert_detector_max"] <= call_economy.TARGET_DYNAMODB_WRITES_PER_ALERT,
        },
        {
            "target": "AWS calls per record with no sighting = 0",
            "measured": f"{ce['calls_per_record_without_sighting_max']:g}",
            "met": ce["calls_per_record_without_sighting_max"] == 0,
        },
        {
            "target": f"detector and alerter import <= {cold_start.TARGET_DETECTOR_TO_BOTO3}x `import boto3` "
            "(whole process)",
            "measured": f"detector {cs['whole_process_detector_to_boto3']:.2f}x, "
            f"alerter {cs['whole_process_alerter_to_boto3']:.2f}x "
            f"(import alone: detector {cs['detector_to_boto3']:.2f}x wall, {cs['detector_to_boto3_cpu']:.2f}x CPU)",
            "met": max(cs["whole_process_detector_to_boto3"], cs["whole_process_alerter_to_boto3"])
            <= cold_start.TARGET_DETECTOR_TO_BOTO3,
        },
        {
            "target": "alert handler imports OpenSearch/requests machinery only at its first index call",
            "measured": (
                f"opensearch-py, requests-aws4auth: {'deferred' if cs['alerter_defers_opensearch'] else 'at init'}; "
                f"requests: {'deferred' if cs['alerter_defers_requests'] else 'at init'} with tracing on "
                f"({'deferred' if cs['alerter_defers_requests_without_tracing'] else 'at init'} with tracing off)"
            ),
            "met": cs["alerter_defers_opensearch"] and cs["alerter_defers_requests"],
        },
        {
            "target": f"facewatch < {cost.TARGET_FACEWATCH_SHARE:.0%} of the per-camera total at 1 alert/hour",
            "measured": f"{share:.2%}",
            "met": share < cost.TARGET_FACEWATCH_SHARE,
        },
    ]


def targets_table(rows: Sequence[dict[str, Any]]) -> Table:
    from benchmarks.report import Table, verdict

    table = Table("Targets", ["target", "measured", "verdict"])
    for row in rows:
        table.add(row["target"], row["measured"], verdict(row["met"]))
    return table


def _shown(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    prepare_environment(os.environ)
    sys.exit(main())
