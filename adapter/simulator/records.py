"""What the simulator saw and did, kept for tests to assert on.

Every record carries ``seq`` (a global order across all records of one simulator) and, where a call
is involved, ``call_id`` and ``call_time`` (seconds on that call's simulated clock, which makes
timing assertions exact: a gather that ended on a 5 s ``interDigitTimeout`` after a key at 0.5 s
has ``call_time == 5.5`` whatever ``time_scale`` is).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class WebhookAttempt:
    """One HTTP request of a webhook delivery."""

    url: str
    method: str
    authorized: bool          # sent with an Authorization header
    status: int | None        # None when no answer came (connection error, timeout)
    error: str | None = None


@dataclass
class WebhookRecord:
    """One event Bandwidth would send, and how its delivery went."""

    seq: int
    call_id: str
    event_type: str
    url: str                  # the primary URL
    method: str
    payload: dict[str, Any]
    call_time: float
    attempts: list[WebhookAttempt] = field(default_factory=list)
    status: int | None = None  # status of the final attempt
    delivered: bool = False    # 2xx received
    reply: str | None = None   # body of the final 2xx reply (sync events), decoded for reading
    reply_bytes: bytes | None = field(default=None, repr=False)  # the same, as received (parsed as XML)
    reply_url: str | None = None  # the URL whose reply was used (primary or fallback)


@dataclass(frozen=True)
class DocumentRecord:
    """A BXML document the call received (from a webhook reply or ``PUT .../bxml``)."""

    seq: int
    call_id: str
    source: str               # "webhook" or "put"
    url: str | None           # the URL that returned it (base for relative URLs)
    body: str
    verbs: tuple[str, ...]    # top-level verb names, () when invalid
    error: str | None         # why it is invalid, None when valid
    call_time: float


@dataclass
class VerbRecord:
    """One verb executed on a call (nested Gather prompts included, with ``parent="Gather"``)."""

    seq: int
    call_id: str
    name: str
    attributes: dict[str, str]
    text: str
    started: float            # call time
    ended: float | None = None
    outcome: str = ""         # "completed", "interrupted", "digits", "timeout", ... (see engine)
    parent: str | None = None


@dataclass(frozen=True)
class RestRecord:
    """One request to the REST API and the answer it got."""

    seq: int
    method: str
    path: str
    query: str
    headers: dict[str, str]   # Authorization is redacted
    body: str
    status: int
    response: str
    operation: str | None     # createCall, getCall, updateCall, updateCallBxml, or None
    fault: str | None = None  # the injected fault that answered it, if any


@dataclass(frozen=True)
class LogLine:
    seq: int
    call_id: str | None
    call_time: float | None
    message: str
