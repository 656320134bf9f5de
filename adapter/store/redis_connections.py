"""The Redis store's own connections: taken and given back without redis-py's pool bookkeeping.

redis-py's ``ConnectionPool`` runs observability counters, an event dispatch and a readiness
``poll`` of the socket ("has it unread data?") for every command it hands a connection to; under
gevent that poll alone was ~7% of the proxy's CPU.  The readiness check guards against a
connection given back with part of a reply unread.  Here that cannot happen: a connection goes back
to the idle list only after a whole reply was read (a value, or an error reply such as NOSCRIPT);
any other way out of a round trip (a timeout, a broken socket, a greenlet killed mid-read) leaves it
disconnected (redis-py's connection closes itself on any error inside a command, and this module
closes it again), and a disconnected connection reconnects on its next command.

Connections are made by the client's pool's connection class with the client's settings
(timeouts, retry policy, protocol, decoding, health checks), so they behave as the client's own.
After a ``fork`` the parent's connections are dropped unused (never closed: their sockets are the
parent's).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from typing import Any

import redis


class Connections:
    def __init__(self, pool: redis.ConnectionPool) -> None:
        self._make: Callable[[], Any] = lambda: pool.connection_class(**pool.connection_kwargs)
        self._idle: list[Any] = []
        self._pid = os.getpid()

    def round_trip(self, command: Sequence[Any]) -> Any:
        """Send ``command``, return its reply, under the connection's retry policy (a broken
        connection is closed and the command sent again after a backoff)."""
        if self._pid != os.getpid():
            self._idle, self._pid = [], os.getpid()
        try:
            conn = self._idle.pop()  # atomic: threads and greenlets never share a connection
        except IndexError:
            conn = self._make()
        try:
            reply = conn.retry.call_with_retry(lambda: _send_and_read(conn, command),
                                               lambda _error: conn.disconnect())
        except redis.ResponseError:  # an error reply, read in full: the connection is clean
            self._idle.append(conn)
            raise
        except BaseException:
            conn.disconnect()
            raise
        self._idle.append(conn)
        return reply

    def close(self) -> None:
        idle, self._idle = self._idle, []
        if self._pid == os.getpid():
            for conn in idle:
                conn.disconnect()


def _send_and_read(conn: Any, command: Sequence[Any]) -> Any:
    conn.send_command(*command)
    return conn.read_response()
