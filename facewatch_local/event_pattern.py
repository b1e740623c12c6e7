"""The subset of EventBridge event patterns that Lambda event filtering on Kinesis uses here.

Semantics (from the EventBridge "Event patterns" and Lambda "event filtering" documentation):

- The event is flattened into leaf paths. Arrays do not add a path step: every element of an array is
  flattened under the array's own path. So a rule on a field inside an array of objects matches when ANY
  element matches, and an empty array contributes no value at all.
- A pattern is a nested object whose leaves are lists of conditions. All leaves of a pattern must match
  (AND); inside one list, any condition matching any value of the path is enough (OR).
- Conditions: a literal (string, number, bool, null; equal value), `{"numeric": [op, n, (op, n)]}`
  (numbers only), and `{"exists": bool}` (whether the path has a leaf value; an object is not a leaf).
- Lambda's Kinesis filtering hands the pattern `{"data": <the record's data, parsed>}`. Data that is not
  JSON never matches a pattern on `data`: Lambda drops such a record.

Also `{"prefix": str}`. Anything outside this subset raises, so a pattern this matcher does not
understand cannot pass silently.
"""

from __future__ import annotations

import json
import operator
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, Final

Path = tuple[str, ...]
_NUMERIC_OPERATORS: Final[dict[str, Callable[[float, float], bool]]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


class FilterPatternError(ValueError):
    """A filter pattern uses something this emulation does not implement."""


def leaves(node: Any, path: Path) -> Iterator[tuple[Path, Any]]:
    # Arrays add no path step: each element is flattened under the array's path, so a rule on a field
    # inside an array of objects matches when any element matches, and [] contributes no value.
    if isinstance(node, dict):
        for key, child in node.items():
            yield from leaves(child, (*path, key))
    elif isinstance(node, list):
        for element in node:
            yield from leaves(element, path)
    else:
        yield path, node


def rules(pattern: Mapping[str, Any], path: Path) -> Iterator[tuple[Path, list[Any]]]:
    for key, rule in pattern.items():
        if isinstance(rule, dict):
            yield from rules(rule, (*path, key))
        elif isinstance(rule, list):
            yield (*path, key), rule
        else:
            raise FilterPatternError(f"pattern leaf {'.'.join((*path, key))} must be a list of conditions")


def _same_literal(expected: Any, value: Any) -> bool:
    # JSON's true is not the number 1, although Python's True == 1.
    if isinstance(expected, bool) or isinstance(value, bool):
        return type(expected) is type(value) and expected == value
    return bool(expected == value)


def condition_matches(condition: Any, values: list[Any]) -> bool:
    if not isinstance(condition, dict):
        return any(_same_literal(condition, value) for value in values)
    if len(condition) != 1:
        raise FilterPatternError(f"unsupported condition {condition!r}")
    (name, argument), *_ = condition.items()
    if name == "exists" and isinstance(argument, bool):
        return bool(values) is argument
    if name == "numeric":
        if not isinstance(argument, list) or len(argument) not in (2, 4):
            raise FilterPatternError(f"unsupported numeric condition {argument!r}")
        if any(op not in _NUMERIC_OPERATORS for op in argument[::2]):
            raise FilterPatternError(f"unsupported numeric condition {argument!r}")
        pairs = list(zip(argument[::2], argument[1::2], strict=True))
        return any(
            isinstance(value, int | float)
            and not isinstance(value, bool)
            and all(_NUMERIC_OPERATORS[op](value, bound) for op, bound in pairs)
            for value in values
        )
    if name == "prefix" and isinstance(argument, str):
        return any(isinstance(value, str) and value.startswith(argument) for value in values)
    raise FilterPatternError(f"unsupported condition {name!r}")


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """Whether `event` matches one pattern: every leaf rule (AND), any condition on any value (OR)."""
    values: dict[Path, list[Any]] = {}
    for path, value in leaves(event, ()):
        values.setdefault(path, []).append(value)
    return all(
        any(condition_matches(condition, values.get(path, [])) for condition in conditions)
        for path, conditions in rules(pattern, ())
    )


def kinesis_filter_passes(filters: Sequence[Mapping[str, Any]], data: bytes) -> bool:
    """Whether Lambda delivers a Kinesis record with this `data` under these FilterCriteria.Filters (ORed)."""
    try:
        parsed = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return any(matches(json.loads(rule["Pattern"]), {"data": parsed}) for rule in filters)
