"""Gunicorn embedding: one ``create_app`` per worker process, after the fork.

With the default gevent workers the app is built after gevent has patched the standard library,
so its sockets, locks, sleeps and the outbox thread are cooperative greenlets; the one blocking C
call that must not stall a worker (SQLite's checkpoint) runs on a real thread (``native_threads``).
The outbox worker thread of each process starts in that process (threads do not survive
``fork``); on shutdown gunicorn lets in-flight requests finish (``graceful_timeout``) and the
worker's exit hook stops the outbox cleanly, leaving unfinished items leased-then-retried.
"""

from __future__ import annotations

import gc
from typing import Any

from gunicorn.app.base import BaseApplication
from gunicorn.glogging import Logger

from adapter.config import Config

# gevent: a greenlet per connection; measured on the 2-core benchmark machine it took 20-35% less
# CPU per callback than gthread's thread pool (no GIL hand-offs, no thread wake-ups per request).
WORKER_CLASSES = {"gevent": "bxml_migrate.gevent_worker.ProxyGeventWorker", "gthread": "gthread"}


class ProxyApplication(BaseApplication):
    def __init__(self, config: Config, *, bind: str, workers: int, worker_class: str = "gevent", threads: int = 8,
                 connections: int = 1000, graceful_timeout: int = 20) -> None:
        self.proxy_config = config
        self.options = {"bind": bind, "workers": workers, "worker_class": WORKER_CLASSES[worker_class],
                        "threads": threads, "worker_connections": connections,
                        "graceful_timeout": graceful_timeout, "timeout": 30, "accesslog": None,
                        "worker_exit": _worker_exit, "child_exit": _child_exit, "logconfig_dict": LOGGING,
                        "logger_class": AppLogsRequests,
                        # gunicorn's 2 s default would close kept-alive connections while Bandwidth
                        # (or a load balancer) may be about to reuse them: a webhook lost that way
                        # ends a call.  Keep them longer than common balancer idle timeouts (60 s).
                        "keepalive": 75,
                        # one fixed control-socket path would be shared by every instance on a host
                        "control_socket_disable": True}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from adapter.app import create_app
        from adapter.json_logs import configure

        configure(self.proxy_config.secret_values())
        app = create_app(self.proxy_config)
        # The ~60,000 objects of the imports and the app live as long as the worker; a full
        # collection walking them paused a worker for 30-70 ms on a 2-core VM.  Frozen, the
        # collector never walks them again (only what requests create).
        gc.collect()
        gc.freeze()
        return app


class AppLogsRequests(Logger):
    """The app logs every request (JSON, with route, call id and duration); gunicorn's access line
    would repeat each one, and it formats its access fields for every request whatever the level."""

    def access(self, resp: Any, req: Any, environ: Any, request_time: Any) -> None:
        return None


# gunicorn's own loggers (start-up, worker boot) write JSON lines too; requests are logged by the app.
LOGGING: dict[str, Any] = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "adapter.json_logs.plain_formatter"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "json", "stream": "ext://sys.stderr"}},
    "root": {"level": "INFO", "handlers": ["stderr"]},
    "loggers": {"gunicorn.error": {"handlers": ["stderr"], "level": "INFO", "propagate": False},
                "gunicorn.access": {"handlers": ["stderr"], "level": "INFO", "propagate": False}},
}


def _child_exit(server: Any, worker: Any) -> None:
    """A dead worker's metrics files stop counting as live (prometheus multi-process mode)."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def _worker_exit(server: Any, worker: Any) -> None:
    from adapter.app import close_app

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        close_app(app)
