"""The simulator's record of everything that happened, and waiting on it.

All records go through one ``Journal`` (one lock, one condition), so ``wait_for`` wakes as soon as
anything changes instead of sleeping a fixed time.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from adapter.simulator.records import DocumentRecord, LogLine, RestRecord, VerbRecord, WebhookRecord

T = TypeVar("T")
logger = logging.getLogger("adapter.simulator")


class Journal:
    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._seq = itertools.count(1)
        self.webhooks: list[WebhookRecord] = []
        self.documents: list[DocumentRecord] = []
        self.verbs: list[VerbRecord] = []
        self.rest: list[RestRecord] = []
        self.lines: list[LogLine] = []

    def next_seq(self) -> int:
        with self._cond:
            return next(self._seq)

    def add(self, record: WebhookRecord | DocumentRecord | VerbRecord | RestRecord) -> None:
        with self._cond:
            if isinstance(record, WebhookRecord):
                self.webhooks.append(record)
            elif isinstance(record, DocumentRecord):
                self.documents.append(record)
            elif isinstance(record, VerbRecord):
                self.verbs.append(record)
            else:
                self.rest.append(record)
            self._cond.notify_all()

    def update(self, change: Callable[[], Any]) -> None:
        """Apply ``change`` (a mutation of a record or call) under the lock and wake waiters."""
        with self._cond:
            change()
            self._cond.notify_all()

    def changed(self) -> None:
        with self._cond:
            self._cond.notify_all()

    def log(self, call_id: str | None, call_time: float | None, message: str) -> None:
        with self._cond:
            self.lines.append(LogLine(next(self._seq), call_id, call_time, message))
            self._cond.notify_all()
        where = f"{call_id} t={call_time:.3f}" if call_id and call_time is not None else (call_id or "simulator")
        logger.info("[%s] %s", where, message)

    def snapshot(self, items: list[T]) -> list[T]:
        with self._cond:
            return list(items)

    def wait_for(self, predicate: Callable[[], T], timeout: float, what: str = "condition") -> T:
        """Return the first truthy value of ``predicate()``; raise ``TimeoutError`` after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                value = predicate()
                if value:
                    return value
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"timed out after {timeout:g}s waiting for {what}")
                # Wake on every change; re-check at least every 50 ms for predicates that look elsewhere.
                self._cond.wait(min(remaining, 0.05))
