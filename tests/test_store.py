"""The state store: one suite, run against SQLite (a temp file) and a real redis-server.

Concurrency is tested with real threads and real processes (``spawn``) racing on the same
store; expiry with short TTLs and polling; restarts by closing and reopening the store, by a
process that exits without closing, and (Redis) by restarting redis-server mid-use.
"""

from __future__ import annotations

import itertools
import multiprocessing
import os
import signal
import threading
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.store import (
    GatherConflict,
    NotFound,
    Store,
    StoreClosed,
    StoreUnavailable,
    UpdateConflict,
    open_store,
)
from adapter.store.redis import RedisStore
from adapter.store.sqlite import SqliteStore
from adapter.store.sqlite_checkpointer import SAFETY_NET_PAGES, WalCheckpointer
from tests import store_workers
from tests.redis_server import RedisServer

POLL_TIMEOUT = 10.0  # generous: a 2-core CI machine may be busy
SPAWN = multiprocessing.get_context("spawn")


def wait_until(predicate: Callable[[], Any], timeout: float = POLL_TIMEOUT, interval: float = 0.05) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        time.sleep(interval)


class Backend:
    """How to open (and reopen) stores on one backend for one test."""

    def __init__(self, name: str, url: str, key_prefix: str) -> None:
        self.name = name
        self.url = url
        self.key_prefix = key_prefix
        self._opened: list[Store] = []

    def open(self, **options: Any) -> Store:
        store = open_store(self.url, key_prefix=self.key_prefix, **options)
        self._opened.append(store)
        return store

    def close_all(self) -> None:
        for store in self._opened:
            store.close()

    def raw_record_count(self, store: Store) -> int:
        """Records physically present (after the backend's lazy clean-up ran)."""
        if isinstance(store, SqliteStore):
            store.purge_expired()
            conn = store._connect()
            tables = ("calls", "call_ends", "gathers", "continuations", "outbox", "markers")
            return sum(conn.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0] for table in tables)
        assert isinstance(store, RedisStore)
        store.due_calls()
        store.outbox_depth()  # both drop index entries of calls whose outbox expired
        return len(store._client.keys(f"{self.key_prefix}*"))


@pytest.fixture(params=["sqlite", "redis"])
def backend(request: pytest.FixtureRequest, tmp_path: Any) -> Iterator[Backend]:
    if request.param == "sqlite":
        chosen = Backend("sqlite", f"sqlite:///{tmp_path}/state.db", "unused:")
    else:
        server: RedisServer = request.getfixturevalue("redis_server")
        chosen = Backend("redis", server.url, f"test-{uuid.uuid4().hex[:12]}:")
    try:
        yield chosen
    finally:
        chosen.close_all()


@pytest.fixture
def store(backend: Backend) -> Store:
    return backend.open()


def new_id(prefix: str = "c") -> str:
    return f"{prefix}-{uuid.uuid4().hex}"


# -- calls ----------------------------------------------------------------------------------------


def test_call_round_trip(store: Store) -> None:
    call_id = new_id()
    record = {"state": "active", "from": "+15551230000", "n": 3, "f": 1.5, "ok": True, "none": None,
              "nested": {"list": [1, "two", {"three": 3}]}, "unicode": "é☎"}
    assert store.get_call(call_id) is None
    store.put_call(call_id, record)
    assert store.get_call(call_id) == record
    store.put_call(call_id, {"state": "replaced"})
    assert store.get_call(call_id) == {"state": "replaced"}


def test_empty_call_record_exists(store: Store) -> None:
    call_id = new_id()
    store.put_call(call_id, {})
    assert store.get_call(call_id) == {}


def test_update_call_merges_top_level_fields(store: Store) -> None:
    call_id = new_id()
    store.put_call(call_id, {"state": "active", "tag": "a", "meta": {"x": 1}})
    updated = store.update_call(call_id, {"tag": "b", "meta": {"y": 2}, "new": None})
    assert updated == {"state": "active", "tag": "b", "meta": {"y": 2}, "new": None}
    assert store.get_call(call_id) == updated


def test_update_unknown_call_raises(store: Store) -> None:
    with pytest.raises(NotFound):
        store.update_call(new_id(), {"state": "x"})


def test_update_call_with_expect(store: Store) -> None:
    call_id = new_id()
    store.put_call(call_id, {"state": "active", "answered": False})
    assert store.update_call(call_id, {"state": "completed"}, expect={"state": "active", "missing": None})
    with pytest.raises(UpdateConflict) as raised:
        store.update_call(call_id, {"state": "again"}, expect={"state": "active", "answered": False})
    assert raised.value.fields == ["state"]
    assert store.get_call(call_id) == {"state": "completed", "answered": False}


@pytest.mark.parametrize("bad", ["", "a:b", "a b", "x" * 201])
def test_bad_ids_are_refused(store: Store, bad: str) -> None:
    with pytest.raises(ValueError):
        store.put_call(bad, {})
    with pytest.raises(ValueError):
        store.create_gather("c-1", bad, {})


