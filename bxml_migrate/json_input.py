"""Reading one JSON document from a file or stdin for the JSON-based subcommands.

An unreadable path is a usage error (exit 2, ``UsageError``); text that is not JSON is bad
input (exit 1, ``JsonInputError`` carrying a diagnostic with line and column).
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable
from typing import Any

from translators.diagnostics import Diagnostic, rule

STDIN = "-"
STDIN_NAME = "<stdin>"


class UsageError(Exception):
    """A bad command line (exit 2)."""


class JsonInputError(Exception):
    """The input is not JSON (exit 1); ``diagnostic`` says where."""

    def __init__(self, diagnostic: Diagnostic) -> None:
        super().__init__(diagnostic.message)
        self.diagnostic = diagnostic


def display_name(path: str) -> str:
    return STDIN_NAME if path == STDIN else path


def read_json(path: str, *, code: str) -> Any:
    """The parsed document; ``code`` is the diagnostic for malformed JSON (e.g. BXM411)."""
    try:
        data = sys.stdin.buffer.read() if path == STDIN else open(path, "rb").read()  # noqa: SIM115
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror or exc}") from None
    severity = rule(code).severity.value
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise JsonInputError(Diagnostic(code, severity, f"not UTF-8 text (byte {exc.start})")) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise JsonInputError(Diagnostic(code, severity, f"not valid JSON: {exc.msg}", exc.lineno,
                                        exc.colno)) from None


def print_diagnostics(diagnostics: Iterable[Diagnostic], path: str) -> None:
    lines = [d.format(display_name(path)) for d in diagnostics]
    if lines:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()


def write_stdout(text: str) -> None:
    buffer = getattr(sys.stdout, "buffer", None)
    if buffer is None:
        sys.stdout.write(text)
    else:
        buffer.write(text.encode("utf-8"))
    sys.stdout.flush()
