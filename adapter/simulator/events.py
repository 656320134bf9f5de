"""Webhook payloads, shaped by the field matrix of spec §3.2.

``build_event`` writes the fields every event of a type carries (eventType, eventTime, accountId,
applicationId, from, to, direction, callId, callUrl, startTime, and answerTime / endTime / tag where
the matrix has them), then the event's own fields.  ``EVENT_FIELDS`` lists, per event type, the only
extra fields it may carry, so the simulator cannot send a field name the sheet does not have.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapter.simulator.ids import iso_ms, utc_now


@dataclass(frozen=True)
class EventShape:
    answer_time: str            # "always", "optional" (when answered) or "never"
    tag: bool                   # tag key when a tag is set
    end_time: bool              # endTime always
    fields: frozenset[str]      # the event's own fields


EVENT_SHAPES: dict[str, EventShape] = {
    "initiate": EventShape("never", False, False, frozenset({"diversion", "stirShaken", "uui"})),
    "answer": EventShape("always", True, False, frozenset()),
    "gather": EventShape("always", True, False, frozenset({"digits", "terminatingDigit"})),
    "dtmf": EventShape("always", True, False, frozenset({"digit"})),
    "redirect": EventShape("optional", True, False, frozenset()),
    "disconnect": EventShape("optional", True, True, frozenset({"cause", "errorMessage", "errorId"})),
    "transferComplete": EventShape("always", True, False,
                                   frozenset({"transferCallerId", "transferTo", "cause", "errorMessage", "errorId"})),
    "recordComplete": EventShape("always", True, False,
                                 frozenset({"recordingId", "mediaUrl", "duration", "channels", "fileFormat",
                                            "startTime", "endTime"})),
}


@dataclass(frozen=True)
class CallFacts:
    """What every event says about its call."""

    account_id: str
    application_id: str
    from_: str
    to: str
    direction: str
    call_id: str
    call_url: str
    start_time: datetime
    answer_time: datetime | None
    end_time: datetime | None
    tag: str | None


def build_event(facts: CallFacts, event_type: str, fields: Mapping[str, Any] | None = None) -> dict[str, Any]:
    shape = EVENT_SHAPES[event_type]
    extra = dict(fields or {})
    unknown = set(extra) - shape.fields
    if unknown:
        raise ValueError(f"{event_type} events have no field(s) {sorted(unknown)}")
    event: dict[str, Any] = {
        "eventType": event_type,
        "eventTime": iso_ms(utc_now()),
        "accountId": facts.account_id,
        "applicationId": facts.application_id,
        "from": facts.from_,
        "to": facts.to,
        "direction": facts.direction,
        "callId": facts.call_id,
        "callUrl": facts.call_url,
        "startTime": iso_ms(facts.start_time),
    }
    if facts.answer_time is not None and shape.answer_time != "never":
        event["answerTime"] = iso_ms(facts.answer_time)
    elif shape.answer_time == "always":
        raise ValueError(f"{event_type} events need an answered call")
    if shape.end_time:
        event["endTime"] = iso_ms(facts.end_time or utc_now())
    if shape.tag and facts.tag is not None:
        event["tag"] = facts.tag
    event.update({key: value for key, value in extra.items() if value is not None})
    return event


def query_parameters(payload: Mapping[str, Any]) -> dict[str, str]:
    """The fields as GET query parameters (spec §3.1; nested objects are JSON, an undocumented choice)."""
    params: dict[str, str] = {}
    for key, value in payload.items():
        if isinstance(value, bool):
            params[key] = "true" if value else "false"
        elif isinstance(value, dict | list):
            params[key] = json.dumps(value, separators=(",", ":"))
        else:
            params[key] = str(value)
    return params
