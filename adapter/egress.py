"""Outbound HTTP that only reaches where it is allowed to.

The proxy calls URLs that come from legacy apps (TwiML actions, redirects), so every
outbound request goes through ``GuardedClient``:

- the host must be one of the allowed hosts (derived from the configured URLs plus
  ``egress.allow_hosts``);
- the address the socket actually connected to must be a public one, unless
  ``allow_private`` is set.  The check runs on the connected socket's peer address, not
  on a separate DNS lookup, so a name that resolves differently between check and use
  (DNS rebinding) cannot slip through;
- redirects are followed by hand, each target checked the same way, at most
  ``max_redirects``;
- response bodies over ``max_response_bytes`` are refused;
- environment proxies are ignored (a proxy would hide the real destination);
- every request has a timeout.

It sends through ``http_transport`` (pooled ``http.client`` connections): outbound requests
are a large part of the proxy's CPU per callback, and the bigger clients cost several times
more per request for features the proxy does not use.
"""

from __future__ import annotations

import base64
import functools
import ipaddress
import json as jsonlib
import socket
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode, urljoin, urlsplit

from adapter.http_transport import Exchange, Transport, TransportError, TransportTimeout

MAX_RESPONSE_BYTES = 1024 * 1024
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
DEFAULT_HEADERS = {"User-Agent": "bxml-migrate", "Accept": "*/*"}


class EgressDenied(ValueError):
    """The proxy refused to call a URL (host not allowed, private address, bad scheme)."""


class ResponseTooLarge(ValueError):
    """The response body was over the size limit."""


EgressError = TransportError  # the exchange failed: connection refused or lost, malformed response, timeout
EgressTimeout = TransportTimeout  # no connection or no data within the timeout


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


@functools.lru_cache(maxsize=1024)  # a pure function of the text, for every outbound request
def _scheme_host(url: str) -> tuple[str, str]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower()


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def basic_authorization(username: str, password: str) -> str:
    """The ``Authorization`` value for HTTP Basic (latin-1 where it fits, as browsers and requests do)."""
    raw = f"{username}:{password}"
    try:
        encoded = raw.encode("latin-1")
    except UnicodeEncodeError:
        encoded = raw.encode("utf-8")
    return "Basic " + base64.b64encode(encoded).decode("ascii")


@dataclass(frozen=True)
class EgressPolicy:
    allowed_hosts: frozenset[str]
    allow_private: bool = False

    @classmethod
    def for_urls(cls, urls: Iterable[str | None], extra_hosts: Iterable[str] = (), *,
                 allow_private: bool = False) -> EgressPolicy:
        hosts = {host_of(u) for u in urls if u} | {h.lower() for h in extra_hosts}
        return cls(frozenset(h for h in hosts if h), allow_private)

    def check_url(self, url: str) -> None:
        scheme, host = _scheme_host(url)
        if scheme not in ("http", "https"):
            raise EgressDenied(f"refusing {scheme or 'relative'} URL {url!r}: only http(s) is allowed")
        if host not in self.allowed_hosts:
            raise EgressDenied(f"refusing {url!r}: host {host!r} is not in the allowed hosts")

    def check_address(self, address: str, host: str) -> None:
        if self.allow_private:
            return
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global or ip.is_multicast:
            raise EgressDenied(f"refusing {host!r}: it resolved to the non-public address {ip} "
                               "(set egress.allow_private to allow it)")


def _address_check(policy: EgressPolicy) -> Callable[[socket.socket, str], None]:
    def check(sock: socket.socket, host: str) -> None:
        policy.check_address(sock.getpeername()[0], host)

    return check


