"""The Voice API v2 REST endpoints the simulator serves (spec §5).

Transport-free: ``RestApi.handle`` takes a request's parts and returns a ``Reply``; ``server.py``
puts it on HTTP.  Every request, its answer and any injected fault is recorded in the journal.
"""

from __future__ import annotations

import base64
import binascii
import hmac
import json
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from adapter.simulator.bxml import PUT_ROOT, WEBHOOK_ROOT, InvalidBxml, parse_document
from adapter.simulator.call import Interrupt, SimulatedCall
from adapter.simulator.delivery import Target, credentials
from adapter.simulator.faults import ERROR_TYPES, Fault
from adapter.simulator.ids import iso_ms
from adapter.simulator.records import DocumentRecord, RestRecord

if TYPE_CHECKING:
    from adapter.simulator.simulator import BandwidthSimulator

JSON_ERROR_TYPE = "application/json;charset=UTF-8"
_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_PRIVATE_NAMES = ("Restricted", "Anonymous", "Private", "Unavailable")

FieldCheck = Callable[[Any], str | None]


@dataclass
class Reply:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    hang: float | None = None   # hold the connection this long, then drop it without answering


class RestError(Exception):
    def __init__(self, status: int, description: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.headers = dict(headers or {})


def error_reply(status: int, description: str | None = None, headers: Mapping[str, str] | None = None) -> Reply:
    kind, default = ERROR_TYPES.get(status, ("error", "Error"))
    body = json.dumps({"type": kind, "description": description or default, "id": None}).encode()
    return Reply(status, {"Content-Type": JSON_ERROR_TYPE, **(headers or {})}, body)


def json_reply(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Reply:
    return Reply(status, {"Content-Type": "application/json", **(headers or {})}, json.dumps(payload).encode())


# --- request body checks ------------------------------------------------------------------

def _string(limit: int | None = None, pattern: Callable[[str], str | None] | None = None) -> FieldCheck:
    def check(value: Any) -> str | None:
        if not isinstance(value, str):
            return "must be a string"
        if limit is not None and len(value) > limit:
            return f"must be at most {limit} characters"
        return pattern(value) if pattern else None
    return check


def _number(low: float, high: float, *, integer: bool = False) -> FieldCheck:
    def check(value: Any) -> str | None:
        if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
            return "must be a number"
        if integer and value != int(value):
            return "must be an integer"
        return None if low <= value <= high else f"must be between {low:g} and {high:g}"
    return check


def _url_text(value: str) -> str | None:
    parts = urlsplit(value)
    return None if parts.scheme in ("http", "https") and parts.netloc else "must be an absolute http(s) URL"


def _method_text(value: str) -> str | None:
    return None if value in ("GET", "POST") else "must be GET or POST"


def _e164(value: str) -> str | None:
    return None if _E164.match(value) else "must be an E164 telephone number"


def _to_text(value: str) -> str | None:
    return None if _E164.match(value) or value.startswith("sip:") else "must be an E164 telephone number or SIP URI"


def _boolean(value: Any) -> str | None:
    return None if isinstance(value, bool) else "must be a boolean"


def _object(value: Any) -> str | None:
    return None if isinstance(value, dict) else "must be an object"


_URL = _string(2048, _url_text)
_METHOD = _string(None, _method_text)
_SECRET = _string(1024)

CREATE_CALL_FIELDS: dict[str, FieldCheck] = {
    "to": _string(None, _to_text), "from": _string(None, _e164), "applicationId": _string(),
    "answerUrl": _URL, "answerMethod": _METHOD, "answerFallbackUrl": _URL, "answerFallbackMethod": _METHOD,
    "username": _SECRET, "password": _SECRET, "fallbackUsername": _SECRET, "fallbackPassword": _SECRET,
    "disconnectUrl": _URL, "disconnectMethod": _METHOD, "callTimeout": _number(1, 300),
    "callbackTimeout": _number(1, 25), "tag": _string(4096), "privacy": _boolean, "displayName": _string(256),
    "uui": _string(350), "priority": _number(1, 5, integer=True), "machineDetection": _object,
}
CREATE_CALL_REQUIRED = ("to", "from", "applicationId", "answerUrl")

UPDATE_CALL_FIELDS: dict[str, FieldCheck] = {
    "state": _string(None, lambda v: None if v in ("active", "completed") else "must be active or completed"),
    "redirectUrl": _URL, "redirectMethod": _METHOD, "redirectFallbackUrl": _URL, "redirectFallbackMethod": _METHOD,
    "username": _SECRET, "password": _SECRET, "fallbackUsername": _SECRET, "fallbackPassword": _SECRET,
    "tag": _string(4096),
}
FORBIDDEN_WHEN_COMPLETED = ("redirectUrl", "redirectMethod", "redirectFallbackMethod", "tag")


def check_body(body: Mapping[str, Any], fields: Mapping[str, FieldCheck], required: tuple[str, ...] = ()) -> None:
    for name, value in body.items():
        check = fields.get(name)
        if check is None:
            raise RestError(400, f"Invalid {name}: unknown field")
        if value is not None and (problem := check(value)):
            raise RestError(400, f"Invalid {name}: {problem}")
    for name in required:
        if body.get(name) in (None, ""):
            raise RestError(400, f"Invalid {name}: is required")


# --- the API --------------------------------------------------------------------------------

_ROUTES: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (re.compile(r"^/accounts/(?P<account>[^/]+)/calls/?$"), {"POST": "createCall", "GET": "listCalls"}),
    (re.compile(r"^/accounts/(?P<account>[^/]+)/calls/(?P<call>[^/]+)/?$"), {"GET": "getCall", "POST": "updateCall"}),
    (re.compile(r"^/accounts/(?P<account>[^/]+)/calls/(?P<call>[^/]+)/bxml/?$"), {"PUT": "updateCallBxml"}),
)


@dataclass(frozen=True)
class Request:
    method: str
    path: str               # below base_path
    query: str
    headers: Mapping[str, str]   # lower-case names
    body: bytes

    def json_body(self) -> dict[str, Any]:
        media_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            raise RestError(415, "Content-Type must be application/json")
        try:
            payload = json.loads(self.body or b"null")
        except (ValueError, UnicodeDecodeError):
            raise RestError(400, "The request body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise RestError(400, "The request body must be a JSON object")
        return payload


class RestApi:
    def __init__(self, sim: BandwidthSimulator) -> None:
        self.sim = sim

    def handle(self, method: str, full_path: str, headers: Mapping[str, str], body: bytes) -> Reply:
        parts = urlsplit(full_path)
        lower = {k.lower(): v for k, v in headers.items()}
        base = self.sim.config.base_path.rstrip("/")
        path = parts.path[len(base):] if parts.path.startswith(base + "/") else None
        request = Request(method, path or parts.path, parts.query, lower, body)
        operation: str | None = None
        fault: Fault | None = None
        try:
            route, operation = self._route(method, path)
            self._authenticate(lower.get("authorization", ""))
            fault = self.sim.faults.take(operation)
            if fault is not None:
                reply = self._fault_reply(fault, operation)
            else:
                if route["account"] != self.sim.config.account_id:
                    raise RestError(403, f"User has no access to account {route['account']}")
                reply = getattr(self, f"_{operation}")(request, route)
        except RestError as exc:
            reply = error_reply(exc.status, exc.description, exc.headers)
        self._record(request, parts.path, reply, operation, fault)
        return reply

    def _route(self, method: str, path: str | None) -> tuple[dict[str, str], str]:
        if path is not None:
            for pattern, methods in _ROUTES:
                match = pattern.match(path)
                if match:
                    if method not in methods:
                        raise RestError(405, f"Method {method} is not allowed here")
                    return match.groupdict(), methods[method]
        raise RestError(404, "Resource not found")

    def _authenticate(self, header: str) -> None:
        config = self.sim.config
        scheme, _, encoded = header.partition(" ")
        try:
            user, _, password = base64.b64decode(encoded.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            user = password = ""
        good_user = hmac.compare_digest(user.encode(), config.username.encode())
        good_password = hmac.compare_digest(password.encode(), config.password.encode())
        if scheme.lower() != "basic" or not (good_user and good_password):
            raise RestError(401, "Invalid credentials")

    def _fault_reply(self, fault: Fault, operation: str | None) -> Reply:
        if fault.kind == "hang":
            return Reply(0, hang=fault.seconds)
        headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
        description = None
        if fault.status == 429 and operation == "createCall":
            description = "Account call creation rate limit exceeded"
        return error_reply(fault.status, description, headers)

    def _record(self, request: Request, path: str, reply: Reply, operation: str | None, fault: Fault | None) -> None:
        headers = {k: ("<redacted>" if k == "authorization" else v) for k, v in request.headers.items()}
        journal = self.sim.journal
        journal.add(RestRecord(journal.next_seq(), request.method, path, request.query, headers,
                               request.body.decode("utf-8", errors="replace"), reply.status,
                               reply.body.decode("utf-8", errors="replace"), operation,
                               fault.label if fault else None))

    # --- operations ---------------------------------------------------------------------

    def _createCall(self, request: Request, _route: Mapping[str, str]) -> Reply:
        body = {k: v for k, v in request.json_body().items() if v is not None}
        check_body(body, CREATE_CALL_FIELDS, CREATE_CALL_REQUIRED)
        if body.get("privacy") and "displayName" in body and body["displayName"] not in _PRIVATE_NAMES:
            raise RestError(400, "Invalid displayName: with privacy it must be Restricted, Anonymous, Private "
                                 "or Unavailable")
        if self.sim.config.require_https_with_credentials and body.get("username"):
            for name in ("answerUrl", "answerFallbackUrl", "disconnectUrl"):
                if name in body and not body[name].startswith("https:"):
                    raise RestError(400, f"Invalid {name}: must be https when credentials are given")
        call = self.sim.create_outbound_call(body)
        response = {
            "applicationId": call.application_id, "accountId": call.account_id, "callId": call.call_id,
            "to": call.to, "from": call.from_, "enqueuedTime": iso_ms(call.enqueued_time or call.start_time),
            "callUrl": call.call_url, "callTimeout": body.get("callTimeout", 30.0),
            "callbackTimeout": body.get("callbackTimeout", 15.0), "tag": body.get("tag"),
            "answerMethod": body.get("answerMethod", "POST"), "answerUrl": body["answerUrl"],
            "answerFallbackMethod": body.get("answerFallbackMethod", "POST"),
            "answerFallbackUrl": body.get("answerFallbackUrl"),
            "disconnectMethod": body.get("disconnectMethod", "POST"), "disconnectUrl": body.get("disconnectUrl"),
            "username": body.get("username"), "password": "*****" if body.get("password") else None,
            "fallbackUsername": body.get("fallbackUsername"),
            "fallbackPassword": "*****" if body.get("fallbackPassword") else None,
            "priority": body.get("priority", 5),
        }
        return json_reply(201, response, {"Location": call.call_url})

    def _listCalls(self, request: Request, _route: Mapping[str, str]) -> Reply:
        query = {k: v[-1] for k, v in parse_qs(request.query).items()}
        calls = [c for c in self.sim.calls
                 if ("to" not in query or c.to == query["to"]) and ("from" not in query or c.from_ == query["from"])]
        return json_reply(200, [c.state_json() for c in calls])

    def _getCall(self, _request: Request, route: Mapping[str, str]) -> Reply:
        call = self.sim.find_call(route["call"])
        if call is None:
            raise RestError(404, f"Call {route['call']} not found")
        return json_reply(200, call.state_json())

    def _modifiable(self, call_id: str, *, hangup: bool) -> SimulatedCall:
        call = self.sim.find_call(call_id)
        if call is None:
            raise RestError(404, f"Call {call_id} not found or no longer active")
        if not call.ended and call.answer_time is None:
            call.settle(self.sim.config.settle_timeout)
        if call.ended:
            since = time.time() - (call.end_time.timestamp() if call.end_time else 0)
            if since > self.sim.config.ended_call_conflict_seconds:
                raise RestError(404, f"Call {call_id} not found or no longer active")
            raise RestError(409, f"Call [{call_id}] cannot be modified in its current state")
        if call.answer_time is None and not hangup:
            raise RestError(409, f"Call [{call_id}] cannot be modified in its current state")
        return call

    def _updateCall(self, request: Request, route: Mapping[str, str]) -> Reply:
        body = {k: v for k, v in request.json_body().items() if v is not None}
        check_body(body, UPDATE_CALL_FIELDS)
        state = body.get("state", "active")
        if state == "completed":
            for name in FORBIDDEN_WHEN_COMPLETED:
                if name in body:
                    raise RestError(400, f"Invalid {name}: not allowed with state completed")
        elif "redirectUrl" not in body:
            raise RestError(400, "Invalid redirectUrl: is required when state is active")
        call = self._modifiable(route["call"], hangup=state == "completed")
        if state == "completed":
            call.interrupt(Interrupt("hangup"))
        else:
            target = Target(body["redirectUrl"], body.get("redirectMethod", "POST"),
                            credentials(body.get("username"), body.get("password")),
                            body.get("redirectFallbackUrl"), body.get("redirectFallbackMethod", "POST"),
                            credentials(body.get("fallbackUsername"), body.get("fallbackPassword")))
            call.interrupt(Interrupt("redirect", target=target, set_tag="tag" in body, tag=body.get("tag")))
        return Reply(200)

    def _updateCallBxml(self, request: Request, route: Mapping[str, str]) -> Reply:
        media_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if media_type != "application/xml":
            raise RestError(415, "Content-Type must be application/xml")
        call = self._modifiable(route["call"], hangup=False)
        text = request.body.decode("utf-8", errors="replace")
        roots = (PUT_ROOT, WEBHOOK_ROOT) if self.sim.config.put_accepts_response_root else (PUT_ROOT,)
        try:
            try:
                document = parse_document(request.body, root=roots[0], base_url=None)
            except InvalidBxml:
                if len(roots) == 1:
                    raise
                document = parse_document(request.body, root=roots[1], base_url=None)
        except InvalidBxml as exc:
            self._record_document(call, text, None, exc.reason)
            call.interrupt(Interrupt("invalid", reason=exc.reason))
            return Reply(204)
        self._record_document(call, text, tuple(v.name for v in document.verbs), None)
        call.interrupt(Interrupt("bxml", document=document))
        return Reply(204)

    def _record_document(self, call: SimulatedCall, body: str, verbs: tuple[str, ...] | None,
                         error: str | None) -> None:
        journal = self.sim.journal
        journal.add(DocumentRecord(journal.next_seq(), call.call_id, "put", None, body, verbs or (), error,
                                   call.call_time))
        if error:
            journal.log(call.call_id, call.call_time, f"invalid BXML from PUT: {error}")
