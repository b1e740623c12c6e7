"""Moved to facewatch_testkit.environment (shared with the benchmarks, scripts and the local runtime); the names stay
importable from here."""

from facewatch_testkit.environment import *  # noqa: F403
