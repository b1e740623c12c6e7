"""docs/policies.md: its example policy file is a valid policy, and its measurement table says what the
measurement gives."""

from __future__ import annotations

import re

from tests.support.docs import page

from facewatch.domain.policy import DEFAULT_CONFIRM_SECONDS, DEFAULT_CONFIRM_SIGHTINGS, SitePolicy


def test_the_example_policy_file_is_valid_and_uses_every_rule_type() -> None:
    [example] = re.findall(r"## A policy file\n\n```json\n(.*?)```", page("policies.md"), re.DOTALL)

    policy = SitePolicy.model_validate_json(example)

    assert {rule.type for rule in policy.rules} == {"unknown_face", "watchlist", "after_hours"}
    assert policy.cameras["seoul-hq-lobby-01"].zones
    assert policy.caps is not None


def test_the_page_states_the_defaults_the_code_has() -> None:
    text = page("policies.md")

    assert f"**Defaults: N = {DEFAULT_CONFIRM_SIGHTINGS}, T = {DEFAULT_CONFIRM_SECONDS:g} s**" in text
