"""Cold start: each handler's import in a fresh interpreter next to `import boto3` alone, peak RSS after the
first batch, and the size of each built function package.

The target (<= 1.3x `import boto3`, detector and alerter) is measured on whole processes: the wall time of
`python -c "import <module>"` from spawn to exit, interpreter start-up included on both sides, the median of
at least 11 runs with the three variants interleaved (`whole_process`). `python -m benchmarks.cold_start`
runs this section alone (`--runs N` to iterate quickly).

Every probe is a new `python` process with a Lambda-like environment (LAMBDA_TASK_ROOT and the function's
variables, so Powertools' Tracer behaves as deployed: tracing on, the X-Ray SDK patching libraries; or off
with POWERTOOLS_TRACE_DISABLED=true). Only the modules `sam build` would package can be imported: a finder
refuses the rest (awscrt, pyOpenSSL, cryptography... are in the venv, not in the function), so the venv's
extras do not inflate either side. The import is timed with time.perf_counter (and the process's CPU time)
around `import_module`, interpreter start-up excluded; runs of the variants are interleaved; medians are
reported.

After the timed import the detector probe runs its first two invocations (mixed 100-record batches; the
first creates the clients, as in Lambda) against the in-memory AWS of benchmarks/fakes.py; the alerter probe
builds its stage and makes its first index call (to a closed local port: the call fails after opensearch-py
and requests have been imported, which is what is measured).
"""

from __future__ import annotations

import compileall
import contextlib
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import textwrap
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from benchmarks.report import Table

ROOT = Path(__file__).resolve().parent.parent
BUILD_DIR = ROOT / ".aws-sam" / "build"
REQUIREMENTS = ROOT / "src" / "requirements.txt"
TARGET_DETECTOR_TO_BOTO3 = 1.3  # for the detector and the alerter, whole process
WHOLE_PROCESS_RUNS = 11
HANDLERS = {"detector": "facewatch.handlers.detector", "alerter": "facewatch.handlers.alerter"}
DEFERRED_MODULES = ("opensearchpy", "requests_aws4auth", "requests")
FUNCTION_ENVIRONMENT = {
    "detector": {
        "POWERTOOLS_SERVICE_NAME": "facewatch-detector",
        "DEDUP_TABLE_NAME": "facewatch-dedup",
        "ALERT_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-alerts",
        "QUARANTINE_BUCKET_NAME": "facewatch-quarantine",
    },
    "alerter": {
        "POWERTOOLS_SERVICE_NAME": "facewatch-alerter",
        "DEDUP_TABLE_NAME": "facewatch-dedup",
        "CAMERA_TABLE_NAME": "facewatch-cameras",
        "CLIP_BUCKET_NAME": "facewatch-clips",
        "ALERT_TOPIC_ARN": "arn:aws:sns:us-east-1:123456789012:facewatch-alerts",
        "ALERT_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-alerts-dlq",
        "INDEX_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-index",
        "INDEX_DEAD_LETTER_QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/facewatch-index-dlq",
        # A closed port: the first index call fails at once, after its imports.
        "OPENSEARCH_ENDPOINT": "http://127.0.0.1:9",
    },
}

# The probe: block what the package would not have, time the import, then hand over to after_import().
PROBE = textwrap.dedent(
    """
    import importlib, sys, time

    class NotPackaged:
        allowed = frozenset(sys.argv[3].split(",")) if sys.argv[3] else None

        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if self.allowed is None or top in self.allowed or top in sys.stdlib_module_names or top[:1] == "_":
                return None  # "_" names: the interpreter's own (e.g. _sysconfigdata_*), or inside a package
            raise ModuleNotFoundError(f"No module named {name!r} (not in the deployment package)", name=name)

    finder = NotPackaged()
    sys.meta_path.insert(0, finder)
    started, started_cpu = time.perf_counter(), time.process_time()
    importlib.import_module(sys.argv[2])
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - started_cpu
    if finder.allowed is not None:
        finder.allowed = finder.allowed | {"benchmarks", "tests"}
    from benchmarks.cold_start import after_import
    after_import(sys.argv[1], seconds, cpu_seconds)
    """
)


