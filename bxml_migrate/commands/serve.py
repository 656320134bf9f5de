"""``bxml-migrate serve``: run the translation proxy (``adapter``) under gunicorn.

    bxml-migrate serve [--config FILE] [--host H] [--port P] [--workers N]
                       [--worker-class gevent|gthread] [--connections N] [--threads N] [--dev]

Configuration problems are printed one per line and exit 2 before anything listens.
``--dev`` runs Flask's development server instead of gunicorn (one process, reloader off).
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
import tempfile
from typing import Any

from bxml_migrate.arg_types import whole_number

DEFAULT_PORT = 8080
WORKER_CLASSES = ("gevent", "gthread")  # gunicorn_app.WORKER_CLASSES's keys (gunicorn loads only to run)
_at_least_one = whole_number(1, "must be 1 or more")


def default_workers() -> int:
    return max(2, min(os.cpu_count() or 1, 8))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("serve", help="run the translation proxy (Bandwidth v2 <-> legacy apps)",
                                   description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", metavar="FILE", help="TOML configuration (env BXML_MIGRATE_* overrides it)")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument("--workers", type=int, default=None, help="gunicorn worker processes (default: CPUs, 2-8)")
    parser.add_argument("--worker-class", choices=WORKER_CLASSES, default="gevent",
                        help="gevent (default): a greenlet per connection; gthread: a pool of threads per worker")
    parser.add_argument("--connections", type=_at_least_one, default=1000,
                        help="gevent: connections each worker serves at once, kept-alive ones included (default 1000)")
    parser.add_argument("--threads", type=_at_least_one, default=8, help="gthread: threads per worker (default 8)")
    parser.add_argument("--dev", action="store_true", help="Flask's development server instead of gunicorn")
    parser.set_defaults(func=run)


def _load(path: str | None) -> Any:
    from adapter.config import ConfigError, load_config

    try:
        return load_config(path)
    except ConfigError as exc:
        for problem in exc.problems:
            print(f"bxml-migrate serve: {problem}", file=sys.stderr)
        return None
    except OSError as exc:
        print(f"bxml-migrate serve: {path}: {exc.strerror}", file=sys.stderr)
        return None


def run(args: argparse.Namespace) -> int:
    config = _load(args.config)
    if config is None:
        return 2
    from adapter.json_logs import configure

    configure(config.secret_values())
    for line in config.describe():
        logging.getLogger("bxml_migrate.serve").info("bxml-migrate serve: %s", line)
    if args.dev:
        from adapter.app import create_app

        app = create_app(config)
        app.run(host=args.host, port=args.port, debug=False, use_reloader=False, threaded=True)
        return 0
    from bxml_migrate.gunicorn_app import ProxyApplication

    if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # /metrics aggregates every worker
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="bxml-migrate-metrics-")
    workers = args.workers or default_workers()
    ProxyApplication(config, bind=f"{args.host}:{args.port}", workers=workers, worker_class=args.worker_class,
                     threads=args.threads, connections=args.connections).run()
    return 0
