"""TwiML mode: an unchanged TwiML app behind a Bandwidth v2 voice application.

Bandwidth-facing routes:

- ``POST /twiml/callbacks``: the v2 application's callback URL.  ``initiate`` (inbound call) and
  ``answer`` (outbound call) -> the app's voice URL (``twiml.app_url``, ``twiml.app_method``)
  with Twilio's parameters and ``X-Twilio-Signature`` -> TwiML -> BXML reply.  ``disconnect`` ->
  the status callback (``twiml.status_callback``), signed, through the outbox; 204.  Basic auth
  with Bandwidth's challenge flow when ``bandwidth.callback_username`` is set.
- ``/twiml/bw/{kind}/{signed reference}``: the URLs the proxy wrote into BXML in place of the
  app's (``twiml_urls``), each naming its call, the app URL and the method:
  ``gather`` (Twilio's empty-input rule, then the action), ``redirect``, ``action``
  (transferComplete, recordComplete, transferAnswer) answer with BXML; ``notify`` (asynchronous
  status events) answers 204 and forwards a dialled leg's end (transferDisconnect) to the
  ``statusCallback`` the TwiML gave it.  A forged reference, or one used for another call, gets 403.

A document request never fails silently: when the app is down, slow past ``twiml.timeout``,
answers non-2xx, something other than usable TwiML, or the translation has an error
diagnostic, the proxy logs why (with the call id) and answers ``twiml.fallback_bxml``.
"""

from __future__ import annotations

import base64
import logging
import time
from collections.abc import Callable, Mapping
from typing import Any

from flask import Blueprint, Response, abort, request
from werkzeug.exceptions import HTTPException

from adapter.config import Mode
from adapter.request_auth import bandwidth_callback_auth, json_event
from adapter.runtime import Runtime, runtime
from adapter.signed_refs import BadReference
from adapter.store import StoreError
from adapter.twiml_continuations import is_empty_result, take
from adapter.twiml_documents import fallback, hangup, render
from adapter.twiml_fetch import AppFailure, build_request, credentials_for, send, twilio_params
from adapter.twiml_urls import ACTION, GATHER, NOTIFY, REDIRECT, strip_userinfo
from translators.callbacks import CallbackSchemaError

log = logging.getLogger("bxml_migrate.twiml")

bp = Blueprint("twiml_mode", __name__, url_prefix="/twiml")

EVENT_MARKER_TTL = 86400.0
ACTION_EVENTS = frozenset({"transferComplete", "recordComplete", "transferAnswer"})


@bp.before_request
def _guard() -> Response | None:
    rt = runtime()
    if Mode.TWIML not in rt.modes:
        return Response("twiml mode is not configured\n", status=503, content_type="text/plain")
    if request.endpoint == "twiml_mode.application_callback":
        return bandwidth_callback_auth(rt.config)
    return None


def _bxml(document: str) -> Response:
    return Response(document, status=200, content_type="application/xml; charset=utf-8")


def _accepted(rt: Runtime) -> Response:
    response = Response(status=204)
    response.call_on_close(rt.outbox.kick)  # status callbacks queued by this request
    return response


def _log_extra(call_id: str) -> dict[str, Any]:
    return {"callId": call_id}


def _answer_with(rt: Runtime, call_id: str, produce: Callable[[], str]) -> Response:
    """The BXML ``produce`` makes, or (logged with the call id) the fallback BXML."""
    try:
        return _bxml(produce())
    except (HTTPException, CallbackSchemaError):
        raise
    except AppFailure as exc:
        log.error("call %s: %s; answering the fallback BXML", call_id, exc, extra=_log_extra(call_id))
    except StoreError as exc:
        log.error("call %s: state store failed (%s); answering the fallback BXML", call_id, exc,
                  extra=_log_extra(call_id))
    except Exception:
        log.exception("call %s: unexpected error; answering the fallback BXML", call_id, extra=_log_extra(call_id))
    return _bxml(fallback(rt))


def _params(rt: Runtime, event: Mapping[str, Any]) -> dict[str, str]:
    try:
        settings = rt.twilio_settings
    except ValueError as exc:
        raise AppFailure(f"twiml.account_sid cannot be sent as AccountSid: {exc}") from None
    return twilio_params(event, settings)


