"""One writer at a time for a SQLite file, handed over promptly between threads and processes.

SQLite lets one connection write at a time; a connection that finds the database locked waits in
its busy handler, which sleeps in growing steps (1, 2, 5 ... 100 ms) before it looks again.  Under
load (gunicorn workers x threads x outbox threads all writing) those sleeps, not the work, made
the proxy's latency: a write of 0.1 ms waited tens of milliseconds.  This lock queues the writers
first: threads of one process on a ``threading.Lock`` (woken at once on release), processes on an
``flock`` of a sidecar file (``<db>-writer.lock``), polled in sub-millisecond steps.  SQLite's own
locking stays underneath, so a writer that does not take this lock (the ``sqlite3`` shell) is
still safe, it just waits in SQLite's busy handler as before.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import threading
import time
from collections.abc import Iterator

_FIRST_PAUSE = 0.0001  # seconds between tries for another process's lock, doubling ...
_LONGEST_PAUSE = 0.002  # ... up to this


class WriterLockTimeout(Exception):
    """The lock was not free within the timeout."""


class WriterLock:
    def __init__(self, db_path: str, timeout: float) -> None:
        self.path = db_path + "-writer.lock"
        self.timeout = timeout
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def _file(self) -> int:
        pid = os.getpid()
        if self._fd is None or self._pid != pid:  # after a fork the description is shared: open our own
            self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            self._pid = pid
        return self._fd

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        deadline = time.monotonic() + self.timeout
        if not self._threads.acquire(timeout=self.timeout):
            raise WriterLockTimeout(f"no write turn within {self.timeout:g} s (other threads)")
        try:
            fd = self._file()
            pause = _FIRST_PAUSE
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise WriterLockTimeout(f"no write turn within {self.timeout:g} s (other processes)") from None
                    time.sleep(pause)
                    pause = min(pause * 2, _LONGEST_PAUSE)
            try:
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        if self._fd is not None and self._pid == os.getpid():
            with contextlib.suppress(OSError):
                os.close(self._fd)
        self._fd = None
