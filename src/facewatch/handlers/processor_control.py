"""ProcessorControlFunction: the custom resource that starts each camera's stream processor after
CloudFormation creates it, and stops it before CloudFormation deletes or replaces it."""

from __future__ import annotations

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from facewatch.adapters.custom_resource import CustomResourceResponder
from facewatch.adapters.rekognition import StreamProcessors
from facewatch.observability import logger, tracer
from facewatch.services.processor_control import ProcessorControl


@cache
def processor_control() -> ProcessorControl:
    return ProcessorControl(StreamProcessors(), CustomResourceResponder())


# The event carries a pre-signed ResponseURL: it is never logged.
@logger.inject_lambda_context
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, str]:
    return processor_control().handle(event, context.get_remaining_time_in_millis()).document()
