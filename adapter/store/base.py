"""The state store interface the proxy uses; ``SqliteStore`` and ``RedisStore`` implement it.

Everything except markers belongs to a call (a Bandwidth call id):

* **calls** - one JSON object per call; ``update_call`` merges top-level fields
  atomically and can require fields to still hold expected values (``expect``).
* **gathers** - at most one *open* gather per call (``create_gather`` raises
  ``GatherConflict`` otherwise, atomically); ``complete_gather`` completes a gather
  exactly once: a second completion - from a retry or from another proxy instance
  racing on the same event - gets the already-completed record with
  ``completed_now=False``.  The store owns two fields of a gather record: ``"id"`` (the
  gather id) and ``"state"`` (``"created"``, then ``"completed"``).
* **continuations** - a document stored under (call, key), taken at most once
  (fetch-and-delete is atomic).
* **outbox** - events to deliver, in order per call, at least once.  Only the head item of
  a call can be claimed, so a call's events are delivered one at a time in order.  A claim
  takes a lease: until it runs out no other worker can claim the item; a worker that dies
  mid-delivery loses the lease and the item becomes claimable again.  ``ack`` removes the
  item (by id, whoever holds the lease); ``nack`` (only by the lease holder) releases it,
  counts the failed attempt and makes it due again after ``retry_after`` seconds (a lease
  that simply runs out is not counted).  Items are persisted: they survive a proxy restart.
* **markers** - set-if-absent keys with their own TTL (idempotency, replay protection).

Expiry: while a call is live, each of its records expires ``idle_ttl`` seconds after its
last write (a safety net for calls whose end never arrives).  ``end_call`` gives every
record of the call, and any written later, a deadline ``call_ttl`` seconds from then.
Expired records are invisible at once and removed lazily.

All records must be JSON-serialisable (``dict``/``list``/``str``/numbers/``bool``/``None``);
they come back as fresh ``dict`` objects.  Backend failures raise ``StoreUnavailable``.
"""

from __future__ import annotations

import contextlib
import json
import math
import re
import secrets
from abc import ABC, abstractmethod
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

DEFAULT_CALL_TTL = 3600.0
DEFAULT_IDLE_TTL = 86400.0
DEFAULT_LEASE = 30.0
MAX_ID_LENGTH = 200

GATHER_CREATED = "created"
GATHER_COMPLETED = "completed"


@dataclass(frozen=True)
class GatherCompletion:
    """What ``complete_gather`` returns: the completed record, and whether this call completed it."""

    record: dict[str, Any]
    completed_now: bool


@dataclass(frozen=True)
class OutboxItem:
    """A claimed outbox item.  Times are Unix timestamps in seconds."""

    call_id: str
    item_id: str
    payload: Any
    attempts: int  # failed attempts so far (nacks)
    enqueued_at: float
    lease_until: float
    lease_token: str


def encode_json(value: object) -> str:
    """The canonical JSON text of ``value`` (sorted keys, no spaces, ASCII only, no NaN).

    ASCII escapes keep any Python string storable, even one with a lone surrogate.
    """
    try:
        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True, allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"not JSON-serialisable: {exc}") from None


def decode_json(text: str) -> Any:
    return json.loads(text)


_BAD_ID_CHARACTER = re.compile(r"[:\s]")  # \s: every character str.isspace() accepts


def check_id(kind: str, value: str) -> str:
    """Ids end up in key names: non-empty strings without ``:`` or whitespace."""
    if not isinstance(value, str) or not value or len(value) > MAX_ID_LENGTH:
        raise ValueError(f"{kind} must be a non-empty string of at most {MAX_ID_LENGTH} characters")
    if _BAD_ID_CHARACTER.search(value):
        raise ValueError(f"{kind} must not contain ':' or whitespace: {value!r}")
    return value


def check_record(record: Mapping[str, Any], what: str = "record") -> dict[str, Any]:
    if not isinstance(record, Mapping) or not all(isinstance(key, str) for key in record):
        raise TypeError(f"{what} must be a mapping with string keys")
    result = dict(record)
    encode_json(result)  # fail early on anything that will not round-trip
    return result


