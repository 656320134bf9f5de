"""Fault injection for the REST API: make the next N requests fail the way Bandwidth can fail.

``status`` faults answer with an error body (429 with ``Retry-After``, 500, 503, ...) and change
nothing; ``hang`` faults never answer: the connection is held for ``seconds`` (or until the
simulator stops) and then closed, so a client sees its own timeout.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Literal

OPERATIONS = ("createCall", "getCall", "updateCall", "updateCallBxml", "listCalls")

# (type, description) per status, from spec §5.6.
ERROR_TYPES: dict[int, tuple[str, str]] = {
    400: ("validation", "Invalid request"),
    401: ("authentication-error", "Invalid credentials"),
    403: ("authorization-error", "Access is denied"),
    404: ("validation", "Not found"),
    409: ("validation", "Call cannot be modified in its current state"),
    429: ("error", "Account concurrent call limit exceeded"),
    500: ("internal-error", "An unknown error occurred"),
    503: ("system-overloaded", "The system is overloaded, please try again later"),
}


@dataclass
class Fault:
    kind: Literal["status", "hang"]
    remaining: int
    status: int = 500
    retry_after: int | None = None
    seconds: float = 30.0
    operation: str | None = None   # None: any request

    @property
    def label(self) -> str:
        return f"hang {self.seconds:g}s" if self.kind == "hang" else f"status {self.status}"


class FaultInjector:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []

    def add(self, fault: Fault) -> None:
        if fault.operation is not None and fault.operation not in OPERATIONS:
            raise ValueError(f"unknown operation {fault.operation!r}; expected one of {', '.join(OPERATIONS)}")
        if fault.remaining < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(fault)

    def take(self, operation: str | None) -> Fault | None:
        """The first pending fault matching ``operation``, counted down by one."""
        with self._lock:
            for fault in self._faults:
                if fault.operation is None or fault.operation == operation:
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    return fault
        return None

    def clear(self) -> None:
        with self._lock:
            self._faults.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return sum(f.remaining for f in self._faults)
