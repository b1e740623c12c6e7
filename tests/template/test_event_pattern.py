"""The pattern matcher against examples from the EventBridge documentation, so it cannot pass everything."""

from __future__ import annotations

from typing import Any

import pytest
from facewatch_local.event_pattern import kinesis_filter_passes, matches

# The example event of the EventBridge "Event patterns" page (abridged).
EC2_EVENT: dict[str, Any] = {
    "version": "0",
    "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
    "detail-type": "EC2 Instance State-change Notification",
    "source": "aws.ec2",
    "account": "111122223333",
    "region": "us-west-1",
    "resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"],
    "detail": {"instance-id": "i-1234567890abcdef0", "state": "terminated", "c-count": 5, "d-count": 0},
}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        ({"source": ["aws.ec2"]}, True),
        ({"source": ["aws.s3"]}, False),
        ({"source": ["aws.s3", "aws.ec2"]}, True),
        ({"detail": {"state": ["terminated"]}}, True),
        ({"source": ["aws.ec2"], "detail": {"state": ["running"]}}, False),
        ({"detail": {"c-count": [{"numeric": [">", 0, "<=", 5]}]}}, True),
        ({"detail": {"c-count": [{"numeric": [">", 5]}]}}, False),
        ({"detail": {"d-count": [{"numeric": ["<", 10]}]}}, True),
        ({"detail": {"state": [{"numeric": [">", 0]}]}}, False),
        ({"detail": {"state": [{"exists": True}]}}, True),
        ({"detail": {"state": [{"exists": False}]}}, False),
        ({"detail": {"x-count": [{"exists": False}]}}, True),
        ({"detail": {"x-count": [{"exists": True}]}}, False),
        ({"missing": {"nested": [{"exists": False}]}}, True),
        ({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-1234567890abcdef0"]}, True),
        ({"resources": ["arn:aws:ec2:us-west-1:123456789012:instance/i-other"]}, False),
    ],
)
def test_documented_patterns_match_as_eventbridge_says(pattern: dict[str, Any], expected: bool) -> None:
    assert matches(pattern, EC2_EVENT) is expected


def test_exists_looks_at_leaves_not_objects() -> None:
    # given: "exists matching only works on leaf nodes"
    pattern = {"detail": {"state": [{"exists": True}]}}
    # then
    assert not matches(pattern, {"detail": {"state": {"name": "running"}}})


def test_a_rule_inside_an_array_of_objects_matches_when_any_element_matches() -> None:
    # given
    pattern = {"items": {"size": [{"numeric": [">", 10]}]}}
    # then
    assert matches(pattern, {"items": [{"size": 1}, {"size": 20}]})
    assert not matches(pattern, {"items": [{"size": 1}, {"size": 2}]})
    assert not matches(pattern, {"items": []})


def test_true_is_not_the_number_one() -> None:
    assert not matches({"flag": [1]}, {"flag": True})
    assert matches({"flag": [True]}, {"flag": True})


def test_unknown_operators_are_refused_rather_than_ignored() -> None:
    with pytest.raises(ValueError, match="unsupported"):
        matches({"source": [{"anything-but": "aws."}]}, EC2_EVENT)


def test_filters_are_ored_and_see_only_json_data() -> None:
    # given
    filters = [{"Pattern": '{"data": {"a": [1]}}'}, {"Pattern": '{"data": {"b": [2]}}'}]
    # then
    assert kinesis_filter_passes(filters, b'{"b": 2}')
    assert not kinesis_filter_passes(filters, b'{"c": 3}')
    assert not kinesis_filter_passes(filters, b"\x00\xffnot json")


def test_prefix_matches_the_start_of_a_string_only() -> None:
    assert matches({"source": [{"prefix": "aws."}]}, {"source": "aws.ec2"})
    assert not matches({"source": [{"prefix": "aws."}]}, {"source": "my.aws.ec2"})
