"""Entry point of the `facewatch` command. Each command group lives in its own module and registers
its sub-commands through `register(subparsers)`; a command is a function `(args) -> int` (exit code)."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Command groups, in the order `facewatch --help` lists them. Each module has `register(subparsers)`.
COMMAND_MODULES = (
    "facewatch_cli.cameras",
    "facewatch_cli.faces",
    "facewatch_cli.proxy",
    "facewatch_cli.status",
    "facewatch_cli.dashboards",
    "facewatch_cli.alerts",
    "facewatch_cli.sampler",
    "facewatch_cli.audit",
    "facewatch_cli.policies",
    "facewatch_cli.watchlists",
    "facewatch_cli.snoozes",
    "facewatch_cli.compliance",
)


class CommandError(Exception):
    """A failure the operator can act on; printed as one line, exit code 1, no traceback."""


# Accepted before the command group and after any (sub)command: `facewatch status --region eu-west-1`.
GLOBAL_OPTIONS = {
    "--region": "AWS Region (default: AWS_REGION, else the SDK's configuration)",
    "--profile": "AWS named profile (default: the SDK's configuration)",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="facewatch", description="Operate facewatch: cameras, employees, site proxies, status, dashboards, alerts."
    )
    for flag, help_text in GLOBAL_OPTIONS.items():
        parser.add_argument(flag, help=help_text)
    subparsers = parser.add_subparsers(dest="group", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue  # a command group not built yet
        module.register(subparsers)
    _add_global_options(subparsers)
    return parser


def _add_global_options(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """GLOBAL_OPTIONS on every command parser, below the top level. SUPPRESS: a subcommand that is not given
    the option leaves what the top level parsed (argparse copies a subparser's namespace over its parent's)."""
    for command in subparsers.choices.values():
        for flag, help_text in GLOBAL_OPTIONS.items():
            if flag not in command._option_string_actions:
                command.add_argument(flag, default=argparse.SUPPRESS, help=help_text)
        for action in command._actions:
            if isinstance(action, argparse._SubParsersAction):
                _add_global_options(action)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except CommandError as error:
        print(f"facewatch: {error}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    # `python -m facewatch_cli.main` runs this file as __main__, a second copy of the module: the command
    # groups raise facewatch_cli.main.CommandError, which only facewatch_cli.main's own main() catches.
    from facewatch_cli.main import main as package_main

    raise SystemExit(package_main())
