"""Catapult mode, legacy side: the v1 REST API an unchanged v1 app calls.

``/v1/users/{userId}/...`` with Basic auth ``{api_token}:{api_secret}``; errors in v1's
shape (``adapter.v1_errors``).  Each v1 action becomes a Bandwidth v2 REST call:

| v1 request | what the proxy does |
|---|---|
| ``POST /calls/{id}/gather`` | translate, store the gather, ``PUT .../bxml`` with the ``<Gather>``; 201 + Location |
| ``GET /calls/{id}/gather/{gid}`` | the stored gather in v1's shape |
| ``POST /calls/{id}/gather/{gid}`` (state completed) | mark it completed, ``PUT`` the park loop |
| ``POST /calls/{id}/audio`` | ``PUT`` speak/play, then the park loop |
| ``POST /calls/{id}`` | ``completed``/``rejected``: v2 update call ``state=completed``; ``active``: no-op (answered) |
| ``GET /calls/{id}`` | the call as the proxy knows it |
| ``POST /calls`` | v2 create call answering at the proxy; 201 + Location |
"""

from __future__ import annotations

import logging
import re
import secrets
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from flask import Blueprint, Response, request

from adapter import catapult_calls as calls
from adapter import v1_errors
from adapter.bandwidth_api import BandwidthApiError, BandwidthUnavailable, CallConflict, CallNotFound
from adapter.basic_auth import challenge_headers, credentials_match
from adapter.config import Mode
from adapter.egress import EgressDenied
from adapter.request_auth import parse_json
from adapter.runtime import Runtime, runtime
from adapter.store import GatherConflict, NotFound
from adapter.store.base import check_id
from adapter.v1_errors import V1Error
from translators.attribute_rules import Number, RuleViolation, Url
from translators.catapult import InvalidRequest, catapult_audio_to_bxml, catapult_gather_to_bxml, mint_gather_id

log = logging.getLogger("bxml_migrate.catapult")

bp = Blueprint("catapult_rest", __name__, url_prefix="/v1/users/<user_id>")

T = TypeVar("T")
FORGET = 0  # seconds: end_call(ttl=FORGET) drops a record that must not outlive the request
CONFLICT_SETTLE = 2.0  # a just-started call may not accept BXML yet: retry a 409 this long


@bp.errorhandler(V1Error)
def _v1_error(error: V1Error) -> Response:
    headers = challenge_headers("catapult") if error.status == 401 else None
    return v1_errors.response(error, headers)


@bp.before_request
def _guard() -> None:
    rt = runtime()
    if Mode.CATAPULT not in rt.modes:
        raise v1_errors.unavailable("catapult mode is not configured on this proxy")
    cfg = rt.config.catapult
    if not credentials_match(request.headers.get("Authorization"), cfg.api_token or "", cfg.api_secret or ""):
        raise V1Error(401, "authentication", "unauthorized", "Invalid or missing API token and secret")
    args = request.view_args or {}
    user_id = args.get("user_id")
    if user_id != cfg.user_id:
        raise V1Error(401, "authorization", "user-access-denied",
                      f"User `{cfg.user_id}` does not have permission to access user `{user_id}`")
    if "call_id" in args and not _storable(args["call_id"]):  # no such call can exist
        raise v1_errors.call_not_found(args["call_id"])
    if "gather_id" in args and not _storable(args["gather_id"]):
        raise _gather_not_found(args["gather_id"])


def _storable(identifier: str) -> bool:
    try:
        check_id("id", identifier)
    except ValueError:
        return False
    return True


def _gather_not_found(gather_id: str) -> V1Error:
    return V1Error(404, "not-found", "gather-not-found", f"The gather `{gather_id}` could not be found")


def _body() -> dict[str, Any]:
    raw = request.get_data()
    if not raw:
        return {}
    try:
        data = parse_json(raw)
    except ValueError as exc:
        raise v1_errors.bad_request(f"The request body must be a JSON object ({exc})") from exc
    if not isinstance(data, dict):
        raise v1_errors.bad_request("The request body must be a JSON object")
    _check_values(data, "")
    return data


# Characters XML 1.0 cannot carry (control characters, unpaired surrogates, U+FFFE/U+FFFF): text
# with them cannot go into BXML, so it is refused up front, naming the field.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
MAX_SAFE_INTEGER = 2 ** 53  # beyond this a JSON number is not exact in most clients (nor a float here)


