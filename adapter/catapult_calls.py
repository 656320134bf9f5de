"""The Catapult mode's call logic, shared by its Bandwidth-facing and v1-facing blueprints.

A v1 call sat idle between REST requests; a v2 call hangs up when its BXML runs out.  So a
call is kept *parked*: ``<Pause>`` then ``<Redirect>`` back to the proxy, forever, until the
v1 app acts.  Each v1 action (gather, audio, stop) replaces the running BXML with
``PUT .../calls/{id}/bxml``, and every document ends by going back to the park loop.

URLs Bandwidth calls are ``{public_url}/catapult/bw/{kind}/{signed reference}``; kinds are
``park`` (redirect), ``gather`` (gather event of one v1 gather) and ``dtmf``.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from flask import g, has_request_context
from lxml import etree

from adapter.runtime import Runtime
from translators.bxml_writer import element, serialize
from translators.callbacks import V1Settings, v2_to_v1_events
from translators.catapult import catapult_dtmf_listener

log = logging.getLogger("bxml_migrate.catapult")

PARK_SECONDS = 30  # a parked call redirects back to the proxy this often
EVENT_HOLD = 2.0  # events wait for the answer to Bandwidth to be sent (released then; at most this long)
USER_AGENT = "BandwidthAPI/v1 (bxml-migrate)"


def now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{datetime.now(UTC).microsecond // 1000:03d}Z"


def v1_settings(rt: Runtime) -> V1Settings:
    return _v1_settings(rt.config.catapult.user_id or "u-unconfigured", rt.public_url)


@functools.lru_cache(maxsize=16)  # frozen and checked once: every event of every call uses the same
def _v1_settings(user_id: str, api_base: str) -> V1Settings:
    return V1Settings(user_id=user_id, api_base=api_base)


def park_verbs(rt: Runtime, call_id: str) -> list[etree._Element]:
    url = rt.proxy_url("/catapult/bw/park", kind="park", call=call_id)
    return [element("Pause", {"duration": str(PARK_SECONDS)}), element("Redirect", {"redirectUrl": url})]


def document(root: str, verbs: Sequence[etree._Element]) -> str:
    node = element(root)
    for verb in verbs:
        node.append(verb)
    return serialize(node)


def start_document(rt: Runtime, call_id: str) -> str:
    """First BXML of a call: per-key dtmf events back on (as v1 sent them), then park."""
    dtmf_url = rt.proxy_url("/catapult/bw/dtmf", kind="dtmf", call=call_id)
    return document("Response", [catapult_dtmf_listener(dtmf_url), *park_verbs(rt, call_id)])


def park_document(rt: Runtime, call_id: str, root: str = "Response") -> str:
    return document(root, park_verbs(rt, call_id))


MAX_REFERENCE_CONTEXT = 1024  # bytes of JSON: a gather context larger than this stays in the store only


def gather_url(rt: Runtime, call_id: str, gather_id: str, context: Mapping[str, Any] | None = None) -> str:
    """The gather event URL of one v1 gather.  Its signed reference also carries the gather's
    context (tag, maxDigits ...) when that is small, so the v1 gather event can still be built
    if the state store lost the gather (a Redis restarted without persistence)."""
    reference: dict[str, Any] = {"kind": "gather", "call": call_id, "gather": gather_id}
    if context is not None and len(_json_text(context)) <= MAX_REFERENCE_CONTEXT:
        reference["ctx"] = dict(context)
    return rt.proxy_url("/catapult/bw/gather", **reference)


def known_call(rt: Runtime, event: Mapping[str, Any]) -> dict[str, Any] | None:
    """The record of the call of a v2 event; for an *inbound* call the store does not know (it lost
    its records: a Redis restarted without persistence), a record rebuilt from the event, so its
    v1 events still flow and the v1 app can still act on it.  Outbound calls are not rebuilt:
    their record held the v1 app's own ``callbackUrl``, which no event carries."""
    call_id = str(event["callId"])
    call = rt.store.get_call(call_id)
    if call is None and event.get("direction") == "inbound":
        log.warning("call %s: not in the state store (lost?); rebuilt from its %s event", call_id,
                    event.get("eventType"))
        ended = event.get("eventType") == "disconnect"
        call = new_call_record(event, direction="in", state="completed" if ended else "active")
        rt.store.put_call(call_id, call)
    return call


def event_target(rt: Runtime, call: Mapping[str, Any]) -> tuple[str, str, float]:
    """Where this call's v1 events go: the call's callbackUrl (outbound) or the application's."""
    url = call.get("callbackUrl") or rt.config.catapult.callback_url or ""
    method = str(call.get("callbackHttpMethod") or "POST").upper()
    timeout_ms = call.get("callbackTimeout")
    timeout = min(float(timeout_ms) / 1000, rt.config.catapult.event_timeout) if timeout_ms else \
        rt.config.catapult.event_timeout
    return url, method, timeout


