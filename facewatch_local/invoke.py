"""`make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json`: `sam local invoke`
without Docker, against the demo's embedded emulation (moto's server on 127.0.0.1, the stack's resources
from template.yaml, the demo cameras' video streams and camera-registry entries).

- The event goes to the handler as it is: there is no event source mapping, so no FilterCriteria either
  (events/detector-empty-frame.json reaches the detector here; in AWS the filter drops it).
- Environment, as with `sam local invoke --env-vars events/env.json`: the function's template variables,
  overridden by the file's section for the function, except the variables that name a stack resource
  (tables, queues, buckets, topic, search domain): they keep the emulated stack's values, because the
  file's names point at a deployed stack. As in SAM, the file cannot add a variable the template lacks.
- The emulated stack's region is the event's awsRegion (else the demo's region).

Prints the handler's return value and what landed (queue messages, S3 objects, SNS publishes, DedupTable
items); the function's logs go to stderr, as `sam local invoke` sends them. Exit status 1 when the
handler raised; 2, with one line saying what to do, when the function or event is missing or wrong.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, TextIO

import boto3

from facewatch_local.cfn import TEMPLATE_PATH, function_environment, load_template
from facewatch_local.demo import DEMO_REGION, STACK_NAME, create_cameras, local_function, receive_all
from facewatch_local.lambda_runtime import Invocation
from facewatch_local.moto_server import PublishedMessage, emulated_aws, published_messages
from facewatch_local.scenario import DEMO_CAMERAS
from facewatch_local.stack import EmulatedStack, deploy_emulated_stack

ENV_FILE: Final = Path(__file__).resolve().parent.parent / "events" / "env.json"
# The event source each function is invoked by, and an example event for it.
EVENT_SOURCES: Final = {"DetectorFunction": "aws:kinesis", "AlertFunction": "aws:sqs"}
EXAMPLE_EVENTS: Final = {
    "DetectorFunction": "events/detector-unknown-face.json",
    "AlertFunction": "events/alerter-unknown-face.json",
}
USAGE: Final = "make invoke FUNCTION=DetectorFunction EVENT=events/detector-unknown-face.json"
# Bound on the S3 objects and DynamoDB items read back: one event lands a handful.
MAX_ITEMS_SHOWN: Final = 100


@dataclass(frozen=True, slots=True)
class Landed:
    queue_messages: Mapping[str, list[str]]  # logical id -> bodies
    delayed_messages: Mapping[str, int]  # logical id -> messages still within their DelaySeconds
    objects: Mapping[str, Mapping[str, str]]  # logical id -> key -> description
    published: list[PublishedMessage]
    dedup_items: list[dict[str, str]]


@dataclass(frozen=True, slots=True)
class InvokeResult:
    invocation: Invocation
    environment: Mapping[str, str]
    from_env_file: tuple[str, ...]
    kept_from_stack: tuple[str, ...]
    landed: Landed


class UsageError(Exception):
    """What to do instead: printed as one line, without a traceback."""


def read_event(function: str, event_path: Path | None) -> dict[str, Any]:
    """The event for `function`, or a UsageError saying what to pass instead."""
    if function not in EVENT_SOURCES:
        named = f"unknown function {function!r}" if function else "no FUNCTION given"
        raise UsageError(f"{named}: one of {', '.join(EVENT_SOURCES)}, e.g. {USAGE}")
    example = EXAMPLE_EVENTS[function]
    if event_path is None or not str(event_path):
        raise UsageError(f"no EVENT given: e.g. make invoke FUNCTION={function} EVENT={example}")
    if not event_path.is_file():
        raise UsageError(f"no event file {event_path}: e.g. make invoke FUNCTION={function} EVENT={example}")
    try:
        event = json.loads(event_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise UsageError(f"{event_path} is not JSON ({error}): e.g. EVENT={example}") from None
    records = event.get("Records") if isinstance(event, dict) else None
    first = records[0] if isinstance(records, list) and records and isinstance(records[0], dict) else {}
    source = first.get("eventSource") or first.get("EventSource")
    if source != EVENT_SOURCES[function]:
        owner = next((name for name, expected in EVENT_SOURCES.items() if expected == source), None)
        hint = f"it is an event for {owner}" if owner else f"{function} takes {EVENT_SOURCES[function]} records"
        raise UsageError(f"{event_path} is not an event for {function}: {hint}; e.g. EVENT={example}")
    return dict(event)


def _names_resource(value: Any, resources: Mapping[str, Any]) -> bool:
    """Whether a template value refers to a resource (Ref, Fn::GetAtt or a Fn::Sub placeholder)."""
    if isinstance(value, list):
        return any(_names_resource(item, resources) for item in value)
    if not isinstance(value, dict):
        return False
    if "Ref" in value:
        return value["Ref"] in resources
    if "Fn::GetAtt" in value:
        target = value["Fn::GetAtt"]
        return (target.split(".", 1)[0] if isinstance(target, str) else target[0]) in resources
    if "Fn::Sub" in value:
        text = value["Fn::Sub"] if isinstance(value["Fn::Sub"], str) else value["Fn::Sub"][0]
        return any(f"${{{name}" in text for name in resources) or _names_resource(value["Fn::Sub"], resources)
    return any(_names_resource(item, resources) for item in value.values())


def invoke_environment(
    template: Mapping[str, Any], logical_id: str, stack_environment: Mapping[str, str], env_file: Path | None
) -> tuple[dict[str, str], tuple[str, ...], tuple[str, ...]]:
    """The function's environment; the variables taken from `env_file`; those kept from the stack."""
    declared = function_environment(template, logical_id)
    resources = template.get("Resources", {})
    naming_resources = {name for name, value in declared.items() if _names_resource(value, resources)}
    overrides: dict[str, Any] = {}
    if env_file is not None and env_file.exists():
        overrides = json.loads(env_file.read_text(encoding="utf-8")).get(logical_id, {})
    taken = {name: str(value) for name, value in overrides.items() if name in declared and name not in naming_resources}
    kept = tuple(sorted(name for name in overrides if name in naming_resources))
    return {**stack_environment, **taken}, tuple(sorted(taken)), kept