def _check_values(value: Any, field: str) -> None:
    """400 for values no v1 field can hold: text XML cannot carry, integers beyond 2^53."""
    if isinstance(value, str):
        if _NOT_XML.search(value):
            raise v1_errors.bad_request(f"{field or 'body'}: contains control characters or unpaired surrogates")
    elif isinstance(value, int) and not isinstance(value, bool):
        if abs(value) > MAX_SAFE_INTEGER:
            raise v1_errors.bad_request(f"{field or 'body'}: number out of range")
    elif isinstance(value, dict):
        for key, item in value.items():
            name = f"{field}.{key}" if field else str(key)
            _check_values(key, name)
            _check_values(item, name)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            _check_values(item, f"{field}[{index}]")


def _created(location: str) -> Response:
    return Response(status=201, headers={"Location": location})


def _ok() -> Response:
    return Response(status=200)  # empty, and without a JSON content type (the v1 Python client parses those)


def _json(data: Mapping[str, Any]) -> Response:
    from flask import json

    return Response(json.dumps(data), status=200, content_type="application/json")


def _live_call(rt: Runtime, call_id: str) -> dict[str, Any]:
    call = rt.store.get_call(call_id)
    if call is None:
        raise v1_errors.call_not_found(call_id)
    if call.get("state") == "completed":
        raise v1_errors.call_invalid_state(call_id, "completed")
    return call


def _bandwidth(call_id: str, action: Callable[[], T], *, app_input: bool = False) -> T:
    """Run a v2 REST call, mapping its failures to v1 errors; retry a 409 on a call still starting.

    ``app_input``: the request carries the v1 app's own values (create call), so a 400 from
    Bandwidth is the app's bad request (v1 400), not the proxy's (502)."""
    deadline = time.monotonic() + CONFLICT_SETTLE
    while True:
        try:
            return action()
        except CallConflict as exc:
            if time.monotonic() < deadline:
                time.sleep(0.1)
                continue
            raise v1_errors.call_invalid_state(call_id, "not modifiable") from exc
        except CallNotFound as exc:
            raise v1_errors.call_not_found(call_id) from exc
        except BandwidthUnavailable as exc:
            log.warning("call %s: Bandwidth API unavailable: %s", call_id, exc)
            raise v1_errors.unavailable(f"Bandwidth is unavailable ({exc.description}); retry later",
                                        503 if exc.status in (429, 503) else 502) from exc
        except BandwidthApiError as exc:
            if app_input and exc.status == 400:
                raise v1_errors.bad_request(f"Bandwidth refused the request: {exc.description}") from exc
            log.error("call %s: Bandwidth API refused the request: %s", call_id, exc)
            raise v1_errors.unavailable(f"Bandwidth refused the request: {exc.description}", 502) from exc


def _api(rt: Runtime) -> Any:
    assert rt.bandwidth is not None  # catapult mode always has one
    return rt.bandwidth


# -- gathers -----------------------------------------------------------------------------


@bp.post("/calls/<call_id>/gather")
def create_gather(user_id: str, call_id: str) -> Response:
    rt = runtime()
    body = _body()
    _live_call(rt, call_id)
    if rt.store.open_gather(call_id) is not None:
        raise v1_errors.duplicate_gather(call_id)
    gather_id = mint_gather_id()
    try:  # the context first: the gather URL carries it (see calls.gather_url)
        context = catapult_gather_to_bxml(body, root="Bxml", gather_id=gather_id).context
        translation = catapult_gather_to_bxml(body, gather_url=calls.gather_url(rt, call_id, gather_id, context),
                                              root="Bxml", gather_id=gather_id)
    except InvalidRequest as exc:
        raise v1_errors.bad_request(str(exc)) from exc
    rt.metrics.count_diagnostics(translation.diagnostics)
    for diagnostic in translation.diagnostics:
        log.info("call %s gather %s: %s", call_id, gather_id, diagnostic.format("v1 gather"))
    try:
        rt.store.create_gather(call_id, gather_id, {"context": dict(translation.context),
                                                    "createdTime": calls.now_iso()})
    except GatherConflict as exc:
        raise v1_errors.duplicate_gather(call_id) from exc
    try:
        _bandwidth(call_id, lambda: _api(rt).update_bxml(call_id, translation.bxml))
    except V1Error:
        rt.store.complete_gather(call_id, gather_id, {"reason": None, "failed": True,
                                                      "completedTime": calls.now_iso()})
        raise
    return _created(f"{calls.v1_settings(rt).call_uri(call_id)}/gather/{gather_id}")


