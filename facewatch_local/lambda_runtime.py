"""Lambda, locally: functions run in this process, fed by emulated Kinesis and SQS event source mappings.

- `LocalFunction` is one function's container. It has its own copy of the code's modules, imported from
  the template's CodeUri with the function's environment, so Powertools' Logger/Metrics and every cached
  factory belong to that function and stay warm across its invocations, as in a Lambda container. Two
  functions never share module state, so no cache has to be cleared when the other one runs. During an
  invocation os.environ is the function's environment plus what the Lambda runtime provides (credentials,
  here the emulation's endpoint); nothing else of the shell's leaks in, so a variable the template does
  not set is missing here as it would be in AWS.
- `KinesisEventSourceMapping` reads a stream shard by shard the way Lambda's pollers do and hands the
  function real Kinesis events. It applies the mapping's FilterCriteria, honours ReportBatchItemFailures
  (re-reading from the lowest failed sequence number, AT_SEQUENCE_NUMBER), MaximumRetryAttempts and
  MaximumRecordAgeInSeconds, and sends the batch metadata to the on-failure destination when it gives up.
  Not emulated: BisectBatchOnFunctionError (a function error retries the whole batch), the batching window
  (records are already there), ParallelizationFactor (one batch per shard at a time) and retry backoff.
- `SqsEventSourceMapping` long-polls a queue and hands the function real SQS events; it deletes the
  messages that succeeded and leaves failed ones for SQS to redeliver after their visibility timeout.

Every loop is bounded by a count and a deadline.
"""

from __future__ import annotations

import base64
import io
import json
import sys
import time
import traceback
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stdout, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from importlib import import_module
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Any, Final

from facewatch_local.cfn import Resolver, TemplateError, resolve_parameters, resource
from facewatch_local.event_pattern import FilterPatternError, condition_matches, leaves, rules
from facewatch_local.event_pattern import Path as _Path
from facewatch_local.moto_server import patched_environ

if TYPE_CHECKING:
    from mypy_boto3_kinesis import KinesisClient
    from mypy_boto3_kinesis.type_defs import RecordTypeDef
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_sqs.type_defs import MessageTypeDef

# Lambda's own defaults for properties a template leaves out.
DEFAULT_TIMEOUT_SECONDS: Final = 3
DEFAULT_MEMORY_MB: Final = 128
DEFAULT_KINESIS_BATCH_SIZE: Final = 100
DEFAULT_SQS_BATCH_SIZE: Final = 10
# SQS ReceiveMessage returns at most 10 messages; Lambda batches more only with a batching window.
SQS_MAX_RECEIVE: Final = 10
# When the template leaves MaximumRetryAttempts infinite (-1), the emulation still stops somewhere.
LOCAL_RETRY_CAP: Final = 10
_RUNTIME_VARIABLES: Final = frozenset(
    {
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_CONFIG_FILE",
        "AWS_SHARED_CREDENTIALS_FILE",
        "PATH",
        "HOME",
        "LANG",
        "TMPDIR",
    }
)


@dataclass(frozen=True, slots=True)
class FakeLambdaContext:
    """The context object Lambda passes to a handler (the attributes Powertools reads)."""

    function_name: str
    function_version: str
    invoked_function_arn: str
    memory_limit_in_mb: int
    aws_request_id: str
    log_group_name: str
    log_stream_name: str
    deadline_epoch_seconds: float

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline_epoch_seconds - time.time()) * 1000))


