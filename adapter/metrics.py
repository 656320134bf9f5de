"""Prometheus metrics of the proxy (``GET /metrics``), built on prometheus-client.

One ``Metrics`` object per app, on its own registry (several apps can live in one test
process).  Under gunicorn, ``serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` before the workers
start, and ``/metrics`` then aggregates every worker's values (prometheus-client's
multi-process mode), so any worker can answer a scrape.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from translators.diagnostics import Diagnostic

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 15.0)


class _OutboxDepth:
    """Reads the outbox depth from the store at scrape time (shared by every worker)."""

    def __init__(self, depth: Callable[[], int]) -> None:
        self._depth = depth

    def collect(self) -> Iterable[GaugeMetricFamily]:
        family = GaugeMetricFamily("bxml_migrate_outbox_depth", "Events waiting in the outbox")
        try:
            family.add_metric([], float(self._depth()))
        except Exception:  # a scrape must not fail because the store is down
            family.add_metric([], float("nan"))
        yield family


class Metrics:
    def __init__(self, outbox_depth: Callable[[], int]) -> None:
        self.multiprocess = bool(os.environ.get("PROMETHEUS_MULTIPROC_DIR"))
        self.registry = CollectorRegistry(auto_describe=True)
        kwargs: dict[str, Any] = {"registry": None if self.multiprocess else self.registry}
        self.requests = Counter("bxml_migrate_requests_total", "HTTP requests by route and status",
                                ["route", "method", "status"], **kwargs)
        self.latency = Histogram("bxml_migrate_request_seconds", "HTTP request latency by route", ["route"],
                                 buckets=LATENCY_BUCKETS, **kwargs)
        self.upstream = Counter("bxml_migrate_upstream_requests_total",
                                "Requests to Bandwidth and to legacy apps by outcome", ["target", "outcome"],
                                **kwargs)
        self.upstream_latency = Histogram("bxml_migrate_upstream_seconds", "Upstream request latency",
                                          ["target"], buckets=LATENCY_BUCKETS, **kwargs)
        self.diagnostics = Counter("bxml_migrate_translation_diagnostics_total",
                                   "Translation diagnostics by code", ["code", "severity"], **kwargs)
        self.deliveries = Counter("bxml_migrate_outbox_deliveries_total",
                                  "Outbox delivery attempts by outcome (delivered, retry, dropped)", ["outcome"],
                                  **kwargs)
        self.inflight = Gauge("bxml_migrate_requests_in_flight", "Requests being handled", **(
            {"multiprocess_mode": "livesum"} if self.multiprocess else {}), **kwargs)
        self._request_children: dict[tuple[str, str, int], tuple[Any, Any]] = {}
        self._upstream_children: dict[tuple[str, str], tuple[Any, Any]] = {}
        self._delivery_children: dict[str, Any] = {}
        if self.multiprocess:
            MultiProcessCollector(self.registry)
        self.registry.register(_OutboxDepth(outbox_depth))

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        key = (route, method, status)
        children = self._request_children.get(key)
        if children is None:  # labels() takes a lock and builds its key each time: once per label set
            children = self._request_children[key] = (self.requests.labels(route, method, str(status)),
                                                      self.latency.labels(route))
        children[0].inc()
        children[1].observe(seconds)

    def observe_upstream(self, target: str, outcome: str, seconds: float) -> None:
        key = (target, outcome)
        children = self._upstream_children.get(key)
        if children is None:
            children = self._upstream_children[key] = (self.upstream.labels(target, outcome),
                                                       self.upstream_latency.labels(target))
        children[0].inc()
        children[1].observe(seconds)

    def count_delivery(self, outcome: str) -> None:
        child = self._delivery_children.get(outcome)
        if child is None:
            child = self._delivery_children[outcome] = self.deliveries.labels(outcome)
        child.inc()

    def count_diagnostics(self, diagnostics: Iterable[Diagnostic]) -> None:
        for diagnostic in diagnostics:
            self.diagnostics.labels(diagnostic.code, diagnostic.severity).inc()

    def render(self) -> tuple[bytes, str]:
        return generate_latest(self.registry), CONTENT_TYPE_LATEST


class Timer:
    def __init__(self) -> None:
        self.start = time.perf_counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self.start