def _landed(session: boto3.session.Session, stack: EmulatedStack, account_id: str) -> Landed:
    sqs = session.client("sqs")
    s3 = session.client("s3")
    queues = {
        "AlertQueue": stack.alert_queue_url,
        "AlertDeadLetterQueue": stack.alert_dead_letter_queue_url,
        "DetectorDeadLetterQueue": stack.detector_dead_letter_queue_url,
    }
    messages: dict[str, list[str]] = {}
    delayed: dict[str, int] = {}
    for logical_id, url in queues.items():
        messages[logical_id] = [message["Body"] for message in receive_all(sqs, url)]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["ApproximateNumberOfMessagesDelayed"])
        delayed[logical_id] = int(attributes["Attributes"].get("ApproximateNumberOfMessagesDelayed", "0"))
    objects: dict[str, dict[str, str]] = {}
    for logical_id, bucket in (
        ("ClipBucket", stack.clip_bucket_name),
        ("QuarantineBucket", stack.quarantine_bucket_name),
    ):
        found: dict[str, str] = {}
        for item in s3.list_objects_v2(Bucket=bucket, MaxKeys=MAX_ITEMS_SHOWN).get("Contents", []):
            description = f"{item['Size']} bytes"
            if logical_id == "QuarantineBucket":
                envelope = json.loads(s3.get_object(Bucket=bucket, Key=item["Key"])["Body"].read())
                description = f"reason: {envelope.get('reason')}"
            found[item["Key"]] = description
        objects[logical_id] = found
    items = session.client("dynamodb").scan(TableName=stack.dedup_table_name, Limit=MAX_ITEMS_SHOWN)["Items"]
    # Each attribute value is {"S": ...} or {"N": ...}: the value is what matters here.
    dedup_items = [{name: str(next(iter(value.values()))) for name, value in item.items()} for item in items]
    return Landed(
        queue_messages=messages,
        delayed_messages=delayed,
        objects=objects,
        published=published_messages(account_id, stack.region, stack.alert_topic_arn),
        dedup_items=dedup_items,
    )