def test_non_json_records_are_refused(store: Store) -> None:
    with pytest.raises(TypeError):
        store.put_call(new_id(), {"when": object()})
    with pytest.raises(TypeError):
        store.put_call(new_id(), {1: "not a string key"})  # type: ignore[dict-item]
    with pytest.raises(TypeError):
        store.enqueue(new_id(), {"nan": float("nan")})


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**63), 2**63) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(record=st.dictionaries(st.text(max_size=10), json_values, max_size=6))
def test_any_json_record_round_trips(store: Store, record: dict[str, Any]) -> None:
    call_id = new_id()
    store.put_call(call_id, record)
    assert store.get_call(call_id) == record
    assert store.update_call(call_id, record) == record


# -- gathers --------------------------------------------------------------------------------------


def test_gather_lifecycle(store: Store) -> None:
    call_id = new_id()
    created = store.create_gather(call_id, "g-1", {"tag": "menu", "maxDigits": 3})
    assert created == {"id": "g-1", "state": "created", "tag": "menu", "maxDigits": 3}
    assert store.get_gather(call_id, "g-1") == created
    assert store.open_gather(call_id) == created

    first = store.complete_gather(call_id, "g-1", {"digits": "12", "reason": "max-digits"})
    assert first.completed_now
    assert first.record == {"id": "g-1", "state": "completed", "tag": "menu", "maxDigits": 3,
                            "digits": "12", "reason": "max-digits"}
    again = store.complete_gather(call_id, "g-1", {"digits": "99", "reason": "hung-up"})
    assert not again.completed_now
    assert again.record == first.record  # the first result stays
    assert store.get_gather(call_id, "g-1") == first.record
    assert store.open_gather(call_id) is None


def test_only_one_open_gather_per_call(store: Store) -> None:
    call_id = new_id()
    store.create_gather(call_id, "g-1", {})
    with pytest.raises(GatherConflict) as raised:
        store.create_gather(call_id, "g-2", {})
    assert raised.value.gather_id == "g-1" and not raised.value.taken
    assert store.get_gather(call_id, "g-2") is None
    store.create_gather(new_id(), "g-2", {})  # other calls are independent
    store.complete_gather(call_id, "g-1", {})
    assert store.create_gather(call_id, "g-2", {})["state"] == "created"


def test_gather_id_cannot_be_reused(store: Store) -> None:
    call_id = new_id()
    store.create_gather(call_id, "g-1", {})
    store.complete_gather(call_id, "g-1", {})
    with pytest.raises(GatherConflict) as raised:
        store.create_gather(call_id, "g-1", {})
    assert raised.value.taken


def test_complete_unknown_gather_raises(store: Store) -> None:
    with pytest.raises(NotFound):
        store.complete_gather(new_id(), "g-1", {})
    assert store.get_gather(new_id(), "g-1") is None


# -- continuations --------------------------------------------------------------------------------


def test_continuation_is_taken_once(store: Store) -> None:
    call_id = new_id()
    assert store.take_continuation(call_id, "k1") is None
    store.put_continuation(call_id, "k1", "<Response><Say>first</Say></Response>")
    store.put_continuation(call_id, "k1", "<Response><Say>second</Say></Response>")
    store.put_continuation(new_id(), "k1", "other call")
    assert store.take_continuation(call_id, "k1") == "<Response><Say>second</Say></Response>"
    assert store.take_continuation(call_id, "k1") is None
    with pytest.raises(TypeError):
        store.put_continuation(call_id, "k2", b"bytes")  # type: ignore[arg-type]


# -- outbox ---------------------------------------------------------------------------------------


def test_outbox_delivers_in_order(store: Store) -> None:
    call_id = new_id()
    ids = [store.enqueue(call_id, {"index": index}) for index in range(5)]
    assert len(set(ids)) == 5
    seen = []
    while (item := store.claim(call_id)) is not None:
        seen.append(item.payload["index"])
        assert item.call_id == call_id and item.attempts == 0
        assert store.ack(item)
    assert seen == [0, 1, 2, 3, 4]
    assert store.outbox_depth() == 0


def test_leased_head_blocks_the_call_but_not_other_calls(store: Store) -> None:
    first_call, second_call = new_id(), new_id()
    store.enqueue(first_call, {"index": 0})
    store.enqueue(first_call, {"index": 1})
    store.enqueue(second_call, {"index": 0})
    head = store.claim(first_call)
    assert head is not None and head.payload == {"index": 0}
    assert store.claim(first_call) is None  # the next item waits for the head
    assert store.due_calls() == [second_call]
    assert store.outbox_depth() == 3
    other = store.claim(second_call)
    assert other is not None
    assert store.due_calls() == []
    assert store.ack(head) and store.ack(other)
    assert store.due_calls() == [first_call]
    assert store.ack(head) is False  # already gone


