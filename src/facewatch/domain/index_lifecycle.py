"""The index lifecycle (ISM) policy that enforces SearchIndexRetentionDays on the monthly alert indices.

Installed with the index template, before the first document: its `ism_template` attaches it to every new
`{prefix}-*` index, so an alert document is deleted at the latest `retention_days` after its month's
index was created (a month's index lives until its newest document is that old at most a month later).
"""

from __future__ import annotations

from typing import Any

INDEX_POLICY_VERSION = 1


def index_policy_id(prefix: str) -> str:
    return f"{prefix}-retention"


def index_lifecycle_policy(prefix: str, retention_days: int) -> dict[str, Any]:
    if retention_days < 1:
        raise ValueError("retention_days must be at least 1")
    return {
        "policy": {
            "description": f"facewatch: delete alert indices {retention_days} days after creation "
            f"(SearchIndexRetentionDays; policy version {INDEX_POLICY_VERSION})",
            "default_state": "open",
            "states": [
                {
                    "name": "open",
                    "actions": [],
                    "transitions": [{"state_name": "delete", "conditions": {"min_index_age": f"{retention_days}d"}}],
                },
                {"name": "delete", "actions": [{"delete": {}}], "transitions": []},
            ],
            "ism_template": [{"index_patterns": [f"{prefix}-*"], "priority": 100}],
        }
    }


def policy_retention_days(policy: Any) -> int | None:
    """The deletion age of an installed policy (as GET _plugins/_ism/policies/{id} returns it), None when
    the policy deletes nothing."""
    states = (policy or {}).get("policy", {}).get("states", [])
    for state in states:
        for transition in state.get("transitions", []):
            age = transition.get("conditions", {}).get("min_index_age", "")
            target: dict[str, Any] = next((s for s in states if s.get("name") == transition.get("state_name")), {})
            deletes = any("delete" in action for action in target.get("actions", []))
            if deletes and age.endswith("d") and age[:-1].isdigit():
                return int(age[:-1])
    return None
