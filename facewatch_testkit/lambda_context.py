"""The one stand-in for the Lambda context object (the attributes Powertools reads), used by the local Lambda
runtime (facewatch_local.lambda_runtime), the tests and the benchmarks."""

from __future__ import annotations

import time
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class FakeLambdaContext:
    function_name: str = "facewatch-DetectorFunction-test"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:facewatch-DetectorFunction-test"
    aws_request_id: str = "5f0d9c1e-8a4b-4c7d-9e2f-1a3b5c7d9e0f"
    log_group_name: str = "/aws/lambda/facewatch-DetectorFunction-test"
    log_stream_name: str = "2025/11/22/[$LATEST]0123456789abcdef"
    # When the invocation times out (epoch seconds); None: always 30 s left, for tests that do not care.
    deadline_epoch_seconds: float | None = None

    def get_remaining_time_in_millis(self) -> int:
        if self.deadline_epoch_seconds is None:
            return 30_000
        return max(0, int((self.deadline_epoch_seconds - time.time()) * 1000))