def run_invoke(
    function: str,
    event_path: Path | None,
    *,
    env_file: Path | None = ENV_FILE,
    stream: TextIO | None = None,
    log_stream: TextIO | None = None,
) -> InvokeResult:
    out = stream or sys.stdout
    event = read_event(function, event_path)
    records = event.get("Records")
    region = (records[0].get("awsRegion") if records else None) or DEMO_REGION
    template = load_template(TEMPLATE_PATH)
    with emulated_aws(region) as endpoint_url:
        session = boto3.session.Session(region_name=region)
        account_id = session.client("sts").get_caller_identity()["Account"]
        stack = deploy_emulated_stack(session, name_prefix=STACK_NAME)
        create_cameras(session, stack, DEMO_CAMERAS)
        stack_environments = {"DetectorFunction": stack.detector_env(), "AlertFunction": stack.alert_env()}
        environment, taken, kept = invoke_environment(template, function, stack_environments[function], env_file)
        print(f"facewatch invoke: {function} with {event_path} (AWS emulated by moto at {endpoint_url})", file=out)
        if env_file is not None and env_file.exists():
            print(f"environment: template variables; from {env_file.name}: {', '.join(taken) or 'none'}", file=out)
            print(f"             stack resources kept (not {env_file.name}'s): {', '.join(kept) or 'none'}", file=out)
        invocation = local_function(template, function, environment, stack, account_id).invoke(event)
        print(invocation.output, end="", file=log_stream or sys.stderr)
        landed = _landed(session, stack, account_id)
    _print_result(out, invocation, landed)
    return InvokeResult(
        invocation=invocation, environment=environment, from_env_file=taken, kept_from_stack=kept, landed=landed
    )


def _failure_reasons(output: str) -> list[str]:
    """The function's ERROR log lines, as "message (error code or reason)": what made its records fail."""
    reasons = []
    for line in output.splitlines():
        try:
            entry = json.loads(line)
        except ValueError:
            continue
        if isinstance(entry, dict) and entry.get("level") == "ERROR":
            cause = entry.get("error_code") or entry.get("reason")
            reasons.append(f"{entry.get('message')} ({cause})" if cause else str(entry.get("message")))
    return reasons or ["(no ERROR line: see the log above)"]


def _print_result(out: TextIO, invocation: Invocation, landed: Landed) -> None:
    if invocation.error:
        print(f"the handler raised: {invocation.error}", file=out)
    else:
        print(f"return value: {json.dumps(invocation.response)}", file=out)
    if invocation.batch_item_failures:
        print(f"failed record(s): {len(invocation.batch_item_failures)}; why, from the function's log:", file=out)
        for reason in _failure_reasons(invocation.output):
            print(f"  {reason}", file=out)
    print("landed:", file=out)
    for line in _landed_lines(landed) or ["nothing"]:
        print(f"  {line}", file=out)


def _landed_lines(landed: Landed) -> list[str]:
    """What the invocation left in the emulated stack, a line each (details indented); empty when nothing."""
    lines: list[str] = []
    for logical_id, bodies in landed.queue_messages.items():
        delayed = landed.delayed_messages.get(logical_id, 0)
        if bodies or delayed:
            lines.append(f"{logical_id}: {len(bodies)} message(s), {delayed} more still delayed")
            lines += [f"  {body}" for body in bodies]
    for logical_id, found in landed.objects.items():
        if found:
            lines.append(f"{logical_id}: {len(found)} object(s)")
            lines += [f"  {key} ({description})" for key, description in found.items()]
    if landed.published:
        lines.append(f"AlertTopic: {len(landed.published)} message(s) published")
        lines += [f"  {published.subject}" for published in landed.published]
    if landed.dedup_items:
        lines.append(f"DedupTable: {len(landed.dedup_items)} item(s)")
        lines += [f"  {json.dumps(item, sort_keys=True)}" for item in landed.dedup_items]
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Invoke one function with one event on an embedded AWS emulation.")
    parser.add_argument("--function", default="", help="logical id: DetectorFunction or AlertFunction")
    parser.add_argument("--event", default="", help="the event JSON file")
    parser.add_argument("--env-vars", type=Path, default=ENV_FILE, help="SAM env.json (default events/env.json)")
    args = parser.parse_args(argv)
    try:
        result = run_invoke(args.function, Path(args.event) if args.event else None, env_file=args.env_vars)
    except UsageError as error:
        print(f"facewatch invoke: {error}", file=sys.stderr)
        return 2
    return 1 if result.invocation.error else 0


if __name__ == "__main__":
    sys.exit(main())