def _configured_urls(rt: Runtime) -> list[str | None]:
    return [rt.config.twiml.app_url, rt.config.twiml.status_callback]


def _from_app(rt: Runtime, call_id: str, url: str, method: str, params: Mapping[str, str],
              started: float) -> str:
    """Request ``url`` as Twilio would and translate the TwiML it answers."""
    assert rt.twiml_http is not None
    app_request = build_request(url, method, params, rt.config.twiml.auth_token or "")
    budget = rt.config.twiml.timeout - (time.monotonic() - started)
    reply = send(rt.twiml_http, app_request, budget=budget, auth=credentials_for(url, _configured_urls(rt)))
    document_url = strip_userinfo(reply.url if reply.redirects else url)
    return render(rt, call_id, reply.content, document_url)


def _first_time(rt: Runtime, event: Mapping[str, Any]) -> bool:
    key = ":".join(["twiml-event", str(event.get("callId")), str(event.get("eventType")),
                    str(event.get("eventTime"))])
    return rt.store.add_marker(key, EVENT_MARKER_TTL)


def queue_status_callback(rt: Runtime, call_id: str, url: str, method: str, params: Mapping[str, str]) -> None:
    """Persist a signed status-callback request in the outbox (delivered after this response)."""
    try:
        app_request = build_request(url, method, params, rt.config.twiml.auth_token or "")
    except AppFailure as exc:
        log.error("call %s: status callback not sent: %s", call_id, exc, extra=_log_extra(call_id))
        return
    headers = dict(app_request.headers)
    credentials = credentials_for(url, _configured_urls(rt))
    if credentials is not None:
        token = base64.b64encode(f"{credentials[0]}:{credentials[1]}".encode()).decode("ascii")
        headers["Authorization"] = f"Basic {token}"
    payload: dict[str, Any] = {"kind": "status-callback", "url": app_request.url, "method": app_request.method,
                               "headers": headers, "timeout": rt.config.twiml.timeout}
    if app_request.form is not None:
        payload["form"] = app_request.body
    rt.store.enqueue(call_id, payload)


def _reference(rt: Runtime, kind: str, token: str) -> dict[str, Any]:
    try:
        return rt.read_reference(token, kind)
    except BadReference as exc:
        log.warning("refused %s callback: %s", kind, exc)
        abort(403)


def _check_call(event: Mapping[str, Any], ref: Mapping[str, Any]) -> None:
    """The event is for the reference's call, or for a leg it dialled (transferAnswer/Disconnect)."""
    if ref["call"] not in (event.get("callId"), event.get("parentCallId")):
        abort(403, "the event is for another call than this URL")


# --- the application callback ------------------------------------------------------------------


@bp.post("/callbacks")
def application_callback() -> Response:
    started = time.monotonic()
    rt = runtime()
    event = json_event()
    kind, call_id = event["eventType"], event["callId"]
    if kind in ("initiate", "answer"):
        twiml = rt.config.twiml
        return _answer_with(rt, call_id, lambda: _from_app(
            rt, call_id, twiml.app_url or "", twiml.app_method, _params(rt, event), started))
    if kind == "disconnect":
        # translated before anything is written: a malformed event is a 400 that leaves no marker
        params = _params_or_log(rt, event) if rt.config.twiml.status_callback else None
        with rt.store.batch():  # one commit for the marker, the status callback and the call's end
            if _first_time(rt, event):
                if rt.config.twiml.status_callback and params is not None:
                    queue_status_callback(rt, call_id, rt.config.twiml.status_callback,
                                          rt.config.twiml.status_callback_method, params)
                rt.store.end_call(call_id)
        return _accepted(rt)
    log.info("call %s: %s event ignored", call_id, kind, extra=_log_extra(call_id))
    return Response(status=204)


def _params_or_log(rt: Runtime, event: Mapping[str, Any]) -> dict[str, str] | None:
    try:
        return _params(rt, event)
    except AppFailure as exc:
        log.error("call %s: status callback not sent: %s", event.get("callId"), exc,
                  extra=_log_extra(str(event.get("callId"))))
        return None