def test_nack_counts_attempts_and_delays_retry(store: Store) -> None:
    call_id = new_id()
    store.enqueue(call_id, {"index": 0})
    item = store.claim(call_id)
    assert item is not None
    assert store.nack(item, retry_after=0.8)
    assert store.nack(item, retry_after=0.8) is False  # the lease is gone
    assert store.claim(call_id) is None  # not due yet
    assert store.due_calls() == []
    assert store.outbox_depth() == 1
    retried = wait_until(lambda: store.claim(call_id))
    assert retried.attempts == 1 and retried.item_id == item.item_id
    assert store.nack(retried, retry_after=0)
    third = store.claim(call_id)
    assert third is not None and third.attempts == 2
    assert store.ack(third)


def test_held_items_wait_for_release_or_their_hold(store: Store) -> None:
    call_id = new_id()
    first = store.enqueue(call_id, {"n": 1}, hold=30)
    store.enqueue(call_id, {"n": 2}, hold=30)
    assert store.claim(call_id) is None and call_id not in store.due_calls()
    assert store.release(call_id) == 2
    assert call_id in store.due_calls()
    item = store.claim(call_id)
    assert item is not None and item.item_id == first
    store.nack(item, retry_after=30)  # a retry's backoff is not cut short by a later release
    assert store.release(call_id) == 0
    assert store.claim(call_id) is None
    other = new_id()
    store.enqueue(other, {"n": 3}, hold=0.3)  # never released: due when the hold runs out
    assert store.claim(other) is None
    deadline = time.monotonic() + 5
    while store.claim(other) is None:
        assert time.monotonic() < deadline, "a held item never became due"
        time.sleep(0.05)


def test_a_claim_naming_held_items_takes_them_before_their_hold(store: Store) -> None:
    call_id = new_id()
    first = store.enqueue(call_id, {"n": 1}, hold=30)
    second = store.enqueue(call_id, {"n": 2}, hold=30)
    assert store.claim(call_id, released=[second]) is None  # only the head item can go, and it is held
    item = store.claim(call_id, released=[first, second])
    assert item is not None and item.item_id == first and item.payload == {"n": 1}
    assert call_id not in store.due_calls()  # the others still see the hold
    store.nack(item, retry_after=30)  # attempted once: its backoff holds even when named
    assert store.claim(call_id, released=[first, second]) is None
    other = new_id()
    store.enqueue(other, {"n": 3}, hold=30)
    assert store.claim(other, released=["not-this-one"]) is None


def test_ack_and_claim_removes_the_item_and_leases_the_next(store: Store) -> None:
    call_id = new_id()
    first = store.enqueue(call_id, {"n": 1})
    second = store.enqueue(call_id, {"n": 2}, hold=30)
    item = store.claim(call_id)
    assert item is not None and item.item_id == first
    assert store.ack_and_claim(item) is None  # the next one is held, and not named as released
    assert store.outbox_depth() >= 1 and call_id not in store.due_calls()
    other = new_id()
    a = store.enqueue(other, {"n": 1})
    b = store.enqueue(other, {"n": 2}, hold=30)
    c = store.enqueue(other, {"n": 3})
    head = store.claim(other)
    assert head is not None and head.item_id == a
    nxt = store.ack_and_claim(head, released=[b])
    assert nxt is not None and (nxt.item_id, nxt.payload, nxt.attempts) == (b, {"n": 2}, 0)
    assert store.claim(other) is None  # leased by us
    last = store.ack_and_claim(nxt, lease=5)
    assert last is not None and last.item_id == c and last.lease_until - time.time() == pytest.approx(5, abs=2)
    assert store.ack_and_claim(last) is None
    assert other not in store.due_calls()
    assert second  # still queued for the first call
    later = store.claim(call_id, released=[second])
    assert later is not None and later.item_id == second


def test_redis_ack_and_claim_retried_after_a_lost_reply_returns_the_same_lease(backend: Backend) -> None:
    if backend.name != "redis":
        pytest.skip("the retry token is a Redis script's concern")
    store = backend.open()
    assert isinstance(store, RedisStore)
    call_id = new_id()
    first = store.enqueue(call_id, {"n": 1})
    second = store.enqueue(call_id, {"n": 2})
    item = store.claim(call_id)
    assert item is not None and item.item_id == first
    token = "t-retried"
    args = [call_id, first, 30000, token]
    reply = store._run("ack_claim", [store._base(call_id), store._due], args)
    again = store._run("ack_claim", [store._base(call_id), store._due], args)  # the client retried
    assert reply == again and reply[0] == second


