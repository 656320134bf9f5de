"""WAL checkpoints of a SQLite file in the background, not inside a request's commit.

In WAL mode SQLite copies the log back into the database file (a checkpoint, with an ``fsync``)
from inside whichever commit takes the log past ``wal_autocheckpoint`` pages.  That commit runs
while its writer holds the store's writer lock (``sqlite_writer_lock``), so every other writer
waited for the ``fsync`` too: on a 2-core VM the proxy's slowest requests (15-20 ms, several at
once, every few seconds under load) were those stalls.

``WalCheckpointer.after_commit`` is called after each commit, once the writer lock is released:
at most once per ``interval`` it starts a short-lived thread (a real one, also under gevent:
``native_threads``) that runs a PASSIVE checkpoint on a
connection of its own.  A passive checkpoint never waits for readers or writers and never blocks
them, so requests go on writing while the log is copied and synced.  The connections keep a much
larger ``wal_autocheckpoint`` (``SAFETY_NET_PAGES``) in case the background falls behind.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import threading
import time

from adapter import native_threads

log = logging.getLogger("bxml_migrate.store")

SAFETY_NET_PAGES = 10_000  # wal_autocheckpoint of the store's connections (SQLite's default: 1000)


class WalCheckpointer:
    def __init__(self, path: str, *, interval: float = 1.0, busy_timeout: float = 10.0) -> None:
        self.path = path
        self.interval = interval
        self.busy_timeout = busy_timeout
        self._next = 0.0  # monotonic time of the next checkpoint
        self._lock = threading.Lock()
        self._thread: native_threads.Running | None = None
        self._pid = os.getpid()
        self.runs = 0  # checkpoints completed (tests)
        self.last_thread_id: int | None = None  # operating-system thread of the last checkpoint (tests)

    def after_commit(self) -> None:
        """A commit just finished (outside the writer lock): checkpoint in the background if due."""
        now = time.monotonic()
        if now < self._next:
            return
        with self._lock:
            pid = os.getpid()
            if pid != self._pid:  # forked: the parent's thread is not ours
                self._pid, self._thread = pid, None
            if now < self._next or (self._thread is not None and self._thread.is_alive()):
                return
            self._next = now + self.interval
            self._thread = native_threads.start(self._checkpoint, name="sqlite-checkpoint")

    def _checkpoint(self) -> None:
        self.last_thread_id = threading.get_native_id()
        try:
            conn = sqlite3.connect(self.path, timeout=self.busy_timeout, isolation_level=None)
            try:
                conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            finally:
                conn.close()
            self.runs += 1
        except sqlite3.Error as exc:  # the next commit tries again; SQLite's own autocheckpoint is the backstop
            log.warning("sqlite %s: background checkpoint failed: %s", self.path, exc)

    def close(self, timeout: float = 10.0) -> None:
        """Wait for a checkpoint under way (the store is closing, its file may be removed next)."""
        with self._lock:
            thread = self._thread if self._pid == os.getpid() else None
            self._next = float("inf")
        if thread is not None:
            thread.join(timeout)
