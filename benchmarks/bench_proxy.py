"""Load and latency of the translation proxy under gunicorn on loopback.

    python benchmarks/bench_proxy.py [--calls 50] [--total 400] [--workers 2] [--threads 16]
                                     [--store sqlite|redis] [--mode catapult]

N concurrent simulated calls run the Catapult gather flow against ``bxml-migrate serve``
(gunicorn) while a fake Bandwidth API and a fake legacy v1 app (both answering instantly) run
in a child process and the load comes from keep-alive ``http.client`` connections.  Each call
sends 7 Bandwidth callbacks to the proxy: initiate, 3 dtmf, a park redirect, the gather event
and disconnect; the v1 app makes one REST request (create gather)
and receives 7 v1 events.

Reported: callbacks per second through the proxy, latency of the proxy's answers to
Bandwidth (p50, p99), and the latency the proxy adds: the same callbacks' payloads sent
straight to the legacy app (the baseline, same concurrency) against the proxy's.  Also the
REST latency of create-gather (which includes the proxy's PUT to Bandwidth) and how long the
outbox takes to deliver every v1 event.

Targets on a 2-core machine (issue 6): ≥ 500 callbacks/s, p99 added latency < 10 ms at 50
concurrent calls, no errors.  The load generator and the fakes share the machine's two cores
with the proxy, so the numbers are a floor.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import logging
import multiprocessing
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
from urllib.parse import urlsplit

import requests
from flask import Flask, Response, request
from werkzeug.serving import make_server

USER_ID = "u-benchuser00000000000000"
TOKEN, SECRET = "t-bench", "bench-secret"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fakes_app() -> Flask:
    """The fake Bandwidth API (instant 204/200, keeps the last BXML per call) and the fake legacy v1
    app (counts events, instant 200) in one WSGI app, run in its own process."""
    bxml: dict[str, str] = {}
    counter = {"events": 0}
    lock = threading.Lock()
    app = Flask("fakes")
    logging.getLogger("werkzeug").setLevel(logging.ERROR)

    @app.put("/api/v2/accounts/<account>/calls/<call_id>/bxml")
    def put_bxml(account: str, call_id: str) -> Response:
        with lock:
            bxml[call_id] = request.get_data(as_text=True)
        return Response(status=204)

    @app.post("/api/v2/accounts/<account>/calls/<call_id>")
    def update(account: str, call_id: str) -> Response:
        return Response(status=200)

    @app.get("/bench/bxml/<call_id>")
    def last_bxml(call_id: str) -> Response:
        with lock:
            return Response(bxml.get(call_id, ""), content_type="text/plain")

    @app.post("/events")
    def events() -> Response:
        with lock:
            counter["events"] += 1
        return Response(status=200)

    @app.route("/bench/count", methods=["GET", "DELETE"])
    def count() -> Response:
        with lock:
            if request.method == "DELETE":
                counter["events"] = 0
            return Response(str(counter["events"]), content_type="text/plain")

    return app


def _serve_fakes(port: int) -> None:
    make_server("127.0.0.1", port, fakes_app(), threaded=True).serve_forever()


class Fakes:
    def __init__(self) -> None:
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        self.process = multiprocessing.Process(target=_serve_fakes, args=(port,), daemon=True)
        self.process.start()
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                requests.get(self.url + "/bench/count", timeout=1)
                return
            except requests.ConnectionError:
                time.sleep(0.05)
        raise SystemExit("the fake servers did not start")

    def count(self) -> int:
        return int(requests.get(self.url + "/bench/count", timeout=5).text)

    def reset(self) -> None:
        requests.delete(self.url + "/bench/count", timeout=5)

    def last_bxml(self, call_id: str) -> str:
        return requests.get(f"{self.url}/bench/bxml/{call_id}", timeout=5).text

    def stop(self) -> None:
        self.process.terminate()


class Client:
    """A keep-alive HTTP/1.1 client per thread (http.client): far cheaper than requests, so the load
    generator takes less of the cores the proxy runs on."""

    def __init__(self) -> None:
        self.connections: dict[tuple[str, int], http.client.HTTPConnection] = {}

    def post(self, url: str, body: Any, auth: tuple[str, str] | None = None) -> tuple[int, str]:
        parts = urlsplit(url)
        key = (parts.hostname or "", parts.port or 80)
        headers = {"Content-Type": "application/json"}
        if auth is not None:
            headers["Authorization"] = "Basic " + base64.b64encode(f"{auth[0]}:{auth[1]}".encode()).decode()
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        for attempt in range(2):
            connection = self.connections.get(key)
            if connection is None:
                connection = self.connections[key] = http.client.HTTPConnection(*key, timeout=10)
            try:
                connection.request("POST", path, body=json.dumps(body), headers=headers)
                response = connection.getresponse()
                return response.status, response.read().decode("utf-8", "replace")
            except (http.client.HTTPException, OSError):
                connection.close()
                del self.connections[key]
                if attempt:
                    raise
        raise AssertionError("unreachable")


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


def timed(samples: Samples, kind: str, call: Callable[[], tuple[int, str]], expect: int) -> tuple[int, str]:
    started = time.perf_counter()
    status, text = call()
    samples.add(kind, time.perf_counter() - started)
    if status != expect:
        samples.error(f"{kind}: {status} {text[:120]}")
    return status, text


def one_call(proxy: str, fakes: Fakes, client: Client, samples: Samples) -> None:
    call_id = f"c-{uuid.uuid4().hex[:8]}-{uuid.uuid4()}"
    post = client.post
    _, start = timed(samples, "callbacks", lambda: post(proxy + "/catapult/callbacks",
                                                        v2_event("initiate", call_id)), 200)
    urls = dict(_URL.findall(start))
    status, _ = timed(samples, "rest", lambda: post(f"{proxy}/v1/users/{USER_ID}/calls/{call_id}/gather",
                                                    {"maxDigits": 4, "prompt": {"sentence": "Enter your PIN"}},
                                                    auth=(TOKEN, SECRET)), 201)
    if status != 201:
        return
    gather_url = dict(_URL.findall(fakes.last_bxml(call_id))).get("gatherUrl")
    for digit in "123":
        timed(samples, "callbacks", lambda d=digit: post(urls["dtmfUrl"], v2_event("dtmf", call_id, digit=d)), 204)
    timed(samples, "callbacks", lambda: post(urls["redirectUrl"], v2_event("redirect", call_id)), 200)
    timed(samples, "callbacks", lambda: post(gather_url or "", v2_event(
        "gather", call_id, digits="1234", terminatingDigit="")), 200)
    timed(samples, "callbacks", lambda: post(proxy + "/catapult/callbacks", v2_event(
        "disconnect", call_id, cause="hangup", endTime=v2_event("x", "c")["startTime"])), 204)


def baseline_call(app_url: str, client: Client, samples: Samples) -> None:
    call_id = f"c-{uuid.uuid4()}"
    for event in (v2_event("initiate", call_id), *(v2_event("dtmf", call_id, digit=d) for d in "123"),
                  v2_event("redirect", call_id), v2_event("gather", call_id, digits="1234"),
                  v2_event("disconnect", call_id, cause="hangup")):
        timed(samples, "callbacks", lambda e=event: client.post(app_url + "/events", e), 200)


def run_load(concurrency: int, total: int, work: Callable[[Client, Samples], None]) -> tuple[Samples, float]:
    samples = Samples()
    sessions = threading.local()

    def task(_: int) -> None:
        if not hasattr(sessions, "s"):
            sessions.s = Client()
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


def start_proxy(args: argparse.Namespace, fakes: Fakes, state_dir: str,
                redis_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BXML_MIGRATE_")}
    env.update({
        "BXML_MIGRATE_SERVER_PUBLIC_URL": url,
        "BXML_MIGRATE_BANDWIDTH_API_URL": fakes.url + "/api/v2",
        "BXML_MIGRATE_BANDWIDTH_ACCOUNT_ID": "5555",
        "BXML_MIGRATE_BANDWIDTH_USERNAME": "bw", "BXML_MIGRATE_BANDWIDTH_PASSWORD": "bw-pass",
        "BXML_MIGRATE_CATAPULT_USER_ID": USER_ID, "BXML_MIGRATE_CATAPULT_API_TOKEN": TOKEN,
        "BXML_MIGRATE_CATAPULT_API_SECRET": SECRET,
        "BXML_MIGRATE_CATAPULT_CALLBACK_URL": fakes.url + "/events",
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
    fakes = Fakes()
    redis_process, redis_url = start_redis() if args.store == "redis" else (None, None)
    state_dir = tempfile.mkdtemp(prefix="bench-proxy-")
    proxy, proxy_url = start_proxy(args, fakes, state_dir, redis_url)
    try:
        run_load(min(args.calls, 10), 20, lambda c, smp: one_call(proxy_url, fakes, c, smp))  # warm-up
        base, _ = run_load(args.calls, args.total, lambda c, smp: baseline_call(fakes.url, c, smp))
        time.sleep(1.0)  # let the warm-up's events drain before counting
        fakes.reset()
        load, wall = run_load(args.calls, args.total, lambda c, smp: one_call(proxy_url, fakes, c, smp))
        expected_events = args.total * 7
        drain_start = time.perf_counter()
        delivered = fakes.count()
        while delivered < expected_events and time.perf_counter() - drain_start < 60:
            time.sleep(0.05)
            delivered = fakes.count()
        drain = time.perf_counter() - drain_start
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=30)
        fakes.stop()
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
        "v1_events_delivered": delivered, "v1_events_expected": expected_events,
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