def test_redis_store_speaks_resp2_and_resp3(backend: Backend) -> None:
    if backend.name != "redis":
        pytest.skip("Redis protocols")
    for protocol in (2, 3):
        store = open_store(f"{backend.url}?protocol={protocol}", key_prefix=backend.key_prefix)
        try:
            assert isinstance(store, RedisStore)
            store.ping()
            call_id = new_id()
            store.put_call(call_id, {"state": "active", "n": protocol})
            assert store.get_call(call_id) == {"state": "active", "n": protocol}
            store.create_gather(call_id, "g-1", {"context": {"maxDigits": 4}})
            assert store.open_gather(call_id) == store.get_gather(call_id, "g-1") != None  # noqa: E711
            assert store.add_marker(f"m-{call_id}", ttl=60) and not store.add_marker(f"m-{call_id}", ttl=60)
            store.put_continuation(call_id, "k1", "<Response/>")
            assert store.take_continuation(call_id, "k1") == "<Response/>"
            assert store.take_continuation(call_id, "k1") is None
            hello = store._execute("HELLO")  # what the store's connections speak: a map, or RESP2's flat list
            fields = hello if isinstance(hello, dict) else dict(zip(hello[::2], hello[1::2], strict=True))
            assert fields["proto"] == protocol
        finally:
            store.close()


class _Interrupted(Exception):
    """Raised in the middle of a read, as a killed greenlet or a KeyboardInterrupt would be."""


def _interrupt(_signum: int, _frame: Any) -> None:
    raise _Interrupted


@pytest.mark.parametrize("cut", ["socket timeout", "exception mid-read"])
def test_redis_connection_cut_short_mid_reply_is_not_reused_with_the_reply_still_coming(backend: Backend,
                                                                                       cut: str) -> None:
    if backend.name != "redis":
        pytest.skip("Redis connections")
    store = RedisStore(backend.url, key_prefix=backend.key_prefix, socket_timeout=0.2 if cut == "socket timeout" else 5,
                       retries=0)
    try:
        key = f"{backend.key_prefix}k-{new_id()}"
        store._execute("SET", key, "value")
        if cut == "socket timeout":
            with pytest.raises(redis.TimeoutError):
                store._execute("BLPOP", f"{key}:empty-list", "0.5")  # its nil reply comes after the timeout
        else:
            previous = signal.signal(signal.SIGALRM, _interrupt)
            try:
                signal.setitimer(signal.ITIMER_REAL, 0.2)
                with pytest.raises(_Interrupted):
                    store._execute("BLPOP", f"{key}:empty-list", "0.5")
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
        time.sleep(0.6)  # the late reply has arrived on the connection that was cut short
        assert store._execute("GET", key) == "value"  # not the stale nil
    finally:
        store.close()


def test_redis_connection_that_read_an_error_reply_in_full_is_reused(backend: Backend) -> None:
    if backend.name != "redis":
        pytest.skip("Redis connections")
    store = open_store(backend.url, key_prefix=backend.key_prefix)
    try:
        assert isinstance(store, RedisStore)
        store.ping()
        store._execute("PING")
        connection = store._connections._idle[-1]
        with pytest.raises(redis.exceptions.NoScriptError):
            store._execute("EVALSHA", "0" * 40, 0)
        assert store._connections._idle == [connection] and connection._sock is not None
        assert store._execute("ECHO", "same connection") == "same connection"
        assert store._connections._idle == [connection]
    finally:
        store.close()


def test_writes_in_a_batch_are_all_there_after_it_and_visible_inside(store: Store) -> None:
    call_id = new_id()
    with store.batch():
        assert store.add_marker(f"m-{call_id}", ttl=60)
        store.put_call(call_id, {"state": "active"})
        with store.batch():  # nested: part of the outer one
            item = store.enqueue(call_id, {"n": 1})
        assert store.get_call(call_id) == {"state": "active"}
        store.create_gather(call_id, "g-1", {})
        with pytest.raises(GatherConflict):  # a write that fails inside undoes only itself
            store.create_gather(call_id, "g-2", {})
    assert not store.add_marker(f"m-{call_id}", ttl=60)
    assert store.get_call(call_id) == {"state": "active"}
    assert store.open_gather(call_id)["id"] == "g-1"
    claimed = store.claim(call_id)
    assert claimed is not None and claimed.item_id == item


def test_an_exception_leaving_a_batch_undoes_it_on_sqlite_only(backend: Backend) -> None:
    """SQLite groups the writes in one transaction; Redis runs each write on its own (documented)."""
    store = backend.open()
    call_id = new_id()
    with pytest.raises(RuntimeError), store.batch():
        store.put_call(call_id, {"state": "active"})
        store.enqueue(call_id, {"n": 1})
        raise RuntimeError("the handler failed half-way")
    if backend.name == "sqlite":
        assert store.get_call(call_id) is None and store.claim(call_id) is None
    else:
        assert store.get_call(call_id) == {"state": "active"} and store.claim(call_id) is not None


