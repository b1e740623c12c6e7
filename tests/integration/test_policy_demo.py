"""The demo's policy section: every recorded case, replayed through the real detector under its policy (read
from PolicyTable through the detector's cache), gives the outcome the case is recorded for, and the demo
prints it per rule with the reasons."""

from __future__ import annotations

import io

import boto3
from facewatch_local.policy_demo import run_policy_cases
from facewatch_local.policy_scenarios import CASES
from tests.support.docs import page


def test_every_case_gives_its_expected_outcome_and_the_demo_prints_it_per_rule(
    aws: boto3.session.Session,
) -> None:
    printed = io.StringIO()

    outcomes = run_policy_cases(aws, printed)

    for outcome in outcomes:
        assert dict(outcome.alerts) == outcome.case.expected_alerts, outcome.case.name
        for reason in outcome.case.expected_reasons:
            assert outcome.reasons[reason] > 0, (outcome.case.name, reason)
    assert [o.case.name for o in outcomes] == [c.name for c in CASES]
    text = printed.getvalue()
    assert "  banned-at-night: A banned person at night" in text
    assert "    rule banned (watchlist): 1 alert(s)" in text
    assert "    rule closed (after_hours): 1 alert(s)" in text
    assert "ignore_list" in text
    assert "snoozed" in text
    assert "unconfirmed" in text
    assert "NOT AS EXPECTED" not in text
    assert text.strip() in page("policies.md"), "docs/policies.md shows what the demo prints"
