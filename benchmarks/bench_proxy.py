"""Load and latency of the translation proxy under gunicorn on loopback.

    python benchmarks/bench_proxy.py [--calls 50] [--total 400] [--workers 2] [--threads 16]
                                     [--store sqlite|redis] [--mode catapult]

N concurrent simulated calls run the Catapult gather flow against ``bxml-migrate serve``
(gunicorn) while a fake Bandwidth API and a fake legacy v1 app (both answering instantly) run
in this process.  Each call sends 7 Bandwidth callbacks to the proxy: initiate, 3 dtmf, a park
redirect, the gather event and disconnect; the v1 app makes one REST request (create gather)
and receives 7 v1 events.

Reported: callbacks per second through the proxy, latency of the proxy's answers to
Bandwidth (p50, p99), and the latency the proxy adds: the same callbacks' payloads sent
straight to the legacy app (the baseline, same concurrency) against the proxy's.  Also the
REST latency of create-gather (which includes the proxy's PUT to Bandwidth) and how long the
outbox takes to deliver every v1 event.

Targets on a 2-core machine (issue 6): ≥ 500 callbacks/s, p99 added latency < 10 ms at 50
concurrent calls, no errors.  The load generator shares the machine's two cores with the
proxy, so the numbers are a floor.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

USER_ID = "u-benchuser00000000000000"
TOKEN, SECRET = "t-bench", "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Background:
    def __init__(self, app: Flask) -> None:
        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


class FakeBandwidth:
    """Answers the v2 REST calls the proxy makes, instantly; keeps the last BXML per call."""

    def __init__(self) -> None:
        self.bxml: dict[str, str] = {}
        self.lock = threading.Lock()
        app = Flask("fake-bandwidth")

        @app.put("/api/v2/accounts/<account>/calls/<call_id>/bxml")
        def put_bxml(account: str, call_id: str) -> Response:
            with self.lock:
                self.bxml[call_id] = request.get_data(as_text=True)
            return Response(status=204)

        @app.post("/api/v2/accounts/<account>/calls/<call_id>")
        def update(account: str, call_id: str) -> Response:
            return Response(status=200)

        self.server = Background(app)


class FakeLegacyApp:
    """Counts v1 events; answers 200 at once."""

    def __init__(self) -> None:
        self.count = 0
        self.lock = threading.Lock()
        app = Flask("fake-legacy")

        @app.post("/events")
        def events() -> Response:
            with self.lock:
                self.count += 1
            return Response(status=200)

        self.server = Background(app)


def v2_event(event_type: str, call_id: str, **extra: Any) -> dict[str, Any]:
    now = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime())
    return {"eventType": event_type, "eventTime": now + uuid.uuid4().hex[:6], "accountId": "5555",
            "applicationId": "7fc9698a-b04a-468b-9e8f-91238c0d0086", "from": "+15551112222",
            "to": "+15553334444", "direction": "inbound", "callId": call_id,
            "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/5555/calls/{call_id}",
            "startTime": now, **extra}


@dataclass
class Samples:
    callbacks: list[float] = field(default_factory=list)
    rest: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, kind: str, seconds: float) -> None:
        with self.lock:
            getattr(self, kind).append(seconds)

    def error(self, text: str) -> None:
        with self.lock:
            self.errors.append(text)


_URL = re.compile(r'(dtmfUrl|redirectUrl|gatherUrl)="([^"]+)"')


def timed(samples: Samples, kind: str, call: Callable[[], requests.Response], expect: int) -> requests.Response:
    started = time.perf_counter()
    response = call()
    samples.add(kind, time.perf_counter() - started)
    if response.status_code != expect:
        samples.error(f"{kind}: {response.status_code} {response.text[:120]}")
    return response


def one_call(proxy: str, bandwidth: FakeBandwidth, session: requests.Session, samples: Samples) -> None:
    call_id = f"c-{uuid.uuid4().hex[:8]}-{uuid.uuid4()}"
    post = session.post
    start = timed(samples, "callbacks", lambda: post(proxy + "/catapult/callbacks",
                                                     json=v2_event("initiate", call_id), timeout=10), 200)
    urls = dict(_URL.findall(start.text))
    gather = timed(samples, "rest", lambda: post(f"{proxy}/v1/users/{USER_ID}/calls/{call_id}/gather",
                                                 json={"maxDigits": 4, "prompt": {"sentence": "Enter your PIN"}},
                                                 auth=(TOKEN, SECRET), timeout=10), 201)
    if gather.status_code != 201:
        return
    with bandwidth.lock:
        gather_url = dict(_URL.findall(bandwidth.bxml.get(call_id, ""))).get("gatherUrl")
    for digit in "123":
        timed(samples, "callbacks", lambda d=digit: post(urls["dtmfUrl"], json=v2_event("dtmf", call_id, digit=d),
                                                         timeout=10), 204)
    timed(samples, "callbacks", lambda: post(urls["redirectUrl"], json=v2_event("redirect", call_id),
                                             timeout=10), 200)
    timed(samples, "callbacks", lambda: post(gather_url or "", json=v2_event(
        "gather", call_id, digits="1234", terminatingDigit=""), timeout=10), 200)
    timed(samples, "callbacks", lambda: post(proxy + "/catapult/callbacks", json=v2_event(
        "disconnect", call_id, cause="hangup", endTime=v2_event("x", "c")["startTime"]), timeout=10), 204)


def baseline_call(app_url: str, session: requests.Session, samples: Samples) -> None:
    call_id = f"c-{uuid.uuid4()}"
    for event in (v2_event("initiate", call_id), *(v2_event("dtmf", call_id, digit=d) for d in "123"),
                  v2_event("redirect", call_id), v2_event("gather", call_id, digits="1234"),
                  v2_event("disconnect", call_id, cause="hangup")):
        timed(samples, "callbacks", lambda e=event: session.post(app_url + "/events", json=e, timeout=10), 200)


def run_load(concurrency: int, total: int, work: Callable[[requests.Session, Samples], None]) -> tuple[Samples, float]:
    samples = Samples()
    sessions = threading.local()

    def task(_: int) -> None:
        if not hasattr(sessions, "s"):
            sessions.s = requests.Session()
        try:
            work(sessions.s, samples)
        except Exception as exc:  # a failed call is an error in the report, not a crash
            samples.error(f"{exc.__class__.__name__}: {exc}")

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        list(pool.map(task, range(total)))
    return samples, time.perf_counter() - started


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)] * 1000


def start_proxy(args: argparse.Namespace, bandwidth: FakeBandwidth, app: FakeLegacyApp, state_dir: str,
                redis_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BXML_MIGRATE_")}
    env.update({
        "BXML_MIGRATE_SERVER_PUBLIC_URL": url,
        "BXML_MIGRATE_BANDWIDTH_API_URL": bandwidth.server.url + "/api/v2",
        "BXML_MIGRATE_BANDWIDTH_ACCOUNT_ID": "5555",
        "BXML_MIGRATE_BANDWIDTH_USERNAME": "bw", "BXML_MIGRATE_BANDWIDTH_PASSWORD": "bw-pass",
        "BXML_MIGRATE_CATAPULT_USER_ID": USER_ID, "BXML_MIGRATE_CATAPULT_API_TOKEN": TOKEN,
        "BXML_MIGRATE_CATAPULT_API_SECRET": SECRET,
        "BXML_MIGRATE_CATAPULT_CALLBACK_URL": app.server.url + "/events",
        "BXML_MIGRATE_EGRESS_ALLOW_PRIVATE": "true",
        "BXML_MIGRATE_STATE_URL": redis_url or f"sqlite:///{state_dir}/bench.db",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-"),
    })
    process = subprocess.Popen([sys.executable, "-m", "bxml_migrate", "serve", "--port", str(port), "--workers",
                                str(args.workers), "--threads", str(args.threads)], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if requests.get(url + "/readyz", timeout=1).status_code == 200:
                return process, url
        except requests.ConnectionError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit("the proxy did not become ready")


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50, help="concurrent calls (default 50)")
    parser.add_argument("--total", type=int, default=400, help="calls in all (default 400)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    parser.add_argument("--threads", type=int, default=16, help="threads per worker (default 16)")
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--mode", choices=("catapult",), default="catapult",
                        help="flows to drive (TwiML mode flows are not in this benchmark yet)")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    bandwidth, app = FakeBandwidth(), FakeLegacyApp()
    redis_process, redis_url = start_redis() if args.store == "redis" else (None, None)
    state_dir = tempfile.mkdtemp(prefix="bench-proxy-")
    proxy, proxy_url = start_proxy(args, bandwidth, app, state_dir, redis_url)
    try:
        run_load(min(args.calls, 10), 20, lambda s, smp: one_call(proxy_url, bandwidth, s, smp))  # warm-up
        base, _ = run_load(args.calls, args.total, lambda s, smp: baseline_call(app.server.url, s, smp))
        app.count = 0
        load, wall = run_load(args.calls, args.total, lambda s, smp: one_call(proxy_url, bandwidth, s, smp))
        expected_events = args.total * 7
        drain_start = time.perf_counter()
        while app.count < expected_events and time.perf_counter() - drain_start < 60:
            time.sleep(0.05)
        drain = time.perf_counter() - drain_start
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=30)
        if redis_process is not None:
            redis_process.terminate()

    results = {
        "calls": args.total, "concurrency": args.calls, "workers": args.workers, "threads": args.threads,
        "store": args.store,
        "callbacks": len(load.callbacks), "callbacks_per_s": len(load.callbacks) / wall,
        "proxy_p50_ms": pct(load.callbacks, 50), "proxy_p99_ms": pct(load.callbacks, 99),
        "direct_p50_ms": pct(base.callbacks, 50), "direct_p99_ms": pct(base.callbacks, 99),
        "added_p50_ms": pct(load.callbacks, 50) - pct(base.callbacks, 50),
        "added_p99_ms": pct(load.callbacks, 99) - pct(base.callbacks, 99),
        "rest_gather_p50_ms": pct(load.rest, 50), "rest_gather_p99_ms": pct(load.rest, 99),
        "v1_events_delivered": app.count, "v1_events_expected": expected_events,
        "outbox_drain_s_after_load": drain, "errors": len(load.errors) + len(base.errors),
        "mean_callback_ms": statistics.fmean(load.callbacks) * 1000 if load.callbacks else float("nan"),
    }
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.2f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    for error in (load.errors + base.errors)[:5]:
        print("error:", error)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 1 if results["errors"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