def test_other_threads_write_between_batches_not_inside_them(store: Store) -> None:
    call_id = new_id()
    written: list[str] = []
    inside = threading.Event()

    def other_writer() -> None:
        inside.wait(5)
        store.put_call(f"{call_id}-other", {"state": "x"})
        written.append("other")

    thread = threading.Thread(target=other_writer)
    thread.start()
    with store.batch():
        store.put_call(call_id, {"state": "active"})
        inside.set()
        time.sleep(0.2)
        written.append("batch")
    thread.join(10)
    assert store.get_call(f"{call_id}-other") == {"state": "x"}
    if isinstance(store, SqliteStore):
        assert written == ["batch", "other"]  # the other writer waited for the commit


def test_expired_lease_lets_another_worker_claim(store: Store) -> None:
    call_id = new_id()
    store.enqueue(call_id, {"index": 0})
    crashed = store.claim(call_id, lease=1.5)  # long enough for the next line on a loaded machine
    assert crashed is not None
    assert store.claim(call_id) is None
    taken_over = wait_until(lambda: store.claim(call_id, lease=30))
    assert taken_over.item_id == crashed.item_id and taken_over.lease_token != crashed.lease_token
    assert store.nack(crashed, retry_after=0) is False  # a stale holder cannot release it
    assert store.claim(call_id) is None
    assert store.ack(taken_over)
    assert store.outbox_depth() == 0


def test_due_calls_longest_waiting_first_with_limit(store: Store) -> None:
    calls = [new_id() for _ in range(3)]
    for call_id in calls:
        store.enqueue(call_id, {"index": 0})
        time.sleep(0.01)  # distinct enqueue times (ms resolution on Redis)
    assert store.due_calls() == calls
    assert store.due_calls(limit=2) == calls[:2]
    with pytest.raises(ValueError):
        store.due_calls(limit=0)


def test_outbox_survives_closing_and_reopening(backend: Backend) -> None:
    call_id = new_id()
    first = backend.open()
    for index in range(3):
        first.enqueue(call_id, {"index": index})
    leased = first.claim(call_id, lease=0.3)
    assert leased is not None
    first.close()
    with pytest.raises(StoreClosed):
        first.get_call(call_id)

    reopened = backend.open()
    assert reopened.outbox_depth() == 3
    item = wait_until(lambda: reopened.claim(call_id))  # once the dead holder's lease runs out
    assert item.payload == {"index": 0}
    assert reopened.ack(item)
    assert [reopened.claim(call_id).payload["index"]] == [1]  # type: ignore[union-attr]


def test_outbox_survives_a_killed_process(backend: Backend) -> None:
    call_id = new_id()
    child = SPAWN.Process(target=store_workers.enqueue_and_die, args=(backend.url, backend.key_prefix, call_id, 4))
    child.start()
    child.join(timeout=120)
    assert child.exitcode == 0
    store = backend.open()
    assert store.outbox_depth() == 4
    delivered = []
    while (item := store.claim(call_id)) is not None:
        delivered.append(item.payload["index"])
        store.ack(item)
    assert delivered == [0, 1, 2, 3]


# -- markers --------------------------------------------------------------------------------------


def test_marker_is_set_once_until_it_expires(store: Store) -> None:
    key = f"replay:{uuid.uuid4().hex}"
    assert store.add_marker(key, ttl=0.4)
    assert not store.add_marker(key, ttl=0.4)
    assert store.add_marker(key + "-other", ttl=30)
    wait_until(lambda: store.add_marker(key, ttl=30))
    assert not store.add_marker(key, ttl=30)


# -- expiry ---------------------------------------------------------------------------------------


def _fill_call(store: Store, call_id: str) -> None:
    store.put_call(call_id, {"state": "active"})
    store.create_gather(call_id, "g-1", {})
    store.put_continuation(call_id, "k", "<Response/>")
    store.enqueue(call_id, {"index": 0})


def _call_visible(store: Store, call_id: str) -> list[str]:
    visible = []
    if store.get_call(call_id) is not None:
        visible.append("call")
    if store.get_gather(call_id, "g-1") is not None or store.open_gather(call_id) is not None:
        visible.append("gather")
    if call_id in store.due_calls() or store.outbox_depth():
        visible.append("outbox")
    return visible


def test_end_call_expires_everything_of_the_call(backend: Backend) -> None:
    store = backend.open()
    call_id, other = new_id(), new_id()
    _fill_call(store, call_id)
    _fill_call(store, other)
    store.end_call(other, ttl=600)
    store.end_call(call_id, ttl=0.5)
    assert _call_visible(store, call_id) == ["call", "gather", "outbox"]  # not before the deadline
    store.enqueue(call_id, {"index": 1})  # written after the end: same deadline
    store.complete_gather(call_id, "g-1", {"digits": "", "reason": "hung-up"})

    wait_until(lambda: store.get_call(call_id) is None)
    assert store.get_gather(call_id, "g-1") is None
    assert store.take_continuation(call_id, "k") is None
    assert store.claim(call_id) is None
    assert store.due_calls() == [other]
    assert store.outbox_depth() == 1
    with pytest.raises(NotFound):
        store.update_call(call_id, {"state": "x"})
    assert _call_visible(store, other) == ["call", "gather", "outbox"]
    assert store.take_continuation(other, "k") == "<Response/>"


