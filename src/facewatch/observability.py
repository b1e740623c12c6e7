"""The only Logger, Tracer and Metrics instances. Service name and namespace come from the
standard POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE variables the template sets."""

from aws_lambda_powertools import Logger, Metrics, Tracer

# X-Ray patches what facewatch calls through: botocore (every AWS call) and http.client (OpenSearch, under
# requests). Tracer's default patches every library the X-Ray SDK supports, which imports requests, sqlite3
# and more at cold start in both functions (~20 ms, and requests before the alerter's first index call).
TRACED_MODULES = ("botocore", "httplib")

logger = Logger()
tracer = Tracer(patch_modules=TRACED_MODULES)
metrics = Metrics()
