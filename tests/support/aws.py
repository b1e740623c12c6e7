"""Moved to facewatch_testkit.aws (shared with the benchmarks, scripts and the local runtime); the names stay
importable from here."""

from facewatch_testkit.aws import *  # noqa: F403