# The whole-process probe: the same finder, then the import, nothing else; the parent times spawn to exit.
WHOLE_PROCESS_PROBE = textwrap.dedent(
    """
    import importlib, sys

    class NotPackaged:
        allowed = frozenset(sys.argv[2].split(","))

        def find_spec(self, name, path=None, target=None):
            top = name.partition(".")[0]
            if top in self.allowed or top in sys.stdlib_module_names or top[:1] == "_":
                return None
            raise ModuleNotFoundError(f"No module named {name!r} (not in the deployment package)", name=name)

    sys.meta_path.insert(0, NotPackaged())
    importlib.import_module(sys.argv[1])
    """
)
WHOLE_PROCESS_VARIANTS = {"boto3": ("detector", "boto3"), **{f: (f, m) for f, m in HANDLERS.items()}}


def whole_process(runs: int = WHOLE_PROCESS_RUNS, allowed: frozenset[str] | None = None) -> dict[str, Any]:
    """Median wall time of `python -c "import X"` (spawn to exit, tracing on as deployed) for boto3 and each
    handler, the variants interleaved run by run, and each handler's ratio to boto3."""
    allowed = allowed if allowed is not None else packaged_modules()
    names = ",".join(sorted(allowed))
    # facewatch's modules byte-compiled, as pip compiled the dependencies at install: both sides then load
    # bytecode, and no run pays for a compile the one before it happened to leave.
    compileall.compile_dir(ROOT / "src", quiet=1)
    samples: dict[str, list[float]] = {name: [] for name in WHOLE_PROCESS_VARIANTS}
    cpu_samples: dict[str, list[float]] = {name: [] for name in WHOLE_PROCESS_VARIANTS}
    for _ in range(runs):
        for name, (function, module) in WHOLE_PROCESS_VARIANTS.items():
            environment = lambda_environment(function, tracing=True)
            children = resource.getrusage(resource.RUSAGE_CHILDREN)
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-c", WHOLE_PROCESS_PROBE, module, names],
                env=environment,
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
            elapsed = (time.perf_counter() - started) * 1000
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            if done.returncode != 0:
                raise RuntimeError(f"whole-process import of {module} failed:\n{done.stderr[-3000:]}")
            samples[name].append(elapsed)
            cpu_samples[name].append((after.ru_utime - children.ru_utime + after.ru_stime - children.ru_stime) * 1000)
    medians = {name: _median(values) for name, values in samples.items()}
    cpu_medians = {name: _median(values) for name, values in cpu_samples.items()}
    return {
        "runs": runs,
        "ms": medians,
        "cpu_ms": cpu_medians,
        "ratio_to_boto3": {name: round(medians[name] / medians["boto3"], 2) for name in HANDLERS},
        "cpu_ratio_to_boto3": {name: round(cpu_medians[name] / cpu_medians["boto3"], 2) for name in HANDLERS},
    }


