"""A minimal keep-alive HTTP/1.1 client on asyncio streams, for the load benchmark.

One event loop drives every simulated call, so the load generator costs a small fraction of a core
and its own scheduling does not show up as the proxy's latency (threads contending for the GIL
would).  It handles what the peers here answer: ``Content-Length`` and chunked bodies,
``Connection: close``; a request that fails on a reused connection is retried once on a new one.
"""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import urlsplit


def run(main: Any) -> Any:
    """``asyncio.run``, on uvloop when it is installed (``pip install -e '.[bench]'``)."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main)
    return uvloop.run(main)


class HttpError(Exception):
    pass


class Connection:
    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, target: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        for attempt in (1, 2):
            fresh = self._writer is None
            if fresh:
                self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
            try:
                return await self._exchange(method, target, body, headers or {})
            except (asyncio.IncompleteReadError, ConnectionError) as exc:
                self.close()
                if fresh or attempt == 2:
                    raise HttpError(f"{method} {target}: {exc.__class__.__name__}") from exc
        raise AssertionError("unreachable")

    async def _exchange(self, method: str, target: str, body: bytes, headers: dict[str, str]) -> tuple[int, bytes]:
        assert self._reader is not None and self._writer is not None
        lines = [f"{method} {target} HTTP/1.1", f"Host: {self.host}:{self.port}", f"Content-Length: {len(body)}"]
        lines += [f"{name}: {value}" for name, value in headers.items()]
        self._writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status_line, *header_lines = head.decode("latin-1").split("\r\n")
        status = int(status_line.split(" ", 2)[1])
        length, chunked, close = None, False, False
        for line in header_lines:
            name, _, value = line.partition(":")
            name, value = name.strip().lower(), value.strip().lower()
            if name == "content-length":
                length = int(value)
            elif name == "transfer-encoding" and "chunked" in value:
                chunked = True
            elif name == "connection" and value == "close":
                close = True
        if chunked:
            payload = await self._read_chunked()
        elif length is not None:
            payload = await self._reader.readexactly(length)
        elif status in (204, 304) or method == "HEAD":
            payload = b""
        else:
            payload = await self._reader.read()
            close = True
        if close:
            self.close()
        return status, payload

    async def _read_chunked(self) -> bytes:
        assert self._reader is not None
        parts = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await self._reader.readuntil(b"\r\n")
                return b"".join(parts)
            parts.append(await self._reader.readexactly(size))
            await self._reader.readexactly(2)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None


class Client:
    """Connections by origin, one request at a time each (a simulated call holds its own client)."""

    def __init__(self) -> None:
        self._connections: dict[tuple[str, int], Connection] = {}

    async def request(self, method: str, url: str, body: bytes = b"",
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        parts = urlsplit(url)
        key = (parts.hostname or "127.0.0.1", parts.port or 80)
        connection = self._connections.get(key)
        if connection is None:
            connection = self._connections[key] = Connection(*key)
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        return await connection.request(method, target, body, headers)

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()
