"""One simulated call: its public state, what happened on it, and the controls tests use."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

from adapter.simulator.bxml import Document
from adapter.simulator.caller import DTMF_KEYS
from adapter.simulator.delivery import Target
from adapter.simulator.events import CallFacts
from adapter.simulator.ids import iso_ms
from adapter.simulator.records import DocumentRecord, LogLine, VerbRecord, WebhookRecord

if TYPE_CHECKING:
    from adapter.simulator.journal import Journal

CallState = Literal["queued", "initiated", "answered", "disconnected"]


@dataclass(frozen=True)
class Interrupt:
    """Something from outside the call's script that stops the current verb.

    kind: ``bxml`` (PUT .../bxml), ``redirect`` (update call), ``hangup`` (update call
    state=completed), ``caller-hangup`` (``SimulatedCall.hangup``), ``invalid`` (a PUT body that
    is not valid BXML), ``shutdown`` (the simulator stops).
    """

    kind: Literal["bxml", "redirect", "hangup", "caller-hangup", "invalid", "shutdown"]
    document: Document | None = None
    target: Target | None = None
    set_tag: bool = False
    tag: str | None = None
    reason: str = ""

    @property
    def final(self) -> bool:
        return self.kind in ("hangup", "caller-hangup", "invalid", "shutdown")


@dataclass(frozen=True)
class Callee:
    """How the far end of an outbound call behaves: ``answer``, ``busy``, ``no-answer`` (cause
    ``timeout`` after callTimeout) or ``reject`` (cause ``rejected``), after ``ring_seconds``."""

    outcome: Literal["answer", "busy", "no-answer", "reject"] = "answer"
    ring_seconds: float = 0.0


class SimulatedCall:
    """A call on the simulator.  Read its state and records; drive it with ``press`` / ``hangup``."""

    def __init__(self, journal: Journal, *, call_id: str, call_url: str, direction: Literal["inbound", "outbound"],
                 from_: str, to: str, account_id: str, application_id: str, start_time: datetime,
                 first_target: Target, disconnect_target: Target | None, tag: str | None,
                 callback_timeout: float, call_timeout: float, enqueued_time: datetime | None = None,
                 callee: Callee | None = None, initiate_fields: Mapping[str, Any] | None = None) -> None:
        self._journal = journal
        self.call_id = call_id
        self.call_url = call_url
        self.direction = direction
        self.from_ = from_
        self.to = to
        self.account_id = account_id
        self.application_id = application_id
        self.first_target = first_target            # initiate (inbound) or answer (outbound)
        self.disconnect_target = disconnect_target
        self.callback_timeout = callback_timeout
        self.call_timeout = call_timeout
        self.callee = callee or Callee()
        self.initiate_fields = dict(initiate_fields or {})   # diversion / stirShaken / uui
        self.state: CallState = "queued" if direction == "outbound" else "initiated"
        self.enqueued_time = enqueued_time
        self.start_time = start_time
        self.answer_time: datetime | None = None
        self.end_time: datetime | None = None
        self.last_update = start_time
        self.tag = tag
        self.disconnect_cause: str | None = None
        self.error_message: str | None = None
        self.error_id: str | None = None
        self.call_time = 0.0                         # the call's simulated clock, seconds
        self._signal = threading.Condition(threading.Lock())
        self._interrupt: Interrupt | None = None
        self._live_keys: deque[str] = deque()
        self._settling = False                       # a webhook exchange is being handled
        self._finished = threading.Event()

    # --- reading ---------------------------------------------------------------------------

    @property
    def ended(self) -> bool:
        return self.state == "disconnected"

    @property
    def finished(self) -> bool:
        """The engine is done: the call ended and its disconnect event was delivered."""
        return self._finished.is_set()

    def facts(self) -> CallFacts:
        return CallFacts(self.account_id, self.application_id, self.from_, self.to, self.direction, self.call_id,
                         self.call_url, self.start_time, self.answer_time, self.end_time, self.tag)

    def webhooks(self, event_type: str | None = None) -> list[WebhookRecord]:
        """Events sent for this call, oldest first (optionally of one type)."""
        return [w for w in self._journal.snapshot(self._journal.webhooks)
                if w.call_id == self.call_id and (event_type is None or w.event_type == event_type)]

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        """The payloads of ``webhooks(event_type)``."""
        return [w.payload for w in self.webhooks(event_type)]

    def documents(self) -> list[DocumentRecord]:
        return [d for d in self._journal.snapshot(self._journal.documents) if d.call_id == self.call_id]

    def verbs(self, name: str | None = None) -> list[VerbRecord]:
        return [v for v in self._journal.snapshot(self._journal.verbs)
                if v.call_id == self.call_id and (name is None or v.name == name)]

    def log(self) -> list[LogLine]:
        return [line for line in self._journal.snapshot(self._journal.lines) if line.call_id == self.call_id]

    def state_json(self) -> dict[str, Any]:
        """The body of ``GET .../calls/{callId}`` (spec §5.4)."""
        def stamp(moment: datetime | None) -> str | None:
            return None if moment is None else iso_ms(moment)

        return {
            "applicationId": self.application_id, "accountId": self.account_id, "callId": self.call_id,
            "parentCallId": None, "to": self.to, "from": self.from_, "direction": self.direction,
            "state": self.state, "stirShaken": None, "identity": None,
            "enqueuedTime": stamp(self.enqueued_time),
            "startTime": None if self.state == "queued" else stamp(self.start_time),
            "answerTime": stamp(self.answer_time), "endTime": stamp(self.end_time),
            "disconnectCause": self.disconnect_cause, "errorMessage": self.error_message,
            "errorId": self.error_id, "lastUpdate": stamp(self.last_update),
        }

    # --- waiting ---------------------------------------------------------------------------

    def wait_until_ended(self, timeout: float = 10.0) -> str:
        """Wait until the call is over and its disconnect event sent; return the disconnect cause."""
        self._journal.wait_for(lambda: self._finished.is_set(), timeout, f"call {self.call_id} to end")
        return self.disconnect_cause or ""

    def wait_for_webhook(self, event_type: str, timeout: float = 10.0, *, count: int = 1) -> WebhookRecord:
        """Wait until ``count`` events of ``event_type`` were sent (and answered); return the last."""
        def done() -> WebhookRecord | None:
            sent = [w for w in self.webhooks(event_type) if w.status is not None or w.attempts]
            return sent[count - 1] if len(sent) >= count else None
        return self._journal.wait_for(done, timeout, f"{count} {event_type} event(s) on {self.call_id}")

    def wait_for_verb(self, name: str, timeout: float = 10.0, *, count: int = 1) -> VerbRecord:
        """Wait until the ``count``-th ``<name>`` verb started on this call; return its record."""
        def started() -> VerbRecord | None:
            found = self.verbs(name)
            return found[count - 1] if len(found) >= count else None
        return self._journal.wait_for(started, timeout, f"<{name}> #{count} on {self.call_id}")

    def settle(self, timeout: float) -> None:
        """Wait (at most ``timeout`` real seconds) while the engine is in a webhook exchange, so a
        REST change is judged on the state the reply puts the call in (e.g. an inbound call that
        the initiate reply is about to answer)."""
        deadline = time.monotonic() + timeout
        with self._signal:
            while self._settling:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return
                self._signal.wait(remaining)

    # --- driving ---------------------------------------------------------------------------

    def press(self, keys: str) -> None:
        """Press keys now (real time), in addition to the call's script."""
        bad = set(keys) - DTMF_KEYS
        if bad:
            raise ValueError(f"not DTMF keys: {''.join(sorted(bad))}")
        with self._signal:
            self._live_keys.extend(keys)
            self._signal.notify_all()

    def hangup(self) -> None:
        """The caller hangs up now."""
        self.interrupt(Interrupt("caller-hangup"))

    def interrupt(self, interrupt: Interrupt) -> None:
        """Stop the current verb.  A final interrupt (hang-up) is never replaced by a later one."""
        with self._signal:
            if self._interrupt is None or not self._interrupt.final:
                self._interrupt = interrupt
            self._signal.notify_all()

    def __repr__(self) -> str:
        return f"<SimulatedCall {self.call_id} {self.direction} {self.from_}->{self.to} {self.state}>"