@dataclass(frozen=True, slots=True)
class FunctionConfig:
    logical_id: str
    function_name: str
    handler: str  # module.function
    code_root: Path
    timeout_seconds: int
    memory_mb: int
    environment: Mapping[str, str]
    region: str
    account_id: str

    @property
    def arn(self) -> str:
        return f"arn:aws:lambda:{self.region}:{self.account_id}:function:{self.function_name}"

    @property
    def role_arn(self) -> str:
        return f"arn:aws:iam::{self.account_id}:role/{self.function_name}-role"

    @classmethod
    def from_template(
        cls,
        template: Mapping[str, Any],
        logical_id: str,
        environment: Mapping[str, str],
        *,
        template_dir: Path,
        stack_name: str,
        region: str,
        account_id: str,
    ) -> FunctionConfig:
        """Handler, CodeUri, Timeout and MemorySize of an AWS::Serverless::Function, Globals merged."""
        own = resource(template, logical_id, "AWS::Serverless::Function").get("Properties", {})
        merged = {**template.get("Globals", {}).get("Function", {}), **own}
        for name in ("Handler", "CodeUri"):
            if not isinstance(merged.get(name), str):
                raise TemplateError(f"{logical_id} needs a literal {name} to run locally")
        return cls(
            logical_id=logical_id,
            function_name=f"{stack_name}-{logical_id}",
            handler=merged["Handler"],
            code_root=(template_dir / merged["CodeUri"]).resolve(),
            timeout_seconds=int(merged.get("Timeout", DEFAULT_TIMEOUT_SECONDS)),
            memory_mb=int(merged.get("MemorySize", DEFAULT_MEMORY_MB)),
            environment=dict(environment),
            region=region,
            account_id=account_id,
        )


@dataclass(frozen=True, slots=True)
class Invocation:
    function_name: str
    request_id: str
    event: Mapping[str, Any]
    response: Any
    error: str | None  # "ExceptionType: message" when the handler raised
    output: str  # what the function wrote to stdout (its CloudWatch log stream)
    duration_seconds: float

    @property
    def batch_item_failures(self) -> list[Any]:
        if isinstance(self.response, dict):
            failures = self.response.get("batchItemFailures") or []
            return [item.get("itemIdentifier") if isinstance(item, dict) else None for item in failures]
        return []

    def metrics(self) -> dict[str, float]:
        """The metric values the function emitted in CloudWatch embedded metric format, summed by name."""
        totals: dict[str, float] = {}
        for metric_set in emf_metric_values(self.output):
            for name, values in metric_set.items():
                totals[name] = totals.get(name, 0.0) + sum(values)
        return totals


def emf_metric_values(output: str) -> list[dict[str, list[float]]]:
    """Each CloudWatch embedded-metric-format document in `output`, as metric name -> its values (Powertools
    prints a value as a list). Lines that are not such a JSON document are passed over."""
    metric_sets: list[dict[str, list[float]]] = []
    for line in output.splitlines():
        if not line.startswith("{"):
            continue
        try:
            document = json.loads(line)
        except ValueError:
            continue
        if not isinstance(document, dict) or "_aws" not in document:
            continue
        metric_set: dict[str, list[float]] = {}
        for directive in document["_aws"].get("CloudWatchMetrics", []):
            for metric in directive.get("Metrics", []):
                name = metric["Name"]
                value = document.get(name, 0)
                values = value if isinstance(value, list) else [value]
                metric_set.setdefault(name, []).extend(float(v) for v in values)
        metric_sets.append(metric_set)
    return metric_sets


class _FunctionStdout(io.TextIOBase):
    """The stdout every local function writes to. Loggers keep the stream they were created with, so
    there is one stream for the process; it hands what it gets to the running invocation."""

    def __init__(self) -> None:
        self._buffers: list[io.StringIO] = []

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if self._buffers:
            return self._buffers[-1].write(text)
        return sys.__stdout__.write(text) if sys.__stdout__ else len(text)

    @contextmanager
    def capture(self) -> Iterator[io.StringIO]:
        buffer = io.StringIO()
        self._buffers.append(buffer)
        try:
            with redirect_stdout(self):
                yield buffer
        finally:
            self._buffers.remove(buffer)


_FUNCTION_STDOUT: Final = _FunctionStdout()


def _passed_to_functions(name: str) -> bool:
    """What a function sees of this process's environment: what the Lambda runtime would provide
    (credentials, and here the emulation's endpoint and config files), nothing from the shell."""
    return name in _RUNTIME_VARIABLES or name.startswith("AWS_ENDPOINT_URL")


def _take_modules(package: str) -> dict[str, ModuleType]:
    """Removes `package` and its submodules from sys.modules and returns them."""
    names = [name for name in sys.modules if name == package or name.startswith(f"{package}.")]
    return {name: sys.modules.pop(name) for name in names}


