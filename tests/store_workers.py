"""Process entry points for the multi-process store tests (importable by ``spawn`` children).

Each worker opens its own store from a URL (as a gunicorn worker or a second proxy instance
would), waits at a barrier so that all workers race, and reports through a queue.
"""

from __future__ import annotations

import os
import time
from typing import Any

from adapter.store import open_store


def complete_gathers(url: str, key_prefix: str, gathers: list[tuple[str, str]], barrier: Any, results: Any) -> None:
    """Try to complete every gather; report (call_id, gather_id, completed_now, digits) for each.

    All workers wait at the barrier before each gather, so every completion is a real race.
    """
    store = open_store(url, key_prefix=key_prefix)
    report = []
    try:
        for call_id, gather_id in gathers:
            barrier.wait(timeout=60)
            completion = store.complete_gather(call_id, gather_id, {"digits": f"pid{os.getpid()}"})
            report.append((call_id, gather_id, completion.completed_now, completion.record["digits"]))
    finally:
        store.close()
        results.put(report)


def drain_outbox(url: str, key_prefix: str, barrier: Any, stamp: Any, results: Any) -> None:
    """Deliver (claim + ack) until the outbox is empty; report (call_id, index, order stamp) per item."""
    store = open_store(url, key_prefix=key_prefix)
    delivered = []
    try:
        barrier.wait(timeout=60)
        deadline = time.monotonic() + 120
        while store.outbox_depth() and time.monotonic() < deadline:
            calls = store.due_calls(limit=50)
            if not calls:
                time.sleep(0.005)
            for call_id in calls:
                item = store.claim(call_id, lease=120)
                if item is None:
                    continue  # another worker won the race for this head item
                with stamp.get_lock():
                    stamp.value += 1
                    order = stamp.value
                delivered.append((call_id, item.payload["index"], order))
                assert store.ack(item)
    finally:
        store.close()
        results.put(delivered)


def enqueue_and_die(url: str, key_prefix: str, call_id: str, count: int) -> None:
    """Enqueue ``count`` events, then exit at once without closing anything (a killed proxy)."""
    store = open_store(url, key_prefix=key_prefix)
    for index in range(count):
        store.enqueue(call_id, {"index": index})
    os._exit(0)
