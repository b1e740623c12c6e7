"""Moved to facewatch_testkit.kinesis (shared with the benchmarks, scripts and the local runtime); the names stay
importable from here."""

from facewatch_testkit.kinesis import *  # noqa: F403
