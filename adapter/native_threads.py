"""Work on a real operating-system thread, also when gevent has patched ``threading``.

Under ``bxml-migrate serve``'s default gevent workers, ``threading.Thread`` starts a greenlet: right
for work that waits on sockets, wrong for a blocking C call such as SQLite's checkpoint (an
``fsync`` of 15-20 ms on a small VM), which would stall every request of the worker while it runs.
``start`` runs such work on a real thread: from gevent's thread pool of the current hub when
gevent has patched ``threading``, a plain ``threading.Thread`` otherwise.  gevent is not imported
unless it has already patched the process.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from typing import Any, Protocol


class Running(Protocol):
    """What the caller keeps of a started piece of work."""

    def is_alive(self) -> bool: ...

    def join(self, timeout: float | None = None) -> None: ...


def gevent_patched_threading() -> bool:
    monkey = sys.modules.get("gevent.monkey")
    return monkey is not None and bool(monkey.is_module_patched("threading"))


class _PoolWork:
    """Work handed to gevent's thread pool, seen through the ``Running`` interface."""

    def __init__(self, result: Any) -> None:
        self._result = result

    def is_alive(self) -> bool:
        return not self._result.ready()

    def join(self, timeout: float | None = None) -> None:
        self._result.wait(timeout)


def start(target: Callable[[], None], *, name: str) -> Running:
    """Run ``target()`` on a real thread now; errors are ``target``'s to handle."""
    if gevent_patched_threading():
        import gevent

        return _PoolWork(gevent.get_hub().threadpool.spawn(target))
    thread = threading.Thread(target=target, name=name, daemon=True)
    thread.start()
    return thread