class LocalFunction:
    """One function's container (see the module docstring)."""

    def __init__(
        self,
        config: FunctionConfig,
        *,
        on_invoke: Callable[[Invocation], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._on_invoke = on_invoke
        self._clock = clock
        self._modules: dict[str, ModuleType] = {}
        started = datetime.fromtimestamp(clock(), tz=UTC)
        self._log_stream = f"{started:%Y/%m/%d}/[$LATEST]{uuid.uuid4().hex}"
        self.invocations: list[Invocation] = []

    def _environment(self) -> dict[str, str]:
        config = self.config
        return {
            # The variables Lambda sets for every function, then the function's own.
            "AWS_LAMBDA_FUNCTION_NAME": config.function_name,
            "AWS_LAMBDA_FUNCTION_VERSION": "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(config.memory_mb),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{config.function_name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": self._log_stream,
            "_HANDLER": config.handler,
            "AWS_REGION": config.region,
            "AWS_DEFAULT_REGION": config.region,
            **config.environment,
        }

    @contextmanager
    def _container(self) -> Iterator[None]:
        package = self.config.handler.split(".", 1)[0]
        code_root = str(self.config.code_root)
        outside = _take_modules(package)
        sys.modules.update(self._modules)
        sys.path.insert(0, code_root)
        try:
            with patched_environ(self._environment(), keep=_passed_to_functions):
                yield
        finally:
            sys.path.remove(code_root)
            self._modules = _take_modules(package)
            sys.modules.update(outside)

    def invoke(self, event: Mapping[str, Any]) -> Invocation:
        """Calls the handler with a copy of `event` (JSON round trip, as Lambda delivers it)."""
        config = self.config
        payload = json.loads(json.dumps(event))
        request_id = str(uuid.uuid4())
        started = self._clock()
        context = FakeLambdaContext(
            function_name=config.function_name,
            function_version="$LATEST",
            invoked_function_arn=config.arn,
            memory_limit_in_mb=config.memory_mb,
            aws_request_id=request_id,
            log_group_name=f"/aws/lambda/{config.function_name}",
            log_stream_name=self._log_stream,
            deadline_epoch_seconds=started + config.timeout_seconds,
        )
        response: Any = None
        error: str | None = None
        with self._container(), _FUNCTION_STDOUT.capture() as output:
            print(f"START RequestId: {request_id} Version: $LATEST")
            try:
                module_name, _, function_name = config.handler.rpartition(".")
                handler = getattr(import_module(module_name), function_name)
                response = json.loads(json.dumps(handler(payload, context)))
            except Exception as exc:  # the function failed: Lambda reports it, the poller retries
                error = f"{type(exc).__name__}: {exc}"
                print(f"[ERROR] {error}\n{traceback.format_exc()}")
            duration = self._clock() - started
            if duration > config.timeout_seconds and error is None:
                # Lambda would have stopped the function; its response never reaches the caller.
                response, error = None, f"Task timed out after {config.timeout_seconds} seconds"
                print(f"[ERROR] {error}")
            print(f"END RequestId: {request_id}\nREPORT RequestId: {request_id} Duration: {duration * 1000:.2f} ms")
        invocation = Invocation(
            function_name=config.function_name,
            request_id=request_id,
            event=payload,
            response=response,
            error=error,
            output=output.getvalue(),
            duration_seconds=duration,
        )
        self.invocations.append(invocation)
        if self._on_invoke is not None:
            self._on_invoke(invocation)
        return invocation

    def metrics(self) -> dict[str, float]:
        totals: dict[str, float] = {}
        for invocation in self.invocations:
            for name, value in invocation.metrics().items():
                totals[name] = totals.get(name, 0.0) + value
        return totals


@dataclass(frozen=True, slots=True)
class RecordFilter:
    """FilterCriteria.Filters: a record is delivered when any pattern matches it."""

    patterns: tuple[Mapping[str, Any], ...] = ()

    @classmethod
    def from_criteria(cls, criteria: Mapping[str, Any] | None) -> RecordFilter:
        filters = (criteria or {}).get("Filters", [])
        patterns = tuple(json.loads(item["Pattern"]) for item in filters)
        for pattern in patterns:  # an unsupported operator fails now, not on the first record
            for _, conditions in rules(pattern, ()):
                for condition in conditions:
                    condition_matches(condition, [])
        return cls(patterns)

    def matches(self, document: Mapping[str, Any]) -> bool:
        if not self.patterns:
            return True
        values: dict[_Path, list[Any]] = {}
        for path, value in leaves(dict(document), ()):
            values.setdefault(path, []).append(value)
        return any(
            all(
                # A pattern on `data` never matches a record whose data is not JSON (Lambda drops it).
                (path[0] != "data" or "data" in document)
                and any(condition_matches(condition, values.get(path, [])) for condition in conditions)
                for path, conditions in rules(pattern, ())
            )
            for pattern in self.patterns
        )


def event_source_properties(
    template: Mapping[str, Any],
    logical_id: str,
    event_type: str,
    parameter_overrides: Mapping[str, str] | None = None,
    *,
    event_name: str | None = None,
) -> dict[str, Any]:
    """The function's one `event_type` event's properties (or the one named `event_name`), resolved, except
    those naming resources (Stream, Queue, DestinationConfig): the caller knows the emulated ones."""
    function = resource(template, logical_id, "AWS::Serverless::Function")
    events = [
        event
        for name, event in function.get("Properties", {}).get("Events", {}).items()
        if event["Type"] == event_type and event_name in (None, name)
    ]
    if len(events) != 1:
        named = f" named {event_name}" if event_name else ""
        raise TemplateError(f"{logical_id} has {len(events)} {event_type} events{named}, expected 1")
    resolver = Resolver(template, resolve_parameters(template, parameter_overrides), pseudo_parameters={})
    properties = {
        name: value
        for name, value in events[0].get("Properties", {}).items()
        if name not in ("Stream", "Queue", "DestinationConfig")
    }
    resolved: dict[str, Any] = resolver.resolve(properties)  # AWS::NoValue drops a property
    return resolved


def _reports_item_failures(properties: Mapping[str, Any]) -> bool:
    return "ReportBatchItemFailures" in properties.get("FunctionResponseTypes", [])


@dataclass(frozen=True, slots=True)
class KinesisMappingSettings:
    batch_size: int = DEFAULT_KINESIS_BATCH_SIZE
    starting_position: str = "LATEST"
    maximum_retry_attempts: int = -1  # -1: infinite (Lambda's default)
    maximum_record_age_seconds: int = -1
    report_batch_item_failures: bool = False
    record_filter: RecordFilter = field(default_factory=RecordFilter)

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> KinesisMappingSettings:
        return cls(
            batch_size=int(properties.get("BatchSize", DEFAULT_KINESIS_BATCH_SIZE)),
            starting_position=str(properties.get("StartingPosition", "LATEST")),
            maximum_retry_attempts=int(properties.get("MaximumRetryAttempts", -1)),
            maximum_record_age_seconds=int(properties.get("MaximumRecordAgeInSeconds", -1)),
            report_batch_item_failures=_reports_item_failures(properties),
            record_filter=RecordFilter.from_criteria(properties.get("FilterCriteria")),
        )


@dataclass(slots=True)
class KinesisMappingReport:
    records_read: int = 0  # including re-reads after a failure
    records_filtered_out: int = 0
    records_expired: int = 0
    invocations: int = 0
    function_errors: int = 0
    retries: int = 0
    batches_discarded: int = 0  # given up on; metadata sent to the on-failure destination
    drained: bool = False


def _filter_document(record: RecordTypeDef) -> dict[str, Any]:
    document: dict[str, Any] = {
        "kinesisSchemaVersion": "1.0",
        "partitionKey": record["PartitionKey"],
        "sequenceNumber": record["SequenceNumber"],
        "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
    }
    with suppress(UnicodeDecodeError, ValueError):  # data that is not JSON has no `data` to filter on
        document["data"] = json.loads(record["Data"])
    return document


class KinesisEventSourceMapping:
    def __init__(
        self,
        function: LocalFunction,
        stream_arn: str,
        settings: KinesisMappingSettings,
        *,
        kinesis: KinesisClient,
        sqs: SQSClient,
        on_failure_queue_url: str | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._function = function
        self._stream_arn = stream_arn
        self._stream_name = stream_arn.rsplit("/", 1)[-1]
        self._settings = settings
        self._kinesis = kinesis
        self._sqs = sqs
        self._on_failure = on_failure_queue_url
        self._clock = clock
        self._iterators: dict[str, str] = {}
        self._attempts: dict[tuple[str, str], int] = {}
        self.report = KinesisMappingReport()

    @property
    def _region(self) -> str:
        return self._stream_arn.split(":")[3]

    def start(self) -> None:
        """Takes a position in every shard, as creating the mapping does (LATEST: only later records)."""
        # By name, not ARN: moto's shard iterators for a StreamARN request name no stream (GetRecords 404s).
        shards = self._kinesis.list_shards(StreamName=self._stream_name)["Shards"]
        for shard in shards:
            self._iterators[shard["ShardId"]] = self._kinesis.get_shard_iterator(
                StreamName=self._stream_name,
                ShardId=shard["ShardId"],
                ShardIteratorType=self._settings.starting_position,  # type: ignore[arg-type]
            )["ShardIterator"]

    def run(self, *, timeout_seconds: float, max_invocations: int = 1_000) -> KinesisMappingReport:
        """Polls every shard, one batch per shard per round, until a round finds no new record."""
        if not self._iterators:
            self.start()
        deadline = self._clock() + timeout_seconds
        while self._iterators and self._clock() < deadline and self.report.invocations < max_invocations:
            busy = False
            for shard_id, iterator in list(self._iterators.items()):
                result = self._kinesis.get_records(ShardIterator=iterator, Limit=self._settings.batch_size)
                records = result["Records"]
                next_iterator = result.get("NextShardIterator")
                if records:
                    busy = True
                    self.report.records_read += len(records)
                    retry_from = self._deliver(shard_id, records)
                    if retry_from is not None:
                        next_iterator = self._kinesis.get_shard_iterator(
                            StreamName=self._stream_name,
                            ShardId=shard_id,
                            ShardIteratorType="AT_SEQUENCE_NUMBER",
                            StartingSequenceNumber=retry_from,
                        )["ShardIterator"]
                elif result.get("MillisBehindLatest", 0) > 0:
                    busy = True
                if next_iterator is None:  # the shard is closed and read to its end
                    del self._iterators[shard_id]
                else:
                    self._iterators[shard_id] = next_iterator
            if not busy:
                self.report.drained = True
                break
        return self.report

    def _deliver(self, shard_id: str, records: list[RecordTypeDef]) -> str | None:
        """Invokes the function with the batch; returns the sequence number to re-read from, if any."""
        settings = self._settings
        now = self._clock()
        max_age = settings.maximum_record_age_seconds
        fresh: list[RecordTypeDef] = []
        expired: list[RecordTypeDef] = []
        for record in records:
            age = now - record["ApproximateArrivalTimestamp"].timestamp()
            (expired if 0 <= max_age < age else fresh).append(record)
        if expired:
            self.report.records_expired += len(expired)
            self._send_to_destination(shard_id, expired, "RecordAgeExceeded", invoke_count=0)
        delivered = [r for r in fresh if settings.record_filter.matches(_filter_document(r))]
        self.report.records_filtered_out += len(fresh) - len(delivered)
        if not delivered:
            return None  # Lambda does not invoke for a batch that is filtered out entirely
        invocation = self._function.invoke({"Records": [self._envelope(shard_id, r) for r in delivered]})
        self.report.invocations += 1
        failed_from = self._failed_from(invocation, delivered)
        if failed_from is None:
            self._attempts = {key: n for key, n in self._attempts.items() if key[0] != shard_id}
            return None
        key = (shard_id, failed_from)
        self._attempts[key] = self._attempts.get(key, 0) + 1
        limit = settings.maximum_retry_attempts if settings.maximum_retry_attempts >= 0 else LOCAL_RETRY_CAP
        if self._attempts[key] > limit:
            del self._attempts[key]
            failed = [r for r in delivered if int(r["SequenceNumber"]) >= int(failed_from)]
            self.report.batches_discarded += 1
            self._send_to_destination(shard_id, failed, "RetryAttemptsExhausted", invoke_count=limit + 1)
            return None
        self.report.retries += 1
        return failed_from

    def _failed_from(self, invocation: Invocation, delivered: list[RecordTypeDef]) -> str | None:
        """The lowest failed sequence number: Lambda checkpoints there and redelivers from it."""
        first = delivered[0]["SequenceNumber"]
        if invocation.error is not None:
            self.report.function_errors += 1
            return first
        if not self._settings.report_batch_item_failures:
            return None
        identifiers = invocation.batch_item_failures
        if not identifiers:
            return None
        in_batch = {r["SequenceNumber"] for r in delivered}
        if any(not isinstance(item, str) or item not in in_batch for item in identifiers):
            return first  # an empty, null or unknown identifier fails the whole batch
        return str(min(identifiers, key=int))

    def _envelope(self, shard_id: str, record: RecordTypeDef) -> dict[str, Any]:
        return {
            "kinesis": {
                "kinesisSchemaVersion": "1.0",
                "partitionKey": record["PartitionKey"],
                "sequenceNumber": record["SequenceNumber"],
                "data": base64.b64encode(record["Data"]).decode("ascii"),
                "approximateArrivalTimestamp": record["ApproximateArrivalTimestamp"].timestamp(),
            },
            "eventSource": "aws:kinesis",
            "eventVersion": "1.0",
            "eventID": f"{shard_id}:{record['SequenceNumber']}",
            "eventName": "aws:kinesis:record",
            "invokeIdentityArn": self._function.config.role_arn,
            "awsRegion": self._region,
            "eventSourceARN": self._stream_arn,
        }

    def _send_to_destination(
        self, shard_id: str, records: list[RecordTypeDef], condition: str, invoke_count: int
    ) -> None:
        """What Lambda sends an on-failure destination for a stream: the batch's place, not its records."""
        if self._on_failure is None or not records:
            return
        arrivals = [r["ApproximateArrivalTimestamp"].astimezone(UTC).isoformat() for r in records]
        message = {
            "requestContext": {
                "requestId": str(uuid.uuid4()),
                "functionArn": self._function.config.arn,
                "condition": condition,
                "approximateInvokeCount": invoke_count,
            },
            "responseContext": {"statusCode": 200, "executedVersion": "$LATEST", "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": datetime.now(UTC).isoformat(),
            "KinesisBatchInfo": {
                "shardId": shard_id,
                "startSequenceNumber": records[0]["SequenceNumber"],
                "endSequenceNumber": records[-1]["SequenceNumber"],
                "approximateArrivalOfFirstRecord": arrivals[0],
                "approximateArrivalOfLastRecord": arrivals[-1],
                "batchSize": len(records),
                "streamArn": self._stream_arn,
            },
        }
        self._sqs.send_message(QueueUrl=self._on_failure, MessageBody=json.dumps(message))


@dataclass(frozen=True, slots=True)
class SqsMappingSettings:
    batch_size: int = DEFAULT_SQS_BATCH_SIZE
    report_batch_item_failures: bool = False

    @classmethod
    def from_properties(cls, properties: Mapping[str, Any]) -> SqsMappingSettings:
        if properties.get("FilterCriteria"):
            raise FilterPatternError("FilterCriteria on an SQS event source is not emulated")
        return cls(
            batch_size=int(properties.get("BatchSize", DEFAULT_SQS_BATCH_SIZE)),
            report_batch_item_failures=_reports_item_failures(properties),
        )


@dataclass(slots=True)
class SqsMappingReport:
    messages_received: int = 0  # including redeliveries
    invocations: int = 0
    function_errors: int = 0
    messages_deleted: int = 0
    messages_failed: int = 0  # left on the queue for redelivery
    left_in_flight: int = 0  # at the end: failed and not visible yet
    left_delayed: int = 0  # at the end: still within their DelaySeconds
    drained: bool = False


_QUEUE_COUNTS: Final = (
    "ApproximateNumberOfMessages",
    "ApproximateNumberOfMessagesNotVisible",
    "ApproximateNumberOfMessagesDelayed",
)


def _lambda_message_attributes(message: MessageTypeDef) -> dict[str, Any]:
    converted = {}
    for name, value in message.get("MessageAttributes", {}).items():
        item: dict[str, Any] = {"stringListValues": [], "binaryListValues": [], "dataType": value["DataType"]}
        if "StringValue" in value:
            item["stringValue"] = value["StringValue"]
        if "BinaryValue" in value:
            item["binaryValue"] = base64.b64encode(value["BinaryValue"]).decode("ascii")
        converted[name] = item
    return converted


class SqsEventSourceMapping:
    def __init__(
        self,
        function: LocalFunction,
        queue_url: str,
        settings: SqsMappingSettings,
        *,
        sqs: SQSClient,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._function = function
        self._queue_url = queue_url
        self._settings = settings
        self._sqs = sqs
        self._clock = clock
        self._queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"][
            "QueueArn"
        ]
        self.report = SqsMappingReport()

    def queue_counts(self) -> dict[str, int]:
        attributes = self._sqs.get_queue_attributes(QueueUrl=self._queue_url, AttributeNames=list(_QUEUE_COUNTS))
        return {name: int(attributes["Attributes"].get(name, "0")) for name in _QUEUE_COUNTS}

    def run(self, *, timeout_seconds: float, max_invocations: int = 1_000) -> SqsMappingReport:
        """Long-polls until the queue has no message visible, delayed or in flight, or the time is up.

        Delayed messages (the detector's DelaySeconds) are waited for; a failed message comes back only
        after its visibility timeout, which may be longer than `timeout_seconds`: it is then reported as
        left in flight, where SQS would redeliver it later.
        """
        deadline = self._clock() + timeout_seconds
        while self.report.invocations < max_invocations:
            remaining = deadline - self._clock()
            if remaining <= 0:
                break
            messages = self._sqs.receive_message(
                QueueUrl=self._queue_url,
                MaxNumberOfMessages=min(self._settings.batch_size, SQS_MAX_RECEIVE),
                WaitTimeSeconds=max(0, min(1, int(remaining))),
                MessageSystemAttributeNames=["All"],
                MessageAttributeNames=["All"],
            ).get("Messages", [])
            if messages:
                self._deliver(messages)
                continue
            counts = self.queue_counts()
            if not any(counts.values()):
                self.report.drained = True
                break
            if remaining < 1:
                break
        counts = self.queue_counts()
        self.report.left_in_flight = counts["ApproximateNumberOfMessagesNotVisible"]
        self.report.left_delayed = counts["ApproximateNumberOfMessagesDelayed"]
        return self.report

    def _deliver(self, messages: Sequence[MessageTypeDef]) -> None:
        self.report.messages_received += len(messages)
        event = {"Records": [self._envelope(message) for message in messages]}
        invocation = self._function.invoke(event)
        self.report.invocations += 1
        if invocation.error is not None:
            # The whole batch failed: every message becomes visible again after its visibility timeout.
            self.report.function_errors += 1
            self.report.messages_failed += len(messages)
            return
        failed = set(invocation.batch_item_failures) if self._settings.report_batch_item_failures else set()
        succeeded = [message for message in messages if message["MessageId"] not in failed]
        self.report.messages_failed += len(messages) - len(succeeded)
        for start in range(0, len(succeeded), SQS_MAX_RECEIVE):
            chunk = succeeded[start : start + SQS_MAX_RECEIVE]
            result = self._sqs.delete_message_batch(
                QueueUrl=self._queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(chunk)],
            )
            self.report.messages_deleted += len(result.get("Successful", []))

    def _envelope(self, message: MessageTypeDef) -> dict[str, Any]:
        attributes = message.get("Attributes", {})
        return {
            "messageId": message["MessageId"],
            "receiptHandle": message["ReceiptHandle"],
            "body": message["Body"],
            "attributes": dict(attributes),
            "messageAttributes": _lambda_message_attributes(message),
            "md5OfBody": message["MD5OfBody"],
            "md5OfMessageAttributes": message.get("MD5OfMessageAttributes"),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._queue_arn.split(":")[3],
        }
