"""Performance benchmarks for facewatch: throughput against the floor, call economy, cold start, cost.

Run them all with `make bench` (`.venv/bin/python -m benchmarks`); docs/performance.md
says what each measures and how to read it.
"""
