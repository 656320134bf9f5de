"""What one proxy process holds: configuration, state store, API clients, the signer and the outbox worker.

Built by ``create_app`` (``adapter.app``) and kept in ``app.extensions["bxml_migrate"]``;
nothing here is module state, so tests can run several proxies in one process.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, current_app

from adapter.bandwidth_api import BandwidthApi
from adapter.config import Config, Mode
from adapter.egress import EgressPolicy, GuardedClient
from adapter.metrics import Metrics
from adapter.outbox import OutboxWorker
from adapter.signed_refs import BadReference, sign, verify
from adapter.store import Store, open_store
from translators.callbacks import TwilioSettings

log = logging.getLogger("bxml_migrate.adapter")

EXTENSION = "bxml_migrate"
REFERENCE_MAX_AGE = 7 * 86400.0  # a signed URL outlives any call


@dataclass
class Runtime:
    config: Config
    store: Store
    bandwidth: BandwidthApi | None
    http: GuardedClient
    outbox: OutboxWorker
    modes: tuple[Mode, ...]
    metrics: Metrics
    extras: dict[str, Any] = field(default_factory=dict)
    twiml_http: GuardedClient | None = None  # TwiML mode: requests to the app (twiml.max_response_bytes)

    @property
    def public_url(self) -> str:
        return (self.config.server.public_url or "").rstrip("/")

    def proxy_url(self, path: str, **reference: Any) -> str:
        """A URL under ``public_url`` whose last segment is a signed reference to ``reference``."""
        token = sign(reference, self.config.signing_key)
        return f"{self.public_url}{path}/{token}"

    def read_reference(self, token: str, kind: str) -> dict[str, Any]:
        payload = verify(token, self.config.signing_key, max_age=REFERENCE_MAX_AGE)
        if payload.get("kind") != kind:
            raise BadReference(f"reference is for {payload.get('kind')!r}, not {kind!r}")
        return payload

    @property
    def twilio_settings(self) -> TwilioSettings:
        """What TwiML mode tells the app about itself (``AccountSid``); ValueError when malformed."""
        return TwilioSettings(self.config.twiml.account_sid or "")

    def close(self) -> None:
        self.outbox.stop()
        self.http.close()
        if self.twiml_http is not None:
            self.twiml_http.close()
        if self.bandwidth is not None:
            self.bandwidth.close()
        self.store.close()


def build_runtime(config: Config, *, store: Store | None = None, start_worker: bool = True) -> Runtime:
    modes = config.modes()
    if store is None:
        store = open_store(config.state.url, key_prefix=config.state.key_prefix, call_ttl=config.state.call_ttl,
                           idle_ttl=config.state.idle_ttl)
    metrics = Metrics(store.outbox_depth)
    bandwidth = None
    if Mode.CATAPULT in modes:
        bw = config.bandwidth
        bandwidth = BandwidthApi(bw.api_url, bw.account_id or "", bw.username or "", bw.password or "",
                                 timeout=bw.timeout, retry_budget=bw.retry_budget,
                                 observer=lambda outcome, s: metrics.observe_upstream("bandwidth", outcome, s))
    configured = [config.catapult.callback_url, config.twiml.app_url, config.twiml.status_callback]
    policy = EgressPolicy.for_urls(configured, config.egress.allow_hosts,
                                   allow_private=config.egress.allow_private)
    http = GuardedClient(policy, timeout=config.catapult.event_timeout,
                         observer=lambda outcome, s: metrics.observe_upstream("legacy_app", outcome, s))
    # A claim's lease must outlast one delivery attempt, or another instance may send the event meanwhile.
    lease = max(30.0, 2 * config.catapult.event_timeout + 5)
    outbox = OutboxWorker(store, http, lease=lease,
                          on_result=lambda item, outcome: metrics.count_delivery(outcome))
    runtime = Runtime(config, store, bandwidth, http, outbox, modes, metrics)
    if Mode.TWIML in modes:
        runtime.twiml_http = GuardedClient(
            policy, timeout=config.twiml.timeout, max_response_bytes=config.twiml.max_response_bytes,
            observer=lambda outcome, s: metrics.observe_upstream("legacy_app", outcome, s))
    if start_worker:
        outbox.start()
    return runtime


def runtime() -> Runtime:
    return current_app.extensions[EXTENSION]


def init_app(app: Flask, runtime_: Runtime) -> None:
    app.extensions[EXTENSION] = runtime_


def host_port(url: str) -> tuple[str, int | None]:
    parts = urlsplit(url)
    return parts.hostname or "", parts.port
