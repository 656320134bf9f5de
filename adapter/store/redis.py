"""Redis implementation of ``Store``: shared by several proxy instances behind a load balancer.

Every check-and-set is one Lua script (``redis_scripts``), so it is atomic on the server;
key layout and expiry are described there.  All keys start with ``key_prefix``.  The client
reconnects on its own: a command that fails on a broken connection (Redis restarted, a
fail-over) is retried with a short backoff, and scripts missing from a restarted server are
loaded again.  Operations a retry could repeat carry a client-made token, so a retry after a
lost reply neither completes a gather "twice" nor enqueues or claims an item twice.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterator, Mapping, Sequence
from typing import Any

import redis
from redis.backoff import EqualJitterBackoff
from redis.commands.core import Script
from redis.exceptions import NoScriptError
from redis.retry import Retry

from adapter.config_kinds import mask_url_password
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
from adapter.store.errors import (
    GatherConflict,
    NotFound,
    StoreClosed,
    StoreError,
    StoreUnavailable,
    UpdateConflict,
)
from adapter.store.redis_connections import Connections
from adapter.store.redis_scripts import PRELUDE, SCRIPTS

# A call hash holds one field per record key, named "." + key, plus the empty field "" that
# marks the hash as present even when the record is {}.
_EXISTS_FIELD = ""


def _field(key: str) -> str:
    return "." + key


def _ms(seconds: float) -> int:
    return max(1, round(seconds * 1000))


def _as_dict(reply: Mapping[str, str] | Sequence[str]) -> Mapping[str, str]:
    """A hash as RESP3 (a map) or RESP2 (a flat list of fields and values) returns it."""
    if isinstance(reply, Mapping):
        return reply
    return dict(zip(reply[::2], reply[1::2], strict=True))


class RedisStore(Store):
    def __init__(
        self,
        url: str,
        *,
        key_prefix: str = "bxml-migrate:",
        call_ttl: float = DEFAULT_CALL_TTL,
        idle_ttl: float = DEFAULT_IDLE_TTL,
        socket_timeout: float = 5.0,
        retries: int = 10,
    ) -> None:
        super().__init__(call_ttl=call_ttl, idle_ttl=idle_ttl)
        if not isinstance(key_prefix, str):
            raise TypeError("key_prefix must be a string")
        self.key_prefix = key_prefix
        self._url = url
        self._client: redis.Redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=check_seconds("socket_timeout", socket_timeout),
            socket_connect_timeout=socket_timeout,
            # ~2-4 s of reconnect attempts in all: a restart or fail-over, well inside a callback's budget
            retry=Retry(EqualJitterBackoff(cap=0.5, base=0.05), retries),
            health_check_interval=30,
        )
        self._connections = Connections(self._client.connection_pool)
        self._scripts: dict[str, Script] = {
            name: self._client.register_script(PRELUDE + body) for name, body in SCRIPTS.items()
        }
        self._closed = False

    def __repr__(self) -> str:
        return f"RedisStore({mask_url_password(self._url)!r}, key_prefix={self.key_prefix!r})"

    # -- plumbing ---------------------------------------------------------------------------

    def _base(self, call_id: str) -> str:
        return f"{self.key_prefix}call:{check_id('call_id', call_id)}"

    @property
    def _due(self) -> str:
        return f"{self.key_prefix}outbox:due"

    @contextlib.contextmanager
    def _guard(self) -> Iterator[None]:
        if self._closed:
            raise StoreClosed("the store is closed")
        try:
            yield
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise StoreUnavailable(f"redis: {exc}") from exc
        except redis.RedisError as exc:
            raise StoreError(f"redis: {exc}") from exc

    def _execute(self, *command: Any) -> Any:
        """One command on one of the store's connections (``redis_connections``), under the
        client's retry policy, without the client's per-command layers (observability hooks,
        option parsing), which cost more CPU than the round trip.  Replies are as the connection
        decodes them: no response callbacks."""
        return self._connections.round_trip(command)

    def _run(self, name: str, keys: Sequence[str], args: Sequence[Any]) -> Any:
        script = self._scripts[name]
        with self._guard():
            try:
                return self._execute("EVALSHA", script.sha, len(keys), *keys, *args)
            except NoScriptError:  # a restarted (or flushed) server: load it again
                script.sha = self._execute("SCRIPT", "LOAD", script.script)
                return self._execute("EVALSHA", script.sha, len(keys), *keys, *args)

    def _idle_ms(self) -> int:
        return _ms(self.idle_ttl)

    # -- calls ------------------------------------------------------------------------------

    def put_call(self, call_id: str, record: Mapping[str, Any]) -> None:
        base = self._base(call_id)
        fields = [item for key, value in check_record(record).items() for item in (_field(key), encode_json(value))]
        self._run("put_call", [base], [self._idle_ms(), *fields])

    def get_call(self, call_id: str) -> dict[str, Any] | None:
        base = self._base(call_id)
        with self._guard():
            stored = self._execute("HGETALL", base)
        return self._decode_call(_as_dict(stored)) if stored else None

    @staticmethod
    def _decode_call(stored: Mapping[str, str]) -> dict[str, Any]:
        return {field[1:]: decode_json(value) for field, value in sorted(stored.items()) if field != _EXISTS_FIELD}

    def update_call(
        self,
        call_id: str,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        base = self._base(call_id)
        changes = check_record(changes, "changes")
        expect = check_record(expect or {}, "expect")
        args: list[Any] = [self._idle_ms(), len(expect)]
        for key, value in [*expect.items(), *changes.items()]:
            args += [_field(key), encode_json(value)]
        reply = self._run("update_call", [base], args)
        if reply[0] == "missing":
            raise NotFound(f"call {call_id} not found")
        if reply[0] == "conflict":
            raise UpdateConflict(call_id, [field[1:] for field in reply[1:]])
        return self._decode_call(_as_dict(reply[1:]))

    def end_call(self, call_id: str, *, ttl: float | None = None) -> None:
        seconds = self._end_ttl(ttl)
        self._run("end_call", [self._base(call_id)], [_ms(seconds) if seconds else 0])  # 0: forget now

    # -- gathers ----------------------------------------------------------------------------

    def create_gather(self, call_id: str, gather_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        base = self._base(call_id)
        check_id("gather_id", gather_id)
        stored = {**check_record(record), "id": gather_id, "state": GATHER_CREATED}
        reply = self._run("create_gather", [base], [self._idle_ms(), gather_id, encode_json(stored), new_token()])
        if reply[0] == "open":
            raise GatherConflict(call_id, reply[1])
        if reply[0] == "taken":
            raise GatherConflict(call_id, reply[1], taken=True)
        return decode_json(encode_json(stored))

    def get_gather(self, call_id: str, gather_id: str) -> dict[str, Any] | None:
        key = f"{self._base(call_id)}:gather:{check_id('gather_id', gather_id)}"
        with self._guard():
            state, record, result = self._execute("HMGET", key, "state", "record", "result")
        if state is None or record is None:
            return None
        return self._gather_record(gather_id, state, record, result)

    @staticmethod
    def _gather_record(gather_id: str, state: str, record: str, result: str | None) -> dict[str, Any]:
        merged = decode_json(record)
        if result is not None:
            merged.update(decode_json(result))
        merged.update(id=gather_id, state=state)
        return merged

    def open_gather(self, call_id: str) -> dict[str, Any] | None:
        base = self._base(call_id)
        with self._guard():
            gather_id = self._execute("GET", f"{base}:open-gather")
        if gather_id is None:
            return None
        record = self.get_gather(call_id, gather_id)
        return record if record is not None and record["state"] == GATHER_CREATED else None

    def complete_gather(self, call_id: str, gather_id: str, result: Mapping[str, Any]) -> GatherCompletion:
        base = self._base(call_id)
        check_id("gather_id", gather_id)
        result = check_record(result, "result")
        reply = self._run(
            "complete_gather", [base], [self._idle_ms(), gather_id, encode_json(result), new_token()]
        )
        if not reply:
            raise NotFound(f"gather {gather_id} of call {call_id} not found")
        verdict, record, stored_result = reply
        completed = self._gather_record(gather_id, GATHER_COMPLETED, record, stored_result)
        return GatherCompletion(completed, completed_now=verdict == "first")

    # -- continuations ----------------------------------------------------------------------

    def put_continuation(self, call_id: str, key: str, document: str) -> None:
        base = self._base(call_id)
        check_id("continuation key", key)
        if not isinstance(document, str):
            raise TypeError("a continuation document must be a string")
        self._run("put_continuation", [base], [self._idle_ms(), key, document])

    def take_continuation(self, call_id: str, key: str) -> str | None:
        full_key = f"{self._base(call_id)}:cont:{check_id('continuation key', key)}"
        with self._guard():
            return self._execute("GETDEL", full_key)

    # -- outbox -----------------------------------------------------------------------------

    def enqueue(self, call_id: str, payload: Any, *, hold: float = 0.0) -> str:
        base = self._base(call_id)
        text = encode_json(payload)
        item_id = new_token()
        hold = check_seconds("hold", hold, allow_zero=True)
        # hold=0: claimable at once (_ms() would round it up to 1 ms)
        self._run("enqueue", [base, self._due], [self._idle_ms(), call_id, item_id, text, round(hold * 1000)])
        return item_id

    def release(self, call_id: str) -> int:
        base = self._base(call_id)
        return int(self._run("release", [base, self._due], [call_id]))

    def claim(self, call_id: str, *, lease: float = DEFAULT_LEASE,
              released: Collection[str] = ()) -> OutboxItem | None:
        base = self._base(call_id)
        lease = check_seconds("lease", lease)
        token = new_token()
        reply = self._run("claim", [base, self._due], [call_id, _ms(lease), token, *released])
        return self._claimed(call_id, reply, token)

    def ack_and_claim(self, item: OutboxItem, *, lease: float = DEFAULT_LEASE,
                      released: Collection[str] = ()) -> OutboxItem | None:
        lease = check_seconds("lease", lease)
        token = new_token()
        reply = self._run("ack_claim", [self._base(item.call_id), self._due],
                          [item.call_id, item.item_id, _ms(lease), token, *released])
        return self._claimed(item.call_id, reply, token)

    @staticmethod
    def _claimed(call_id: str, reply: Sequence[Any], token: str) -> OutboxItem | None:
        if not reply:
            return None
        item_id, payload, attempts, enqueued_at, lease_until = reply
        return OutboxItem(
            call_id=call_id,
            item_id=item_id,
            payload=decode_json(payload),
            attempts=int(attempts),
            enqueued_at=int(enqueued_at) / 1000,
            lease_until=int(lease_until) / 1000,
            lease_token=token,
        )

    def ack(self, item: OutboxItem) -> bool:
        removed = self._run("ack", [self._base(item.call_id), self._due], [item.call_id, item.item_id])
        return int(removed) > 0

    def nack(self, item: OutboxItem, *, retry_after: float) -> bool:
        retry_ms = round(check_seconds("retry_after", retry_after, allow_zero=True) * 1000)
        args = [item.call_id, item.item_id, item.lease_token, retry_ms]
        return int(self._run("nack", [self._base(item.call_id), self._due], args)) > 0

    def due_calls(self, *, limit: int = 100) -> list[str]:
        if limit < 1:
            raise ValueError("limit must be >= 1")
        return list(self._run("due_calls", [self._due], [f"{self.key_prefix}call:", limit]))

    def outbox_depth(self) -> int:
        return int(self._run("outbox_depth", [self._due], [f"{self.key_prefix}call:"]))

    # -- markers ----------------------------------------------------------------------------

    def add_marker(self, key: str, ttl: float) -> bool:
        if not isinstance(key, str) or not key:
            raise ValueError("a marker key must be a non-empty string")
        ttl_ms = _ms(check_seconds("ttl", ttl))
        with self._guard():
            return self._execute("SET", f"{self.key_prefix}marker:{key}", "1", "NX", "PX", ttl_ms) is not None

    # -- lifecycle --------------------------------------------------------------------------

    def ping(self) -> None:
        with self._guard():
            self._client.ping()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._connections.close()
            self._client.close()
