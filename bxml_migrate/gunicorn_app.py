"""Gunicorn embedding: one ``create_app`` per worker process, after the fork.

The outbox worker thread of each process starts in that process (threads do not survive
``fork``); on shutdown gunicorn lets in-flight requests finish (``graceful_timeout``) and the
worker's exit hook stops the outbox cleanly, leaving unfinished items leased-then-retried.
"""

from __future__ import annotations

from typing import Any

from gunicorn.app.base import BaseApplication

from adapter.config import Config


class ProxyApplication(BaseApplication):
    def __init__(self, config: Config, *, bind: str, workers: int, threads: int,
                 graceful_timeout: int = 20) -> None:
        self.proxy_config = config
        self.options = {"bind": bind, "workers": workers, "threads": threads, "worker_class": "gthread",
                        "graceful_timeout": graceful_timeout, "timeout": 30, "accesslog": "-",
                        "worker_exit": _worker_exit}
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from adapter.app import create_app

        return create_app(self.proxy_config)


def _worker_exit(server: Any, worker: Any) -> None:
    from adapter.app import close_app

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "extensions"):
        close_app(app)
