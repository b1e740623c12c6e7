"""Just enough CloudFormation to read template.yaml the way a deployment would.

Loads the template with PyYAML, short-form tags in their long form (!Ref, !Sub, !GetAtt ...), expands the
Fn::ForEach loops of the AWS::LanguageExtensions transform for the deployment's parameter values, resolves parameter
values the way CloudFormation does (defaults, overrides, AllowedValues, MinValue/MaxValue), evaluates
Conditions, and resolves the intrinsic functions the template uses (Ref, Fn::GetAtt, Fn::Sub, Fn::If,
Fn::Join) against the resources an emulation has created. Anything else fails loudly with TemplateError,
so a template change the emulation does not understand cannot go unnoticed.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import yaml

TEMPLATE_PATH: Final = Path(__file__).resolve().parent.parent / "template.yaml"

# Fn::Sub placeholders: ${Name}, ${Resource.Attribute}; ${!Literal} stands for the text "${Literal}".
_SUB_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")

LANGUAGE_EXTENSIONS: Final = "AWS::LanguageExtensions"
_FOREACH_PREFIX: Final = "Fn::ForEach::"
# The sections Fn::ForEach may appear in (at any depth inside their entries).
_FOREACH_SECTIONS: Final = ("Conditions", "Resources", "Outputs")
# CloudFormation logical IDs: letters and digits, at most 255 of them.
_LOGICAL_ID = re.compile(r"^[A-Za-z0-9]{1,255}$")
_NOT_ALPHANUMERIC = re.compile(r"[^A-Za-z0-9]")
# Parameter types whose Ref is a list of strings (CloudFormation splits the value on commas).
_LIST_PARAMETER_TYPES: Final = ("CommaDelimitedList", "List<")


class TemplateError(Exception):
    """The template lacks something the emulation needs, or uses something it does not understand."""


class _NoValue:
    """AWS::NoValue: the property (or list item) it stands in for is removed."""

    def __repr__(self) -> str:
        return "AWS::NoValue"


NO_VALUE: Final = _NoValue()


@dataclass(frozen=True)
class PhysicalResource:
    """What a created resource answers to Ref and Fn::GetAtt."""

    ref: str
    attributes: Mapping[str, str] = field(default_factory=dict)


class _TemplateLoader(yaml.SafeLoader):
    """YAML as CloudFormation reads it: the short-form tags (!Ref X, !GetAtt A.B, !Sub ...) as their long form
    ({"Ref": X}, {"Fn::GetAtt": [A, B]}, {"Fn::Sub": ...}), and a duplicate key refused (YAML would keep the
    last one silently; CloudFormation's behaviour is undefined)."""


def _short_form(loader: _TemplateLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    elif isinstance(node, yaml.MappingNode):
        value = loader.construct_mapping(node, deep=True)
    else:
        raise TemplateError(f"!{suffix} at line {node.start_mark.line + 1} takes a scalar, a list or a mapping")
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        resource, _, attribute = value.partition(".")
        value = [resource, attribute]
    return {f"Fn::{suffix}": value}


def _mapping_without_duplicates(loader: _TemplateLoader, node: yaml.MappingNode, deep: bool = False) -> Any:
    seen: set[Any] = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node, deep=deep)
        if key in seen:
            raise TemplateError(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
        seen.add(key)
    return yaml.SafeLoader.construct_mapping(loader, node, deep=deep)


_TemplateLoader.add_multi_constructor("!", _short_form)
_TemplateLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates)


def read_template(path: Path = TEMPLATE_PATH) -> dict[str, Any]:
    """The template as written: plain dicts and lists, short-form tags in their long form (!Ref -> {"Ref": ...})."""
    with path.open(encoding="utf-8") as handle:
        template: dict[str, Any] = yaml.load(handle, Loader=_TemplateLoader)  # noqa: S506 - a SafeLoader subclass
    return template


def load_template(path: Path = TEMPLATE_PATH, parameter_overrides: Mapping[str, str] | None = None) -> dict[str, Any]:
    """The template as the SAM transform receives it: read_template's, with AWS::LanguageExtensions applied
    for the parameter values of a deployment with these overrides (the defaults when there are none)."""
    template = read_template(path)
    if LANGUAGE_EXTENSIONS not in transforms(template):
        return template
    return expand_language_extensions(template, resolve_parameters(template, parameter_overrides))


def transforms(template: Mapping[str, Any]) -> list[str]:
    """The template's Transform, always as a list."""
    declared = template.get("Transform", [])
    return [declared] if isinstance(declared, str) else list(declared)


def expand_language_extensions(template: Mapping[str, Any], parameters: Mapping[str, str]) -> dict[str, Any]:
    """What the AWS::LanguageExtensions transform hands on for these parameter values (resolve_parameters').

    Every Fn::ForEach in Conditions, Resources and Outputs is expanded and the transform leaves Transform.
    As CloudFormation does: a collection that is a Ref to a list parameter is its value split on commas, so
    an empty value is [""] and the loop runs once with an empty item; `${Id}` and `{"Ref": Id}` become the
    item, `&{Id}` the item without its non-alphanumeric characters, and a Fn::Sub left without placeholders
    its text. Other language extensions (Fn::Length, Fn::ToJsonString...) are not expanded: the Resolver
    rejects them.
    """
    expanded = copy.deepcopy(dict(template))
    remaining = [name for name in transforms(template) if name != LANGUAGE_EXTENSIONS]
    if not remaining:
        expanded.pop("Transform", None)
    else:
        expanded["Transform"] = remaining[0] if len(remaining) == 1 else remaining
    loops = _ForEach(template.get("Parameters", {}), parameters)
    for section in _FOREACH_SECTIONS:
        if section in expanded:
            expanded[section] = loops.expand(expanded[section])
            invalid = [key for key in expanded[section] if not _LOGICAL_ID.match(key)]
            if invalid:
                raise TemplateError(f"{section}: {', '.join(map(repr, invalid))} not valid logical IDs (A-Z a-z 0-9)")
    return expanded


class _ForEach:
    """Expands `"Fn::ForEach::Loop": [Identifier, Collection, {OutputKey: OutputValue}]` entries."""

    def __init__(self, declared: Mapping[str, Mapping[str, Any]], parameters: Mapping[str, str]) -> None:
        self._declared = declared
        self._parameters = parameters

    def expand(self, node: Any) -> Any:
        if isinstance(node, list):
            return [self.expand(item) for item in node]
        if not isinstance(node, dict):
            return node
        result: dict[str, Any] = {}
        for key, value in node.items():
            generated = self._loop(key, value) if key.startswith(_FOREACH_PREFIX) else {key: self.expand(value)}
            for generated_key, generated_value in generated.items():
                if generated_key in result or (generated_key != key and generated_key in node):
                    raise TemplateError(f"{generated_key} is defined twice (check {key})")
                result[generated_key] = generated_value
        return result

    def _loop(self, key: str, argument: Any) -> dict[str, Any]:
        if not (isinstance(argument, list) and len(argument) == 3):
            raise TemplateError(f"{key} takes [identifier, collection, fragment]")
        identifier, collection, fragment = argument
        if not isinstance(identifier, str) or not identifier or identifier in self._declared:
            raise TemplateError(f"{key}: the identifier must be a name that is not a parameter's")
        if not isinstance(fragment, dict):
            raise TemplateError(f"{key}: the fragment must be a mapping of output keys to values")
        generated: dict[str, Any] = {}
        for item in self._collection(key, collection):
            for generated_key, value in self.expand(_substitute(fragment, identifier, item)).items():
                if generated_key in generated:
                    raise TemplateError(f"{key} generates {generated_key} twice (a duplicate item?)")
                generated[generated_key] = value
        return generated

    def _collection(self, key: str, collection: Any) -> list[str]:
        if isinstance(collection, list) and all(isinstance(item, str | int | float) for item in collection):
            return [_as_string(item) for item in collection]
        if isinstance(collection, dict) and set(collection) == {"Ref"}:
            name = collection["Ref"]
            if _is_list_parameter(self._declared.get(name, {})) and name in self._parameters:
                return self._parameters[name].split(",")
        raise TemplateError(f"{key}: the emulation takes a list of strings or a Ref to a list parameter")


def _substitute(node: Any, identifier: str, item: str) -> Any:
    if isinstance(node, str):
        alphanumeric = _NOT_ALPHANUMERIC.sub("", item)
        return node.replace("${" + identifier + "}", item).replace("&{" + identifier + "}", alphanumeric)
    if isinstance(node, list):
        return [_substitute(element, identifier, item) for element in node]
    if isinstance(node, dict):
        if node == {"Ref": identifier}:
            return item
        substituted = {
            _substitute(key, identifier, item): _substitute(value, identifier, item) for key, value in node.items()
        }
        # A Fn::Sub left without placeholders is its text, so Fn::GetAtt [!Sub "Name${Id}", Attribute] names
        # a resource (the form AWS documents for loops).
        text = substituted.get("Fn::Sub")
        if len(substituted) == 1 and isinstance(text, str) and "${" not in text:
            return text
        return substituted
    return node


def _is_list_parameter(spec: Mapping[str, Any]) -> bool:
    return str(spec.get("Type", "")).startswith(_LIST_PARAMETER_TYPES)


def resource(template: Mapping[str, Any], logical_id: str, resource_type: str) -> Mapping[str, Any]:
    """The template's resource `logical_id`, which must be of `resource_type`."""
    found = template.get("Resources", {}).get(logical_id)
    if found is None:
        raise TemplateError(f"template has no resource {logical_id}")
    if found.get("Type") != resource_type:
        raise TemplateError(f"{logical_id} is a {found.get('Type')}, expected {resource_type}")
    return found  # type: ignore[no-any-return]


def prop(definition: Mapping[str, Any], logical_id: str, name: str) -> Any:
    """A required property: of a resource's Properties, or of a nested block when given one."""
    properties = definition.get("Properties", definition)
    if name not in properties:
        raise TemplateError(f"{logical_id} has no {name}")
    return properties[name]


def resolve_parameters(template: Mapping[str, Any], overrides: Mapping[str, str] | None = None) -> dict[str, str]:
    """Every parameter's value as CloudFormation would pass it (a string): the override, else the default.

    Unknown overrides and values outside AllowedValues or MinValue/MaxValue are rejected, as a deployment
    would reject them. AllowedPattern is not checked: local runs legitimately point endpoints at
    http://127.0.0.1 where a deployment names a real host.
    """
    declared: Mapping[str, Mapping[str, Any]] = template.get("Parameters", {})
    overrides = dict(overrides or {})
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise TemplateError(f"unknown parameters: {', '.join(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in overrides:
            value = str(overrides[name])
        elif "Default" in spec:
            value = _as_string(spec["Default"])
        else:
            raise TemplateError(f"parameter {name} has no default and no override")
        _check_parameter(name, spec, value)
        values[name] = value
    return values


def _check_parameter(name: str, spec: Mapping[str, Any], value: str) -> None:
    allowed = spec.get("AllowedValues")
    if allowed is not None and value not in {_as_string(option) for option in allowed}:
        raise TemplateError(f"parameter {name}={value!r} is not one of {allowed}")
    if spec.get("Type") == "Number":
        try:
            number = float(value)
        except ValueError:
            raise TemplateError(f"parameter {name}={value!r} is not a number") from None
        if "MinValue" in spec and number < float(spec["MinValue"]):
            raise TemplateError(f"parameter {name}={value} is below its MinValue {spec['MinValue']}")
        if "MaxValue" in spec and number > float(spec["MaxValue"]):
            raise TemplateError(f"parameter {name}={value} is above its MaxValue {spec['MaxValue']}")


def _as_string(value: Any) -> str:
    """A scalar as CloudFormation hands it on (parameter values and environment variables are strings)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def function_environment(template: Mapping[str, Any], logical_id: str) -> dict[str, Any]:
    """A function's Environment.Variables merged over Globals (SAM merges maps key by key)."""
    function = resource(template, logical_id, "AWS::Serverless::Function")
    global_variables = template.get("Globals", {}).get("Function", {}).get("Environment", {}).get("Variables", {})
    own_variables = function.get("Properties", {}).get("Environment", {}).get("Variables", {})
    return {**global_variables, **own_variables}


class Resolver:
    """Resolves intrinsic functions against parameter values, pseudo parameters and created resources."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, str],
        pseudo_parameters: Mapping[str, str],
        resources: Mapping[str, PhysicalResource] | None = None,
    ) -> None:
        self._template = template
        self._parameters = parameters
        self._pseudo = pseudo_parameters
        self.resources: dict[str, PhysicalResource] = dict(resources or {})
        self._conditions: dict[str, bool] = {}

    def condition(self, name: str) -> bool:
        if name not in self._conditions:
            definitions: Mapping[str, Any] = self._template.get("Conditions", {})
            if name not in definitions:
                raise TemplateError(f"template has no condition {name}")
            self._conditions[name] = self._evaluate(definitions[name])
        return self._conditions[name]

    def is_created(self, logical_id: str) -> bool:
        """Whether a resource exists under the current parameter values (its Condition holds)."""
        definition = self._template.get("Resources", {}).get(logical_id)
        if definition is None:
            raise TemplateError(f"template has no resource {logical_id}")
        condition = definition.get("Condition")
        return condition is None or self.condition(condition)

    def resolve(self, value: Any) -> Any:
        """`value` with every intrinsic function replaced; AWS::NoValue entries are dropped."""
        if isinstance(value, list):
            return [item for item in (self.resolve(item) for item in value) if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            (key, argument), *_ = value.items()
            if key == "Ref":
                return self._ref(argument)
            if key == "Fn::GetAtt":
                return self._get_att(argument)
            if key == "Fn::Sub":
                return self._sub(argument)
            if key == "Fn::If":
                condition, if_true, if_false = argument
                return self.resolve(if_true if self.condition(condition) else if_false)
            if key == "Fn::Join":
                delimiter, items = argument
                return delimiter.join(_as_string(item) for item in self.resolve(items))
            if key.startswith("Fn::"):
                raise TemplateError(f"the emulation does not resolve {key}")
        resolved = {key: self.resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def resolve_string(self, value: Any) -> str:
        resolved = self.resolve(value)
        if isinstance(resolved, dict | list) or resolved is NO_VALUE:
            raise TemplateError(f"{value!r} does not resolve to a scalar")
        return _as_string(resolved)

    def _evaluate(self, expression: Any) -> bool:
        (key, argument), *_ = expression.items()
        if key == "Fn::Equals":
            left, right = argument
            return self.resolve_string(left) == self.resolve_string(right)
        if key == "Fn::Not":
            return not self._evaluate(argument[0])
        if key == "Fn::And":
            return all(self._evaluate(item) for item in argument)
        if key == "Fn::Or":
            return any(self._evaluate(item) for item in argument)
        if key == "Condition":
            return self.condition(argument)
        raise TemplateError(f"the emulation does not evaluate condition function {key}")

    def _ref(self, name: str) -> Any:
        if name == "AWS::NoValue":
            return NO_VALUE
        if name in self._parameters:
            if _is_list_parameter(self._template.get("Parameters", {}).get(name, {})):
                return self._parameters[name].split(",")
            return self._parameters[name]
        if name in self._pseudo:
            return self._pseudo[name]
        if name in self.resources:
            return self.resources[name].ref
        raise TemplateError(f"Ref {name}: no such parameter, or the resource was not created")

    def _get_att(self, argument: str | list[str]) -> str:
        logical_id, attribute = argument.split(".", 1) if isinstance(argument, str) else argument
        created = self.resources.get(logical_id)
        if created is None:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the resource was not created")
        if attribute not in created.attributes:
            raise TemplateError(f"Fn::GetAtt {logical_id}.{attribute}: the emulation has no such attribute")
        return created.attributes[attribute]

    def _sub(self, argument: str | list[Any]) -> str:
        text, variables = (argument, {}) if isinstance(argument, str) else argument

        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return self.resolve_string(variables[name])
            if "." in name and not name.startswith("AWS::"):
                return self._get_att(name)
            return _as_string(self._ref(name))

        return _SUB_PLACEHOLDER.sub(replace, text)
