"""Exceptions of the state store (the same for every backend)."""

from __future__ import annotations


class StoreError(Exception):
    """Base class of the store's errors."""


class StoreUnavailable(StoreError):
    """The backend cannot be reached or is locked beyond the timeout (readiness fails)."""


class StoreClosed(StoreError):
    """The store was closed with ``close()``."""


class NotFound(StoreError, LookupError):
    """The call or gather does not exist (or has expired)."""


class GatherConflict(StoreError):
    """The call already has an open gather (v1 answered 409), or the gather id is taken."""

    def __init__(self, call_id: str, gather_id: str, *, taken: bool = False) -> None:
        if taken:
            message = f"call {call_id} already has a gather with id {gather_id}"
        else:
            message = f"call {call_id} already has an open gather ({gather_id})"
        super().__init__(message)
        self.call_id = call_id
        self.gather_id = gather_id  # the open gather, or the taken id
        self.taken = taken


class UpdateConflict(StoreError):
    """``update_call(..., expect=...)``: the record no longer holds the expected values."""

    def __init__(self, call_id: str, fields: list[str]) -> None:
        super().__init__(f"call {call_id}: {', '.join(fields)} changed concurrently")
        self.call_id = call_id
        self.fields = fields
