"""The process environment every test runs in: fake credentials, a fixed Region, Powertools settings.

Applied when tests/conftest.py is imported, before any test module imports facewatch: Powertools reads
its service name and metrics namespace when facewatch.observability is imported.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping

TEST_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
    # A developer's ~/.aws files (profiles, endpoint_url) must not reach the tests.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
    "POWERTOOLS_TRACE_DISABLED": "true",
    "POWERTOOLS_METRICS_NAMESPACE": "Facewatch",
    "POWERTOOLS_SERVICE_NAME": "facewatch-test",
}

# AWS_ENDPOINT_URL (and its per-service AWS_ENDPOINT_URL_<SERVICE> forms) would send boto3 to a real
# emulator instead of moto's in-process mock.
ENDPOINT_VARIABLE_PREFIX = "AWS_ENDPOINT_URL"
UNSET_VARIABLES = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")


def endpoint_variables(environ: MutableMapping[str, str]) -> list[str]:
    return [name for name in environ if name.startswith(ENDPOINT_VARIABLE_PREFIX)]


def apply_test_environment(environ: MutableMapping[str, str]) -> None:
    environ.update(TEST_ENVIRONMENT)
    for name in [*UNSET_VARIABLES, *endpoint_variables(environ)]:
        environ.pop(name, None)