@dataclass
class Reply:
    """A completed response: final URL, status, headers (case-insensitive) and the whole (bounded) body."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


# What ``quote_plus`` makes of each ASCII character: letters, digits and ``_.-~`` as they are,
# space as ``+``, anything else as ``%XX``.
_FORM_ASCII = {code: "+" if code == 0x20 else chr(code) if chr(code).isalnum() or chr(code) in "_.-~"
               else f"%{code:02X}" for code in range(128)}


def form_urlencode(params: Mapping[str, Any]) -> str:
    """``urllib.parse.urlencode(params)``, the same text, at a fraction of its cost for a form of
    ASCII names and values (each one ``str.translate``); anything else goes to ``urlencode``."""
    pairs = []
    for name, value in params.items():
        if type(name) is not str or type(value) is not str or not name.isascii() or not value.isascii():
            return urlencode(params)
        pairs.append(f"{name.translate(_FORM_ASCII)}={value.translate(_FORM_ASCII)}")
    return "&".join(pairs)


def encode_body(headers: dict[str, str], data: Mapping[str, Any] | str | bytes | None,
                json: Any) -> bytes | None:
    """The request body, setting ``Content-Type`` when the caller did not: ``json`` as JSON, a
    mapping ``data`` as a form, text as UTF-8."""
    present = {k.lower() for k in headers}
    if json is not None:
        if "content-type" not in present:
            headers["Content-Type"] = "application/json"
        return jsonlib.dumps(json, separators=(",", ":")).encode("utf-8")
    if isinstance(data, Mapping):
        if "content-type" not in present:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        return form_urlencode(data).encode("ascii")
    if isinstance(data, str):
        return data.encode("utf-8")
    return data


class GuardedClient:
    def __init__(self, policy: EgressPolicy, *, timeout: float = 10.0, max_redirects: int = 5,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, pool_size: int = 32,
                 observer: Callable[[str, float], None] | None = None) -> None:
        self.policy = policy
        self.observer = observer  # (outcome, seconds) after every request: metrics
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_response_bytes = max_response_bytes
        self.transport = Transport(pool_size=pool_size, on_connect=_address_check(policy))

    def close(self) -> None:
        self.transport.close()

    def request(self, method: str, url: str, *, timeout: float | None = None,
                headers: Mapping[str, str] | None = None, data: Mapping[str, Any] | str | bytes | None = None,
                json: Any = None, auth: tuple[str, str] | None = None) -> Reply:
        """Send a request, following allowed redirects; raises EgressDenied / ResponseTooLarge /
        EgressTimeout / EgressError.  ``timeout`` bounds the whole exchange, redirects included."""
        started = time.perf_counter()
        outcome = "error"
        try:
            reply = self._request(method, url, timeout or self.timeout, headers, data, json, auth)
            outcome = f"{reply.status // 100}xx"
            return reply
        except EgressDenied:
            outcome = "refused"
            raise
        except ResponseTooLarge:
            outcome = "too-large"
            raise
        except EgressTimeout:
            outcome = "timeout"
            raise
        finally:
            if self.observer is not None:
                self.observer(outcome, time.perf_counter() - started)

    def _request(self, method: str, url: str, timeout: float, headers: Mapping[str, str] | None,
                 data: Mapping[str, Any] | str | bytes | None, json: Any, auth: tuple[str, str] | None) -> Reply:
        redirects: list[str] = []
        method = method.upper()
        sent = {**DEFAULT_HEADERS, **(headers or {})}
        if auth is not None:
            sent["Authorization"] = basic_authorization(*auth)
        body = encode_body(sent, data, json)
        deadline = time.monotonic() + timeout  # for the whole exchange, redirects included
        while True:
            self.policy.check_url(url)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise EgressTimeout(f"{method} {url}: timed out after {len(redirects)} redirect(s)")
            response = self.transport.send(method, url, body=body, headers=sent, timeout=remaining)
            complete = False
            try:
                location = response.headers.get("location")
                if response.status in REDIRECT_CODES and location is not None:
                    if len(redirects) >= self.max_redirects:
                        raise EgressDenied(f"more than {self.max_redirects} redirects from {redirects[0]!r}")
                    redirects.append(url)
                    target = urljoin(url, location)
                    if _origin(target) != _origin(url):  # credentials never follow to another origin
                        sent = {k: v for k, v in sent.items() if k.lower() != "authorization"}
                    url = target
                    if response.status in (301, 302, 303) and method != "HEAD":
                        method = "GET"
                        body = None
                        sent = {k: v for k, v in sent.items() if k.lower() != "content-type"}
                    continue
                content = self._read(response, url)
                complete = True
                return Reply(url, response.status, response.headers, content, redirects)
            finally:
                response.finish(complete=complete)

    def _read(self, response: Exchange, url: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise ResponseTooLarge(f"{url!r} answered {declared} bytes; the limit is {self.max_response_bytes}")
        chunks: list[bytes] = []
        size = 0
        while chunk := response.read(65536):
            size += len(chunk)
            if size > self.max_response_bytes:
                raise ResponseTooLarge(f"{url!r} answered more than {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
