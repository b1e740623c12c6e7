"""Image mode's figures for `python -m benchmarks` (and benchmarks/results/latest.json, key `image_mode`):
the local detectors compared on real photographs, proxy-host cameras per core for each detector, and the
simulated fleet's TPS against the Rekognition quota. Each also runs alone (`python -m benchmarks.<name>`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks import detector_comparison, fleet_budget, proxy_sizing
from benchmarks.report import Table


def run(quick: bool = False) -> dict[str, Any]:
    results: dict[str, Any] = {"detector_comparison": detector_comparison.run(quick=quick)}
    try:
        results["proxy_sizing"] = proxy_sizing.run(quick=quick)
    except proxy_sizing.EncoderUnavailable as error:
        results["proxy_sizing"] = {"skipped": str(error)}
    results["fleet_budget"] = fleet_budget.run(quick=quick)
    return results


def tables(results: dict[str, Any]) -> list[Table]:
    shown = detector_comparison.tables(results["detector_comparison"])
    sizing = results["proxy_sizing"]
    if "skipped" in sizing:
        shown.append(Table("Proxy host: cameras per core", ["skipped"], rows=[[sizing["skipped"]]]))
    else:
        shown += proxy_sizing.tables(sizing)
    return shown + fleet_budget.tables(results["fleet_budget"])


def main(argv: list[str] | None = None) -> int:
    """Runs this section alone and writes it into the results file under `image_mode`, keeping the rest."""
    import argparse
    import json
    import os

    from benchmarks.__main__ import DEFAULT_OUTPUT, prepare_environment
    from benchmarks.report import write_json

    parser = argparse.ArgumentParser(prog="python -m benchmarks.image_mode", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small inputs")
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="the results file to update")
    args = parser.parse_args(argv)
    prepare_environment(os.environ)
    results = run(quick=args.quick)
    for table in tables(results):
        print(table.render(), end="\n\n", flush=True)
    path = Path(args.output)
    document = json.loads(path.read_text()) if path.exists() else {}
    document["image_mode"] = results
    write_json(path, document)
    print(f"image_mode written to {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