def check_seconds(name: str, value: float, *, allow_zero: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise ValueError(f"{name} must be a number of seconds")
    if value < 0 or (value == 0 and not allow_zero):
        raise ValueError(f"{name} must be {'>= 0' if allow_zero else '> 0'} seconds")
    return float(value)


def new_token() -> str:
    return secrets.token_hex(16)


class Store(ABC):
    """The proxy's state: calls, gathers, continuations, outbox and markers (see module doc)."""

    def __init__(self, *, call_ttl: float = DEFAULT_CALL_TTL, idle_ttl: float = DEFAULT_IDLE_TTL) -> None:
        self.call_ttl = check_seconds("call_ttl", call_ttl)
        self.idle_ttl = check_seconds("idle_ttl", idle_ttl)

    # -- calls ------------------------------------------------------------------------------

    @abstractmethod
    def put_call(self, call_id: str, record: Mapping[str, Any]) -> None:
        """Store (or replace) the record of a call."""

    @abstractmethod
    def get_call(self, call_id: str) -> dict[str, Any] | None:
        """The record of a call, or ``None`` when unknown or expired."""

    @abstractmethod
    def update_call(
        self,
        call_id: str,
        changes: Mapping[str, Any],
        *,
        expect: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Merge ``changes`` into the call's top-level fields atomically; return the new record.

        With ``expect``, apply only if each named field currently equals the given value
        (a missing field equals ``None``), else raise ``UpdateConflict``.
        Raises ``NotFound`` for an unknown call.
        """

    @abstractmethod
    def end_call(self, call_id: str, *, ttl: float | None = None) -> None:
        """The call has ended: everything of it expires ``ttl`` (default ``call_ttl``) seconds from now.

        ``ttl=0`` forgets the call at once (a call Bandwidth refused to create)."""

    # -- gathers ----------------------------------------------------------------------------

    @abstractmethod
    def create_gather(self, call_id: str, gather_id: str, record: Mapping[str, Any]) -> dict[str, Any]:
        """Store a new open gather (``id`` = ``gather_id``, ``state`` = ``"created"``); return its record.

        Raises ``GatherConflict`` when the call already has an open gather or ``gather_id``
        is taken.
        """

    @abstractmethod
    def get_gather(self, call_id: str, gather_id: str) -> dict[str, Any] | None:
        """A gather's record, or ``None``."""

    @abstractmethod
    def open_gather(self, call_id: str) -> dict[str, Any] | None:
        """The call's open gather (``state`` = ``"created"``; ``id`` is its gather id), if any."""

    @abstractmethod
    def complete_gather(self, call_id: str, gather_id: str, result: Mapping[str, Any]) -> GatherCompletion:
        """Complete a gather exactly once, merging ``result`` into its record.

        The first completion stores ``result`` and returns ``completed_now=True``; later ones
        change nothing and return the stored completed record with ``completed_now=False``.
        Raises ``NotFound`` for an unknown gather.
        """

    # -- continuations ----------------------------------------------------------------------

    @abstractmethod
    def put_continuation(self, call_id: str, key: str, document: str) -> None:
        """Store ``document`` under (call, key), replacing any previous one."""

    @abstractmethod
    def take_continuation(self, call_id: str, key: str) -> str | None:
        """Fetch and delete the document atomically: only one taker ever gets it."""

    # -- outbox -----------------------------------------------------------------------------

    @abstractmethod
    def enqueue(self, call_id: str, payload: Any, *, hold: float = 0.0) -> str:
        """Append an event for delivery after the call's earlier events; return the item id.

        ``hold``: the item becomes claimable only after that many seconds, or earlier when
        ``release`` is called or a claim names it in ``released`` (the proxy holds events until
        its answer to Bandwidth is sent; if the process dies first, the hold simply runs out and
        nothing is lost).
        """

    @abstractmethod
    def release(self, call_id: str) -> int:
        """Make the call's held, never-attempted items claimable now; return how many."""

    @abstractmethod
    def claim(self, call_id: str, *, lease: float = DEFAULT_LEASE,
              released: Collection[str] = ()) -> OutboxItem | None:
        """Lease the call's head item when it is due and not leased; else ``None``.

        ``released``: ids of items whose hold is over for this caller (the process that queued
        them has sent its answer): such a head item is due even before its hold runs out, if it
        was never attempted.  This is ``release`` without a write."""

    @abstractmethod
    def ack(self, item: OutboxItem) -> bool:
        """The item was delivered: remove it.  ``False`` when it was already gone."""

    def ack_and_claim(self, item: OutboxItem, *, lease: float = DEFAULT_LEASE,
                      released: Collection[str] = ()) -> OutboxItem | None:
        """``ack(item)`` then ``claim`` of the same call's next item, as one write where the
        backend can (the outbox's step after each delivery)."""
        with self.batch():
            self.ack(item)
            return self.claim(item.call_id, lease=lease, released=released)

    @abstractmethod
    def nack(self, item: OutboxItem, *, retry_after: float) -> bool:
        """Delivery failed: count the attempt, release the lease, retry after ``retry_after`` s.

        ``False`` (and no change) when the caller no longer holds the lease.
        """

    @abstractmethod
    def due_calls(self, *, limit: int = 100) -> list[str]:
        """Calls whose head item can be claimed now, the longest-waiting first."""

    @abstractmethod
    def outbox_depth(self) -> int:
        """Items waiting in the outbox, leased or not (a metric)."""

    # -- grouping -----------------------------------------------------------------------------

    def batch(self) -> contextlib.AbstractContextManager[None]:
        """Group the writes made inside (by this thread) into one transaction where the backend
        has them (SQLite: one commit instead of one per write, and all-or-nothing when an
        exception leaves the block).  Elsewhere each write stays atomic on its own.  Keep the
        block short: no network I/O inside, other writers wait for it."""
        return contextlib.nullcontext()

    # -- markers ----------------------------------------------------------------------------

    @abstractmethod
    def add_marker(self, key: str, ttl: float) -> bool:
        """Set ``key`` for ``ttl`` seconds unless it is set: ``True`` if this call set it."""

    # -- lifecycle --------------------------------------------------------------------------

    @abstractmethod
    def ping(self) -> None:
        """Raise ``StoreUnavailable`` unless the backend answers (readiness)."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; the store cannot be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def _end_ttl(self, ttl: float | None) -> float:
        return self.call_ttl if ttl is None else check_seconds("ttl", ttl, allow_zero=True)
