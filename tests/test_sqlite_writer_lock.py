"""The SQLite writer lock: writers of other processes wait their turn (promptly, not in SQLite's
sleeping busy handler), a turn that never comes within ``busy_timeout`` is a clear
``StoreUnavailable``, and a process that dies holding the lock does not block anyone."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
import time
from pathlib import Path

import pytest

from adapter.store import StoreUnavailable
from adapter.store.sqlite import SqliteStore
from adapter.store.sqlite_writer_lock import WriterLock, WriterLockTimeout

SPAWN = multiprocessing.get_context("spawn")


def hold_lock(db_path: str, seconds: float, ready: object) -> None:
    lock = WriterLock(db_path, timeout=5)
    with lock.held():
        ready.set()  # type: ignore[attr-defined]
        time.sleep(seconds)


def hold_lock_forever(db_path: str, ready: object) -> None:
    lock = WriterLock(db_path, timeout=5)
    with lock.held():
        ready.set()  # type: ignore[attr-defined]
        time.sleep(3600)


def test_a_writer_waits_for_another_process_then_writes(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    store = SqliteStore(db, busy_timeout=5)
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(db, 0.5, ready))
    holder.start()
    try:
        assert ready.wait(30)
        started = time.monotonic()
        store.put_call("c-1", {"state": "active"})  # waits for the other process's turn to end
        waited = time.monotonic() - started
        assert store.get_call("c-1") == {"state": "active"}
        assert 0.2 < waited < 3.0, waited
    finally:
        holder.join(10)
        store.close()


def test_no_turn_within_busy_timeout_is_store_unavailable_and_nothing_is_written(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    store = SqliteStore(db, busy_timeout=0.3)
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock, args=(db, 2.0, ready))
    holder.start()
    try:
        assert ready.wait(30)
        with pytest.raises(StoreUnavailable, match="database is locked"):
            store.put_call("c-2", {"state": "active"})
    finally:
        holder.join(10)
    assert store.get_call("c-2") is None
    store.put_call("c-2", {"state": "active"})  # the turn comes once the holder is done
    assert store.get_call("c-2") == {"state": "active"}
    store.close()


def test_a_process_killed_holding_the_lock_releases_it(tmp_path: Path) -> None:
    db = str(tmp_path / "state.db")
    store = SqliteStore(db, busy_timeout=5)
    ready = SPAWN.Event()
    holder = SPAWN.Process(target=hold_lock_forever, args=(db, ready))
    holder.start()
    assert ready.wait(30)
    os.kill(holder.pid or 0, signal.SIGKILL)
    holder.join(10)
    store.put_call("c-3", {"state": "active"})  # the kernel dropped the dead process's lock
    assert store.get_call("c-3") == {"state": "active"}
    store.close()


def test_threads_of_one_process_take_turns_and_time_out_alike(tmp_path: Path) -> None:
    lock = WriterLock(str(tmp_path / "x.db"), timeout=0.2)
    outcome: list[str] = []
    with lock.held():

        def other() -> None:
            try:
                with lock.held():
                    outcome.append("got it")
            except WriterLockTimeout:
                outcome.append("timed out")

        thread = threading.Thread(target=other)
        thread.start()
        thread.join(5)
    assert outcome == ["timed out"]
    with lock.held():  # free again
        pass
    lock.close()
