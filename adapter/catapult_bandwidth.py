"""Catapult mode, Bandwidth side: v2 webhooks in, park BXML out, v1 events queued.

- ``POST /catapult/callbacks``: the v2 application's callback URL (initiate, answer,
  disconnect), Basic auth with Bandwidth's challenge flow when ``callback_username`` is set.
- ``POST|GET /catapult/bw/{kind}/{reference}``: the URLs the proxy wrote into BXML (park
  redirect, gather event of one v1 gather, dtmf events), each carrying an HMAC-signed
  reference to its call (and gather); a forged or mismatched reference gets 403.

Every v1 event goes to the outbox before the response is sent and is delivered after it.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Blueprint, Response, abort, request

from adapter import catapult_calls as calls
from adapter.config import Mode
from adapter.request_auth import bandwidth_callback_auth, json_event
from adapter.runtime import Runtime, runtime
from adapter.signed_refs import BadReference
from adapter.store import GatherConflict, NotFound

log = logging.getLogger("bxml_migrate.catapult")

bp = Blueprint("catapult_bandwidth", __name__, url_prefix="/catapult")

EVENT_MARKER_TTL = 86400.0


@bp.before_request
def _guard() -> Response | None:
    rt = runtime()
    if Mode.CATAPULT not in rt.modes:
        return Response("catapult mode is not configured\n", status=503, content_type="text/plain")
    if request.endpoint == "catapult_bandwidth.application_callback":
        return bandwidth_callback_auth(rt.config)
    return None


def _bxml(document: str) -> Response:
    return Response(document, status=200, content_type="application/xml; charset=utf-8")


def _accepted() -> Response:
    return Response(status=204)


def _event(rt: Runtime, **expect: str) -> dict[str, Any]:
    """The v2 event of this request, checked whole before any of it is stored (400 otherwise)."""
    event = json_event(**expect)
    calls.check_event(rt, event)
    return event


def _first_time(rt: Runtime, event: dict[str, Any], *parts: str) -> bool:
    """False when this exact event was handled already (Bandwidth retries, duplicate deliveries)."""
    key = ":".join(["event", str(event.get("callId")), str(event.get("eventType")), *parts,
                    str(event.get("eventTime"))])
    return rt.store.add_marker(key, EVENT_MARKER_TTL)


@bp.post("/callbacks")
def application_callback() -> Response:
    rt = runtime()
    event = _event(rt)
    kind = event["eventType"]
    call_id = event["callId"]
    if kind == "initiate":
        with rt.store.batch():
            if _first_time(rt, event):
                call = calls.new_call_record(event, direction="in", state="active",
                                             activeTime=event.get("eventTime"))
                rt.store.put_call(call_id, call)
                answered = {**event, "eventType": "answer", "answerTime": event.get("eventTime")}
                calls.queue_events(rt, call, calls.v1_events(rt, event) + calls.v1_events(rt, answered))
        return _bxml(calls.start_document(rt, call_id))
    if kind == "answer":
        return _answer(rt, event, rt.store.get_call(call_id))
    if kind == "disconnect":
        _disconnect(rt, event, calls.known_call(rt, event))
        return _accepted()
    if kind == "redirect":
        return _bxml(calls.park_document(rt, call_id))
    log.info("call %s: %s event ignored", call_id, kind)
    return _accepted()


def _answer(rt: Runtime, event: dict[str, Any], call: dict[str, Any] | None) -> Response:
    call_id = event["callId"]
    if call is None:  # an outbound call the proxy did not create (or whose record expired)
        log.warning("answer for unknown call %s: parking it without v1 events", call_id)
        return _bxml(calls.start_document(rt, call_id))
    with rt.store.batch():
        if _first_time(rt, event):
            v2 = {**call.get("v2", {}), **calls.new_call_record(event, direction="out", state="active")["v2"]}
            call = rt.store.update_call(call_id, {"state": "active", "activeTime": event.get("answerTime"),
                                                  "v2": v2})
            calls.queue_events(rt, call, calls.v1_events(rt, event))
    return _bxml(calls.start_document(rt, call_id))


def _outbound_call(rt: Runtime, event: dict[str, Any], pending: str) -> dict[str, Any] | None:
    """The record of a call the v1 app created, even when this event beats the create-call response.

    Before creating the call the proxy stores its record under a nonce (``pending``) that the
    answer and disconnect URLs carry; the first of {event, create response} to arrive files
    the record under the real call id.
    """
    call_id = event["callId"]
    call = rt.store.get_call(call_id)
    if call is not None:
        return call
    record = rt.store.get_call(pending)
    if record is None:
        return None
    calls.file_outbound_record(rt, call_id, record)
    return rt.store.get_call(call_id)


@bp.route("/bw/answer/<token>", methods=["GET", "POST"])
def outbound_answer(token: str) -> Response:
    ref = _reference("answer", token)
    rt = runtime()
    event = _event(rt, expect_type="answer")
    return _answer(rt, event, _outbound_call(rt, event, ref["pending"]))


@bp.route("/bw/disconnect/<token>", methods=["GET", "POST"])
def outbound_disconnect(token: str) -> Response:
    ref = _reference("disconnect", token)
    rt = runtime()
    event = _event(rt, expect_type="disconnect")
    _disconnect(rt, event, _outbound_call(rt, event, ref["pending"]))
    return _accepted()


def _disconnect(rt: Runtime, event: dict[str, Any], call: dict[str, Any] | None) -> None:
    with rt.store.batch():  # one commit for the marker, the gather, the call, its events and its end
        _record_disconnect(rt, event, call)


def _record_disconnect(rt: Runtime, event: dict[str, Any], call: dict[str, Any] | None) -> None:
    call_id = event["callId"]
    if call is None or not _first_time(rt, event):
        return
    context = None
    open_gather = rt.store.open_gather(call_id)
    if open_gather is not None:
        completion = rt.store.complete_gather(call_id, open_gather["id"], {
            "reason": "hung-up", "completedTime": event.get("endTime") or event.get("eventTime"),
            "digits": ""})
        if completion.completed_now:
            context = completion.record.get("context")
    call = rt.store.update_call(call_id, {"state": "completed", "endTime": event.get("endTime"),
                                          "disconnectCause": event.get("cause")})
    calls.queue_events(rt, call, calls.v1_events(rt, event, context))
    rt.store.end_call(call_id)


def _reference(kind: str, token: str) -> dict[str, Any]:
    try:
        if not token.isascii():  # the HMAC check itself cannot compare non-ASCII text (TypeError)
            raise BadReference("malformed reference")
        return runtime().read_reference(token, kind)
    except BadReference as exc:
        log.warning("refused %s callback: %s", kind, exc)
        abort(403)


@bp.route("/bw/park/<token>", methods=["GET", "POST"])
def park(token: str) -> Response:
    ref = _reference("park", token)
    rt = runtime()
    return _bxml(calls.park_document(rt, ref["call"]))


@bp.route("/bw/gather/<token>", methods=["GET", "POST"])
def gather_event(token: str) -> Response:
    ref = _reference("gather", token)
    rt = runtime()
    event = _event(rt, expect_call=ref["call"], expect_type="gather")
    with rt.store.batch():  # one commit for the completion and its events
        return _record_gather(rt, ref, event)


def _record_gather(rt: Runtime, ref: dict[str, Any], event: dict[str, Any]) -> Response:
    call_id, gather_id = ref["call"], ref["gather"]
    stored = rt.store.get_gather(call_id, gather_id)
    if stored is None and not _refile_gather(rt, call_id, gather_id, ref.get("ctx"), event):
        log.warning("gather event for unknown gather %s of call %s", gather_id, call_id)
        return _bxml(calls.park_document(rt, call_id))
    context = stored.get("context") if stored is not None else ref.get("ctx")
    v1 = calls.v1_events(rt, event, context)
    try:
        completion = rt.store.complete_gather(call_id, gather_id, {
            "digits": v1[0].get("digits", ""), "reason": v1[0].get("reason"),
            "completedTime": event.get("eventTime")})
    except NotFound:  # gone since (expired, or the store lost it again)
        log.warning("gather %s of call %s vanished before its event was recorded", gather_id, call_id)
        return _bxml(calls.park_document(rt, call_id))
    if completion.completed_now:
        call = calls.known_call(rt, event) or {"callId": call_id}
        calls.queue_events(rt, call, v1)
    return _bxml(calls.park_document(rt, call_id))


def _refile_gather(rt: Runtime, call_id: str, gather_id: str, context: Any, event: dict[str, Any]) -> bool:
    """File again a gather the store lost, from the context its signed reference carries, so its
    event is still delivered (exactly once: the normal completion follows).  False when the
    reference has no context, or when another gather is open on the call (a stale event)."""
    if not isinstance(context, dict):
        return False
    calls.v1_events(rt, event, context)  # a malformed event is refused before anything is written
    try:
        rt.store.create_gather(call_id, gather_id, {"context": context, "refiled": True})
    except GatherConflict as exc:
        if not exc.taken:
            return False
    log.warning("gather %s of call %s was not in the state store (lost?); filed again from its reference",
                gather_id, call_id)
    return True


@bp.route("/bw/dtmf/<token>", methods=["GET", "POST"])
def dtmf_event(token: str) -> Response:
    ref = _reference("dtmf", token)
    rt = runtime()
    event = _event(rt, expect_call=ref["call"], expect_type="dtmf")
    with rt.store.batch():  # one commit for the marker and the event
        if _first_time(rt, event, str(event.get("digit"))):
            call = calls.known_call(rt, event) or {"callId": ref["call"]}
            calls.queue_events(rt, call, calls.v1_events(rt, event))
    return _accepted()
