"""The ``podbay`` command: argument parsing and dispatch.

This module is on every command's path, so it imports only the standard
library; each command's module (and the heavy parts of the runtime) is imported
when that command runs. ``podbay version`` therefore costs a bare interpreter
start (see tests/unit/test_cli.py, which checks the imports).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence

PROG = "podbay"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Run Kubernetes Pods on one Linux machine, without a cluster.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    commands.add_parser("version", help="print the podbay version")

    validate = commands.add_parser(
        "validate", help="check manifests as the API server would, and show the defaulted objects",
        description="Load, default and validate Kubernetes manifests. Prints each object, its warnings "
                    "and every error at once; exits 1 when any document is invalid.")
    validate.add_argument("-f", "--filename", action="append", required=True, metavar="FILE",
                          help="file, folder or - for stdin (repeatable)")
    validate.add_argument("-R", "--recursive", action="store_true", help="descend into sub-folders of folders")
    validate.add_argument("-o", "--output", choices=("yaml", "json", "name"),
                          help="print the defaulted objects in this format")

    explain = commands.add_parser(
        "explain", help="describe a field of a kind and whether podbay honours it",
        description="Describe a resource field, for example: podbay explain pod.spec.containers.livenessProbe")
    explain.add_argument("field", metavar="FIELD", help="RESOURCE[.field.path]")
    explain.add_argument("--recursive", action="store_true", help="list all nested fields")
    return parser


def run(argv: Sequence[str]) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "version":
        from podbay.runtime.version import __version__  # noqa: PLC0415 - lazy by design

        print(f"podbay {__version__}")
        return 0
    if args.command == "validate":
        from podbay.runtime.cli.validate import validate_command  # noqa: PLC0415

        return validate_command(args.filename, recursive=args.recursive, output=args.output)
    if args.command == "explain":
        from podbay.runtime.cli.explain import explain_command  # noqa: PLC0415

        return explain_command(args.field, recursive=args.recursive)
    parser.print_help(sys.stderr)
    return 2


def main(argv: Sequence[str] | None = None) -> int:
    try:
        return run(sys.argv[1:] if argv is None else argv)
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # Output piped into `head` and the like: not an error. Silence the flush at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