def test_end_call_with_zero_ttl_forgets_the_call_at_once(backend: Backend) -> None:
    store = backend.open()
    call_id, other = new_id(), new_id()
    _fill_call(store, call_id)
    _fill_call(store, other)
    store.end_call(call_id, ttl=0)
    # no grace period, not even a millisecond
    assert store.get_call(call_id) is None and store.get_gather(call_id, "g-1") is None
    assert store.take_continuation(call_id, "k") is None and store.claim(call_id) is None
    assert store.due_calls() == [other] and store.outbox_depth() == 1
    assert _call_visible(store, other) == ["call", "gather", "outbox"]
    with pytest.raises(ValueError):
        store.end_call(other, ttl=-1)


def test_records_of_a_call_that_never_ends_expire_after_idle_ttl(backend: Backend) -> None:
    store = backend.open(idle_ttl=0.5)
    call_id = new_id()
    _fill_call(store, call_id)
    wait_until(lambda: not _call_visible(store, call_id))
    assert store.take_continuation(call_id, "k") is None


def test_expired_records_are_physically_removed(backend: Backend) -> None:
    store = backend.open()
    baseline = backend.raw_record_count(store)
    call_id = new_id()
    _fill_call(store, call_id)
    store.add_marker(f"m-{call_id}", ttl=0.5)
    assert backend.raw_record_count(store) > baseline
    store.end_call(call_id, ttl=0.5)
    wait_until(lambda: backend.raw_record_count(store) == baseline)


def test_an_expired_open_gather_does_not_block_a_new_call_life(backend: Backend) -> None:
    store = backend.open(idle_ttl=0.4)
    call_id = new_id()
    store.create_gather(call_id, "g-1", {})
    wait_until(lambda: store.open_gather(call_id) is None)
    assert store.create_gather(call_id, "g-2", {})["state"] == "created"


# -- concurrency: threads -------------------------------------------------------------------------


def run_threads(count: int, target: Callable[[int], Any]) -> list[Any]:
    """Run ``target(i)`` in ``count`` threads released together; return results (re-raise errors)."""
    barrier = threading.Barrier(count)
    results: list[Any] = [None] * count
    errors: list[BaseException] = []

    def runner(index: int) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = target(index)
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=runner, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads), "a thread hung"
    if errors:
        raise errors[0]
    return results


def test_threads_race_on_gather_completion(store: Store) -> None:
    gathers = [(new_id(), f"g-{n}") for n in range(15)]
    for call_id, gather_id in gathers:
        store.create_gather(call_id, gather_id, {})

    each_gather = threading.Barrier(6)

    def complete_all(worker: int) -> list[tuple[bool, str]]:
        outcomes = []
        for call_id, gather_id in gathers:
            each_gather.wait(timeout=30)  # every completion is a race
            completion = store.complete_gather(call_id, gather_id, {"digits": str(worker)})
            outcomes.append((completion.completed_now, completion.record["digits"]))
        return outcomes

    results = run_threads(6, complete_all)
    for position in range(len(gathers)):
        outcomes = [worker_results[position] for worker_results in results]
        assert sum(first for first, _ in outcomes) == 1
        assert len({digits for _, digits in outcomes}) == 1  # everyone sees the winner's result


def test_threads_race_on_gather_creation(store: Store) -> None:
    call_id = new_id()

    def create(worker: int) -> str | None:
        try:
            store.create_gather(call_id, f"g-{worker}", {})
            return f"g-{worker}"
        except GatherConflict:
            return None

    winners = [w for w in run_threads(8, create) if w]
    assert len(winners) == 1
    assert store.open_gather(call_id)["id"] == winners[0]  # type: ignore[index]


def test_threads_race_on_continuation_and_marker(store: Store) -> None:
    call_id, key = new_id(), f"m-{uuid.uuid4().hex}"
    store.put_continuation(call_id, "k", "<Response/>")
    taken = run_threads(8, lambda _: (store.take_continuation(call_id, "k"), store.add_marker(key, ttl=30)))
    assert [doc for doc, _ in taken].count("<Response/>") == 1
    assert [marked for _, marked in taken].count(True) == 1


def test_threads_compare_and_set_updates_lose_nothing(store: Store) -> None:
    call_id = new_id()
    store.put_call(call_id, {"count": 0})

    def increment(_: int) -> int:
        conflicts = 0
        for _ in range(10):
            while True:
                current = store.get_call(call_id)["count"]  # type: ignore[index]
                try:
                    store.update_call(call_id, {"count": current + 1}, expect={"count": current})
                    break
                except UpdateConflict:
                    conflicts += 1
        return conflicts

    run_threads(5, increment)
    assert store.get_call(call_id) == {"count": 50}


