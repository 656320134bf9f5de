"""Bandwidth v2 webhooks -> the Catapult v1 events a v1 app expects (catapult-v1.md §5, §6).

v1 values are strings; v2 call ids are kept (they already look like ``c-...``); ``time`` is
v2's ``eventTime``; ``callUri`` is the v1 call URL built from ``V1Settings``.  v2 fields v1
never had (``accountId``, ``startTime`` ...) and unknown fields are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translators.callbacks.context_input import ContextInput, gather_context
from translators.callbacks.event_map import EventMap, Field, Source, apply_map
from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.schemas import V2_EVENT_FIELDS
from translators.callbacks.settings import V1Settings
from translators.catapult.gather_context import BXML_DEFAULT_MAX_DIGITS

# v2 disconnect cause -> v1 hangup cause (catapult-v1.md §6); any other cause -> V1_OTHER_CAUSE.
V2_CAUSE_TO_V1: dict[str, str] = {
    "hangup": "NORMAL_CLEARING",
    "busy": "USER_BUSY",
    "rejected": "CALL_REJECTED",
    "cancel": "ORIGINATOR_CANCEL",
    "timeout": "NO_ANSWER",
}
V1_OTHER_CAUSE = "UNSPECIFIED"  # v1's "internal error" family (catapult-v1.md §5.7)


def _call_uri(src: Source) -> str:
    assert src.v1 is not None
    return src.v1.call_uri(src.event["callId"])


def digits_of(src: Source) -> str:
    return src.event.get("digits") or ""


def gather_reason(src: Source) -> str:
    """terminating-digit, max-digits or inter-digit-timeout, in that order (catapult-v1.md §6)."""
    if src.event.get("terminatingDigit"):
        return "terminating-digit"
    max_digits = src.context.max_digits if src.context else BXML_DEFAULT_MAX_DIGITS
    if len(digits_of(src)) >= max_digits:
        return "max-digits"
    return "inter-digit-timeout"


def _context_tag(src: Source) -> str | None:
    return src.context.tag if src.context else None


def _context_gather_id(src: Source) -> str | None:
    return src.context.gather_id if src.context else None


def _terminating_digit(src: Source) -> str | None:
    return src.event.get("terminatingDigit") or None


def hangup_cause(src: Source) -> str:
    return V2_CAUSE_TO_V1.get(src.event["cause"], V1_OTHER_CAUSE)


_CALL_ID = Field("callId", "callId", note="the v2 call id, kept")
_CALL_URI = Field("callUri", "callId", derive=_call_uri, note="`{api_base}/v1/users/{userId}/calls/{callId}`")
_TIME = Field("time", "eventTime")
_CALL_TAG = Field("tag", "tag", note="the call's tag, when it has one")
_FROM, _TO = Field("from", "from"), Field("to", "to")
_GATHER_ID = Field("gatherId", "context.gatherId", derive=_context_gather_id,
                   note="the id the proxy minted at create time; left out without one (BXM503)")
_GATHER_TAG = Field("tag", "context.tag", derive=_context_tag,
                    note="the v1 gather's own tag (the sticky v2 tag is not the gather's); left out without one")

GATHER = EventMap("v2 gather → v1 gather", "gather", (
    Field("eventType", constant="gather"),
    Field("state", constant="completed", note="v1 gather events always report a completed gather"),
    Field("digits", "digits", derive=digits_of, note='absent or null: `""`'),
    Field("reason", "terminatingDigit, digits, context.maxDigits", derive=gather_reason,
          note="`terminating-digit` when terminatingDigit is non-empty, `max-digits` when len(digits) ≥ the "
               "context's maxDigits (50 without a context), else `inter-digit-timeout`"),
    _CALL_ID, _CALL_URI, _GATHER_ID, _TIME, _GATHER_TAG,
    Field("terminatingDigit", "terminatingDigit", derive=_terminating_digit,
          note="only when non-empty (v1 BXML gather events carried it; keeps v2 → v1 → v2 lossless)"),
), required=("callId", "eventTime"), known=V2_EVENT_FIELDS["gather"])

GATHER_HUNG_UP = EventMap("v2 disconnect → v1 gather (hung-up)", "disconnect", (
    Field("eventType", constant="gather"),
    Field("state", constant="completed"),
    Field("digits", constant="", note="v2 does not report keys pressed before the hang-up"),
    Field("reason", constant="hung-up"),
    _CALL_ID, _CALL_URI, _GATHER_ID, _TIME, _GATHER_TAG,
), required=("callId", "eventTime"), known=V2_EVENT_FIELDS["disconnect"])

DTMF = EventMap("v2 dtmf → v1 dtmf", "dtmf", (
    Field("eventType", constant="dtmf"),
    _CALL_ID, _CALL_URI,
    Field("dtmfDigit", "digit"),
    _TIME, _CALL_TAG,
), required=("callId", "eventTime", "digit"), known=V2_EVENT_FIELDS["dtmf"])

INCOMING_CALL = EventMap("v2 initiate → v1 incomingcall", "initiate", (
    Field("eventType", constant="incomingcall"),
    _CALL_ID, _CALL_URI, _FROM, _TO,
    Field("callState", constant="active", note="as v1 documented it for incomingcall"),
    Field("applicationId", "applicationId", note="the v2 application id, kept"),
    _TIME,
    Field("diversion", "diversion", note="the object, as is"),
), required=("callId", "eventTime", "from", "to"), known=V2_EVENT_FIELDS["initiate"])

ANSWER = EventMap("v2 answer → v1 answer", "answer", (
    Field("eventType", constant="answer"),
    _FROM, _TO, _CALL_ID, _CALL_URI,
    Field("callState", constant="active"),
    _TIME, _CALL_TAG,
), required=("callId", "eventTime", "from", "to"), known=V2_EVENT_FIELDS["answer"])

TIMEOUT = EventMap("v2 disconnect (timeout) → v1 timeout", "disconnect", (
    Field("eventType", constant="timeout"),
    _FROM, _TO, _CALL_ID, _CALL_URI, _TIME, _CALL_TAG,
), required=("callId", "eventTime", "from", "to", "cause"), known=V2_EVENT_FIELDS["disconnect"])

HANGUP = EventMap("v2 disconnect → v1 hangup", "disconnect", (
    Field("eventType", constant="hangup"),
    _CALL_ID, _CALL_URI, _FROM, _TO,
    Field("callState", constant="completed"),
    Field("cause", "cause", derive=hangup_cause,
          note="hangup → NORMAL_CLEARING, busy → USER_BUSY, rejected → CALL_REJECTED, cancel → "
               "ORIGINATOR_CANCEL, timeout → NO_ANSWER, anything else → UNSPECIFIED"),
    _TIME, _CALL_TAG,
), required=("callId", "eventTime", "from", "to", "cause"), known=V2_EVENT_FIELDS["disconnect"])


def _source(event: Mapping[str, Any], settings: V1Settings, context: ContextInput = None) -> Source:
    if not isinstance(settings, V1Settings):
        raise TypeError("settings must be V1Settings")
    return Source(event, context=gather_context(context), v1=settings)


def v2_gather_to_v1(event: Mapping[str, Any], settings: V1Settings,
                    context: ContextInput = None) -> dict[str, Any]:
    """A v2 ``gather`` event -> the v1 ``gather`` event.

    - ``eventType``: ``"gather"``
    - ``state``: ``"completed"``
    - ``digits``: v2 ``digits`` (absent or null -> ``""``)
    - ``reason``: ``terminating-digit`` when v2 ``terminatingDigit`` is non-empty; ``max-digits`` when
      ``len(digits) >= context.max_digits`` (50, BXML's default, without a context); else
      ``inter-digit-timeout``
    - ``callId``: v2 ``callId`` (kept)
    - ``callUri``: ``settings.call_uri(callId)``
    - ``gatherId``: ``context.gather_id`` (left out when unknown)
    - ``time``: v2 ``eventTime``
    - ``tag``: ``context.tag``, the v1 gather's own tag (left out when none; the v2 ``tag`` is the
      sticky call tag, not the gather's)
    - ``terminatingDigit``: v2 ``terminatingDigit`` when non-empty

    Dropped: every other v2 field.  Raises ``CallbackSchemaError`` without ``callId``/``eventTime``.
    """
    return apply_map(GATHER, _source(event, settings, context)).payload


def v2_disconnect_to_v1_gather(event: Mapping[str, Any], settings: V1Settings,
                               context: ContextInput = None) -> dict[str, Any]:
    """A v2 ``disconnect`` while a gather runs -> the v1 ``gather`` event that ends it.

    - ``eventType``: ``"gather"``; ``state``: ``"completed"``; ``reason``: ``"hung-up"``
    - ``digits``: ``""`` (v2 does not report keys pressed before the hang-up)
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``gatherId``: ``context.gather_id``; ``tag``: ``context.tag`` (left out when unknown)
    - ``time``: v2 ``eventTime``

    The v1 ``hangup`` event follows it (``v2_disconnect_to_v1``).
    """
    return apply_map(GATHER_HUNG_UP, _source(event, settings, context)).payload


def v2_dtmf_to_v1(event: Mapping[str, Any], settings: V1Settings) -> dict[str, Any]:
    """A v2 ``dtmf`` event (from ``<StartGather>``) -> the v1 ``dtmf`` event.

    - ``eventType``: ``"dtmf"``
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``dtmfDigit``: v2 ``digit``
    - ``time``: v2 ``eventTime``
    - ``tag``: v2 ``tag`` (the call's tag), when present

    v1's ``dtmfDuration`` has no v2 source and is left out.
    """
    return apply_map(DTMF, _source(event, settings)).payload


def v2_initiate_to_v1(event: Mapping[str, Any], settings: V1Settings) -> dict[str, Any]:
    """A v2 ``initiate`` (inbound call) -> the v1 ``incomingcall`` event.

    - ``eventType``: ``"incomingcall"``
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``from``, ``to``: the same
    - ``callState``: ``"active"``
    - ``applicationId``: v2 ``applicationId`` (kept)
    - ``time``: v2 ``eventTime``
    - ``diversion``: v2 ``diversion`` (the object), when present
    """
    return apply_map(INCOMING_CALL, _source(event, settings)).payload


def v2_answer_to_v1(event: Mapping[str, Any], settings: V1Settings) -> dict[str, Any]:
    """A v2 ``answer`` (outbound call answered) -> the v1 ``answer`` event.

    - ``eventType``: ``"answer"``
    - ``from``, ``to``: the same
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``callState``: ``"active"``
    - ``time``: v2 ``eventTime``
    - ``tag``: v2 ``tag``, when the call has one
    """
    return apply_map(ANSWER, _source(event, settings)).payload


def v2_disconnect_to_v1_timeout(event: Mapping[str, Any], settings: V1Settings) -> dict[str, Any]:
    """A v2 ``disconnect`` with ``cause`` ``timeout`` -> the v1 ``timeout`` event (outbound calls).

    - ``eventType``: ``"timeout"``
    - ``from``, ``to``: the same
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``time``: v2 ``eventTime``
    - ``tag``: v2 ``tag``, when present
    """
    payload = apply_map(TIMEOUT, _source(event, settings)).payload
    if event["cause"] != "timeout":
        raise CallbackSchemaError(("cause",), f"{TIMEOUT.name}: expected cause 'timeout', got {event['cause']!r}")
    return payload


def v2_disconnect_to_v1(event: Mapping[str, Any], settings: V1Settings) -> dict[str, Any]:
    """A v2 ``disconnect`` -> the v1 ``hangup`` event.

    - ``eventType``: ``"hangup"``
    - ``callId``: v2 ``callId``; ``callUri``: ``settings.call_uri(callId)``
    - ``from``, ``to``: the same
    - ``callState``: ``"completed"``
    - ``cause``: ``V2_CAUSE_TO_V1[cause]`` (hangup -> NORMAL_CLEARING, busy -> USER_BUSY, rejected ->
      CALL_REJECTED, cancel -> ORIGINATOR_CANCEL, timeout -> NO_ANSWER), anything else -> UNSPECIFIED
    - ``time``: v2 ``eventTime``
    - ``tag``: v2 ``tag``, when the call has one

    Dropped: ``endTime``, ``errorMessage``, ``errorId`` and the other v2-only fields.
    """
    return apply_map(HANGUP, _source(event, settings)).payload