def packaged_modules() -> frozenset[str]:
    """Top-level modules of src/requirements.txt's distributions and their dependencies (what sam build packs)."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    pending = [
        (Requirement(line).name, frozenset(Requirement(line).extras))
        for line in (raw.split("#")[0].strip() for raw in REQUIREMENTS.read_text().splitlines())
        if line
    ]
    seen: set[str] = set()
    while pending:
        name, extras = pending.pop()
        canonical = canonicalize_name(name)
        if canonical in seen:
            continue
        seen.add(canonical)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            marker = requirement.marker
            if marker is None or any(marker.evaluate({"extra": extra}) for extra in (extras or {""})):
                pending.append((requirement.name, frozenset(requirement.extras)))
    modules = {
        module
        for module, distributions in metadata.packages_distributions().items()
        if module.isidentifier()
        and not module.startswith("_")
        and any(canonicalize_name(d) in seen for d in distributions)
    }
    return frozenset(modules | {"facewatch"})


def lambda_environment(function: str, tracing: bool) -> dict[str, str]:
    """What the function's process sees in Lambda (as far as the import path cares), with fake credentials."""
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LANG": "C.UTF-8",
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "PYTHONDONTWRITEBYTECODE": "1",
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "AWS_LAMBDA_FUNCTION_NAME": f"facewatch-{function}",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": "512",
        # Powertools takes this as "running in Lambda": the Tracer is enabled unless disabled.
        "LAMBDA_TASK_ROOT": str(ROOT / "src"),
        "_X_AMZN_TRACE_ID": "Root=1-6740f1c0-0123456789abcdef01234567;Parent=53995c3f42cd8ad8;Sampled=1",
        "POWERTOOLS_METRICS_NAMESPACE": "Facewatch",
        "LOG_LEVEL": "INFO",
        **FUNCTION_ENVIRONMENT.get(function, FUNCTION_ENVIRONMENT["detector"]),
    }
    if not tracing:
        environment["POWERTOOLS_TRACE_DISABLED"] = "true"
    return environment