def test_threads_deliver_each_outbox_item_once_in_order(store: Store) -> None:
    calls = [new_id() for _ in range(4)]
    for index in range(15):
        for call_id in calls:
            store.enqueue(call_id, {"index": index})
    stamps = itertools.count()
    stamp_lock = threading.Lock()

    def worker(_: int) -> list[tuple[str, int, int]]:
        delivered = []
        deadline = time.monotonic() + 60
        while store.outbox_depth() and time.monotonic() < deadline:
            for call_id in store.due_calls():
                item = store.claim(call_id, lease=60)
                if item is None:
                    continue
                with stamp_lock:
                    stamp = next(stamps)
                delivered.append((call_id, item.payload["index"], stamp))
                assert store.ack(item)
            time.sleep(0.001)
        return delivered

    deliveries = [entry for result in run_threads(6, worker) for entry in result]
    check_exactly_once_in_order(deliveries, calls, 15)


def check_exactly_once_in_order(deliveries: list[tuple[str, int, int]], calls: list[str], per_call: int) -> None:
    by_call: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for call_id, index, stamp in deliveries:
        by_call[call_id].append((stamp, index))
    assert sorted(by_call) == sorted(calls)
    for call_id in calls:
        in_delivery_order = [index for _, index in sorted(by_call[call_id])]
        assert in_delivery_order == list(range(per_call)), call_id


# -- concurrency: processes -----------------------------------------------------------------------


def test_processes_race_on_gather_completion(backend: Backend) -> None:
    store = backend.open()
    gathers = [(new_id(), f"g-{n}") for n in range(20)]
    for call_id, gather_id in gathers:
        store.create_gather(call_id, gather_id, {})
    count = 4
    barrier, results = SPAWN.Barrier(count), SPAWN.Queue()
    processes = [
        SPAWN.Process(target=store_workers.complete_gathers,
                      args=(backend.url, backend.key_prefix, gathers, barrier, results))
        for _ in range(count)
    ]
    reports = start_and_collect(processes, results)

    winners: dict[tuple[str, str], list[str]] = defaultdict(list)
    seen_digits: dict[tuple[str, str], set[str]] = defaultdict(set)
    for report in reports:
        for call_id, gather_id, completed_now, digits in report:
            seen_digits[(call_id, gather_id)].add(digits)
            if completed_now:
                winners[(call_id, gather_id)].append(digits)
    for gather in gathers:
        assert len(winners[gather]) == 1, gather
        assert seen_digits[gather] == set(winners[gather])
        assert store.get_gather(*gather)["digits"] == winners[gather][0]  # type: ignore[index]


def test_processes_deliver_each_outbox_item_once_in_order(backend: Backend) -> None:
    store = backend.open()
    calls = [new_id() for _ in range(5)]
    per_call = 12
    for index in range(per_call):
        for call_id in calls:
            store.enqueue(call_id, {"index": index})
    count = 4
    barrier, results, stamp = SPAWN.Barrier(count), SPAWN.Queue(), SPAWN.Value("q", 0)
    processes = [
        SPAWN.Process(target=store_workers.drain_outbox,
                      args=(backend.url, backend.key_prefix, barrier, stamp, results))
        for _ in range(count)
    ]
    deliveries = [entry for report in start_and_collect(processes, results) for entry in report]
    check_exactly_once_in_order(deliveries, calls, per_call)
    assert store.outbox_depth() == 0


def start_and_collect(processes: list[Any], results: Any) -> list[Any]:
    for process in processes:
        process.start()
    try:
        reports = [results.get(timeout=180) for _ in processes]  # drain before join
    finally:
        for process in processes:
            process.join(timeout=60)
            if process.is_alive():
                process.kill()
    assert [process.exitcode for process in processes] == [0] * len(processes)
    return reports


# -- lifecycle ------------------------------------------------------------------------------------


def test_ping_and_close(backend: Backend) -> None:
    store = backend.open()
    store.ping()
    with backend.open() as scoped:
        scoped.put_call("c-ctx", {})
    with pytest.raises(StoreClosed):
        scoped.ping()
    store.close()
    store.close()  # idempotent
    with pytest.raises(StoreClosed):
        store.ping()


def test_open_store_rejects_unknown_schemes() -> None:
    with pytest.raises(ValueError, match="postgres"):
        open_store("postgres://user:secret@db/x")
    with pytest.raises(ValueError):
        open_store("sqlite:")


def test_temporary_sqlite_store_is_shared_by_threads_and_removed_on_close() -> None:
    store = open_store("sqlite://")
    assert isinstance(store, SqliteStore)
    store.put_call("c-1", {"n": 1})
    assert run_threads(3, lambda _: store.get_call("c-1")) == [{"n": 1}] * 3
    path = store.path
    store.close()
    assert not os.path.exists(path)


# -- Redis restarts -------------------------------------------------------------------------------


