"""Entry point of ``bxml-migrate``.

Each subcommand lives in its own module under ``bxml_migrate.commands`` and exposes
``register(subparsers)``, which adds its parser and sets ``func`` (returning the exit
code).  Exit codes: 0 success, 1 the job found problems, 2 usage errors.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

# Module names under bxml_migrate.commands, in the order `--help` lists them.
COMMANDS = ("convert", "v1_gather", "callback", "serve")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bxml-migrate",
        description="Move TwiML and Catapult v1 voice apps onto Bandwidth Voice API v2 (BXML).",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMANDS:
        try:
            module = importlib.import_module(f"bxml_migrate.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"bxml_migrate.commands.{name}":
                continue  # not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # argparse exits 2 on usage errors, 0 on --help
        return int(exc.code or 0)
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
