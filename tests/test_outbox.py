"""The outbox worker on a real SQLite store, delivering to a real app on loopback: held items go
as soon as this process releases them (no store write for the release), or when their hold runs
out if it never does; ack and next claim share one commit; order per call is kept."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, request

from adapter.egress import EgressPolicy, GuardedClient
from adapter.outbox import OutboxWorker
from adapter.store.sqlite import SqliteStore
from tests.loopback import serve


class App:
    def __init__(self) -> None:
        self.received: list[tuple[float, Any]] = []
        self.fail = 0
        self.lock = threading.Lock()
        self.flask = Flask("outbox-app")
        self.flask.add_url_rule("/events", "events", self._event, methods=["POST"])

    def _event(self) -> Any:
        with self.lock:
            if self.fail:
                self.fail -= 1
                return "broken", 500
            self.received.append((time.monotonic(), request.get_json()))
        return "", 200

    def payloads(self) -> list[Any]:
        with self.lock:
            return [body for _, body in self.received]


@pytest.fixture
def world(tmp_path: Any) -> Iterator[tuple[SqliteStore, OutboxWorker, App, str]]:
    app = App()
    store = SqliteStore(str(tmp_path / "state.db"))
    with serve(app.flask) as server:
        worker = OutboxWorker(store, GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True)),
                              poll=0.05, threads=4)
        worker.start()
        try:
            yield store, worker, app, server.url + "/events"
        finally:
            worker.stop()
            store.close()


def wait_for(predicate: Any, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met"
        time.sleep(0.02)


def item(url: str, n: int) -> dict[str, Any]:
    return {"url": url, "method": "POST", "json": {"n": n}, "timeout": 5}


def test_released_items_go_at_once_in_order_long_before_their_hold(world):
    store, worker, app, url = world
    ids = [store.enqueue("c-1", item(url, n), hold=30) for n in range(5)]
    time.sleep(0.3)
    assert app.payloads() == []  # held: the worker's polling does not take them
    released = time.monotonic()
    worker.release("c-1", ids)
    wait_for(lambda: len(app.payloads()) == 5)
    assert app.payloads() == [{"n": n} for n in range(5)]
    assert app.received[-1][0] - released < 5  # not the 30 s hold
    wait_for(lambda: store.outbox_depth() == 0)  # the last ack follows the app's answer


def test_an_unreleased_hold_runs_out_and_the_items_go_anyway(world):
    store, _worker, app, url = world
    store.enqueue("c-2", item(url, 1), hold=0.5)
    wait_for(lambda: app.payloads() == [{"n": 1}])


def test_release_names_only_its_own_items(world):
    """Items another request queued (still held, its answer not sent yet) stay behind."""
    store, worker, app, url = world
    mine = store.enqueue("c-3", item(url, 1), hold=30)
    store.enqueue("c-3", item(url, 2), hold=30)  # another request's, not released
    worker.release("c-3", [mine])
    wait_for(lambda: app.payloads() == [{"n": 1}])
    time.sleep(0.3)
    assert app.payloads() == [{"n": 1}] and store.outbox_depth() == 1


def test_a_failed_delivery_is_retried_and_later_items_wait_behind_it(world):
    store, worker, app, url = world
    app.fail = 1
    ids = [store.enqueue("c-4", item(url, n), hold=30) for n in range(3)]
    worker.release("c-4", ids)
    wait_for(lambda: len(app.payloads()) == 3)  # after the 0.5 s backoff
    assert app.payloads() == [{"n": 0}, {"n": 1}, {"n": 2}]


def test_items_released_while_a_drain_of_the_call_runs_are_not_left_behind(world):
    store, worker, app, url = world
    for round_number in range(20):
        ids = [store.enqueue("c-5", item(url, round_number * 10 + n), hold=30) for n in range(2)]
        worker.release("c-5", ids)
    wait_for(lambda: len(app.payloads()) == 40)
    assert app.payloads() == [{"n": r * 10 + n} for r in range(20) for n in range(2)]
