"""SQLite implementation of ``Store``: embedded, WAL, safe across threads and processes.

* One connection per thread (thread-local, reopened after ``fork``); no connection is
  shared between threads.  Connections run in autocommit mode and every check-and-set
  operation is one ``BEGIN IMMEDIATE`` transaction, which takes the database's write lock
  up front: two processes (gunicorn workers) cannot both read "open" and both write
  "completed".  ``busy_timeout`` makes a writer wait for the lock instead of failing.
* WAL journal: readers never block the writer; ``synchronous=NORMAL`` keeps committed
  data across a process crash (the outbox survives a proxy restart).  The log is copied back
  into the database by a background thread after commits (``sqlite_checkpointer``), not
  inside a commit that holds the writer lock.
* Expiry: every row has an ``expires_at`` (Unix seconds).  Reads ignore expired rows;
  writes delete them at most once per ``purge_interval`` (``purge_expired()`` on demand).
* ``sqlite://`` (or ``sqlite:///:memory:``) is a temporary database: a private file
  removed by ``close()``, so per-thread connections still share it.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import time
import weakref
from collections.abc import Collection, Iterator, Mapping
from typing import Any

from adapter.store.base import (
    DEFAULT_CALL_TTL,
    DEFAULT_IDLE_TTL,
    DEFAULT_LEASE,
    GATHER_COMPLETED,
    GATHER_CREATED,
    GatherCompletion,
    OutboxItem,
    Store,
    check_id,
    check_record,
    check_seconds,
    decode_json,
    encode_json,
    new_token,
)
from adapter.store.errors import GatherConflict, NotFound, StoreClosed, StoreUnavailable, UpdateConflict
from adapter.store.sqlite_checkpointer import SAFETY_NET_PAGES, WalCheckpointer
from adapter.store.sqlite_writer_lock import WriterLock, WriterLockTimeout

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    call_id    TEXT PRIMARY KEY,
    record     TEXT NOT NULL,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS call_ends (
    call_id    TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS gathers (
    call_id    TEXT NOT NULL,
    gather_id  TEXT NOT NULL,
    state      TEXT NOT NULL,
    record     TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (call_id, gather_id)
);
CREATE UNIQUE INDEX IF NOT EXISTS gathers_one_open ON gathers (call_id) WHERE state = 'created';
CREATE TABLE IF NOT EXISTS continuations (
    call_id    TEXT NOT NULL,
    key        TEXT NOT NULL,
    document   TEXT NOT NULL,
    expires_at REAL NOT NULL,
    PRIMARY KEY (call_id, key)
);
CREATE TABLE IF NOT EXISTS outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id     TEXT NOT NULL UNIQUE,
    call_id     TEXT NOT NULL,
    payload     TEXT NOT NULL,
    attempts    INTEGER NOT NULL DEFAULT 0,
    enqueued_at REAL NOT NULL,
    not_before  REAL NOT NULL,
    lease_until REAL NOT NULL DEFAULT 0,
    lease_token TEXT,
    expires_at  REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_by_call ON outbox (call_id, seq);
CREATE TABLE IF NOT EXISTS markers (
    key        TEXT PRIMARY KEY,
    expires_at REAL NOT NULL
);
"""
_CALL_TABLES = ("calls", "gathers", "continuations", "outbox")
_ALL_TABLES = (*_CALL_TABLES, "call_ends", "markers")


