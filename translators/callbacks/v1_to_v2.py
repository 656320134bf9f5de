"""Recorded Catapult v1 events -> the Bandwidth v2 webhooks a migrated app expects (replay).

A v1 event lacks the call-level fields every v2 webhook has (``accountId``, ``from``,
``direction``, ``callUrl``, ``startTime`` ...); the caller passes them as ``call`` (e.g. from
the v2 event the v1 one was made from, or the proxy's call record).  Fields unknown to v1
are kept (v2 parsers ignore unknown keys); v1-only fields (``state``, ``reason``,
``gatherId``, ``callUri``, ``dtmfDuration``) are dropped.  v2 -> v1 -> v2 loses nothing both
schemas carry.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translators.callbacks.context_input import ContextInput, gather_context
from translators.callbacks.event_map import EventMap, Field, Source, apply_map, check_payload
from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.schemas import V1_EVENT_FIELDS, V2_CALL_FIELDS


def _digits(src: Source) -> str:
    return src.event.get("digits") or ""


def terminating_digit(src: Source) -> str:
    """v1's own ``terminatingDigit`` when present; else, for ``reason`` ``terminating-digit``, the
    gather's terminating digits when they name one key (v1's default ``#`` without a context),
    the first of them otherwise; else ``""``."""
    stated = src.event.get("terminatingDigit")
    if stated:
        return stated
    if src.event.get("reason") != "terminating-digit":
        return ""
    keys = src.context.terminating_digits if src.context else "#"
    return keys[:1]


def _call_field(name: str) -> Field:
    return Field(name, f"call.{name}", derive=lambda src: src.call.get(name), note="from `call`")


_CALL_FIELDS = tuple(_call_field(name) for name in V2_CALL_FIELDS)

GATHER = EventMap("v1 gather → v2 gather", "gather", (
    Field("eventType", constant="gather"),
    Field("eventTime", "time"),
    Field("callId", "callId"),
    Field("digits", "digits", derive=_digits, note='absent or null: `""`'),
    Field("terminatingDigit", "terminatingDigit, reason, context.terminatingDigits", derive=terminating_digit,
          note="v1's terminatingDigit, else the gather's terminating key when reason is terminating-digit, "
               'else `""`'),
    Field("tag", "tag", note="the v1 gather tag becomes the v2 tag"),
    *_CALL_FIELDS,
), required=("callId", "time"), known=V1_EVENT_FIELDS["gather"], keep_unknown=True)

DTMF = EventMap("v1 dtmf → v2 dtmf", "dtmf", (
    Field("eventType", constant="dtmf"),
    Field("eventTime", "time"),
    Field("callId", "callId"),
    Field("digit", "dtmfDigit"),
    Field("tag", "tag"),
    *_CALL_FIELDS,
), required=("callId", "time", "dtmfDigit"), known=V1_EVENT_FIELDS["dtmf"], keep_unknown=True)


def _call(call: Mapping[str, Any] | None) -> Mapping[str, Any]:
    if call is None:
        return {}
    if not isinstance(call, Mapping):
        raise CallbackSchemaError(("call",), "call must be a JSON object of v2 call fields")
    unknown = sorted(set(call) - set(V2_CALL_FIELDS))
    wrong = sorted(name for name, value in call.items() if name in V2_CALL_FIELDS and not isinstance(value, str))
    if unknown or wrong:
        parts = []
        if unknown:
            parts.append("not v2 call fields: " + ", ".join(unknown) + f" (known: {', '.join(V2_CALL_FIELDS)})")
        if wrong:
            parts.append("not strings: " + ", ".join(wrong))
        raise CallbackSchemaError([f"call.{name}" for name in unknown + wrong], "call: " + "; ".join(parts))
    return call


def v1_gather_to_v2(event: Mapping[str, Any], context: ContextInput = None, *,
                    call: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A recorded v1 ``gather`` event -> the v2 ``gather`` webhook.

    - ``eventType``: ``"gather"``
    - ``eventTime``: v1 ``time``
    - ``callId``: v1 ``callId``
    - ``digits``: v1 ``digits`` (absent or null -> ``""``)
    - ``terminatingDigit``: v1 ``terminatingDigit``; without it, for ``reason`` ``terminating-digit`` the
      gather's terminating key (``context.terminating_digits``, ``#`` without a context), else ``""``
    - ``tag``: v1 ``tag``, when present
    - ``accountId``, ``applicationId``, ``from``, ``to``, ``direction``, ``callUrl``, ``parentCallId``,
      ``enqueuedTime``, ``startTime``, ``answerTime``, ``transferCallerId``, ``transferTo``: from ``call``

    Dropped: ``state``, ``reason``, ``gatherId``, ``callUri`` (v2 has none of them).  Raises
    ``CallbackSchemaError`` for ``reason`` ``hung-up``: v2 reports that as a ``disconnect``, not a gather.
    """
    checked = check_payload(GATHER, event)
    state = checked.get("state")
    if state is not None and state != "completed":
        raise CallbackSchemaError(("state",), f"{GATHER.name}: a gather event has state 'completed', got {state!r}")
    if checked.get("reason") == "hung-up":
        raise CallbackSchemaError(("reason",), f"{GATHER.name}: a gather that ended because the caller hung up "
                                  "has no v2 gather event (v2 sends a disconnect)", code="BXM502")
    return apply_map(GATHER, Source(event, context=gather_context(context), call=_call(call))).payload


def v1_dtmf_to_v2(event: Mapping[str, Any], *, call: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """A recorded v1 ``dtmf`` event -> the v2 ``dtmf`` webhook.

    - ``eventType``: ``"dtmf"``
    - ``eventTime``: v1 ``time``
    - ``callId``: v1 ``callId``
    - ``digit``: v1 ``dtmfDigit``
    - ``tag``: v1 ``tag``, when present
    - ``accountId``, ``applicationId``, ``from``, ``to``, ``direction``, ``callUrl``, ``parentCallId``,
      ``enqueuedTime``, ``startTime``, ``answerTime``, ``transferCallerId``, ``transferTo``: from ``call``

    Dropped: ``callUri``, ``dtmfDuration`` (v2 has neither).
    """
    return apply_map(DTMF, Source(event, call=_call(call))).payload
