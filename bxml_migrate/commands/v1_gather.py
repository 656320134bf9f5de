"""``bxml-migrate v1-gather``: the BXML for a Catapult v1 create-gather request body.

    bxml-migrate v1-gather FILE|- [--gather-url URL] [--root Bxml|Response] [--write-tag]
                                  [--gather-id ID] [--context-out FILE] [--strict]

The BXML goes to stdout, diagnostics to stderr.  Exit codes: 0 translated; 1 the request is
invalid (v1 would have answered 400), not JSON, has an error diagnostic, or (``--strict``) a
warning; 2 usage errors (bad arguments, unreadable file).
"""

from __future__ import annotations

import argparse
import json
import sys

from bxml_migrate.json_input import (
    JsonInputError,
    UsageError,
    print_diagnostics,
    read_json,
    write_stdout,
)
from translators.attribute_rules import Url
from translators.catapult import InvalidGatherContext, InvalidRequest, catapult_gather_to_bxml
from translators.catapult.gather import ROOTS
from translators.catapult.gather_context import check_gather_id
from translators.errors import TranslationError

PROG = "bxml-migrate v1-gather"


def _url(value: str) -> str:
    try:
        return Url().parse(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _gather_id(value: str) -> str:
    try:
        return check_gather_id(value)
    except InvalidGatherContext as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "v1-gather",
        help="translate a Catapult v1 gather request body (JSON) into BXML",
        description="Print the BXML <Gather> for the JSON body of a v1 POST .../calls/{callId}/gather request. "
                    "'-' reads stdin.",
    )
    parser.add_argument("path", metavar="FILE", help="the request body (JSON), or '-' for stdin")
    parser.add_argument("--gather-url", metavar="URL", type=_url,
                        help="where Bandwidth posts the gather event (the proxy); without it the digits are lost")
    parser.add_argument("--root", choices=ROOTS, default="Bxml",
                        help="Bxml for PUT .../calls/{callId}/bxml (default), Response for a callback reply")
    parser.add_argument("--write-tag", action="store_true",
                        help="also write the gather's v1 tag as the BXML tag (sticky for the rest of the call)")
    parser.add_argument("--gather-id", metavar="ID", type=_gather_id,
                        help="the v1 gather id to record in the gather context")
    parser.add_argument("--context-out", metavar="FILE",
                        help="write the gather context (JSON) for `bxml-migrate callback --context`")
    parser.add_argument("--strict", action="store_true", help="fail (exit 1) on any warning")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        request = read_json(args.path, code="BXM411")
    except UsageError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except JsonInputError as exc:
        print_diagnostics([exc.diagnostic], args.path)
        return 1
    try:
        translation = catapult_gather_to_bxml(request, gather_url=args.gather_url, root=args.root,
                                              strict=args.strict, write_tag=args.write_tag,
                                              gather_id=args.gather_id)
    except InvalidRequest as exc:
        print_diagnostics([exc.diagnostic], args.path)
        return 1
    except TranslationError as exc:
        print_diagnostics(exc.diagnostics, args.path)
        return 1
    print_diagnostics(translation.diagnostics, args.path)
    write_stdout(translation.bxml)
    if args.context_out is not None:
        try:
            with open(args.context_out, "w", encoding="utf-8") as out:
                out.write(json.dumps(translation.context, indent=2) + "\n")
        except OSError as exc:
            print(f"{PROG}: error: cannot write {args.context_out}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return 1 if translation.has_errors else 0

