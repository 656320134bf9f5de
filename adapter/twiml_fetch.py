"""Requesting the TwiML app the way Twilio does (shared/spec/twiml.md §5, §6), within a time budget.

- Parameters: the Twilio voice-request parameters of the v2 event (``twilio_params``), all strings.
- POST: ``application/x-www-form-urlencoded`` body; GET: the parameters appended to the URL's
  query (a parameter the URL already has is replaced, not repeated).
- ``X-Twilio-Signature`` over the exact URL sent (and, for POST, the parameters), keyed with
  ``twiml.auth_token``; ``User-Agent: TwilioProxy/1.1 (bxml-migrate)``.
- Every request goes through the egress guard (``GuardedClient``: allowed hosts, connected
  address, redirects within allowed hosts, body cap) and must be complete within ``budget``
  seconds in all, however the time is spent (connect, slow body, redirects).
- Anything but a complete 2xx answer raises ``AppFailure`` (the caller answers the fallback BXML).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, unquote_plus, urlsplit, urlunsplit

import requests
from requests.models import PreparedRequest

from adapter.egress import (
    EgressDenied,
    EgressError,
    EgressTimeout,
    GuardedClient,
    Reply,
    ResponseTooLarge,
    form_urlencode,
)
from adapter.twilio_signature import HEADER as SIGNATURE_HEADER
from adapter.twilio_signature import signature
from adapter.twiml_urls import strip_userinfo
from translators.callbacks import CallbackSchemaError, TwilioSettings, v2_to_twilio_params
from translators.callbacks.v2_to_twilio import TWILIO_OTHER_STATUS, V2_CAUSE_TO_TWILIO_STATUS

USER_AGENT = "TwilioProxy/1.1 (bxml-migrate)"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"

# v2 events whose Twilio counterpart is a plain voice request of a live call (standard
# parameters, CallStatus in-progress): <Redirect>, <Dial action>, <Record action>, <Number url>.
VOICE_REQUEST_EVENTS = frozenset({"redirect", "transferComplete", "recordComplete", "transferAnswer"})
_DEFAULT_PORTS = {"http": 80, "https": 443}


class AppFailure(Exception):
    """The app gave no usable TwiML (down, timeout, non-2xx, refused, not TwiML ...)."""


def twilio_params(event: Mapping[str, Any], settings: TwilioSettings) -> dict[str, str]:
    """The parameters Twilio would send for this v2 event (``translators.callbacks`` does the mapping).

    gather / initiate / answer / disconnect map directly.  redirect, transferComplete,
    recordComplete and transferAnswer carry the standard parameters of a voice request (the
    translator's ``answer`` mapping: CallStatus ``in-progress``; a transfer leg gets
    ``Direction=outbound-dial`` and ``ParentCallSid``); transferComplete adds ``DialCallStatus``
    from the v2 ``cause`` (the translator's cause -> call status table).  transferDisconnect is
    a status callback of the dialled leg (the ``disconnect`` mapping).
    """
    kind = event.get("eventType")
    source: Mapping[str, Any] = event
    if kind in VOICE_REQUEST_EVENTS:
        source = {**event, "eventType": "answer"}
    elif kind == "transferDisconnect":
        source = {**event, "eventType": "disconnect"}
    params = dict(v2_to_twilio_params(source, settings).events[0])
    if kind == "transferComplete":
        cause = event.get("cause")
        if not isinstance(cause, str) or not cause:
            raise CallbackSchemaError(("cause",), "a transferComplete event needs its cause")
        params["DialCallStatus"] = V2_CAUSE_TO_TWILIO_STATUS.get(cause, TWILIO_OTHER_STATUS)
    return params


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return scheme, (parts.hostname or "").lower(), parts.port or _DEFAULT_PORTS.get(scheme)


def credentials_for(url: str, configured: Iterable[str | None]) -> tuple[str, str] | None:
    """Basic credentials written in a configured URL (``https://user:pw@host/...``) of ``url``'s origin."""
    return _credentials_for(url, tuple(configured))


@functools.lru_cache(maxsize=256)  # a pure function of the texts: the app's few URLs, the same configuration
def _credentials_for(url: str, configured: tuple[str | None, ...]) -> tuple[str, str] | None:
    origin = _origin(url)
    for candidate in configured:
        if not candidate:
            continue
        parts = urlsplit(candidate)
        if parts.username is not None and _origin(candidate) == origin:
            return unquote(parts.username), unquote(parts.password or "")
    return None


def with_query(url: str, params: Mapping[str, str]) -> str:
    """``url`` with ``params`` appended to its query; pairs of the same names already there are dropped."""
    parts = urlsplit(url)
    kept = [pair for pair in parts.query.split("&")
            if pair and unquote_plus(pair.split("=", 1)[0]) not in params]
    if params:
        kept.append(form_urlencode(params))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "&".join(kept), ""))


@functools.lru_cache(maxsize=1024)  # a pure function of the text; apps use a handful of URLs
def as_sent(url: str) -> str:
    """The URL exactly as ``requests`` puts it on the wire (what Twilio signs: "the URL requested")."""
    prepared = PreparedRequest()
    try:
        prepared.prepare_url(url, None)
    except (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema) as exc:
        raise AppFailure(f"invalid URL {url!r}: {exc}") from None
    return str(prepared.url)


@dataclass(frozen=True)
class AppRequest:
    """One request to the app, ready to send: the signature covers exactly ``url`` and ``form``."""

    method: str
    url: str
    form: dict[str, str] | None
    headers: dict[str, str] = field(default_factory=dict)

    @functools.cached_property  # encoded once however often it is sent
    def body(self) -> str | None:
        return None if self.form is None else form_urlencode(self.form)


def build_request(url: str, method: str, params: Mapping[str, str], auth_token: str) -> AppRequest:
    """The signed request Twilio would send to ``url`` with ``params`` (GET: in the query)."""
    method = method.upper()
    clean = strip_userinfo(url)
    headers = {"User-Agent": USER_AGENT}
    if method == "GET":
        sent = as_sent(with_query(clean, params))
        headers[SIGNATURE_HEADER] = signature(auth_token, sent)
        return AppRequest("GET", sent, None, headers)
    sent = as_sent(clean)
    form = dict(params)
    headers[SIGNATURE_HEADER] = signature(auth_token, sent, form)
    headers["Content-Type"] = FORM_CONTENT_TYPE
    return AppRequest(method, sent, form, headers)


def send(client: GuardedClient, request: AppRequest, *, budget: float,
         auth: tuple[str, str] | None = None) -> Reply:
    """Send ``request``; the complete 2xx reply, or ``AppFailure`` saying what went wrong."""
    if budget <= 0:
        raise AppFailure("no time left in the budget")

    shown = f"{request.method} {strip_userinfo(request.url)}"
    try:  # the budget bounds the whole exchange, redirects and a trickling body included
        reply = client.request(request.method, request.url, timeout=budget, headers=request.headers,
                               data=request.body, auth=auth)
    except EgressDenied as exc:
        raise AppFailure(f"{shown}: refused by the egress guard: {exc}") from None
    except ResponseTooLarge as exc:
        raise AppFailure(f"{shown}: response refused: {exc}") from None
    except EgressTimeout:
        raise AppFailure(f"{shown}: timed out (budget {budget:g} s)") from None
    except EgressError as exc:
        raise AppFailure(f"{shown}: cannot reach the app ({type(exc.__cause__ or exc).__name__})") from None
    if not 200 <= reply.status < 300:
        raise AppFailure(f"{shown}: the app answered HTTP {reply.status}")
    return reply
