"""One call per incoming event: which rewrites apply, in delivery order, with diagnostics.

The single-event functions (``v2_gather_to_v1`` ...) are pure dict -> dict.  These
dispatchers pick them by ``eventType``, add the events a v1 app expects in addition (the
``gather`` with ``hung-up`` when a call ends during a gather, ``timeout`` before ``hangup``
for an unanswered outbound call) and report what was lost as diagnostics.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from translators.callbacks import v1_to_v2, v2_to_twilio, v2_to_v1
from translators.callbacks.context_input import ContextInput, gather_context
from translators.callbacks.event_map import EventMap, Source, apply_map
from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.settings import TwilioSettings, V1Settings
from translators.diagnostics import Diagnostic, Diagnostics


@dataclass(frozen=True)
class CallbackRewrite:
    """The target events, in the order they are to be delivered, and what the rewrite lost."""

    events: list[dict[str, Any]] = field(default_factory=list)
    diagnostics: list[Diagnostic] = field(default_factory=list)


def _event_type(event: Any) -> str:
    if not isinstance(event, Mapping):
        raise CallbackSchemaError(("(event)",), "the payload must be a JSON object")
    event_type = event.get("eventType")
    if not isinstance(event_type, str) or not event_type:
        raise CallbackSchemaError(("eventType",), "the payload has no eventType")
    return event_type


def _unmapped(event_type: str, target: str, known: Mapping[str, object]) -> CallbackSchemaError:
    return CallbackSchemaError(("eventType",), f"a {event_type!r} event has no {target} counterpart "
                               f"(rewritten: {', '.join(known)})", code="BXM502")


class _Run:
    def __init__(self, src: Source) -> None:
        self.src = src
        self.events: list[dict[str, Any]] = []
        self.dropped: list[str] = []
        self.diagnostics = Diagnostics()

    def add(self, event_map: EventMap) -> None:
        mapped = apply_map(event_map, self.src)
        self.events.append(mapped.payload)
        self.dropped += [name for name in mapped.dropped if name not in self.dropped]

    def check_context(self) -> None:
        context = self.src.context
        if context is None:
            self.diagnostics.add("BXM503", "no gather context: gatherId and the gather's tag are left out and "
                                 "maxDigits is taken as 50 (BXML's default)", field="context")
        elif context.gather_id is None:
            self.diagnostics.add("BXM503", "the gather context has no gatherId: the v1 event goes without one",
                                 field="context.gatherId")

    def result(self, target: str) -> CallbackRewrite:
        if self.dropped:
            self.diagnostics.add("BXM504", f"fields unknown to the v2 schema are not sent to the {target} app: "
                                 + ", ".join(self.dropped), field=", ".join(self.dropped))
        return CallbackRewrite(self.events, self.diagnostics.items)


_V1_SINGLE: dict[str, EventMap] = {
    "dtmf": v2_to_v1.DTMF,
    "initiate": v2_to_v1.INCOMING_CALL,
    "answer": v2_to_v1.ANSWER,
}
_V1_EVENTS = ("gather", *_V1_SINGLE, "disconnect")


def v2_to_v1_events(event: Mapping[str, Any], settings: V1Settings,
                    context: ContextInput = None) -> CallbackRewrite:
    """The v1 events for one v2 webhook, in delivery order.

    ``context`` is the gather running on the call, if any (``GatherContext`` or its dict form).
    gather -> [gather]; dtmf -> [dtmf]; initiate -> [incomingcall]; answer -> [answer];
    disconnect -> [gather (hung-up) if a gather runs] + [timeout if an outbound call was not
    answered] + [hangup].  Other event types raise ``CallbackSchemaError`` (BXM502).
    """
    event_type = _event_type(event)
    run = _Run(Source(event, context=gather_context(context), v1=settings))
    if event_type == "gather":
        run.check_context()
        run.add(v2_to_v1.GATHER)
    elif event_type in _V1_SINGLE:
        run.add(_V1_SINGLE[event_type])
    elif event_type == "disconnect":
        if run.src.context is not None:
            run.check_context()
            run.add(v2_to_v1.GATHER_HUNG_UP)
        if event.get("cause") == "timeout" and event.get("direction") == "outbound":
            run.add(v2_to_v1.TIMEOUT)
        run.add(v2_to_v1.HANGUP)
    else:
        raise _unmapped(event_type, "v1", dict.fromkeys(_V1_EVENTS))
    return run.result("v1")


_TWILIO: dict[str, EventMap] = {
    "gather": v2_to_twilio.GATHER,
    "initiate": v2_to_twilio.INITIATE,
    "answer": v2_to_twilio.ANSWER,
    "disconnect": v2_to_twilio.DISCONNECT,
}


def v2_to_twilio_params(event: Mapping[str, Any], settings: TwilioSettings) -> CallbackRewrite:
    """The Twilio request parameters for one v2 webhook (exactly one event).

    gather -> Gather action parameters; initiate / answer -> voice-URL parameters;
    disconnect -> status-callback parameters.  Other types (e.g. ``dtmf``: Twilio has no
    per-key webhook) raise ``CallbackSchemaError`` (BXM502).
    """
    event_type = _event_type(event)
    if event_type not in _TWILIO:
        raise _unmapped(event_type, "Twilio", _TWILIO)
    run = _Run(Source(event, twilio=settings))
    run.add(_TWILIO[event_type])
    return run.result("Twilio")


def v1_to_v2_event(event: Mapping[str, Any], context: ContextInput = None, *,
                   call: Mapping[str, Any] | None = None) -> CallbackRewrite:
    """The v2 webhook for one recorded v1 event (gather or dtmf), for replaying v1 traffic."""
    event_type = _event_type(event)
    if event_type == "gather":
        return CallbackRewrite([v1_to_v2.v1_gather_to_v2(event, context, call=call)])
    if event_type == "dtmf":
        return CallbackRewrite([v1_to_v2.v1_dtmf_to_v2(event, call=call)])
    raise _unmapped(event_type, "v2 (replay)", {"gather": None, "dtmf": None})
