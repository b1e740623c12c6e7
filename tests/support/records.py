"""Moved to facewatch_testkit.records (shared with the benchmarks, scripts and the local runtime); the names stay
importable from here."""

from facewatch_testkit.records import *  # noqa: F403
