"""Where a command finds the stack's resources: an explicit flag (--table, --collection-id, ...) or the
deployed stack's CloudFormation outputs (--stack NAME, or the FACEWATCH_STACK environment variable)."""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass

from facewatch_cli import clients
from facewatch_cli.main import CommandError

STACK_ENV_VAR = "FACEWATCH_STACK"


@dataclass(frozen=True, slots=True)
class StackResource:
    """A resource a command needs, named by a flag or by one of the stack's outputs."""

    flag: str
    output: str
    what: str

    @property
    def dest(self) -> str:
        return self.flag.lstrip("-").replace("-", "_")


CAMERA_TABLE = StackResource("--table", "CameraTableName", "the camera registry table (CameraTable)")
EMPLOYEE_COLLECTION = StackResource("--collection-id", "EmployeeCollectionId", "the employee face collection")
POLICY_TABLE = StackResource(
    "--policy-table", "PolicyTableName", "the alert policy table (PolicyTable: policies, watchlists, snoozes)"
)
DETECTOR_FUNCTION = StackResource("--detector-function", "DetectorFunctionArn", "the detector function")
PROXY_ROLE_ALIAS = StackResource(
    "--iot-role-alias", "ProxyRoleAliasName", "the AWS IoT role alias the site proxies assume"
)
DETECTION_MODE = StackResource("--detection-mode", "DetectionMode", "how the stack finds faces (image or stream)")
FACE_SEARCH_STREAM = StackResource(
    "--face-search-stream", "FaceSearchStreamArn", "the Kinesis data stream the samplers write to (name or ARN)"
)
FACE_MATCH_THRESHOLD = StackResource("--face-match-threshold", "FaceMatchThreshold", "the stack's FaceMatchThreshold")
SAMPLER_METRICS_NAMESPACE = StackResource(
    "--metrics-namespace", "SamplerMetricsNamespace", "the CloudWatch namespace of the samplers' metrics"
)


def add_arguments(parser: argparse.ArgumentParser, *resources: StackResource) -> None:
    parser.add_argument(
        "--stack",
        default=os.environ.get(STACK_ENV_VAR),
        help=f"the deployed facewatch stack whose outputs name the resources (default: ${STACK_ENV_VAR})",
    )
    for resource in resources:
        parser.add_argument(
            resource.flag,
            dest=resource.dest,
            metavar="NAME",
            help=f"{resource.what} (default: --stack's {resource.output})",
        )


class StackOutputs:
    """Resolves resources for one command run; the stack is described at most once."""

    def __init__(self, args: argparse.Namespace) -> None:
        self._args = args
        self._outputs: dict[str, str] | None = None

    @property
    def stack_name(self) -> str | None:
        name = getattr(self._args, "stack", None)
        return str(name) if name else None

    def require(self, resource: StackResource) -> str:
        value = self.optional(resource)
        if value is not None:
            return value
        if self.stack_name is None:
            raise CommandError(f"{resource.what}: give {resource.flag} NAME or --stack STACK")
        raise CommandError(
            f"stack {self.stack_name} has no output {resource.output}; give {resource.flag} NAME "
            f"(outputs: {', '.join(sorted(self._stack_outputs())) or 'none'})"
        )

    def optional(self, resource: StackResource) -> str | None:
        explicit = getattr(self._args, resource.dest, None)
        if explicit:
            return str(explicit)
        if self.stack_name is None:
            return None
        return self._stack_outputs().get(resource.output)

    def _stack_outputs(self) -> dict[str, str]:
        if self._outputs is None:
            self._outputs = _describe_outputs(self._args, str(self.stack_name))
        return self._outputs


@clients.aws_errors
def _describe_outputs(args: argparse.Namespace, stack_name: str) -> dict[str, str]:
    stacks = clients.cloudformation(args).describe_stacks(StackName=stack_name)["Stacks"]
    return {
        o["OutputKey"]: o["OutputValue"]
        for o in stacks[0].get("Outputs", [])
        if "OutputKey" in o and "OutputValue" in o
    }
