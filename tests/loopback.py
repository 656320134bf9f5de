"""Run a WSGI app on 127.0.0.1 (a free port) in a background thread, for real-HTTP tests."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from werkzeug.serving import make_server


class LoopbackServer:
    def __init__(self, app: Callable[..., Any], host: str = "127.0.0.1") -> None:
        self._server = make_server(host, 0, app, threaded=True)
        self.host = host
        self.port = self._server.server_port
        self.url = f"http://{host}:{self.port}"
        self._thread = threading.Thread(target=self._server.serve_forever, name=f"loopback-{self.port}",
                                        daemon=True)

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


@contextmanager
def serve(app: Callable[..., Any], host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    """``with serve(app) as server: requests.get(server.url + "/path")``"""
    server = LoopbackServer(app, host).start()
    try:
        yield server
    finally:
        server.stop()
