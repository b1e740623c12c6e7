"""What a handler's cold start imports, in a fresh interpreter with tracing on as deployed: not the AWS SDK,
and X-Ray still wraps botocore and http.client before the first AWS client or OpenSearch connection exists."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PROBE = textwrap.dedent(
    """
    import json, sys
    from importlib import import_module

    handler = import_module(sys.argv[1])
    from aws_xray_sdk.core.patcher import _PATCHED_MODULES

    at_import = {"sdk": sorted(m for m in ("boto3", "botocore.client", "urllib3") if m in sys.modules),
                 "patched": sorted(_PATCHED_MODULES)}
    from facewatch.adapters import aws

    aws.session()
    first_session = {"sdk": sorted(m for m in ("boto3", "botocore.client") if m in sys.modules),
                     "patched": sorted(_PATCHED_MODULES)}
    wrapped = getattr(sys.modules["botocore.client"].BaseClient._make_api_call, "__wrapped__", None) is not None
    print(json.dumps({"at_import": at_import, "first_session": first_session, "botocore_wrapped": wrapped}))
    """
)


def lambda_environment() -> dict[str, str]:
    """Tracing on, as in Lambda: Powertools reads LAMBDA_TASK_ROOT as "running in Lambda"."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), str(ROOT)]),
        "AWS_REGION": "us-east-1",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_CONFIG_FILE": os.devnull,
        "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
        "LAMBDA_TASK_ROOT": str(ROOT / "src"),
        "AWS_LAMBDA_FUNCTION_NAME": "facewatch-probe",
        "POWERTOOLS_SERVICE_NAME": "facewatch-probe",
        "POWERTOOLS_METRICS_NAMESPACE": "Facewatch",
    }


@pytest.mark.parametrize("handler", ["facewatch.handlers.detector", "facewatch.handlers.alerter"])
def test_the_sdk_loads_and_xray_patches_it_at_the_first_session_not_at_import(handler: str) -> None:
    run = subprocess.run(
        [sys.executable, "-c", PROBE, handler],
        env=lambda_environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    seen = json.loads(run.stdout.strip().splitlines()[-1])

    assert seen["at_import"] == {"sdk": [], "patched": []}
    assert seen["first_session"] == {"sdk": ["boto3", "botocore.client"], "patched": ["botocore", "httplib"]}
    assert seen["botocore_wrapped"] is True
