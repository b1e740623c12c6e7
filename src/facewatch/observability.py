"""The only Logger, Tracer and Metrics instances. Service name and namespace come from the
standard POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE variables the template sets."""

from functools import cache

from aws_lambda_powertools import Logger, Metrics, Tracer

# X-Ray patches what facewatch calls through: botocore (every AWS call) and http.client (OpenSearch, under
# requests). Tracer's default patches every library the X-Ray SDK supports, which imports requests, sqlite3
# and more at cold start in both functions (~20 ms, and requests before the alerter's first index call).
TRACED_MODULES = ("botocore", "httplib")

logger = Logger()
# Not patched at import: patching botocore imports botocore.client (most of the SDK) and patching http.client
# imports urllib3, which a detector container whose batches make no AWS call never needs. trace_aws_calls()
# patches both when the first AWS session is made (facewatch.adapters.aws.session), before any client or
# OpenSearch connection exists, so every call is traced as before.
tracer = Tracer(auto_patch=False)
metrics = Metrics()


@cache
def trace_aws_calls() -> None:
    """Patches TRACED_MODULES for X-Ray, once (a no-op with tracing disabled)."""
    tracer.patch(modules=TRACED_MODULES)
