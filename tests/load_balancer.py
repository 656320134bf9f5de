"""A small round-robin HTTP load balancer on loopback, for scale-out tests.

A WSGI app that forwards each request to the next backend in turn, preserving method, path,
query, headers (``Authorization`` included) and body, and relays the answer.  Requests can be
alternated *per key* (``key`` returns e.g. a call id, or None for requests alternated together):
with ``catapult_call_key`` every Bandwidth callback of every call goes to the other instance than
that call's previous callback, however the calls' requests interleave.

    balancer = RoundRobin([proxy_a.url, proxy_b.url], key=catapult_call_key)   # twiml_call_key: TwiML mode
    with serve(balancer) as front:
        ...                                   # public_url of both proxies = front.url
    balancer.log                              # (backend index, method, path, status, key)
"""

from __future__ import annotations

import base64
import binascii
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import requests

# Hop-by-hop headers (RFC 9110 §7.6.1) and the ones the HTTP client recomputes.
_HOP = frozenset({"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer",
                  "transfer-encoding", "upgrade", "host", "content-length"})

KeyFunction = Callable[[str, bytes], str | None]


@dataclass(frozen=True)
class Forwarded:
    backend: int
    method: str
    path: str
    status: int | None
    key: str | None


class RoundRobin:
    def __init__(self, backends: Sequence[str], *, key: KeyFunction | None = None, timeout: float = 30.0) -> None:
        if not backends:
            raise ValueError("at least one backend")
        self.backends = [b.rstrip("/") for b in backends]
        self.key = key
        self.timeout = timeout
        self.log: list[Forwarded] = []
        self._lock = threading.Lock()
        self._turns: dict[str | None, itertools.count[int]] = {}
        self._local = threading.local()

    def _session(self) -> requests.Session:
        session = getattr(self._local, "session", None)
        if session is None:
            session = self._local.session = requests.Session()
            session.trust_env = False
        return session

    def _next(self, key: str | None) -> int:
        """The next backend for ``key``: turns alternate per key, and each new key starts on the
        backend after the one the previous new key started on (so calls do not all start on one)."""
        with self._lock:
            if key not in self._turns:
                self._turns[key] = itertools.count(len(self._turns))
            turn = next(self._turns[key])
        return turn % len(self.backends)

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"]
        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "")
        length = environ.get("CONTENT_LENGTH")
        body = environ["wsgi.input"].read(int(length)) if length else environ["wsgi.input"].read()
        headers = {name[5:].replace("_", "-").title(): value for name, value in environ.items()
                   if name.startswith("HTTP_") and name[5:].replace("_", "-").lower() not in _HOP}
        if environ.get("CONTENT_TYPE"):
            headers["Content-Type"] = environ["CONTENT_TYPE"]
        key = self.key(path, body) if self.key is not None else None
        index = self._next(key)
        url = self.backends[index] + path + (f"?{query}" if query else "")
        try:
            response = self._session().request(method, url, headers=headers, data=body, timeout=self.timeout,
                                               allow_redirects=False)
        except requests.RequestException as exc:
            self._record(Forwarded(index, method, path, None, key))
            start_response("502 Bad Gateway", [("Content-Type", "text/plain")])
            return [f"backend {index} unreachable: {exc.__class__.__name__}\n".encode()]
        self._record(Forwarded(index, method, path, response.status_code, key))
        relayed = [(name, value) for name, value in response.headers.items()
                   if name.lower() not in _HOP and name.lower() != "content-encoding"]
        content = response.content
        relayed.append(("Content-Length", str(len(content))))
        start_response(f"{response.status_code} {response.reason}", relayed)
        return [content]

    def _record(self, entry: Forwarded) -> None:
        with self._lock:
            self.log.append(entry)

    def forwarded(self) -> list[Forwarded]:
        with self._lock:
            return list(self.log)


def catapult_call_key(path: str, body: bytes) -> str | None:
    """``"bandwidth <call id>"`` for Bandwidth's callbacks about a call (the ``callId`` of an
    application callback, or the ``call`` of the signed reference in a ``/catapult/bw/...`` URL -
    read, not verified: the proxy verifies it), ``"v1 <call id>"`` for the v1 app's REST requests
    about a call; None otherwise.  So a call's Bandwidth callbacks alternate among themselves, and
    so do its v1 requests."""
    parts = path.strip("/").split("/")
    call_id: str | None = None
    if parts[:2] == ["catapult", "callbacks"]:
        call_id = _event_call(body)
    elif parts[:2] == ["catapult", "bw"] and len(parts) == 4:
        call_id = _reference_call(parts[3])
    elif parts[:1] == ["v1"] and len(parts) >= 5 and parts[3] == "calls":
        return f"v1 {parts[4]}"
    return f"bandwidth {call_id}" if call_id else None


def twiml_call_key(path: str, body: bytes) -> str | None:
    """TwiML mode's ``catapult_call_key``: ``"bandwidth <call id>"`` for Bandwidth's callbacks
    about a call (the ``callId`` of an application callback to ``/twiml/callbacks``, or the
    ``call`` of the signed reference in a ``/twiml/bw/{kind}/{reference}`` URL: the gather,
    redirect, action and notify URLs the proxy wrote into BXML); None otherwise."""
    parts = path.strip("/").split("/")
    call_id: str | None = None
    if parts[:2] == ["twiml", "callbacks"]:
        call_id = _event_call(body)
    elif parts[:2] == ["twiml", "bw"] and len(parts) == 4:
        call_id = _reference_call(parts[3])
    return f"bandwidth {call_id}" if call_id else None


def _event_call(body: bytes) -> str | None:
    """The ``callId`` of a v2 event's JSON body."""
    try:
        event = json.loads(body)
    except ValueError:
        return None
    return str(event.get("callId")) if isinstance(event, dict) and event.get("callId") else None


def _reference_call(token: str) -> str | None:
    """The call named by a signed reference (``base64url(JSON).mac``; read, not verified)."""
    encoded = token.split(".", 1)[0]
    try:
        payload = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, binascii.Error):
        return None
    if not isinstance(payload, dict):
        return None
    return str(payload.get("call") or payload.get("pending") or "") or None