def queue_events(rt: Runtime, call: Mapping[str, Any], events: Sequence[Mapping[str, Any]]) -> None:
    """Persist v1 events in the outbox, held until the current response has been sent.

    The v1 app may act on an event at once (e.g. create a gather on ``answer``); it must not
    do so before Bandwidth has received the BXML answering the webhook, or that BXML would
    replace what the app asked for.  ``adapter.app`` releases the held events when the
    response is closed; if the process dies first, the hold runs out and they go anyway.
    """
    url, method, timeout = event_target(rt, call)
    if not url:
        log.error("call %s: no v1 callback URL configured; %d event(s) not delivered", call.get("callId"),
                  len(events))
        return
    tag = call.get("tag")
    for event in events:
        body = dict(event)
        if tag is not None and body.get("eventType") in ("answer", "hangup", "timeout") and "tag" not in body:
            body["tag"] = tag  # a v1 call's tag rides on its call events
        payload: dict[str, Any] = {"url": url, "method": method, "timeout": timeout,
                                   "headers": {"User-Agent": USER_AGENT}}
        if method == "GET":
            flat = {k: (v if isinstance(v, str) else _json_text(v)) for k, v in body.items() if v is not None}
            payload["url"] = url + ("&" if "?" in url else "?") + urlencode(flat)
        else:
            payload["json"] = body
            payload["headers"]["Content-Type"] = "application/json; charset=utf-8"
        item_id = rt.store.enqueue(str(call["callId"]), payload, hold=EVENT_HOLD)
        if has_request_context():
            g.setdefault("bxml_held_items", {}).setdefault(str(call["callId"]), []).append(item_id)


def _json_text(value: Any) -> str:
    import json

    return json.dumps(value, separators=(",", ":"))


REWRITTEN_EVENTS = frozenset({"initiate", "answer", "disconnect", "gather", "dtmf"})


def check_event(rt: Runtime, event: Mapping[str, Any]) -> None:
    """Raise ``CallbackSchemaError`` (answered 400) for a v2 event of a kind the proxy rewrites
    that is malformed - before anything is written for it.  Logs nothing.  The rewrite is kept
    for the request, so ``v1_events`` of the same event without context does not redo it."""
    if event.get("eventType") in REWRITTEN_EVENTS:
        rewrite = v2_to_v1_events(event, v1_settings(rt), None)
        if has_request_context():
            g.bxml_checked_rewrite = (event, rewrite)


def v1_events(rt: Runtime, event: Mapping[str, Any], context: Mapping[str, Any] | None = None) -> list[dict]:
    checked = g.get("bxml_checked_rewrite") if context is None and has_request_context() else None
    if checked is not None and checked[0] is event:
        rewrite = checked[1]
    else:
        rewrite = v2_to_v1_events(event, v1_settings(rt), context)
    for diagnostic in rewrite.diagnostics:
        log.info("call %s: %s", event.get("callId"), diagnostic.format("v2 " + str(event.get("eventType"))))
    return rewrite.events


def new_call_record(event: Mapping[str, Any], *, direction: str, state: str, **extra: Any) -> dict[str, Any]:
    return {
        "callId": event["callId"],
        "direction": direction,
        "from": event.get("from"),
        "to": event.get("to"),
        "state": state,
        "startTime": event.get("startTime") or event.get("eventTime"),
        "activeTime": event.get("answerTime"),
        "endTime": None,
        "v2": {k: event[k] for k in ("accountId", "applicationId", "callUrl") if k in event},
        **extra,
    }


def v1_call_view(rt: Runtime, call: Mapping[str, Any]) -> dict[str, Any]:
    """``GET /v1/users/{u}/calls/{id}`` (catapult-v1.md §3.2), from what the proxy knows."""
    call_id = str(call["callId"])
    view = {
        "id": call_id,
        "direction": call.get("direction"),
        "from": call.get("from"),
        "to": call.get("to"),
        "state": call.get("state"),
        "startTime": call.get("startTime"),
        "activeTime": call.get("activeTime"),
        "endTime": call.get("endTime"),
        "callbackUrl": event_target(rt, call)[0] or None,
        "callbackHttpMethod": event_target(rt, call)[1],
        "events": v1_settings(rt).call_uri(call_id) + "/events",
        "tag": call.get("tag"),
    }
    return {k: v for k, v in view.items() if v is not None}


def file_outbound_record(rt: Runtime, call_id: str, record: Mapping[str, Any], *, wait: float = 2.0) -> None:
    """File the record of a call the v1 app created under its v2 call id, exactly once.

    The create-call response and the call's first webhook race to do it; a store marker picks
    the one that writes, the other waits (briefly) until the record is there.
    """
    if rt.store.add_marker(f"filed:{call_id}", rt.config.state.idle_ttl):
        rt.store.put_call(call_id, {**record, "callId": call_id})
        return
    deadline = time.monotonic() + wait
    while rt.store.get_call(call_id) is None and time.monotonic() < deadline:
        time.sleep(0.01)
