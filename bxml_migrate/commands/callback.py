"""``bxml-migrate callback``: rewrite one Bandwidth v2 webhook for a v1 or Twilio app (or replay a v1
event as v2).

    bxml-migrate callback --to v1 FILE|- --user-id U [--api-base URL] [--context FILE] [--format json|form]
    bxml-migrate callback --to twilio FILE|- --account-sid AC... [--format form|json]
    bxml-migrate callback --to v2 FILE|- [--context FILE] [--call FILE]      (FILE is a v1 gather/dtmf event)

v1 output is JSON (``--format form``: the query string of a v1 GET callback, one line per event);
Twilio output is form-encoded (``--format json``: a JSON object).  A v2 disconnect during a gather
gives several v1 events: a JSON array in delivery order.  Diagnostics go to stderr.  Exit codes:
0 rewritten; 1 the payload or context is invalid or has no counterpart; 2 usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from bxml_migrate.json_input import (
    JsonInputError,
    UsageError,
    print_diagnostics,
    read_json,
    write_stdout,
)
from translators.callbacks import (
    CallbackRewrite,
    CallbackSchemaError,
    TwilioSettings,
    V1Settings,
    gather_context,
    v1_to_v2_event,
    v2_to_twilio_params,
    v2_to_v1_events,
)
from translators.callbacks.settings import V1_API_BASE
from translators.catapult import GatherContext

PROG = "bxml-migrate callback"
DEFAULT_FORMAT = {"v1": "json", "twilio": "form", "v2": "json"}


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "callback",
        help="rewrite a v2 webhook (JSON) as the v1 event(s) or Twilio parameters an app expects",
        description="Rewrite one Bandwidth v2 webhook payload for a Catapult v1 app (--to v1) or a TwiML app "
                    "(--to twilio), or replay a recorded v1 gather/dtmf event as v2 (--to v2).  '-' reads stdin.",
    )
    parser.add_argument("path", metavar="FILE", help="the event (JSON), or '-' for stdin")
    parser.add_argument("--to", required=True, choices=("v1", "twilio", "v2"), help="the target platform")
    parser.add_argument("--context", metavar="FILE",
                        help="the gather context (from `v1-gather --context-out`) of the gather running on the call")
    parser.add_argument("--format", choices=("json", "form"),
                        help="output format (default: json for v1 and v2, form for twilio)")
    parser.add_argument("--user-id", metavar="ID", help="--to v1: the v1 user id (u-...) for callUri")
    parser.add_argument("--api-base", metavar="URL", default=V1_API_BASE,
                        help=f"--to v1: scheme and host of callUri (default {V1_API_BASE})")
    parser.add_argument("--account-sid", metavar="SID", help="--to twilio: the AccountSid to send (AC + 32 hex)")
    parser.add_argument("--call", metavar="FILE",
                        help="--to v2: JSON object of the v2 call fields a v1 event lacks (from, to, accountId ...)")
    parser.set_defaults(func=run)


def _usage_error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def _form_value(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))


def render(events: Sequence[Mapping[str, Any]], output: str, *, sort_keys: bool) -> str:
    """JSON (one object, or an array for several events) or one form-encoded line per event."""
    if output == "json":
        document: Any = events[0] if len(events) == 1 else list(events)
        return json.dumps(document, indent=2, ensure_ascii=False, sort_keys=sort_keys) + "\n"
    lines = []
    for event in events:
        items = sorted(event.items()) if sort_keys else list(event.items())
        lines.append(urlencode([(name, _form_value(value)) for name, value in items]))
    return "\n".join(lines) + "\n"


def _settings(args: argparse.Namespace) -> V1Settings | TwilioSettings | None:
    if args.to == "v1":
        if args.user_id is None:
            raise UsageError("--to v1 needs --user-id (the v1 user id in callUri)")
        try:
            return V1Settings(args.user_id, args.api_base)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.to == "twilio":
        if args.account_sid is None:
            raise UsageError("--to twilio needs --account-sid (the AccountSid the app expects)")
        try:
            return TwilioSettings(args.account_sid)
        except ValueError as exc:
            raise UsageError(str(exc)) from None
    if args.format == "form":
        raise UsageError("--to v2 prints JSON; --format form does not apply")
    return None


def _check_options(args: argparse.Namespace) -> None:
    if args.to == "twilio" and args.context is not None:
        raise UsageError("--context applies to --to v1 and --to v2 only")
    if args.to != "v2" and args.call is not None:
        raise UsageError("--call applies to --to v2 only")


def _load(path: str, code: str) -> Any:
    try:
        return read_json(path, code=code)
    except JsonInputError as exc:
        print_diagnostics([exc.diagnostic], path)
        raise


def _rewrite(event: Any, settings: V1Settings | TwilioSettings | None, context: GatherContext | None,
             call: Any) -> CallbackRewrite:
    if isinstance(settings, V1Settings):
        return v2_to_v1_events(event, settings, context)
    if isinstance(settings, TwilioSettings):
        return v2_to_twilio_params(event, settings)
    return v1_to_v2_event(event, context, call=call)


def run(args: argparse.Namespace) -> int:
    try:
        _check_options(args)
        settings = _settings(args)
        event = _load(args.path, "BXM506")
        context_data = None if args.context is None else _load(args.context, "BXM505")
        call = None if args.call is None else _load(args.call, "BXM506")
    except UsageError as exc:
        return _usage_error(str(exc))
    except JsonInputError:
        return 1
    try:
        context = gather_context(context_data)
    except CallbackSchemaError as exc:
        print_diagnostics([exc.diagnostic], args.context)
        return 1
    try:
        rewrite = _rewrite(event, settings, context, call)
    except CallbackSchemaError as exc:
        in_call = any(f == "call" or f.startswith("call.") for f in exc.fields)
        where = args.call if args.call is not None and in_call else args.path
        print_diagnostics([exc.diagnostic], where)
        return 1
    print_diagnostics(rewrite.diagnostics, args.path)
    output = args.format or DEFAULT_FORMAT[args.to]
    write_stdout(render(rewrite.events, output, sort_keys=args.to == "twilio"))
    return 0
