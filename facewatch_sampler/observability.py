"""The sampler's one logger: JSON lines on stdout (journald on the proxy host), never image data or URLs
with passwords."""

from aws_lambda_powertools import Logger

SERVICE_NAME = "facewatch-sampler"

logger = Logger(service=SERVICE_NAME)
