"""Sending webhooks the way Bandwidth does (spec §3.1, §4).

- POST sends the event as a JSON body; GET sends the fields as query parameters.
- Basic auth uses the challenge flow: the request goes out without ``Authorization``; only a ``401``
  carrying ``WWW-Authenticate: Basic ...`` makes it go out again with the credentials.  A ``401``
  without that header is not retried.
- A synchronous webhook (one whose reply is BXML) that fails (no answer in time, connection error,
  non-2xx) is retried once at its fallback URL with the fallback credentials, when there is one.
- An asynchronous webhook (dtmf, disconnect) is retried once at the same URL, and only after a
  connection error.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests

from adapter.simulator.events import query_parameters
from adapter.simulator.records import WebhookAttempt, WebhookRecord

USER_AGENT = "bxml-migrate-simulator (Bandwidth Voice API v2)"


@dataclass(frozen=True)
class Credentials:
    username: str
    password: str


@dataclass(frozen=True)
class Target:
    """Where an event goes: URL, method, credentials, and the fallback for synchronous events."""

    url: str
    method: str = "POST"
    credentials: Credentials | None = None
    fallback_url: str | None = None
    fallback_method: str = "POST"
    fallback_credentials: Credentials | None = None


def credentials(username: str | None, password: str | None) -> Credentials | None:
    return Credentials(username, password or "") if username else None


class WebhookSender:
    """Delivers events for one call (one ``requests.Session``, used from that call's thread)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._session = requests.Session()
        self._session.trust_env = False  # never route loopback callbacks through an HTTP proxy
        self._session.headers["User-Agent"] = USER_AGENT

    def close(self) -> None:
        self._session.close()

    def deliver(self, record: WebhookRecord, target: Target, *, sync: bool) -> None:
        """Send ``record.payload``; fill ``record.attempts``, ``status``, ``delivered`` and ``reply``."""
        response = self._with_challenge(record, target.url, target.method, target.credentials)
        if response is None and not sync and record.attempts[-1].error == "connection":
            response = self._with_challenge(record, target.url, target.method, target.credentials)
        used_url = target.url
        if sync and not _ok(response) and target.fallback_url:
            response = self._with_challenge(record, target.fallback_url, target.fallback_method,
                                            target.fallback_credentials)
            used_url = target.fallback_url
        record.status = None if response is None else response.status_code
        record.delivered = _ok(response)
        if response is not None and record.delivered:
            record.reply_bytes = response.content
            record.reply = response.content.decode("utf-8", errors="replace")
            record.reply_url = used_url

    def _with_challenge(self, record: WebhookRecord, url: str, method: str,
                        creds: Credentials | None) -> requests.Response | None:
        response = self._send(record, url, method, None)
        if (response is not None and response.status_code == 401 and creds is not None
                and response.headers.get("WWW-Authenticate", "").strip().lower().startswith("basic")):
            response = self._send(record, url, method, creds)
        return response

    def _send(self, record: WebhookRecord, url: str, method: str,
              creds: Credentials | None) -> requests.Response | None:
        kwargs: dict[str, Any] = {"timeout": self.timeout, "allow_redirects": False}
        if creds is not None:
            kwargs["auth"] = (creds.username, creds.password)
        if method == "GET":
            kwargs["params"] = query_parameters(record.payload)
        else:
            kwargs["json"] = record.payload
        try:
            response = self._session.request(method, url, **kwargs)
        except requests.Timeout:
            record.attempts.append(WebhookAttempt(url, method, creds is not None, None, "timeout"))
            return None
        except requests.ConnectionError:
            record.attempts.append(WebhookAttempt(url, method, creds is not None, None, "connection"))
            return None
        except requests.RequestException as exc:
            record.attempts.append(WebhookAttempt(url, method, creds is not None, None, type(exc).__name__))
            return None
        record.attempts.append(WebhookAttempt(url, method, creds is not None, response.status_code))
        return response


def _ok(response: requests.Response | None) -> bool:
    return response is not None and 200 <= response.status_code < 300
