"""gunicorn's gevent worker, closing idle kept-alive connections promptly when it stops.

``bxml-migrate serve`` runs this worker by default (``--worker-class gevent``): each connection is a
greenlet, so a worker serves many webhooks at once while they wait on the legacy app, Bandwidth or
the state store, without the GIL hand-offs and thread wake-ups of the ``gthread`` worker.

gunicorn's own gevent worker waits for a kept-alive connection's next request inside
``timeout_ctx()`` for the whole keep-alive time (75 s here), and at shutdown it waits for every
connection's greenlet: one idle connection from Bandwidth or a load balancer held a stopping worker
for its full ``graceful_timeout``.  This worker does what gunicorn's ``gthread`` worker does: once
stopping, kept-alive connections stay open ``STOP_KEEPALIVE_LINGER`` seconds more (a request that
arrives meanwhile is answered, with ``Connection: close``), then the idle ones are closed.  A request
being handled is never cut short; it has ``graceful_timeout`` to finish, as before.
"""

from __future__ import annotations

from typing import Any

import gevent
from gunicorn.workers.ggevent import GeventWorker

STOP_KEEPALIVE_LINGER = 2.0  # seconds; gunicorn's gthread worker waits as long
_WATCH_INTERVAL = 0.1  # seconds between looks at whether the worker is stopping


class _NextRequestWait(gevent.Timeout):
    """The wait for a connection's next request: silent when it expires (gunicorn then closes the
    connection), and listed while it runs so that a stopping worker can end it early."""

    def __init__(self, waits: dict[Any, gevent.Timeout], seconds: float) -> None:
        super().__init__(seconds, False)
        self._waits = waits

    def __enter__(self) -> gevent.Timeout:
        self._waits[gevent.getcurrent()] = self
        return super().__enter__()

    def __exit__(self, kind: Any, value: Any, traceback: Any) -> bool:
        self._waits.pop(gevent.getcurrent(), None)
        return bool(super().__exit__(kind, value, traceback))


class ProxyGeventWorker(GeventWorker):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.waits_for_next_request: dict[Any, gevent.Timeout] = {}

    def timeout_ctx(self) -> gevent.Timeout:
        if not self.alive:
            return gevent.Timeout(min(self.cfg.keepalive, STOP_KEEPALIVE_LINGER), False)
        return _NextRequestWait(self.waits_for_next_request, self.cfg.keepalive)

    def run(self) -> None:
        gevent.spawn(self._close_idle_connections_when_stopping)
        super().run()

    def _close_idle_connections_when_stopping(self) -> None:
        while self.alive:
            gevent.sleep(_WATCH_INTERVAL)
        gevent.sleep(STOP_KEEPALIVE_LINGER)
        for greenlet, wait in list(self.waits_for_next_request.items()):
            # The wait's own exception, raised where the greenlet waits: it ends the ``with`` block
            # silently, exactly as if the keep-alive time had run out.
            greenlet.kill(wait, block=False)
