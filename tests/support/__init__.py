"""Builders and helpers shared by the test suite and scripts/make_events.py."""
