"""One source of truth: template Parameter -> function Environment -> facewatch.config field."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from facewatch_local.cfn import function_environment, nested_template
from tests.template.reading import template_copy

from facewatch.config import (
    AlertSettings,
    ConsoleActionsSettings,
    ConsolePagesSettings,
    DeliverySettings,
    DetectorSettings,
    SettingsError,
)

# Not the template's to set: Lambda sets AWS_REGION itself; AWS_ENDPOINT_URL points SDKs at an emulator.
RUNTIME_VARIABLES = {"AWS_REGION", "AWS_ENDPOINT_URL"}
PLATFORM_VARIABLES = {"LOG_LEVEL", "POWERTOOLS_SERVICE_NAME", "POWERTOOLS_METRICS_NAMESPACE"}
# Wiring to an optional part of the stack, set from its resource: empty turns the part off (the alert stage
# without the console, as in its own tests).
OPTIONAL_WIRING = {"ALERT_RECORD_TABLE_NAME", "CONSOLE_URL"}

SettingsClass = type[DetectorSettings] | type[AlertSettings] | type[ConsolePagesSettings] | type[DeliverySettings]
FUNCTIONS: dict[str, SettingsClass] = {
    "DetectorFunction": DetectorSettings,
    "AlertFunction": AlertSettings,
    "ConsolePagesFunction": ConsolePagesSettings,
    "ConsoleActionsFunction": ConsoleActionsSettings,
    "DeliveryFunction": DeliverySettings,
}


def aliases(settings: SettingsClass) -> set[str]:
    return {field.alias for field in settings.model_fields.values() if field.alias}


def parse_one(settings: SettingsClass, alias: str, raw: str) -> Any:
    """The value of the field `alias` when its variable holds `raw` (other required fields filled in)."""
    environ = {field.alias: "x" for field in settings.model_fields.values() if field.alias and field.is_required()}
    environ[alias] = raw
    parsed = settings.from_environ(environ)
    (name,) = (name for name, field in settings.model_fields.items() if field.alias == alias)
    return getattr(parsed, name)


def parameter_backed_variables() -> Iterator[tuple[str, str, str]]:
    """(function, variable, parameter) for each variable whose value is a Parameter, directly or in an Fn::If."""
    template = template_copy()
    for function in FUNCTIONS:
        for variable, value in function_environment(template, function).items():
            for name in _refs(value):
                if name in template["Parameters"]:
                    yield function, variable, name


def _refs(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        if set(value) == {"Ref"}:
            yield value["Ref"]
        for item in value.values():
            yield from _refs(item)
    elif isinstance(value, list):
        for item in value:
            yield from _refs(item)


SETTING_PARAMETERS = [
    pytest.param(function, variable, parameter, id=f"{function}-{variable}")
    for function, variable, parameter in parameter_backed_variables()
    if variable not in PLATFORM_VARIABLES
]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_environment_is_exactly_its_settings_fields(template: dict[str, Any], function: str) -> None:
    # given
    settings = FUNCTIONS[function]
    # when
    environment = function_environment(template, function)
    # then
    assert set(environment) - PLATFORM_VARIABLES == aliases(settings) - RUNTIME_VARIABLES


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_sets_every_required_setting(template: dict[str, Any], function: str) -> None:
    # given
    settings = FUNCTIONS[function]
    required = {field.alias for field in settings.model_fields.values() if field.is_required()}
    # when
    environment = function_environment(template, function)
    # then
    assert required <= set(environment)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_names_its_powertools_service_and_log_level(template: dict[str, Any], function: str) -> None:
    # when
    environment = function_environment(template, function)
    # then
    assert set(environment) >= PLATFORM_VARIABLES
    assert environment["POWERTOOLS_METRICS_NAMESPACE"] == "Facewatch"
    assert environment["LOG_LEVEL"] == {"Ref": "LogLevel"}


def test_functions_have_distinct_service_names(template: dict[str, Any]) -> None:
    # when
    names = {function_environment(template, function)["POWERTOOLS_SERVICE_NAME"] for function in FUNCTIONS}
    # then
    assert names == {
        "facewatch-detector",
        "facewatch-alerter",
        "facewatch-console-pages",
        "facewatch-console-actions",
        "facewatch-delivery",
    }


@pytest.mark.parametrize("function", FUNCTIONS)
def test_every_tunable_setting_is_a_parameter(function: str) -> None:
    # given: fields with a default are tunables; required fields name the stack's own resources
    settings = FUNCTIONS[function]
    tunables = {field.alias for field in settings.model_fields.values() if not field.is_required()} - OPTIONAL_WIRING
    # when
    backed = {variable for owner, variable, _ in parameter_backed_variables() if owner == function}
    # then
    assert tunables - RUNTIME_VARIABLES == backed - PLATFORM_VARIABLES


@pytest.mark.parametrize(("function", "variable", "parameter"), SETTING_PARAMETERS)
def test_parameter_default_is_the_field_default(
    template: dict[str, Any], function: str, variable: str, parameter: str
) -> None:
    # given
    settings = FUNCTIONS[function]
    default = template["Parameters"][parameter]["Default"]
    (field,) = (field for field in settings.model_fields.values() if field.alias == variable)
    # when
    deployed = parse_one(settings, variable, str(default))
    # then
    assert deployed == field.default


@pytest.mark.parametrize(("function", "variable", "parameter"), SETTING_PARAMETERS)
def test_every_value_the_parameter_allows_is_a_valid_setting(
    template: dict[str, Any], function: str, variable: str, parameter: str
) -> None:
    # given
    spec = template["Parameters"][parameter]
    allowed = [spec[bound] for bound in ("MinValue", "MaxValue") if bound in spec] + spec.get("AllowedValues", [])
    # when
    rejected = []
    for value in allowed:
        try:
            parse_one(FUNCTIONS[function], variable, str(value))
        except SettingsError:
            rejected.append(value)
    # then
    assert rejected == []


def test_numeric_parameters_are_bounded(template: dict[str, Any]) -> None:
    # when
    unbounded = [
        name
        for name, spec in template["Parameters"].items()
        if spec["Type"] == "Number" and "AllowedValues" not in spec and not {"MinValue", "MaxValue"} <= set(spec)
    ]
    # then
    assert unbounded == []


def test_every_parameter_is_described(template: dict[str, Any]) -> None:
    # when
    undescribed = [name for name, spec in template["Parameters"].items() if not spec.get("Description")]
    # then
    assert undescribed == []


def test_both_functions_take_the_clip_post_roll_from_one_parameter(template: dict[str, Any]) -> None:
    # when
    detector = function_environment(template, "DetectorFunction")["CLIP_POST_ROLL_SECONDS"]
    alerter = function_environment(template, "AlertFunction")["CLIP_POST_ROLL_SECONDS"]
    # then
    assert detector == alerter == {"Ref": "ClipPostRollSeconds"}


# Number parameters that are no setting: the resource property each one feeds, and what CloudFormation
# does with a fraction there. "Integer" properties refuse it: the deploy fails before anything runs.
# "Double" properties take it as meant. Anything else must be a setting or have AllowedValues. A parameter
# passed on to the cameras' nested stacks (templates/camera.yaml) is named there as here, and feeds the
# same properties in it.
RESOURCE_NUMBER_PROPERTIES: dict[str, tuple[frozenset[str], str]] = {
    "IteratorAgeAlarmSeconds": (frozenset({"Threshold"}), "Double"),
    "ClipMissingAlarmPercent": (frozenset({"Threshold"}), "Double"),
    "FaceMatchThreshold": (frozenset({"FaceMatchThreshold", "Name"}), "Double"),
    "CameraVideoRetentionHours": (frozenset({"DataRetentionInHours", "CameraVideoRetentionHours"}), "Integer"),
    "DetectorBatchSize": (frozenset({"BatchSize", "DetectorBatchSize"}), "Integer"),
    "DetectorMaximumRetryAttempts": (frozenset({"MaximumRetryAttempts", "DetectorMaximumRetryAttempts"}), "Integer"),
    "DetectorMaximumRecordAgeSeconds": (
        frozenset({"MaximumRecordAgeInSeconds", "DetectorMaximumRecordAgeSeconds"}),
        "Integer",
    ),
    "AuditRetentionDays": (frozenset({"Days", "ExpirationInDays"}), "Integer"),
    "AlertMaxReceiveCount": (frozenset({"maxReceiveCount"}), "Integer"),
    "ClipRetentionDays": (frozenset({"ExpirationInDays"}), "Integer"),
    "SnapshotRetentionDays": (frozenset({"ExpirationInDays"}), "Integer"),
    "QuarantineRetentionDays": (frozenset({"ExpirationInDays"}), "Integer"),
    "ConsoleSessionMinutes": (frozenset({"AccessTokenValidity", "IdTokenValidity"}), "Integer"),
}


def _property_names_referring_to(value: Any, parameter: str, key: str | None = None) -> Iterator[str]:
    """The names of the properties (at any depth) whose value refers to `parameter`."""
    if isinstance(value, dict):
        if value.get("Ref") == parameter or (
            "Fn::Sub" in value and f"${{{parameter}}}" in str(value["Fn::Sub"]) and key is not None
        ):
            if key is not None:
                yield key
            return
        for name, item in value.items():
            yield from _property_names_referring_to(item, parameter, name if not name.startswith("Fn::") else key)
    elif isinstance(value, list):
        for item in value:
            yield from _property_names_referring_to(item, parameter, key)


def _used_in_nested_stacks(template: dict[str, Any], parameter: str) -> set[str]:
    """Where a nested stack's template uses `parameter` once the parent passes it on, and the parent's nested
    stacks taken out of `template` (a Number parameter there is a Number parameter of the nested template)."""
    used: set[str] = set()
    for logical_id in [k for k, d in template["Resources"].items() if d.get("Type") == "AWS::CloudFormation::Stack"]:
        definition = template["Resources"].pop(logical_id)
        nested = nested_template(definition, logical_id)
        for name, value in definition["Properties"].get("Parameters", {}).items():
            if value == {"Ref": parameter}:
                assert nested["Parameters"][name]["Type"] == "Number", f"{logical_id} takes {name} as a string"
                used |= set(_property_names_referring_to(nested["Resources"], name))
    return used


def _values_the_template_allows(spec: dict[str, Any]) -> list[Any]:
    """Bounds, halves between them (a Number parameter takes fractions), and any AllowedValues."""
    if "AllowedValues" in spec:
        return list(spec["AllowedValues"])
    low, high = spec["MinValue"], spec["MaxValue"]
    return [low, high, low + 0.5, high - 0.5, (low + high) / 2 + 0.25]


NUMBER_PARAMETERS = [name for name, spec in template_copy()["Parameters"].items() if spec["Type"] == "Number"]


@pytest.mark.parametrize("parameter", NUMBER_PARAMETERS)
def test_every_number_parameter_value_is_taken_by_its_setting_or_refused_at_deploy(
    template: dict[str, Any], parameter: str
) -> None:
    # given
    spec = template["Parameters"][parameter]
    settings = [(function, variable) for function, variable, name in parameter_backed_variables() if name == parameter]
    # then
    if settings:
        for function, variable in settings:
            for value in _values_the_template_allows(spec):
                parse_one(FUNCTIONS[function], variable, str(value))  # raises SettingsError if refused
    elif "AllowedValues" in spec:
        assert all(isinstance(value, int) for value in spec["AllowedValues"])
    else:
        assert parameter in RESOURCE_NUMBER_PROPERTIES, f"{parameter}: no setting, no AllowedValues, not listed"
        names, _ = RESOURCE_NUMBER_PROPERTIES[parameter]
        in_nested_stacks = _used_in_nested_stacks(template, parameter)  # takes the nested stacks out
        used_in = set(_property_names_referring_to(template["Resources"], parameter)) | in_nested_stacks
        assert used_in, f"{parameter} is used nowhere"
        assert used_in <= names


@pytest.mark.parametrize(
    ("variable", "given", "taken"),
    [("ALERT_DELAY_SECONDS", "7.5", 8), ("ALERT_DELAY_SECONDS", "7.49", 7), ("ALERT_DELAY_SECONDS", "900", 900)],
)
def test_a_fraction_for_a_whole_number_setting_is_the_nearest_whole_number(
    variable: str, given: str, taken: int
) -> None:
    assert parse_one(DetectorSettings, variable, given) == taken


@pytest.mark.parametrize(("variable", "given"), [("CLIP_URL_EXPIRY_SECONDS", "3600.5"), ("CLIP_MAX_ATTEMPTS", "2.5")])
def test_alert_settings_take_fractions_the_template_allows(variable: str, given: str) -> None:
    assert isinstance(parse_one(AlertSettings, variable, given), int)
