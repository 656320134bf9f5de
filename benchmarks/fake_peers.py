"""The proxy's peers for the load benchmark, answering instantly over keep-alive HTTP/1.1.

One asyncio server in a child process plays three parts:

* the Bandwidth v2 API: ``PUT .../calls/{id}/bxml`` (204, keeps the BXML for ``/bench/bxml/{id}``)
  and ``POST .../calls/{id}`` (200);
* a legacy Catapult v1 app: ``POST /events`` counts v1 events (200);
* a legacy TwiML app: ``/voice`` answers a ``<Gather>`` with a prompt and verbs after it,
  ``/gather-done`` a ``<Say>`` and a ``<Redirect>``, ``/menu`` a ``<Say>`` and ``<Hangup>``, and
  ``/status`` counts status callbacks (204).

``GET /bench/count`` is the number of v1 events plus status callbacks received, ``DELETE`` resets it.

A few dozen lines of asyncio instead of a WSGI server: the peers share the machine's two cores
with the proxy, and a thread-per-connection server that closes every connection would take a
large share of them (and make the proxy reconnect for every request).
"""

from __future__ import annotations

import asyncio
import multiprocessing
import re
import socket
import time
import urllib.request

from async_http import run

VOICE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response>'
    '<Gather action="/gather-done" numDigits="4" timeout="5"><Say voice="alice">Enter your PIN.</Say></Gather>'
    "<Say>We did not get your PIN.</Say><Redirect>/voice</Redirect></Response>"
)
GATHER_DONE_TWIML = (
    '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Thank you.</Say>'
    '<Redirect method="POST">/menu</Redirect></Response>'
)
MENU_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response><Say>Goodbye.</Say><Hangup/></Response>'
TWIML_DOCUMENTS = {"/voice": VOICE_TWIML, "/gather-done": GATHER_DONE_TWIML, "/menu": MENU_TWIML}

_BXML_PUT = re.compile(r"^/api/v2/accounts/[^/]+/calls/([^/]+)/bxml$")
_CALL_UPDATE = re.compile(r"^/api/v2/accounts/[^/]+/calls/[^/]+$")


class _State:
    def __init__(self) -> None:
        self.bxml: dict[str, str] = {}
        self.count = 0

    def route(self, method: str, path: str, body: bytes) -> tuple[int, str, bytes]:
        if path in TWIML_DOCUMENTS:
            return 200, "application/xml", TWIML_DOCUMENTS[path].encode()
        if path == "/events" and method == "POST":
            self.count += 1
            return 200, "text/plain", b""
        if path == "/status":
            self.count += 1
            return 204, "text/plain", b""
        match = _BXML_PUT.match(path)
        if match and method == "PUT":
            self.bxml[match.group(1)] = body.decode("utf-8", "replace")
            return 204, "text/plain", b""
        if method == "POST" and _CALL_UPDATE.match(path):
            return 200, "application/json", b"{}"
        if path.startswith("/bench/bxml/"):
            return 200, "text/plain", self.bxml.get(path[len("/bench/bxml/"):], "").encode()
        if path == "/bench/count":
            if method == "DELETE":
                self.count = 0
            return 200, "text/plain", str(self.count).encode()
        return 404, "text/plain", b"no such fake route\n"


async def _serve_connection(state: _State, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            length = 0
            close = False
            for line in lines[1:]:
                name, _, value = line.partition(":")
                name = name.strip().lower()
                if name == "content-length":
                    length = int(value)
                elif name == "connection" and value.strip().lower() == "close":
                    close = True
            body = await reader.readexactly(length) if length else b""
            status, content_type, payload = state.route(method, target.split("?", 1)[0], body)
            writer.write(f"HTTP/1.1 {status} X\r\nContent-Type: {content_type}\r\n"
                         f"Content-Length: {len(payload)}\r\n\r\n".encode() + payload)
            await writer.drain()
            if close:
                break
    except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, ValueError):
        pass
    finally:
        writer.close()


def _serve(port: int) -> None:
    state = _State()

    async def main() -> None:
        server = await asyncio.start_server(lambda r, w: _serve_connection(state, r, w), "127.0.0.1", port,
                                            backlog=1024)
        async with server:
            await server.serve_forever()

    run(main())


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class FakePeers:
    """The fake peers in a child process at ``url``."""

    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = multiprocessing.Process(target=_serve, args=(port,), daemon=True)
        self.process.start()
        deadline = time.monotonic() + 10
        while True:
            try:
                self.count()
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise SystemExit("the fake peers did not start") from None
                time.sleep(0.05)

    def _request(self, method: str, path: str) -> str:
        with urllib.request.urlopen(urllib.request.Request(self.url + path, method=method), timeout=5) as response:
            return response.read().decode()

    @property
    def pid(self) -> int:
        return self.process.pid or 0

    def count(self) -> int:
        return int(self._request("GET", "/bench/count"))

    def reset(self) -> None:
        self._request("DELETE", "/bench/count")

    def stop(self) -> None:
        self.process.terminate()
        self.process.join(5)
