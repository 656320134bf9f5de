"""Bandwidth v2 webhooks -> the request parameters a TwiML app expects (twiml.md §5).

All values are strings (they are sent form-encoded).  Unknown and v2-only fields are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from translators.callbacks.call_sid import twilio_call_sid
from translators.callbacks.event_map import EventMap, Field, Source, apply_map
from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.schemas import V2_EVENT_FIELDS
from translators.callbacks.settings import TwilioSettings

# v2 disconnect cause -> Twilio final CallStatus; anything else (errors) -> TWILIO_OTHER_STATUS.
V2_CAUSE_TO_TWILIO_STATUS: dict[str, str] = {
    "hangup": "completed",
    "busy": "busy",
    "timeout": "no-answer",
    "cancel": "canceled",
    "rejected": "busy",
}
TWILIO_OTHER_STATUS = "failed"
# v2 direction -> Twilio Direction (a leg with a parentCallId is a <Transfer> leg: "outbound-dial").
V2_DIRECTION_TO_TWILIO: dict[str, str] = {"inbound": "inbound", "outbound": "outbound-api"}
SPEECH_TIMEOUT_PREFIX = "Speech timeout elapsed"  # Bandwidth's "no speech" text (bxml-v2.md §3.2)


def _account_sid(src: Source) -> str:
    assert src.twilio is not None
    return src.twilio.account_sid


def _api_version(src: Source) -> str:
    assert src.twilio is not None
    return src.twilio.api_version


def _call_sid(src: Source) -> str:
    return twilio_call_sid(src.event["callId"])


def _parent_call_sid(src: Source) -> str | None:
    parent = src.event.get("parentCallId")
    return twilio_call_sid(parent) if parent else None


def twilio_direction(src: Source) -> str:
    if src.event.get("parentCallId"):
        return "outbound-dial"
    direction = src.event["direction"]
    if direction not in V2_DIRECTION_TO_TWILIO:
        raise CallbackSchemaError(("direction",), f"direction {direction!r} is neither inbound nor outbound")
    return V2_DIRECTION_TO_TWILIO[direction]


def _digits(src: Source) -> str:
    return src.event.get("digits") or ""


def _finished_on_key(src: Source) -> str:
    return src.event.get("terminatingDigit") or ""


def speech_result(src: Source) -> str | None:
    text = src.event.get("text")
    if not text or text.startswith(SPEECH_TIMEOUT_PREFIX):
        return None
    return text


def _forwarded_from(src: Source) -> str | None:
    diversion = src.event.get("diversion") or {}
    orig_to = diversion.get("origTo")
    return orig_to if isinstance(orig_to, str) and orig_to else None


def final_status(src: Source) -> str:
    return V2_CAUSE_TO_TWILIO_STATUS.get(src.event["cause"], TWILIO_OTHER_STATUS)


def _time(src: Source, name: str) -> datetime | None:
    raw = src.event.get(name)
    if not raw:
        return None
    try:
        moment = datetime.fromisoformat(raw)
    except ValueError:
        raise CallbackSchemaError((name,), f"{name} {raw!r} is not an ISO-8601 time") from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)  # v2 times are UTC


def call_duration(src: Source) -> str:
    """Whole seconds from ``answerTime`` to ``endTime`` (rounded down); ``0`` if never answered."""
    answered, ended = _time(src, "answerTime"), _time(src, "endTime")
    if answered is None or ended is None:
        return "0"
    return str(max(int((ended - answered).total_seconds()), 0))


def _common(call_status: Field) -> tuple[Field, ...]:
    """The parameters of every Twilio voice request (twiml.md §5.2)."""
    return (
        Field("AccountSid", "(settings)", derive=_account_sid, note="configured"),
        Field("ApiVersion", "(settings)", derive=_api_version, note="`2010-04-01`"),
        Field("CallSid", "callId", derive=_call_sid, note="`CA` + 32 hex of SHA-256(callId): stable per call"),
        call_status,
        Field("Called", "to", note="legacy alias of To"),
        Field("Caller", "from", note="legacy alias of From"),
        Field("Direction", "direction, parentCallId", derive=twilio_direction,
              note="inbound → `inbound`, outbound → `outbound-api`; a leg with parentCallId → `outbound-dial`"),
        Field("From", "from"),
        Field("To", "to"),
        Field("ParentCallSid", "parentCallId", derive=_parent_call_sid, note="only on legs with a parentCallId"),
    )


_REQUIRED = ("callId", "from", "to", "direction")

GATHER = EventMap("v2 gather → Twilio Gather action", "gather", (
    *_common(Field("CallStatus", constant="in-progress")),
    Field("Digits", "digits", derive=_digits, note='absent or null: `""`'),
    Field("FinishedOnKey", "terminatingDigit", derive=_finished_on_key, note='`""` when no terminator ended it'),
    Field("SpeechResult", "text", derive=speech_result,
          note="speech gathers only; left out when Bandwidth reports a speech timeout"),
    Field("msg", constant="Gather End", note="seen in Twilio's real Gather action requests; undocumented"),
), required=_REQUIRED, known=V2_EVENT_FIELDS["gather"])

INITIATE = EventMap("v2 initiate → Twilio voice URL request", "initiate", (
    *_common(Field("CallStatus", constant="ringing", note="first request of an inbound call")),
    Field("ForwardedFrom", "diversion.origTo", derive=_forwarded_from, note="only for diverted calls"),
), required=_REQUIRED, known=V2_EVENT_FIELDS["initiate"])

ANSWER = EventMap("v2 answer → Twilio voice URL request", "answer", (
    *_common(Field("CallStatus", constant="in-progress")),
), required=_REQUIRED, known=V2_EVENT_FIELDS["answer"])

DISCONNECT = EventMap("v2 disconnect → Twilio status callback", "disconnect", (
    *_common(Field("CallStatus", "cause", derive=final_status,
                   note="hangup → completed, busy → busy, timeout → no-answer, cancel → canceled, rejected → "
                        "busy, anything else → failed")),
    Field("CallDuration", "answerTime, endTime", derive=call_duration,
          note="whole seconds answered (rounded down); `0` if never answered"),
), required=(*_REQUIRED, "cause"), known=V2_EVENT_FIELDS["disconnect"])


def _source(event: Mapping[str, Any], settings: TwilioSettings) -> Source:
    if not isinstance(settings, TwilioSettings):
        raise TypeError("settings must be TwilioSettings")
    return Source(event, twilio=settings)


def v2_gather_to_twilio(event: Mapping[str, Any], settings: TwilioSettings) -> dict[str, str]:
    """A v2 ``gather`` event -> the parameters of the Twilio ``<Gather action>`` request.

    - ``AccountSid``: ``settings.account_sid``; ``ApiVersion``: ``settings.api_version``
    - ``CallSid``: ``twilio_call_sid(callId)``
    - ``CallStatus``: ``"in-progress"``
    - ``From``/``Caller``: v2 ``from``; ``To``/``Called``: v2 ``to``
    - ``Direction``: ``inbound`` / ``outbound-api`` from v2 ``direction``; ``outbound-dial`` on a leg
      with ``parentCallId``, which also gives ``ParentCallSid``
    - ``Digits``: v2 ``digits`` (``""`` when none)
    - ``FinishedOnKey``: v2 ``terminatingDigit`` (``""`` when none)
    - ``SpeechResult``: v2 ``text`` for speech gathers (left out for Bandwidth's speech-timeout text)
    - ``msg``: ``"Gather End"``, as Twilio's real Gather action requests carry (undocumented)

    ``Confidence`` is never sent: no v2 field carries it.
    """
    return apply_map(GATHER, _source(event, settings)).payload


def v2_initiate_to_twilio(event: Mapping[str, Any], settings: TwilioSettings) -> dict[str, str]:
    """A v2 ``initiate`` (inbound call) -> the parameters of the request to the app's voice URL.

    - ``AccountSid``, ``ApiVersion``: from ``settings``
    - ``CallSid``: ``twilio_call_sid(callId)``
    - ``CallStatus``: ``"ringing"`` (Twilio's first request of an inbound call)
    - ``From``/``Caller``: v2 ``from``; ``To``/``Called``: v2 ``to``
    - ``Direction``: ``"inbound"`` (``ParentCallSid`` only on legs with ``parentCallId``)
    - ``ForwardedFrom``: v2 ``diversion.origTo``, for diverted calls
    """
    return apply_map(INITIATE, _source(event, settings)).payload


def v2_answer_to_twilio(event: Mapping[str, Any], settings: TwilioSettings) -> dict[str, str]:
    """A v2 ``answer`` (outbound call answered) -> the parameters of the request to the app's URL.

    - ``AccountSid``, ``ApiVersion``: from ``settings``
    - ``CallSid``: ``twilio_call_sid(callId)``
    - ``CallStatus``: ``"in-progress"``
    - ``From``/``Caller``: v2 ``from``; ``To``/``Called``: v2 ``to``
    - ``Direction``: ``"outbound-api"`` (``outbound-dial`` and ``ParentCallSid`` on legs with
      ``parentCallId``)
    """
    return apply_map(ANSWER, _source(event, settings)).payload


def v2_disconnect_to_twilio(event: Mapping[str, Any], settings: TwilioSettings) -> dict[str, str]:
    """A v2 ``disconnect`` -> the parameters of the Twilio status callback.

    - ``AccountSid``, ``ApiVersion``: from ``settings``
    - ``CallSid``: ``twilio_call_sid(callId)``
    - ``CallStatus``: from v2 ``cause``: hangup -> ``completed``, busy -> ``busy``, timeout -> ``no-answer``,
      cancel -> ``canceled``, rejected -> ``busy``, anything else -> ``failed``
    - ``CallDuration``: whole seconds from ``answerTime`` to ``endTime`` (``"0"`` if never answered)
    - ``From``/``Caller``: v2 ``from``; ``To``/``Called``: v2 ``to``
    - ``Direction``: ``inbound`` / ``outbound-api`` (``outbound-dial`` and ``ParentCallSid`` on legs with
      ``parentCallId``)
    """
    return apply_map(DISCONNECT, _source(event, settings)).payload
