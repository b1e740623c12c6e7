"""The two-phase latency benchmark runs (on two alerts) and measures both phases of each."""

from __future__ import annotations

from benchmarks import two_phase


def test_the_benchmark_sees_both_messages_of_every_alert_and_reports_their_latency() -> None:
    results = two_phase.run(alerts=2)

    assert results["alerts"] == 2
    assert results["snapshots"] == {"ok": 2}
    # the stand-in answers NO_MEDIA until the frame is 1.5 s old; the record arrives when it is 0.5 s old
    assert results["arrival_to_phase1_seconds"]["p50"] >= two_phase.INGEST_DELAY_SECONDS - two_phase.RECORD_LAG_SECONDS
    assert results["frame_to_phase2_seconds"]["p50"] >= two_phase.POST_ROLL_SECONDS