# --- the URLs written into BXML ------------------------------------------------------------------


def _gather_document(rt: Runtime, ref: Mapping[str, Any], event: Mapping[str, Any], started: float) -> str:
    call_id = ref["call"]
    params = _params(rt, event)
    rest = ref.get("rest")
    if is_empty_result(params) and not ref.get("empty"):
        if rest is None:
            log.info("call %s: no input and no verb after <Gather>: the call ends", call_id,
                     extra=_log_extra(call_id))
            return hangup()
        continuation = take(rt.store, call_id, rest)
        if continuation is None:
            raise AppFailure("no input, but the verbs after <Gather> are no longer stored "
                             "(already served, or expired)")
        log.info("call %s: no input: continuing after <Gather> without requesting the action", call_id,
                 extra=_log_extra(call_id))
        return render(rt, call_id, continuation.twiml, continuation.document_url)
    if rest is not None:
        take(rt.store, call_id, rest)  # input arrived: the verbs after <Gather> are never run
    return _from_app(rt, call_id, ref["url"], ref["method"], params, started)


@bp.route(f"/bw/{GATHER}/<token>", methods=["GET", "POST"])
def gather_event(token: str) -> Response:
    started = time.monotonic()
    rt = runtime()
    ref = _reference(rt, GATHER, token)
    event = json_event(expect_call=ref["call"], expect_type="gather")
    return _answer_with(rt, ref["call"], lambda: _gather_document(rt, ref, event, started))


@bp.route(f"/bw/{REDIRECT}/<token>", methods=["GET", "POST"])
def redirect_event(token: str) -> Response:
    started = time.monotonic()
    rt = runtime()
    ref = _reference(rt, REDIRECT, token)
    event = json_event(expect_call=ref["call"], expect_type="redirect")
    return _answer_with(rt, ref["call"], lambda: _from_app(
        rt, ref["call"], ref["url"], ref["method"], _params(rt, event), started))


@bp.route(f"/bw/{ACTION}/<token>", methods=["GET", "POST"])
def action_event(token: str) -> Response:
    started = time.monotonic()
    rt = runtime()
    ref = _reference(rt, ACTION, token)
    event = json_event()
    _check_call(event, ref)
    if event["eventType"] not in ACTION_EVENTS:
        abort(400, f"expected one of {', '.join(sorted(ACTION_EVENTS))}, got {event['eventType']}")
    # transferAnswer comes from the dialled leg: the document (and its URLs) is that leg's
    leg = event["callId"]
    return _answer_with(rt, leg, lambda: _from_app(rt, leg, ref["url"], ref["method"], _params(rt, event),
                                                   started))


def _status_event(ref: Mapping[str, Any]) -> dict[str, Any]:
    """An asynchronous event (conference events, for one, carry no ``callId``) of the reference's call."""
    event = request.args.to_dict() if request.method == "GET" else request.get_json(silent=True)
    if not isinstance(event, dict) or not isinstance(event.get("eventType"), str):
        abort(400, "expected a Bandwidth v2 event with eventType")
    if event.get("callId") is not None or event.get("parentCallId") is not None:
        _check_call(event, ref)
    return event


@bp.route(f"/bw/{NOTIFY}/<token>", methods=["GET", "POST"])
def notify_event(token: str) -> Response:
    rt = runtime()
    ref = _reference(rt, NOTIFY, token)
    event = _status_event(ref)
    kind, call_id = event["eventType"], ref["call"]
    if kind == "transferDisconnect":
        if not isinstance(event.get("callId"), str):
            abort(400, "a transferDisconnect event needs its callId")
        params = _params_or_log(rt, event)  # before the marker: a malformed event (400) leaves none
        with rt.store.batch():
            if _first_time(rt, event) and params is not None:
                queue_status_callback(rt, call_id, ref["url"], ref["method"], params)
    else:
        log.info("call %s: %s event has no Twilio request mapping; not forwarded to %s", call_id, kind,
                 ref["url"], extra=_log_extra(call_id))
    return _accepted(rt)
