"""The proxy's state store: one interface (``Store``), two backends chosen by URL.

``sqlite:///path/file.db`` (default; embedded, safe across gunicorn workers),
``sqlite://`` (a temporary database removed on close) or ``redis://host:port/db`` /
``rediss://...`` (several proxy instances sharing one Redis).  See ``adapter.store.base``
for the semantics every backend implements.
"""

from __future__ import annotations

from adapter.store.base import DEFAULT_CALL_TTL, DEFAULT_IDLE_TTL, GatherCompletion, OutboxItem, Store
from adapter.store.errors import (
    GatherConflict,
    NotFound,
    StoreClosed,
    StoreError,
    StoreUnavailable,
    UpdateConflict,
)

__all__ = [
    "GatherCompletion",
    "GatherConflict",
    "NotFound",
    "OutboxItem",
    "Store",
    "StoreClosed",
    "StoreError",
    "StoreUnavailable",
    "UpdateConflict",
    "open_store",
]


def open_store(
    url: str,
    *,
    call_ttl: float = DEFAULT_CALL_TTL,
    idle_ttl: float = DEFAULT_IDLE_TTL,
    key_prefix: str = "bxml-migrate:",
    busy_timeout: float = 10.0,
    socket_timeout: float = 5.0,
) -> Store:
    """Open the store ``url`` names.

    ``call_ttl``: seconds a call's records live after ``end_call``; ``idle_ttl``: seconds the
    records of a call that has not ended live after their last write.  Backend options are
    ignored by the other backend, so callers can pass the whole ``[state]`` section:
    ``key_prefix`` and ``socket_timeout`` (Redis), ``busy_timeout`` (SQLite: seconds to wait
    for the write lock).
    """
    if url.startswith("sqlite:"):
        from adapter.store.sqlite import SqliteStore, sqlite_path

        return SqliteStore(sqlite_path(url), call_ttl=call_ttl, idle_ttl=idle_ttl, busy_timeout=busy_timeout)
    if url.startswith(("redis://", "rediss://")):
        from adapter.store.redis import RedisStore

        return RedisStore(
            url, key_prefix=key_prefix, call_ttl=call_ttl, idle_ttl=idle_ttl, socket_timeout=socket_timeout
        )
    scheme = url.split(":", 1)[0] if ":" in url else url
    raise ValueError(f"unsupported state store URL scheme {scheme!r}: use sqlite:///path, sqlite:// or redis://")