class _Connection(sqlite3.Connection):
    """A connection that can be weakly referenced (for ``close()``), with a lock its thread holds
    while using it: ``close()`` (from another thread) takes it first, so it never closes a
    connection under a running statement - which crashes the interpreter (a segfault)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_use = threading.RLock()


def sqlite_path(url: str) -> str | None:
    """The file of a ``sqlite:`` URL; ``None`` for a temporary database."""
    if url in ("sqlite://", "sqlite:///:memory:"):
        return None
    if url.startswith("sqlite:///") and len(url) > len("sqlite:///"):
        return url[len("sqlite:///") :]
    raise ValueError(f"not a sqlite URL: {url!r} (use sqlite:///path/to/file.db or sqlite://)")


class SqliteStore(Store):
    def __init__(
        self,
        path: str | None,
        *,
        call_ttl: float = DEFAULT_CALL_TTL,
        idle_ttl: float = DEFAULT_IDLE_TTL,
        busy_timeout: float = 10.0,
        purge_interval: float = 60.0,
    ) -> None:
        super().__init__(call_ttl=call_ttl, idle_ttl=idle_ttl)
        self._busy_timeout = check_seconds("busy_timeout", busy_timeout)
        self._purge_interval = check_seconds("purge_interval", purge_interval, allow_zero=True)
        self._temporary = path is None
        if path is None:
            handle, path = tempfile.mkstemp(prefix="bxml-migrate-", suffix=".db")
            os.close(handle)
        self.path = os.path.abspath(path)
        self._local = threading.local()
        self._lock = threading.Lock()
        self._connections: list[tuple[int, weakref.ref[_Connection]]] = []
        self._abandoned: list[_Connection] = []  # inherited over fork: never used, never closed
        self._closed = False
        self._last_purge = 0.0
        self._writer = WriterLock(self.path, self._busy_timeout)
        self._checkpointer = WalCheckpointer(self.path, busy_timeout=self._busy_timeout)
        self._initialise()

    def __repr__(self) -> str:
        return f"SqliteStore({self.path!r})"

    # -- connections and transactions -------------------------------------------------------

    def _connect(self) -> _Connection:
        if self._closed:
            raise StoreClosed("the store is closed")
        local = self._local
        conn: _Connection | None = getattr(local, "conn", None)
        pid = os.getpid()
        if conn is not None and local.pid == pid:
            return conn
        if conn is not None:  # created before a fork: closing it here could disturb the parent's locks
            self._abandoned.append(conn)
        with self._translate_errors():
            conn = sqlite3.connect(
                self.path,
                timeout=self._busy_timeout,
                isolation_level=None,  # autocommit; transactions are explicit
                check_same_thread=False,  # only so that close() may close it; used by one thread
                factory=_Connection,
            )
            conn.execute(f"PRAGMA busy_timeout = {int(self._busy_timeout * 1000)}")
            conn.execute("PRAGMA synchronous = NORMAL")
            conn.execute(f"PRAGMA wal_autocheckpoint = {SAFETY_NET_PAGES}")  # see sqlite_checkpointer
        local.conn, local.pid = conn, pid
        with self._lock:
            self._connections = [(p, ref) for p, ref in self._connections if ref() is not None]
            self._connections.append((pid, weakref.ref(conn)))
        return conn

    @contextlib.contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except sqlite3.Error as exc:
            raise StoreUnavailable(f"sqlite {self.path}: {exc}") from exc

    @contextlib.contextmanager
    def batch(self) -> Iterator[None]:
        """One transaction for every write of this thread inside (see ``Store.batch``)."""
        if getattr(self._local, "batch", None) is not None:
            yield  # nested: the outer batch commits
            return
        with self._write() as conn:
            self._local.batch = conn
            try:
                yield
            finally:
                self._local.batch = None

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One ``BEGIN IMMEDIATE`` transaction: committed on success, rolled back on any error.
        Writers take turns on the writer lock first (see ``sqlite_writer_lock``).  Inside a
        ``batch`` it is a savepoint of the batch's transaction instead."""
        conn = self._connect()
        if getattr(self._local, "batch", None) is conn:
            with self._translate_errors():
                conn.execute("SAVEPOINT store_op")
                try:
                    yield conn
                except BaseException:
                    conn.execute("ROLLBACK TO store_op")
                    conn.execute("RELEASE store_op")
                    raise
                conn.execute("RELEASE store_op")
            return
        with conn.in_use, self._translate_errors(), self._writer_turn():
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
            self._maybe_purge(conn)
            conn.execute("COMMIT")
        self._checkpointer.after_commit()  # the writer lock is free again: others write meanwhile

    @contextlib.contextmanager
    def _writer_turn(self) -> Iterator[None]:
        try:
            with self._writer.held():
                yield
        except WriterLockTimeout as exc:
            raise StoreUnavailable(f"sqlite {self.path}: database is locked ({exc})") from exc

    @contextlib.contextmanager
    def _read(self) -> Iterator[sqlite3.Connection]:
        conn = self._connect()
        with conn.in_use, self._translate_errors():
            yield conn

    def _initialise(self) -> None:
        conn = self._connect()
        with self._translate_errors():
            conn.execute("PRAGMA journal_mode = WAL")
        with self._write() as conn:
            version = conn.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise StoreUnavailable(f"sqlite {self.path}: schema version {version} is newer than this code")
            for statement in _SCHEMA.split(";"):  # not executescript(): it would COMMIT
                if statement.strip():
                    conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _maybe_purge(self, conn: sqlite3.Connection) -> None:
        now = time.time()
        if now - self._last_purge >= self._purge_interval:
            self._last_purge = now
            self._purge(conn, now)

    @staticmethod
    def _purge(conn: sqlite3.Connection, now: float) -> int:
        removed = 0
        for table in _ALL_TABLES:
            removed += conn.execute(f"DELETE FROM {table} WHERE expires_at <= ?", (now,)).rowcount
        return removed

    def purge_expired(self) -> int:
        """Delete expired rows now; return how many."""
        with self._write() as conn:
            return self._purge(conn, time.time())

    def _deadline(self, conn: sqlite3.Connection, call_id: str, now: float) -> float:
        """``expires_at`` for a row of ``call_id`` written now."""
        row = conn.execute(
            "SELECT expires_at FROM call_ends WHERE call_id = ? AND expires_at > ?", (call_id, now)
        ).fetchone()
        return row[0] if row else now + self.idle_ttl

    # -- calls ------------------------------------------------------------------------------

    def put_call(self, call_id: str, record: Mapping[str, Any]) -> None:
        check_id("call_id", call_id)
        text = encode_json(check_record(record))
        with self._write() as conn:
            now = time.time()
            conn.execute(
                "INSERT OR REPLACE INTO calls (call_id, record, expires_at) VALUES (?, ?, ?)",
                (call_id, text, self._deadline(conn, call_id, now)),
            )

    def get_call(self, call_id: str) -> dict[str, Any] | None:
        check_id("call_id", call_id)
        with self._read() as conn:
            row = conn.execute(
                "SELECT record FROM calls WHERE call_id = ? AND expires_at > ?", (call_id, time.time())
            ).fetchone()
        return decode_json(row[0]) if row else None

    def update_call(
        self,
        call_id: str,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        check_id("call_id", call_id)
        changes = check_record(changes, "changes")
        expect = check_record(expect or {}, "expect")
        with self._write() as conn:
            now = time.time()
            row = conn.execute(
                "SELECT record FROM calls WHERE call_id = ? AND expires_at > ?", (call_id, now)
            ).fetchone()
            if row is None:
                raise NotFound(f"call {call_id} not found")
            record = decode_json(row[0])
            stale = [key for key, value in expect.items() if encode_json(record.get(key)) != encode_json(value)]
            if stale:
                raise UpdateConflict(call_id, stale)
            record.update(changes)
            conn.execute(
                "UPDATE calls SET record = ?, expires_at = ? WHERE call_id = ?",
                (encode_json(record), self._deadline(conn, call_id, now), call_id),
            )
        return decode_json(encode_json(record))

    def end_call(self, call_id: str, *, ttl: float | None = None) -> None:
        check_id("call_id", call_id)
        seconds = self._end_ttl(ttl)
        with self._write() as conn:
            deadline = time.time() + seconds
            conn.execute("INSERT OR REPLACE INTO call_ends (call_id, expires_at) VALUES (?, ?)", (call_id, deadline))
            for table in _CALL_TABLES:
                conn.execute(
                    f"UPDATE {table} SET expires_at = ? WHERE call_id = ? AND expires_at > ?",
                    (deadline, call_id, time.time()),
                )

    # -- gathers ----------------------------------------------------------------------------

    def create_gather(self, call_id: str, gather_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        check_id("call_id", call_id)
        check_id("gather_id", gather_id)
        stored = {**check_record(record), "id": gather_id, "state": GATHER_CREATED}
        with self._write() as conn:
            now = time.time()
            conn.execute("DELETE FROM gathers WHERE call_id = ? AND expires_at <= ?", (call_id, now))
            open_row = conn.execute(
                "SELECT gather_id FROM gathers WHERE call_id = ? AND state = ?", (call_id, GATHER_CREATED)
            ).fetchone()
            if open_row is not None:
                raise GatherConflict(call_id, open_row[0])
            taken = conn.execute(
                "SELECT 1 FROM gathers WHERE call_id = ? AND gather_id = ?", (call_id, gather_id)
            ).fetchone()
            if taken is not None:
                raise GatherConflict(call_id, gather_id, taken=True)
            conn.execute(
                "INSERT INTO gathers (call_id, gather_id, state, record, expires_at) VALUES (?, ?, ?, ?, ?)",
                (call_id, gather_id, GATHER_CREATED, encode_json(stored), self._deadline(conn, call_id, now)),
            )
        return decode_json(encode_json(stored))

    def get_gather(self, call_id: str, gather_id: str) -> dict[str, Any] | None:
        check_id("call_id", call_id)
        check_id("gather_id", gather_id)
        with self._read() as conn:
            row = conn.execute(
                "SELECT record FROM gathers WHERE call_id = ? AND gather_id = ? AND expires_at > ?",
                (call_id, gather_id, time.time()),
            ).fetchone()
        return decode_json(row[0]) if row else None

    def open_gather(self, call_id: str) -> dict[str, Any] | None:
        check_id("call_id", call_id)
        with self._read() as conn:
            row = conn.execute(
                "SELECT record FROM gathers WHERE call_id = ? AND state = ? AND expires_at > ?",
                (call_id, GATHER_CREATED, time.time()),
            ).fetchone()
        return decode_json(row[0]) if row else None

    def complete_gather(self, call_id: str, gather_id: str, result: Mapping[str, Any]) -> GatherCompletion:
        check_id("call_id", call_id)
        check_id("gather_id", gather_id)
        result = check_record(result, "result")
        with self._write() as conn:
            now = time.time()
            row = conn.execute(
                "SELECT state, record FROM gathers WHERE call_id = ? AND gather_id = ? AND expires_at > ?",
                (call_id, gather_id, now),
            ).fetchone()
            if row is None:
                raise NotFound(f"gather {gather_id} of call {call_id} not found")
            state, text = row
            if state == GATHER_COMPLETED:
                return GatherCompletion(decode_json(text), completed_now=False)
            record = {**decode_json(text), **result, "id": gather_id, "state": GATHER_COMPLETED}
            conn.execute(
                "UPDATE gathers SET state = ?, record = ?, expires_at = ? WHERE call_id = ? AND gather_id = ?",
                (GATHER_COMPLETED, encode_json(record), self._deadline(conn, call_id, now), call_id, gather_id),
            )
        return GatherCompletion(decode_json(encode_json(record)), completed_now=True)

    # -- continuations ----------------------------------------------------------------------

    def put_continuation(self, call_id: str, key: str, document: str) -> None:
        check_id("call_id", call_id)
        check_id("continuation key", key)
        if not isinstance(document, str):
            raise TypeError("a continuation document must be a string")
        with self._write() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO continuations (call_id, key, document, expires_at) VALUES (?, ?, ?, ?)",
                (call_id, key, document, self._deadline(conn, call_id, time.time())),
            )

    def take_continuation(self, call_id: str, key: str) -> str | None:
        check_id("call_id", call_id)
        check_id("continuation key", key)
        with self._write() as conn:
            row = conn.execute(
                "SELECT document FROM continuations WHERE call_id = ? AND key = ? AND expires_at > ?",
                (call_id, key, time.time()),
            ).fetchone()
            conn.execute("DELETE FROM continuations WHERE call_id = ? AND key = ?", (call_id, key))
        return row[0] if row else None

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, call_id: str, payload: Any, *, hold: float = 0.0) -> str:
        check_id("call_id", call_id)
        hold = check_seconds("hold", hold, allow_zero=True)
        text = encode_json(payload)
        item_id = new_token()
        with self._write() as conn:
            now = time.time()
            conn.execute(
                "INSERT INTO outbox (item_id, call_id, payload, enqueued_at, not_before, expires_at)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (item_id, call_id, text, now, now + hold, self._deadline(conn, call_id, now)),
            )
        return item_id

    def release(self, call_id: str) -> int:
        check_id("call_id", call_id)
        with self._write() as conn:
            now = time.time()
            cursor = conn.execute(
                "UPDATE outbox SET not_before = ? WHERE call_id = ? AND attempts = 0 AND lease_until = 0"
                " AND not_before > ?",
                (now, call_id, now),
            )
        return cursor.rowcount

    def claim(self, call_id: str, *, lease: float = DEFAULT_LEASE,
              released: Collection[str] = ()) -> OutboxItem | None:
        check_id("call_id", call_id)
        lease = check_seconds("lease", lease)
        with self._write() as conn:
            now = time.time()
            row = conn.execute(
                "SELECT seq, item_id, payload, attempts, enqueued_at, not_before, lease_until FROM outbox"
                " WHERE call_id = ? AND expires_at > ? ORDER BY seq LIMIT 1",
                (call_id, now),
            ).fetchone()
            if row is None:
                return None
            seq, item_id, payload, attempts, enqueued_at, not_before, lease_until = row
            held = not_before > now and not (attempts == 0 and item_id in released)
            if held or lease_until > now:
                return None
            token, until = new_token(), now + lease
            conn.execute("UPDATE outbox SET lease_until = ?, lease_token = ? WHERE seq = ?", (until, token, seq))
        return OutboxItem(call_id, item_id, decode_json(payload), attempts, enqueued_at, until, token)

    def ack(self, item: OutboxItem) -> bool:
        with self._write() as conn:
            deleted = conn.execute(
                "DELETE FROM outbox WHERE item_id = ? AND call_id = ?", (item.item_id, item.call_id)
            ).rowcount
        return deleted > 0

    def nack(self, item: OutboxItem, *, retry_after: float) -> bool:
        retry_after = check_seconds("retry_after", retry_after, allow_zero=True)
        with self._write() as conn:
            updated = conn.execute(
                "UPDATE outbox SET attempts = attempts + 1, not_before = ?, lease_until = 0, lease_token = NULL"
                " WHERE item_id = ? AND call_id = ? AND lease_token = ?",
                (time.time() + retry_after, item.item_id, item.call_id, item.lease_token),
            ).rowcount
        return updated > 0

    def due_calls(self, *, limit: int = 100) -> list[str]:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        with self._read() as conn:
            rows = conn.execute(
                "SELECT o.call_id FROM outbox AS o"
                " WHERE o.seq = (SELECT MIN(i.seq) FROM outbox AS i"
                "                WHERE i.call_id = o.call_id AND i.expires_at > :now)"
                " AND o.not_before <= :now AND o.lease_until <= :now"
                " ORDER BY MAX(o.not_before, o.lease_until), o.seq LIMIT :limit",
                {"now": time.time(), "limit": limit},
            ).fetchall()
        return [row[0] for row in rows]

    def outbox_depth(self) -> int:
        with self._read() as conn:
            return conn.execute("SELECT COUNT(*) FROM outbox WHERE expires_at > ?", (time.time(),)).fetchone()[0]

    # -- markers ----------------------------------------------------------------------------

    def add_marker(self, key: str, ttl: float) -> bool:
        if not isinstance(key, str) or not key:
            raise ValueError("a marker key must be a non-empty string")
        ttl = check_seconds("ttl", ttl)
        with self._write() as conn:
            now = time.time()
            conn.execute("DELETE FROM markers WHERE key = ? AND expires_at <= ?", (key, now))
            inserted = conn.execute(
                "INSERT OR IGNORE INTO markers (key, expires_at) VALUES (?, ?)", (key, now + ttl)
            ).rowcount
        return inserted > 0

    # -- lifecycle --------------------------------------------------------------------------

    def ping(self) -> None:
        with self._read() as conn:
            conn.execute("SELECT COUNT(*) FROM markers").fetchone()

    def close(self) -> None:
        with self._lock:
            if self._closed:
                return
            self._closed = True
            connections = [ref() for pid, ref in self._connections if pid == os.getpid()]
            self._connections = []
        self._checkpointer.close(self._busy_timeout)
        for conn in connections:
            # a connection still in use past busy_timeout is left open; it closes with its thread
            if conn is not None and conn.in_use.acquire(timeout=self._busy_timeout):
                try:
                    with contextlib.suppress(sqlite3.Error):
                        conn.close()
                finally:
                    conn.in_use.release()
        self._writer.close()
        if self._temporary:
            for suffix in ("", "-wal", "-shm", "-writer.lock"):
                with contextlib.suppress(FileNotFoundError):
                    os.unlink(self.path + suffix)
