"""Keep-alive HTTP/1.1 client connections, pooled per origin, on the standard library's http.client.

The proxy makes one or two outbound requests per callback (events to the legacy app, TwiML
fetches, BXML updates to Bandwidth), so their cost is a large part of its CPU per callback:
``requests`` spent about 0.8 ms of CPU per request here, urllib3 0.3 ms, ``http.client`` 0.14 ms
for the same exchange.  This module keeps what the proxy needs from the bigger clients:

* a pool of idle connections per (scheme, host, port), reused last-in first-out; a pooled
  connection the server has closed (or that has unread bytes) is discarded before use;
* ``on_connect(sock, host)`` runs on every new socket right after the TCP connect, before a
  TLS handshake or any request byte (the egress guard checks the peer address there);
* one retry on a fresh connection when a *reused* connection turns out to be closed by the
  server before it answered (the keep-alive race), never otherwise;
* ``timeout`` bounds the whole exchange, not each socket operation: connecting, sending and
  every read of the status line, headers and body wait at most until the deadline, so a peer
  that trickles bytes cannot hold a thread past it (without a watchdog thread per request).

Errors are ``TransportError`` (``TransportTimeout`` for timeouts).
"""

from __future__ import annotations

import functools
import http.client
import io
import select
import socket
import ssl
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlsplit

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}
_TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"  # reserved and already-encoded characters stay as they are
_STALE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError, ConnectionAbortedError)


class TransportError(OSError):
    """The exchange failed: no connection, connection lost, malformed response."""


class TransportTimeout(TransportError):
    """No connection or no data within the timeout."""


@dataclass
class Exchange:
    """A response whose body is still to be read (``read``), then ``finish``-ed."""

    status: int
    reason: str
    headers: Mapping[str, str]
    _response: http.client.HTTPResponse
    _connection: http.client.HTTPConnection
    _transport: Transport
    _origin: Origin

    def read(self, size: int) -> bytes:
        try:
            return self._response.read(size)
        except TimeoutError as exc:
            raise TransportTimeout(f"timed out reading the response ({exc})") from exc
        except (OSError, http.client.HTTPException) as exc:
            raise TransportError(f"reading the response: {exc.__class__.__name__}") from exc

    def finish(self, *, complete: bool) -> None:
        """Give the connection back when the body was read to its end and the server keeps it
        open; close it otherwise (unread bytes would corrupt its next exchange)."""
        if complete and not self._response.will_close and self._response.isclosed():
            self._transport._release(self._origin, self._connection)
        else:
            self._response.close()
            self._connection.close()


class _DeadlineReader(io.RawIOBase):
    """The socket as one response reads it: every receive waits at most until the deadline.

    It reads through the socket's own ``SocketIO`` (``makefile``), which keeps the descriptor
    open while the response needs it even after the connection object closes the socket, as
    ``http.client`` does on ``Connection: close``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        super().__init__()
        self._sock = sock
        self._raw = sock.makefile("rb", buffering=0)
        self._deadline = deadline

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int | None:
        remaining = self._deadline - time.monotonic()
        if remaining <= 0:
            raise TimeoutError("the exchange outlasted its timeout")
        self._sock.settimeout(remaining)
        return self._raw.readinto(buffer)

    def close(self) -> None:
        if not self.closed:
            self._raw.close()
        super().close()


class _DeadlineSocket:
    """What ``http.client.HTTPResponse`` is given instead of the socket: it only calls ``makefile``."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def makefile(self, mode: str, *args: Any, **kwargs: Any) -> io.BufferedReader:
        return io.BufferedReader(_DeadlineReader(self._sock, self._deadline))


def _response_class(deadline: float) -> Callable[..., http.client.HTTPResponse]:
    def make(sock: socket.socket, *args: Any, **kwargs: Any) -> http.client.HTTPResponse:
        return http.client.HTTPResponse(_DeadlineSocket(sock, deadline), *args, **kwargs)  # type: ignore[arg-type]

    return make


