"""The only Logger, Tracer and Metrics instances. Service name and namespace come from the
standard POWERTOOLS_SERVICE_NAME / POWERTOOLS_METRICS_NAMESPACE variables the template sets."""

from aws_lambda_powertools import Logger, Metrics, Tracer

logger = Logger()
tracer = Tracer()
metrics = Metrics()
