"""The recorded policy cases (events/scenarios/policy-*.jsonl and their policy files), and the measurement
on every recorded scenario that chose the unknown-face rule's default confirmation (N of T)."""

from __future__ import annotations

from facewatch_local import policy_scenarios
from facewatch_local.policy_scenarios import CASES, chosen, measure_confirmation, outputs

from facewatch.domain.policy import DEFAULT_CONFIRM_SECONDS, DEFAULT_CONFIRM_SIGHTINGS, SitePolicy


def test_the_committed_cases_are_what_their_seeds_generate() -> None:
    stale = [path.name for path, text in outputs() if not path.exists() or path.read_text(encoding="utf-8") != text]

    assert stale == [], "run python -m facewatch_local.policy_scenarios"
    assert policy_scenarios.main(["--check"]) == 0


def test_every_case_has_a_valid_policy_file() -> None:
    for case in CASES:
        policy = SitePolicy.model_validate_json(case.policy_path.read_text(encoding="utf-8"))
        assert policy.site == "seoul-hq"


def test_the_default_confirmation_is_the_one_the_recordings_choose() -> None:
    measures = measure_confirmation()
    best = chosen(measures)

    assert (best.sightings, best.seconds) == (DEFAULT_CONFIRM_SIGHTINGS, DEFAULT_CONFIRM_SECONDS)
    by_grid = {(m.sightings, m.seconds): m for m in measures}
    assert by_grid[(1, 10.0)].false_alerts >= 1, "alerting on the first sighting alerts on a blurred employee"
    assert by_grid[(2, 30.0)].false_alerts >= 1, "too long a T adds up two blurred frames 24 s apart"
    assert best.false_alerts == 0
    assert best.missed_strangers == 0