@functools.lru_cache(maxsize=1024)  # a pure function of the text: the same few origins and paths come back
def origin_of(url: str) -> tuple[Origin, str]:
    """(scheme, host, port) and the request target of an absolute http(s) URL."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS or not parts.hostname:
        raise TransportError(f"not an absolute http(s) URL: {url!r}")
    try:
        port = parts.port or _DEFAULT_PORTS[scheme]
    except ValueError as exc:
        raise TransportError(f"bad port in {url!r}") from exc
    host = parts.hostname
    if not host.isascii():  # an internationalised name goes on the wire in its IDNA form
        try:
            host = host.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise TransportError(f"bad host name in {url!r}") from exc
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    if not target.isascii() or " " in target:  # percent-encode what the request line cannot carry
        target = quote(target, safe=_TARGET_SAFE)
    return (scheme, host, port), target


class Transport:
    def __init__(self, *, pool_size: int = 32, on_connect: Callable[[socket.socket, str], None] | None = None,
                 ssl_context: ssl.SSLContext | None = None) -> None:
        self.pool_size = pool_size
        self.on_connect = on_connect
        self.ssl_context = ssl_context or ssl.create_default_context()
        self._idle: dict[Origin, list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def send(self, method: str, url: str, *, body: bytes | None, headers: Mapping[str, str],
             timeout: float) -> Exchange:
        origin, target = origin_of(url)
        deadline = time.monotonic() + timeout
        for attempt in (1, 2):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TransportTimeout(f"{method} {url}: timed out")
            connection, reused = self._acquire(origin, remaining)
            connection.response_class = _response_class(deadline)
            try:
                connection.request(method, target, body=body, headers=dict(headers))
                response = connection.getresponse()
            except _STALE as exc:
                connection.close()
                if reused and attempt == 1:
                    continue  # the server closed a kept-alive connection: once more, on a new one
                raise TransportError(f"{method} {url}: connection lost ({exc.__class__.__name__})") from exc
            except TimeoutError as exc:
                connection.close()
                raise TransportTimeout(f"{method} {url}: timed out") from exc
            except (OSError, http.client.HTTPException) as exc:
                connection.close()
                if isinstance(exc, TransportError):
                    raise
                raise TransportError(f"{method} {url}: {exc.__class__.__name__}: {exc}") from exc
            return Exchange(response.status, response.reason, response.headers, response, connection, self,
                            origin)
        raise AssertionError("unreachable")

    def close(self) -> None:
        with self._lock:
            idle, self._idle = self._idle, {}
        for connections in idle.values():
            for connection in connections:
                connection.close()

    # -- the pool ---------------------------------------------------------------------------

    def _acquire(self, origin: Origin, timeout: float) -> tuple[http.client.HTTPConnection, bool]:
        while True:
            with self._lock:
                idle = self._idle.get(origin)
                connection = idle.pop() if idle else None
            if connection is None:
                return self._new(origin, timeout), False
            sock = connection.sock
            if sock is not None and not _dropped(sock):
                sock.settimeout(timeout)
                connection.timeout = timeout
                return connection, True
            connection.close()

    def _release(self, origin: Origin, connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._idle.setdefault(origin, [])
            if len(idle) < self.pool_size:
                idle.append(connection)
                return
        connection.close()

    def _new(self, origin: Origin, timeout: float) -> http.client.HTTPConnection:
        scheme, host, port = origin
        connection: http.client.HTTPConnection
        if scheme == "https":
            connection = http.client.HTTPSConnection(host, port, timeout=timeout, context=self.ssl_context)
        else:
            connection = http.client.HTTPConnection(host, port, timeout=timeout)
        check = self.on_connect
        refusals: list[BaseException] = []  # raised by on_connect: passed on as they are
        if check is not None:
            def create_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
                sock = socket.create_connection(address, *args, **kwargs)
                try:
                    check(sock, host)
                except BaseException as exc:
                    sock.close()
                    refusals.append(exc)
                    raise
                return sock

            connection._create_connection = create_connection  # type: ignore[attr-defined]
        try:
            connection.connect()
        except TimeoutError as exc:
            connection.close()
            if exc in refusals:
                raise
            raise TransportTimeout(f"connecting to {host}:{port}: timed out") from exc
        except OSError as exc:
            connection.close()
            if isinstance(exc, TransportError) or exc in refusals:
                raise
            raise TransportError(f"cannot connect to {host}:{port} ({exc.__class__.__name__}: {exc})") from exc
        return connection


def _dropped(sock: socket.socket) -> bool:
    """An idle kept-alive socket that is readable has been closed by the server (or holds bytes
    nobody asked for): either way it cannot carry another exchange."""
    try:
        poller = select.poll()
        poller.register(sock, select.POLLIN)
        return bool(poller.poll(0))
    except (OSError, ValueError):
        return True
