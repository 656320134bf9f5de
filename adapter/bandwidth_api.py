"""Client for the Bandwidth Voice API v2 calls the proxy makes (shared/spec/bxml-v2.md §5).

- ``PUT .../calls/{callId}/bxml`` (``<Bxml>`` body, 204), ``POST .../calls/{callId}`` (update),
  ``POST .../calls`` (create, 201 + JSON), ``GET .../calls/{callId}``.
- Every request has a timeout.  429 and 503 (and, for idempotent requests, 500/502/504,
  timeouts and connection errors) are retried with backoff, honouring ``Retry-After``,
  within a bounded total wait (``retry_budget`` seconds, a few by default); past it the
  caller gets ``BandwidthUnavailable``.  Creating a call is retried only on 429/503, which
  mean the request was not processed.
- Answers map to exceptions the v1 emulation turns into v1 errors: 404 -> ``CallNotFound``,
  409 -> ``CallConflict``, other 4xx -> ``BandwidthRejected``.
"""

from __future__ import annotations

import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from adapter.egress import basic_authorization, encode_body
from adapter.http_transport import Transport, TransportError, TransportTimeout

RETRY_ALWAYS = frozenset({429, 503})
RETRY_IDEMPOTENT = frozenset({500, 502, 504})


class BandwidthApiError(Exception):
    def __init__(self, status: int | None, description: str, error_type: str = "") -> None:
        super().__init__(f"Bandwidth API {status or 'unreachable'}: {description}")
        self.status = status
        self.description = description
        self.error_type = error_type


class CallNotFound(BandwidthApiError):
    pass


class CallConflict(BandwidthApiError):
    pass


class BandwidthRejected(BandwidthApiError):
    pass


class BandwidthUnavailable(BandwidthApiError):
    pass


def retry_after_seconds(value: str | None, now: float | None = None) -> float | None:
    """``Retry-After`` as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(when.timestamp() - (now if now is not None else time.time()), 0.0)


@dataclass(frozen=True)
class ApiResponse:
    status_code: int
    reason: str
    headers: Mapping[str, str]
    content: bytes

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)


class BandwidthApi:
    def __init__(self, api_url: str, account_id: str, username: str, password: str, *,
                 timeout: float = 10.0, retry_budget: float = 5.0, max_attempts: int = 4,
                 backoff: float = 0.2, sleep: Callable[[float], None] = time.sleep,
                 observer: Callable[[str, float], None] | None = None) -> None:
        self.observer = observer  # (outcome, seconds) after every HTTP attempt: metrics
        self.base = f"{api_url.rstrip('/')}/accounts/{account_id}"
        self.timeout = timeout
        self.retry_budget = retry_budget
        self.max_attempts = max_attempts
        self.backoff = backoff
        self._sleep = sleep
        self.transport = Transport(pool_size=32)
        self.headers = {"User-Agent": "bxml-migrate", "Accept": "application/json",
                        "Authorization": basic_authorization(username, password)}

    def close(self) -> None:
        self.transport.close()

    # -- operations ------------------------------------------------------------------

    def update_bxml(self, call_id: str, bxml: str) -> None:
        self._send("PUT", f"/calls/{call_id}/bxml", idempotent=True, data=bxml.encode("utf-8"),
                   headers={"Content-Type": "application/xml; charset=utf-8"})

    def update_call(self, call_id: str, body: Mapping[str, Any]) -> None:
        self._send("POST", f"/calls/{call_id}", idempotent=True, json=dict(body))

    def create_call(self, body: Mapping[str, Any]) -> dict[str, Any]:
        response = self._send("POST", "/calls", idempotent=False, json=dict(body))
        return response.json()

    def get_call(self, call_id: str) -> dict[str, Any]:
        return self._send("GET", f"/calls/{call_id}", idempotent=True).json()

    # -- transport ---------------------------------------------------------------------

    def _send(self, method: str, path: str, *, idempotent: bool, data: bytes | None = None,
              json: Any = None, headers: Mapping[str, str] | None = None) -> ApiResponse:
        deadline = time.monotonic() + self.retry_budget
        sent = {**self.headers, **(headers or {})}
        body = encode_body(sent, data, json)
        attempt = 0
        while True:
            attempt += 1
            started = time.perf_counter()
            try:
                response = self._exchange(method, self.base + path, body, sent)
            except TransportError as exc:
                self._observe("timeout" if isinstance(exc, TransportTimeout) else "error", started)
                if not idempotent or not self._wait(attempt, None, deadline):
                    raise BandwidthUnavailable(None, f"{method} {path}: {exc.__class__.__name__}") from exc
                continue
            self._observe(str(response.status_code), started)
            if response.status_code < 400:
                return response
            retryable = response.status_code in RETRY_ALWAYS or (
                idempotent and response.status_code in RETRY_IDEMPOTENT)
            if retryable and self._wait(attempt, retry_after_seconds(response.headers.get("Retry-After")),
                                        deadline):
                continue
            raise self._error(response, retryable)

    def _exchange(self, method: str, url: str, body: bytes | None, headers: Mapping[str, str]) -> ApiResponse:
        exchange = self.transport.send(method, url, body=body, headers=headers, timeout=self.timeout)
        complete = False
        try:
            chunks = []
            while chunk := exchange.read(65536):
                chunks.append(chunk)
            complete = True
        finally:
            exchange.finish(complete=complete)
        return ApiResponse(exchange.status, exchange.reason, exchange.headers, b"".join(chunks))

    def _observe(self, outcome: str, started: float) -> None:
        if self.observer is not None:
            self.observer(outcome, time.perf_counter() - started)

    def _wait(self, attempt: int, retry_after: float | None, deadline: float) -> bool:
        """Sleep before the next attempt; False when attempts or the time budget are used up."""
        if attempt >= self.max_attempts:
            return False
        delay = retry_after if retry_after is not None else self.backoff * (2 ** (attempt - 1))
        if time.monotonic() + delay > deadline:
            return False
        self._sleep(delay)
        return True

    @staticmethod
    def _error(response: ApiResponse, retryable: bool) -> BandwidthApiError:
        try:
            body = response.json()
        except ValueError:
            body = {}
        if not isinstance(body, dict):
            body = {}
        description = str(body.get("description") or response.text[:200] or response.reason)
        kind = str(body.get("type") or "")
        status = response.status_code
        if retryable or status >= 500:
            return BandwidthUnavailable(status, description, kind)
        if status == 404:
            return CallNotFound(status, description, kind)
        if status == 409:
            return CallConflict(status, description, kind)
        return BandwidthRejected(status, description, kind)
