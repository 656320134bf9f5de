"""Delivers queued events to legacy apps: in order per call, at least once, with retries.

Events are written to the store's outbox *before* the proxy answers Bandwidth (so a crash
loses none) and delivered by this worker afterwards (so a legacy app may call the proxy's
REST API from inside its event handler).  One worker runs per proxy process; several
processes share the outbox safely because a claim is a lease in the store.

An item's payload says what to send: ``{"url", "method", "json" | "form", "headers",
"timeout"}``.  A 2xx answer acks it; anything else (or no answer) is retried with
exponential backoff (0.5 s doubling, at most 60 s) up to ``max_attempts``, after which it
is logged as undeliverable and dropped so the call's later events are not held forever.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from adapter.egress import EgressDenied, EgressError, GuardedClient, ResponseTooLarge
from adapter.store import Store, StoreError
from adapter.store.base import OutboxItem

log = logging.getLogger("bxml_migrate.outbox")

BACKOFF_START = 0.5
BACKOFF_MAX = 60.0
RELEASE_MEMORY = 60.0  # seconds a release is remembered (the store's hold is far shorter)


def backoff(attempts: int) -> float:
    return min(BACKOFF_START * (2 ** attempts), BACKOFF_MAX)


class OutboxWorker:
    def __init__(self, store: Store, http: GuardedClient, *, poll: float = 0.2, lease: float = 30.0,
                 max_attempts: int = 10, threads: int = 8,
                 on_result: Callable[[OutboxItem, str], None] | None = None) -> None:
        self.store = store
        self.http = http
        self.poll = poll
        self.lease = lease
        self.max_attempts = max_attempts
        self.on_result = on_result
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._busy: set[str] = set()
        self._again: set[str] = set()  # released while a drain of the call was finishing
        self._released: dict[str, dict[str, float]] = {}  # call id -> item id -> when released
        self._last_sweep = time.monotonic()
        self._lock = threading.Lock()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="outbox-dispatch", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Stop taking new items; deliveries in flight finish (their items stay consistent)."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def kick(self) -> None:
        """Look at the outbox now."""
        self._wake.set()

    def release(self, call_id: str, item_ids: list[str]) -> None:
        """The answer to Bandwidth that queued these held items has been sent: deliver them now.

        Remembered in this process only (claims name them, see ``Store.claim``), so releasing
        costs no write; another process sees them when their hold runs out, which only matters
        if this one dies first."""
        now = time.monotonic()
        with self._lock:
            self._released.setdefault(call_id, {}).update(dict.fromkeys(item_ids, now))
            if now - self._last_sweep > RELEASE_MEMORY:
                self._last_sweep = now
                for call, ids in list(self._released.items()):
                    kept = {i: t for i, t in ids.items() if now - t < RELEASE_MEMORY}
                    if kept:
                        self._released[call] = kept
                    else:
                        del self._released[call]
        self._dispatch(call_id, again=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                for call_id in self.store.due_calls(limit=64):
                    self._dispatch(call_id)
            except StoreError as exc:
                log.warning("outbox: state store unavailable: %s", exc)
            self._wake.wait(self.poll)
            self._wake.clear()

    def _dispatch(self, call_id: str, *, again: bool = False) -> None:
        """Drain the call on a pool thread unless one is at it; ``again``: if one is, drain once
        more after it (it may have looked before the newest items were released)."""
        with self._lock:
            if self._stop.is_set():
                return
            if call_id in self._busy:
                if again:
                    self._again.add(call_id)
                return
            self._busy.add(call_id)
        try:
            self._pool.submit(self._drain, call_id)
        except RuntimeError:  # pool shut down
            with self._lock:
                self._busy.discard(call_id)

    def _released_ids(self, call_id: str) -> list[str]:
        with self._lock:
            return list(self._released.get(call_id, ()))

    def _drain(self, call_id: str) -> None:
        """Deliver the call's due items one after the other, in order."""
        try:
            item = self.store.claim(call_id, lease=self.lease, released=self._released_ids(call_id))
            while item is not None and not self._stop.is_set():
                outcome = self._send(item)
                if outcome == "retry":
                    return  # nacked; later items of this call wait behind it
                done, item = item, None
                with self._lock:
                    self._released.get(call_id, {}).pop(done.item_id, None)
                if self._stop.is_set():
                    self.store.ack(done)
                else:  # one write: this ack and the next claim
                    item = self.store.ack_and_claim(done, lease=self.lease, released=self._released_ids(call_id))
                self._report(done, outcome)
        except StoreError as exc:
            log.warning("outbox: state store unavailable for call %s: %s", call_id, exc)
        finally:
            with self._lock:
                self._busy.discard(call_id)
                again = call_id in self._again
                self._again.discard(call_id)
                if not self._released.get(call_id, True):
                    del self._released[call_id]
            if again:
                self._dispatch(call_id)

    def _send(self, item: OutboxItem) -> str:
        """Deliver one item: ``delivered``; ``dropped`` after the last attempt failed (both to be
        acked); or ``retry`` (already nacked with backoff)."""
        payload: dict[str, Any] = item.payload
        outcome = "delivered"
        try:
            reply = self.http.request(payload.get("method", "POST"), payload["url"],
                                      timeout=payload.get("timeout"), headers=payload.get("headers") or {},
                                      json=payload.get("json"), data=payload.get("form"))
            ok = 200 <= reply.status < 300
            if not ok:
                outcome = f"status {reply.status}"
        except (EgressError, EgressDenied, ResponseTooLarge) as exc:
            ok, outcome = False, f"{exc.__class__.__name__}: {exc}"
        if ok:
            return "delivered"
        if item.attempts + 1 >= self.max_attempts:
            log.error("outbox: giving up on %s event for call %s after %d attempts (%s)",
                      _kind(payload), item.call_id, item.attempts + 1, outcome)
            return "dropped"
        delay = backoff(item.attempts)
        log.warning("outbox: %s event for call %s not delivered (%s); retry in %.1f s",
                    _kind(payload), item.call_id, outcome, delay)
        self.store.nack(item, retry_after=delay)
        self._report(item, "retry")
        return "retry"

    def _report(self, item: OutboxItem, outcome: str) -> None:
        if self.on_result is not None:
            self.on_result(item, outcome)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """Until nothing is due or in flight (tests and graceful shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                busy = bool(self._busy)
            if not busy and not self.store.due_calls(limit=1):
                return True
            time.sleep(0.02)
        return False


def _kind(payload: dict[str, Any]) -> str:
    body = payload.get("json")
    if isinstance(body, dict) and "eventType" in body:
        return str(body["eventType"])
    return str(payload.get("kind", "an"))