def _peak_rss_mb() -> float:
    """This process's peak resident set (VmHWM). Not getrusage's ru_maxrss: on Linux that survives exec and
    so starts at the parent's size, which is the benchmark runner's, not the probe's."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)  # kB
    import resource

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _loaded(names: Sequence[str]) -> dict[str, bool]:
    return {name: name in sys.modules for name in names}


def after_import(function: str, import_seconds: float, import_cpu_seconds: float) -> None:
    """Runs in the probe after the timed import; prints one JSON line for the parent."""
    report: dict[str, Any] = {
        "import_ms": import_seconds * 1000,
        "import_cpu_ms": import_cpu_seconds * 1000,
        "modules": len(sys.modules),
    }
    if function == "detector":
        report |= _detector_first_batches()
    elif function == "alerter":
        report |= _alerter_first_index_call()
    report["peak_rss_mb"] = _peak_rss_mb()
    print(json.dumps(report))


def _detector_first_batches() -> dict[str, Any]:
    from tests.support.lambda_context import FakeLambdaContext

    from benchmarks.fakes import InMemoryAws
    from benchmarks.harness import Clocks, captured_output
    from benchmarks.workload import event_of, mixed_batch
    from facewatch.adapters import aws
    from facewatch.handlers import detector

    store = InMemoryAws()
    store.serve(aws.session().events)  # before the first client exists: every client inherits the hook
    # The second batch is two minutes later: its windows are new ones, so it makes the same calls as the first.
    first = event_of(mixed_batch(100))
    second = event_of(mixed_batch(100, offset_seconds=120), first_sequence=101)
    timings = []
    with captured_output():
        for event in (first, second):
            store.spent = Clocks()
            started = Clocks.now()
            detector.lambda_handler(event, FakeLambdaContext())
            timings.append((Clocks.now() - started - store.spent).wall * 1000)
    return {"first_invocation_ms": timings[0], "second_invocation_ms": timings[1], "aws_calls": dict(store.calls)}


def _alerter_first_index_call() -> dict[str, Any]:
    from facewatch.adapters.search_index import AlertIndex, IndexUnavailableError
    from facewatch.config import alert_settings
    from facewatch.handlers import alerter

    after_import = _loaded(DEFERRED_MODULES)
    started = time.perf_counter()
    stage = alerter.alert_stage()
    build_ms = (time.perf_counter() - started) * 1000
    after_build = _loaded(DEFERRED_MODULES)
    settings = alert_settings()
    index = AlertIndex(settings.opensearch_url or "", settings.opensearch_index, settings.aws_region)
    started = time.perf_counter()
    with contextlib.suppress(IndexUnavailableError):  # nothing listens: what matters is what the call imports
        index.index("0" * 32, 1_763_776_801.851, {"schema": 1})
    first_index_ms = (time.perf_counter() - started) * 1000
    return {
        "stage_build_ms": build_ms,
        "first_index_call_ms": first_index_ms,
        "deferred_loaded_after_import": after_import,
        "deferred_loaded_after_stage_build": after_build,
        "deferred_loaded_after_first_index_call": _loaded(DEFERRED_MODULES),
        "stage_has_index": stage is not None,
    }


def probe(function: str, module: str, tracing: bool, allowed: frozenset[str] | None) -> dict[str, Any]:
    command = [sys.executable, "-c", PROBE, function, module, ",".join(sorted(allowed or ()))]
    done = subprocess.run(
        command, env=lambda_environment(function, tracing), capture_output=True, text=True, timeout=120, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"cold-start probe for {module} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def import_profile(
    module: str, allowed: frozenset[str], runs: int = 3, tracing: bool = True, top: int = 12
) -> list[dict[str, Any]]:
    """`python -X importtime`: own import time summed by top-level package, facewatch by module (its module
    bodies are where pydantic builds the models' validators); the median of `runs` runs, largest first."""
    command = [sys.executable, "-X", "importtime", "-c", PROBE, "none", module, ",".join(sorted(allowed))]
    environment = lambda_environment("detector" if "detector" in module else "alerter", tracing)
    samples: dict[str, list[int]] = {}
    for run_number in range(runs):
        done = subprocess.run(command, env=environment, capture_output=True, text=True, timeout=120, check=False)
        own: Counter[str] = Counter()
        for line in done.stderr.splitlines():
            match = re.match(r"import time:\s+(\d+) \|\s+\d+ \|\s+(\S+)", line)
            if match is None:
                continue
            self_us, name = match.groups()
            own[name if name.startswith("facewatch.") else name.split(".")[0]] += int(self_us)
            if name == module:
                break  # what the probe imports after the timed import is not part of it
        for package, us in own.items():
            samples.setdefault(package, [0] * runs)[run_number] = us
    medians = {package: statistics.median(us) for package, us in samples.items()}
    largest = sorted(medians.items(), key=lambda item: item[1], reverse=True)[:top]
    return [{"package": package, "own_ms": round(us / 1000, 1)} for package, us in largest]


def package_sizes(build_dir: Path = BUILD_DIR) -> dict[str, Any]:
    """Each built function's directory: bytes, files, largest top-level entries; or 'not built'."""
    if not build_dir.is_dir():
        return {"status": "not built", "functions": {}}
    functions = {}
    for function in sorted(p for p in build_dir.iterdir() if p.is_dir()):
        sizes: Counter[str] = Counter()
        files = 0
        for path in function.rglob("*"):
            if path.is_file():
                files += 1
                sizes[path.relative_to(function).parts[0]] += path.stat().st_size
        functions[function.name] = {
            "bytes": sum(sizes.values()),
            "files": files,
            "largest": [{"entry": name, "bytes": size} for name, size in sizes.most_common(4)],
            "built_at": datetime.fromtimestamp(function.stat().st_mtime, tz=UTC).isoformat(timespec="seconds"),
        }
    return {"status": "built" if functions else "not built", "functions": functions}


def _median(values: Sequence[float]) -> float:
    return round(statistics.median(values), 1)


def run(repetitions: int = 5, whole_process_runs: int = WHOLE_PROCESS_RUNS) -> dict[str, Any]:
    allowed = packaged_modules()
    whole = whole_process(whole_process_runs, allowed)
    variants: dict[str, tuple[str, str, bool]] = {
        "boto3": ("boto3", "boto3", True),
        "detector": ("detector", HANDLERS["detector"], True),
        "detector_no_tracing": ("detector", HANDLERS["detector"], False),
        "alerter": ("alerter", HANDLERS["alerter"], True),
        "alerter_no_tracing": ("alerter", HANDLERS["alerter"], False),
    }
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    started = time.perf_counter()
    for _ in range(repetitions):
        for name, (function, module, tracing) in variants.items():
            runs[name].append(probe(function, module, tracing, allowed))
    boto3_ms = _median([r["import_ms"] for r in runs["boto3"]])
    boto3_cpu_ms = _median([r["import_cpu_ms"] for r in runs["boto3"]])
    summary: dict[str, Any] = {}
    for name, results in runs.items():
        entry: dict[str, Any] = {
            "import_ms": _median([r["import_ms"] for r in results]),
            "import_cpu_ms": _median([r["import_cpu_ms"] for r in results]),
            "ratio_to_boto3": round(_median([r["import_ms"] for r in results]) / boto3_ms, 2),
            "ratio_to_boto3_cpu": round(_median([r["import_cpu_ms"] for r in results]) / boto3_cpu_ms, 2),
            "peak_rss_mb": _median([r["peak_rss_mb"] for r in results]),
            "modules": results[-1]["modules"],
        }
        for key in ("first_invocation_ms", "second_invocation_ms", "stage_build_ms", "first_index_call_ms"):
            if key in results[-1]:
                entry[key] = _median([r[key] for r in results])
        for key in ("aws_calls", *(k for k in results[-1] if k.startswith("deferred_loaded"))):
            if key in results[-1]:
                entry[key] = results[-1][key]
        summary[name] = entry
    alerter = summary["alerter"]
    return {
        "method": "fresh interpreter per run, Lambda-like environment, only packaged modules importable; "
        f"median of {repetitions} interleaved runs",
        "repetitions": repetitions,
        "seconds": round(time.perf_counter() - started, 1),
        "variants": summary,
        "whole_process": whole,
        "import_profile_detector": import_profile(HANDLERS["detector"], allowed, runs=min(3, repetitions)),
        "packages": package_sizes(),
        "targets": {
            "whole_process_detector_to_boto3": whole["ratio_to_boto3"]["detector"],
            "whole_process_alerter_to_boto3": whole["ratio_to_boto3"]["alerter"],
            "detector_to_boto3": summary["detector"]["ratio_to_boto3"],
            "detector_to_boto3_cpu": summary["detector"]["ratio_to_boto3_cpu"],
            "alerter_defers_opensearch": not any(
                alerter["deferred_loaded_after_stage_build"][m] for m in ("opensearchpy", "requests_aws4auth")
            ),
            "alerter_defers_requests": not alerter["deferred_loaded_after_stage_build"]["requests"],
            "alerter_defers_requests_without_tracing": not summary["alerter_no_tracing"][
                "deferred_loaded_after_stage_build"
            ]["requests"],
        },
    }


def tables(result: Mapping[str, Any]) -> list[Table]:
    from benchmarks.report import Table, number, ratio, verdict

    labels = {
        "boto3": "import boto3 (alone)",
        "detector": "detector handler, tracing on (as deployed)",
        "detector_no_tracing": "detector handler, POWERTOOLS_TRACE_DISABLED",
        "alerter": "alert handler, tracing on (as deployed)",
        "alerter_no_tracing": "alert handler, POWERTOOLS_TRACE_DISABLED",
    }
    whole = result["whole_process"]
    processes = Table(
        f'Cold start, whole process: `python -c "import X"` spawn to exit (median of {whole["runs"]} interleaved '
        "runs, tracing on, only packaged modules importable)",
        ["import", "ms", "vs import boto3", "target", "verdict"],
    )
    processes.add("boto3", number(whole["ms"]["boto3"]), ratio(1.0), "", "")
    for function in HANDLERS:
        measured = whole["ratio_to_boto3"][function]
        processes.add(
            f"{function} handler ({HANDLERS[function]})",
            number(whole["ms"][function]),
            ratio(measured),
            f"<= {TARGET_DETECTOR_TO_BOTO3}x",
            verdict(measured <= TARGET_DETECTOR_TO_BOTO3),
        )
    processes.notes += [
        f"CPU time of the same processes: detector {whole['cpu_ratio_to_boto3']['detector']:.2f}x, alerter "
        f"{whole['cpu_ratio_to_boto3']['alerter']:.2f}x. facewatch's modules are byte-compiled first, as pip "
        "compiled the dependencies.",
        "boto3 and botocore are imported at the first AWS session (facewatch.adapters.aws), and X-Ray patches "
        "botocore and http.client then: a handler's import carries pydantic, Powertools and facewatch's models, "
        "not the SDK. The SDK's import moves to the first invocation that makes an AWS call (see 'first batch').",
    ]
    imports = Table(
        f"Cold start (median of {result['repetitions']} fresh interpreters; ms on this machine)",
        [
            "module",
            "import ms",
            "vs boto3",
            "import CPU ms",
            "vs boto3 (CPU)",
            "first batch ms",
            "2nd batch ms",
            "peak RSS MB",
            "loaded at init",
        ],
    )
    for name, entry in result["variants"].items():
        loaded = entry.get("deferred_loaded_after_stage_build")
        imports.add(
            labels[name],
            number(entry["import_ms"]),
            ratio(entry["ratio_to_boto3"]),
            number(entry["import_cpu_ms"]),
            ratio(entry["ratio_to_boto3_cpu"]),
            number(entry["first_invocation_ms"]) if "first_invocation_ms" in entry else "",
            number(entry["second_invocation_ms"]) if "second_invocation_ms" in entry else "",
            number(entry["peak_rss_mb"]),
            ", ".join(m for m, present in loaded.items() if present) or "none of " + "/".join(loaded) if loaded else "",
        )
    alerter = result["variants"]["alerter"]
    imports.notes += [
        "first/2nd batch = the detector's first and second invocations (mixed 100-record batches; the first creates "
        "the DynamoDB and SQS clients), in-memory AWS; peak RSS after them (alerter: after its first index call).",
        f"The alert handler's first index call takes {number(alerter['first_index_call_ms'])} ms: it imports "
        "opensearch-py and requests-aws4auth then, not at cold start. 'loaded at init' lists which of "
        f"{', '.join(DEFERRED_MODULES)} are loaded once the stage is built.",
    ]
    profile = Table(
        "Detector import: own time by package, facewatch by module (python -X importtime, tracing on, median)",
        ["package or module", "own ms"],
    )
    for row in result["import_profile_detector"]:
        profile.add(row["package"], number(row["own_ms"]))
    packages = Table(
        "Built function packages (.aws-sam/build)", ["function", "MB", "files", "largest entries (MB)", "built"]
    )
    if result["packages"]["status"] == "not built":
        packages.add("(all)", "not built", "", "run `make build` first", "")
    for function, entry in result["packages"]["functions"].items():
        largest = ", ".join(f"{e['entry']} {e['bytes'] / 1e6:.1f}" for e in entry["largest"])
        packages.add(function, number(entry["bytes"] / 1e6), entry["files"], largest, entry["built_at"])
    return [processes, imports, profile, packages]


def main(argv: Sequence[str] | None = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m benchmarks.cold_start", description=__doc__)
    parser.add_argument("--runs", type=int, default=WHOLE_PROCESS_RUNS, help="whole-process runs per variant")
    parser.add_argument("--whole-process-only", action="store_true", help="only the whole-process ratios")
    args = parser.parse_args(argv)
    if args.whole_process_only:
        whole = whole_process(args.runs)
        for name, ms in whole["ms"].items():
            wall = f"{whole['ratio_to_boto3'][name]:.2f}x" if name in HANDLERS else "1.00x"
            cpu = f"{whole['cpu_ratio_to_boto3'][name]:.2f}x" if name in HANDLERS else "1.00x"
            print(f"{name:10} {ms:8.1f} ms wall {wall}  {whole['cpu_ms'][name]:8.1f} ms CPU {cpu}")
        return 0
    for table in tables(run(repetitions=max(1, args.runs // 2), whole_process_runs=args.runs)):
        print(table.render(), end="\n\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
