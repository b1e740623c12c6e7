"""Moved to facewatch_testkit.lambda_context (shared with the benchmarks, scripts and the local runtime); the names stay
importable from here."""

from facewatch_testkit.lambda_context import *  # noqa: F403