def test_redis_restart_mid_use_reconnects() -> None:
    with RedisServer() as server:
        store = open_store(server.url, key_prefix="restart:")
        try:
            call_id = new_id()
            store.put_call(call_id, {"n": 1})
            store.enqueue(call_id, {"index": 0})
            server.restart()  # no persistence: the data is gone, the connections are broken
            # The same store object keeps working: reconnect + retry, scripts loaded again.
            assert store.get_call(call_id) is None
            store.put_call(call_id, {"n": 2})
            assert store.update_call(call_id, {"n": 3}) == {"n": 3}
            store.enqueue(call_id, {"index": 1})
            item = store.claim(call_id)
            assert item is not None and item.payload == {"index": 1}
            store.ping()

            # Restart while another thread keeps using the store.
            failures: list[BaseException] = []
            stop = threading.Event()

            def keep_writing() -> None:
                n = 0
                while not stop.is_set():
                    try:  # no update_call: the restart wipes the data, NotFound would be right
                        store.put_call(call_id, {"n": n})
                        store.get_call(call_id)
                        store.enqueue(call_id, {"index": n})
                    except BaseException as exc:
                        failures.append(exc)
                    n += 1
                    time.sleep(0.005)

            writer = threading.Thread(target=keep_writing)
            writer.start()
            time.sleep(0.1)
            server.restart()
            time.sleep(0.3)
            stop.set()
            writer.join(timeout=30)
            assert failures == []
            assert store.get_call(call_id) is not None
        finally:
            store.close()


def test_redis_down_is_reported_as_unavailable() -> None:
    with RedisServer() as server:
        store = RedisStore(server.url, retries=2, socket_timeout=1.0)
        try:
            store.ping()
            server.stop()
            with pytest.raises(StoreUnavailable):
                store.ping()
            with pytest.raises(StoreUnavailable):
                store.enqueue("c-1", {"index": 0})
            server.start()
            wait_until(lambda: _pings(store))
            assert store.enqueue("c-1", {"index": 0})
        finally:
            store.close()


def _pings(store: Store) -> bool:
    try:
        store.ping()
        return True
    except StoreUnavailable:
        return False


def test_redis_keys_are_namespaced(redis_server: RedisServer) -> None:
    first = open_store(redis_server.url, key_prefix="ns-a:")
    second = open_store(redis_server.url, key_prefix="ns-b:")
    client = redis.Redis.from_url(redis_server.url, decode_responses=True)
    before = set(client.keys("*"))  # the session's Redis is shared with other tests
    try:
        first.put_call("c-1", {"who": "a"})
        second.put_call("c-1", {"who": "b"})
        first.enqueue("c-1", {"index": 0})
        assert first.get_call("c-1") == {"who": "a"} and second.get_call("c-1") == {"who": "b"}
        assert second.outbox_depth() == 0 and second.due_calls() == []
        created = set(client.keys("*")) - before
        assert created and all(key.startswith(("ns-a:", "ns-b:")) for key in created), created
    finally:
        client.close()
        first.close()
        second.close()


# -- SQLite WAL checkpoints -----------------------------------------------------------------------


def test_sqlite_commits_leave_checkpoints_to_the_background(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path}/wal.db")
    assert isinstance(store, SqliteStore)
    try:
        assert store._connect().execute("PRAGMA wal_autocheckpoint").fetchone()[0] == SAFETY_NET_PAGES
        store._checkpointer.close()  # no background checkpoint for now
        start = os.path.getsize(store.path)
        for n in range(300):  # ~300 KB: SQLite's default (1000 pages) would have checkpointed by now
            store.put_call(f"c-{n}", {"n": n, "pad": "x" * 1000})
        assert os.path.getsize(store.path) == start  # still all in the log: no commit copied it back
        assert os.path.getsize(store.path + "-wal") > 300_000
        store._checkpointer._next = 0.0  # due again
        before = store._checkpointer.runs
        store.put_call("c-last", {"n": -1})  # this commit starts the background checkpoint
        deadline = time.monotonic() + 5
        while store._checkpointer.runs == before:
            assert time.monotonic() < deadline, "no background checkpoint ran"
            time.sleep(0.02)
        assert os.path.getsize(store.path) > start + 300_000  # copied into the database file
        assert store.get_call("c-299") == {"n": 299, "pad": "x" * 1000}
    finally:
        store.close()


def test_sqlite_checkpointer_runs_at_most_once_per_interval(tmp_path: Any) -> None:
    store = open_store(f"sqlite:///{tmp_path}/few.db")
    assert isinstance(store, SqliteStore)
    try:
        checkpointer = WalCheckpointer(store.path, interval=3600)
        checkpointer.after_commit()
        deadline = time.monotonic() + 5
        while checkpointer.runs == 0:
            assert time.monotonic() < deadline, "the first checkpoint did not run"
            time.sleep(0.02)
        for _ in range(20):
            checkpointer.after_commit()  # not due again for an hour
        checkpointer.close()
        assert checkpointer.runs == 1
    finally:
        store.close()