def _gather_view(rt: Runtime, call_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
    view = {
        "id": record["id"],
        "state": "completed" if record.get("state") == "completed" else "started",
        "reason": record.get("reason"),
        "createdTime": record.get("createdTime"),
        "completedTime": record.get("completedTime"),
        "call": calls.v1_settings(rt).call_uri(call_id),
        "digits": record.get("digits"),
    }
    return {k: v for k, v in view.items() if v is not None}


def _gather(rt: Runtime, call_id: str, gather_id: str) -> dict[str, Any]:
    if rt.store.get_call(call_id) is None:
        raise v1_errors.call_not_found(call_id)
    try:
        record = rt.store.get_gather(call_id, gather_id)
    except (NotFound, ValueError):
        record = None
    if record is None:
        raise _gather_not_found(gather_id)
    return record


@bp.get("/calls/<call_id>/gather/<gather_id>")
def get_gather(user_id: str, call_id: str, gather_id: str) -> Response:
    rt = runtime()
    return _json(_gather_view(rt, call_id, _gather(rt, call_id, gather_id)))


@bp.post("/calls/<call_id>/gather/<gather_id>")
def update_gather(user_id: str, call_id: str, gather_id: str) -> Response:
    rt = runtime()
    body = {k: v for k, v in _body().items() if v is not None}
    unknown = sorted(set(body) - {"state"})
    if unknown:
        raise v1_errors.bad_request(f"{unknown[0]}: unknown field (only state can be updated)")
    if body.get("state") != "completed":
        raise v1_errors.bad_request('state: a gather can only be updated to "completed"')
    record = _gather(rt, call_id, gather_id)
    if record.get("state") == "completed":
        return _ok()
    completion = rt.store.complete_gather(call_id, gather_id, {"completedTime": calls.now_iso(), "digits": ""})
    call = rt.store.get_call(call_id)
    if completion.completed_now and call is not None and call.get("state") != "completed":
        _bandwidth(call_id, lambda: _api(rt).update_bxml(call_id, calls.park_document(rt, call_id, "Bxml")))
    return _ok()


# -- audio ---------------------------------------------------------------------------------


@bp.post("/calls/<call_id>/audio")
def audio(user_id: str, call_id: str) -> Response:
    rt = runtime()
    body = _body()
    _live_call(rt, call_id)
    try:
        translation = catapult_audio_to_bxml(body, then=calls.park_verbs(rt, call_id), root="Bxml")
    except InvalidRequest as exc:
        raise v1_errors.bad_request(str(exc)) from exc
    rt.metrics.count_diagnostics(translation.diagnostics)
    for diagnostic in translation.diagnostics:
        log.info("call %s audio: %s", call_id, diagnostic.format("v1 audio"))
    _bandwidth(call_id, lambda: _api(rt).update_bxml(call_id, translation.bxml))
    return _ok()


# -- calls -----------------------------------------------------------------------------------

_UPDATE_FIELDS = ("state", "recordingEnabled", "recordingFileFormat", "transferTo", "transferCallerId",
                  "whisperAudio", "callbackUrl")


@bp.post("/calls/<call_id>")
def update_call(user_id: str, call_id: str) -> Response:
    rt = runtime()
    body = _body()
    unknown = sorted(set(body) - set(_UPDATE_FIELDS))
    if unknown:
        raise v1_errors.bad_request(f"{unknown[0]}: unknown field")
    unsupported = [k for k in _UPDATE_FIELDS[1:] if body.get(k) not in (None, False)]
    if unsupported:
        raise v1_errors.bad_request(f"{unsupported[0]}: not supported by bxml-migrate (recording and transfer "
                                    "requests have no v1-compatible emulation)")
    state = body.get("state")
    if state is None:
        return _ok()
    if state not in ("active", "completed", "rejected"):
        raise v1_errors.bad_request(f"state: must be one of active, completed, rejected (got {state!r})")
    call = _live_call(rt, call_id)
    if state == "active":
        return _ok()  # answered already: calls are answered when the proxy parks them (auto-answer)
    _bandwidth(call_id, lambda: _api(rt).update_call(call_id, {"state": "completed"}))
    del call
    return _ok()


@bp.get("/calls/<call_id>")
def get_call(user_id: str, call_id: str) -> Response:
    rt = runtime()
    call = rt.store.get_call(call_id)
    if call is None:
        raise v1_errors.call_not_found(call_id)
    return _json(calls.v1_call_view(rt, call))


_CREATE_FIELDS = ("from", "to", "callTimeout", "callbackUrl", "callbackTimeout", "callbackHttpMethod",
                  "fallbackUrl", "bridgeId", "conferenceId", "recordingEnabled", "recordingFileFormat",
                  "recordingMaxDuration", "transcriptionEnabled", "tag", "sipHeaders")
_CREATE_UNSUPPORTED = ("fallbackUrl", "bridgeId", "conferenceId", "recordingFileFormat", "recordingMaxDuration",
                       "sipHeaders")


def _number(body: Mapping[str, Any], name: str, low: float, high: float) -> float | None:
    if body.get(name) is None:
        return None
    try:
        value = Number().parse(body[name])
    except ValueError as exc:
        raise v1_errors.bad_request(f"{name}: {exc}") from exc
    if not low <= value <= high:
        raise v1_errors.bad_request(f"The `call` resource property `{name}` must be between {low:g} and {high:g}")
    return value


@bp.post("/calls")
def create_call(user_id: str) -> Response:
    rt = runtime()
    body = _body()
    unknown = sorted(set(body) - set(_CREATE_FIELDS))
    if unknown:
        raise v1_errors.bad_request(f"{unknown[0]}: unknown field")
    for name in ("from", "to"):
        if not isinstance(body.get(name), str) or not body[name].strip():
            raise v1_errors.bad_request(f"{name}: required (a phone number or SIP URI)")
    unsupported = [k for k in _CREATE_UNSUPPORTED if body.get(k) is not None]
    unsupported += [k for k in ("recordingEnabled", "transcriptionEnabled") if body.get(k) not in (None, False)]
    if unsupported:
        raise v1_errors.bad_request(f"{unsupported[0]}: not supported by bxml-migrate")
    call_timeout = _number(body, "callTimeout", 1, 300)
    callback_timeout = _number(body, "callbackTimeout", 1, 10000)
    method = str(body.get("callbackHttpMethod") or "POST").upper()
    if method not in ("GET", "POST"):
        raise v1_errors.bad_request("callbackHttpMethod: must be GET or POST")
    callback_url = body.get("callbackUrl")
    if callback_url is not None:
        try:
            callback_url = Url().parse(callback_url)
            rt.http.policy.check_url(callback_url)
        except (ValueError, RuleViolation, EgressDenied) as exc:
            raise v1_errors.bad_request(f"The URL `{body.get('callbackUrl')}` is not a valid callbackUrl ({exc})",
                                        "callback-invalid-url") from exc
    tag = body.get("tag")
    if tag is not None and not isinstance(tag, str):
        raise v1_errors.bad_request("tag: must be a string")
    bw = rt.config.bandwidth
    if not bw.application_id:
        raise v1_errors.unavailable("bandwidth.application_id is not configured: the proxy cannot create calls")
    pending = "pending-" + secrets.token_hex(12)
    record = {
        "direction": "out", "from": body["from"], "to": body["to"], "state": "started",
        "startTime": calls.now_iso(), "callbackUrl": callback_url, "callbackHttpMethod": method,
        "callbackTimeout": callback_timeout, "tag": tag,
    }
    rt.store.put_call(pending, record)  # the answer may arrive before create_call returns
    request_body: dict[str, Any] = {
        "from": body["from"], "to": body["to"], "applicationId": bw.application_id,
        "answerUrl": rt.proxy_url("/catapult/bw/answer", kind="answer", pending=pending),
        "disconnectUrl": rt.proxy_url("/catapult/bw/disconnect", kind="disconnect", pending=pending),
    }
    if call_timeout is not None:
        request_body["callTimeout"] = call_timeout
    try:
        created = _bandwidth("(new call)", lambda: _api(rt).create_call(request_body), app_input=True)
    except V1Error as exc:
        cause = exc.__cause__
        if not (isinstance(cause, BandwidthApiError) and cause.status in (None, 500, 502, 504)):
            rt.store.end_call(pending, ttl=FORGET)  # Bandwidth answered: no call exists, forget the record
        raise
    call_id = created["callId"]
    v2 = {k: created[k] for k in ("accountId", "applicationId", "callUrl") if k in created}
    calls.file_outbound_record(rt, call_id, {**record, "v2": v2})
    rt.store.end_call(pending)
    return _created(calls.v1_settings(rt).call_uri(call_id))
