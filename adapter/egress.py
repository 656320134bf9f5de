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
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

MAX_RESPONSE_BYTES = 1024 * 1024
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})


class EgressDenied(ValueError):
    """The proxy refused to call a URL (host not allowed, private address, bad scheme)."""


class ResponseTooLarge(ValueError):
    """The response body was over the size limit."""


def _origin(url: str) -> tuple[str, str, int | None]:
    parts = urlsplit(url)
    return parts.scheme, (parts.hostname or "").lower(), parts.port


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


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
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https"):
            raise EgressDenied(f"refusing {parts.scheme or 'relative'} URL {url!r}: only http(s) is allowed")
        host = (parts.hostname or "").lower()
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


def _guarded_pools(policy: EgressPolicy) -> dict[str, type]:
    def new_conn(base: type) -> Any:
        def _new_conn(self: Any) -> Any:
            sock = base._new_conn(self)
            try:
                policy.check_address(sock.getpeername()[0], self.host)
            except EgressDenied:
                sock.close()
                raise
            return sock

        return _new_conn

    http_conn = type("GuardedHTTPConnection", (HTTPConnection,), {"_new_conn": new_conn(HTTPConnection)})
    https_conn = type("GuardedHTTPSConnection", (HTTPSConnection,), {"_new_conn": new_conn(HTTPSConnection)})
    return {
        "http": type("GuardedHTTPConnectionPool", (HTTPConnectionPool,), {"ConnectionCls": http_conn}),
        "https": type("GuardedHTTPSConnectionPool", (HTTPSConnectionPool,), {"ConnectionCls": https_conn}),
    }


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, policy: EgressPolicy, **kwargs: Any) -> None:
        self._policy = policy
        super().__init__(**kwargs)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = _guarded_pools(self._policy)
        self.poolmanager.key_fn_by_scheme = dict(self.poolmanager.key_fn_by_scheme)


@dataclass
class Reply:
    """A completed response: final URL, status, headers and the whole (bounded) body."""

    url: str
    status: int
    headers: Mapping[str, str]
    content: bytes
    redirects: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")


class GuardedClient:
    def __init__(self, policy: EgressPolicy, *, timeout: float = 10.0, max_redirects: int = 5,
                 max_response_bytes: int = MAX_RESPONSE_BYTES, pool_size: int = 32,
                 observer: Callable[[str, float], None] | None = None) -> None:
        self.policy = policy
        self.observer = observer  # (outcome, seconds) after every request: metrics
        self.timeout = timeout
        self.max_redirects = max_redirects
        self.max_response_bytes = max_response_bytes
        self.session = requests.Session()
        self.session.trust_env = False
        adapter = _GuardedAdapter(policy, pool_connections=pool_size, pool_maxsize=pool_size, max_retries=0)
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    def close(self) -> None:
        self.session.close()

    def request(self, method: str, url: str, *, timeout: float | None = None, **kwargs: Any) -> Reply:
        """Send a request, following allowed redirects; raises EgressDenied / ResponseTooLarge /
        requests.RequestException (timeouts, connection errors)."""
        started = time.perf_counter()
        outcome = "error"
        try:
            reply = self._request(method, url, timeout=timeout, **kwargs)
            outcome = f"{reply.status // 100}xx"
            return reply
        except EgressDenied:
            outcome = "refused"
            raise
        except ResponseTooLarge:
            outcome = "too-large"
            raise
        except requests.Timeout:
            outcome = "timeout"
            raise
        finally:
            if self.observer is not None:
                self.observer(outcome, time.perf_counter() - started)

    def _request(self, method: str, url: str, *, timeout: float | None = None, **kwargs: Any) -> Reply:
        redirects: list[str] = []
        method = method.upper()
        while True:
            self.policy.check_url(url)
            response = self.session.request(method, url, timeout=timeout or self.timeout, stream=True,
                                            allow_redirects=False, **kwargs)
            try:
                if response.status_code in REDIRECT_CODES and "location" in response.headers:
                    if len(redirects) >= self.max_redirects:
                        raise EgressDenied(f"more than {self.max_redirects} redirects from {redirects[0]!r}")
                    redirects.append(url)
                    target = urljoin(url, response.headers["location"])
                    if _origin(target) != _origin(url):  # credentials never follow to another origin
                        kwargs.pop("auth", None)
                        kwargs["headers"] = {k: v for k, v in (kwargs.get("headers") or {}).items()
                                             if k.lower() != "authorization"}
                    url = target
                    if response.status_code in (301, 302, 303) and method != "HEAD":
                        method = "GET"
                        kwargs.pop("data", None)
                        kwargs.pop("json", None)
                    continue
                content = self._read(response, url)
                return Reply(url, response.status_code, dict(response.headers), content, redirects)
            finally:
                response.close()

    def _read(self, response: requests.Response, url: str) -> bytes:
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_response_bytes:
            raise ResponseTooLarge(f"{url!r} answered {declared} bytes; the limit is {self.max_response_bytes}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_content(65536):
            size += len(chunk)
            if size > self.max_response_bytes:
                raise ResponseTooLarge(f"{url!r} answered more than {self.max_response_bytes} bytes")
            chunks.append(chunk)
        return b"".join(chunks)
