"""Load and latency of the translation proxy under gunicorn on loopback, in both modes.

    python benchmarks/bench_proxy.py [--mode mixed|catapult|twiml] [--calls 50] [--rates 50,500]
                                     [--seconds 10] [--workers N] [--threads N]
                                     [--store sqlite|redis] [--json FILE]

Simulated calls run gather flows against ``bxml-migrate serve`` (gunicorn, both modes configured)
while the peers (``fake_peers``: the Bandwidth v2 API, a legacy Catapult v1 app and a legacy TwiML
app, all answering instantly) run in a child process, and one asyncio loop (``async_http``)
plays Bandwidth.  Flows, each call on its own keep-alive connection:

* Catapult: ``initiate``, the app's create-gather REST request (which PUTs BXML to Bandwidth),
  3 ``dtmf``, the park ``redirect``, the ``gather`` event and ``disconnect``: 7 callbacks, and 7
  v1 events the outbox delivers to the app.
* TwiML: ``initiate`` (the proxy fetches the voice URL: a ``<Gather>`` with verbs after it),
  ``gather`` with digits (the proxy posts them to the action: ``<Say>`` + ``<Redirect>``),
  ``redirect`` (``<Say>`` + ``<Hangup>``) and ``disconnect`` (a status callback, via the
  outbox): 4 callbacks.
* ``mixed`` (default) alternates the two.

Phases, each ``--seconds`` long:

For each rate of ``--rates`` (default 50 and 500 requests/s: one step per second per call, as
callers pressing keys, and the throughput target):

1. *direct*: the same flows' requests sent straight to the app (the v2 payloads to the v1 app's
   event URL, Twilio's form parameters to the TwiML app's URLs), ``--calls`` concurrent calls
   paced so that together they offer that rate: the baseline.
2. *paced*: the flows through the proxy, same calls, same pacing.  The latency the proxy adds is
   the proxy's percentile minus the direct one (p50, p99), per mode and overall.  Pacing is
   what a phone call does (a caller presses keys at the pace of the prompts), and an offered
   rate, not a closed loop, is what shows latency: with no pause between callbacks the latency
   of 50 calls is only 50 / throughput.  A step that comes back late is followed at once
   (no catch-up bursts).

Then:

3. *saturated*: the flows through the proxy with no pacing (closed loop): callbacks per second.

After each proxy phase the benchmark waits for the outbox to deliver every event of the finished
flows (7 per Catapult call, 1 per TwiML call) and reports delivered / expected: more than
expected are at-least-once duplicates, fewer are lost events (an error).

Targets on a 2-core machine (issue 6): >= 500 callbacks/s, p99 added latency < 10 ms at 50
concurrent calls, no errors.  The load generator and the peers share the two cores with the
proxy, so the numbers are a floor.  Exit status 1 on any error.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from async_http import Client, HttpError, run
from fake_peers import FakePeers, free_port

USER_ID = "u-benchuser00000000000000"
TOKEN, SECRET = "t-bench", "bench-secret"
ACCOUNT_SID = "AC" + "b" * 32
AUTH_TOKEN = "bench-auth-token"
JSON = {"Content-Type": "application/json"}
FORM = {"Content-Type": "application/x-www-form-urlencoded"}
REST_AUTH = {**JSON, "Authorization": "Basic " + base64.b64encode(f"{TOKEN}:{SECRET}".encode()).decode()}
EVENTS_PER_CALL = {"catapult": 7, "twiml": 1}

_URL = re.compile(r'(dtmfUrl|redirectUrl|gatherUrl)="([^"]+)"')


class FlowFailed(Exception):
    pass


@dataclass
class Samples:
    latency: dict[str, list[float]] = field(default_factory=lambda: {"catapult": [], "twiml": [], "rest": []})
    errors: list[str] = field(default_factory=list)
    finished: dict[str, int] = field(default_factory=lambda: {"catapult": 0, "twiml": 0})

    def callbacks(self) -> int:
        return len(self.latency["catapult"]) + len(self.latency["twiml"])


class Pacer:
    """Spaces a call's steps ``interval`` seconds apart (None: no pacing); the first one at a random
    offset, so that the calls do not step in lockstep."""

    def __init__(self, interval: float | None) -> None:
        self.interval = interval
        self.next: float | None = None

    async def wait(self) -> None:
        if self.interval is None:
            return
        now = time.perf_counter()
        if self.next is None:
            self.next = now + random.uniform(0, self.interval)
        start = max(self.next, now)
        if start > now:
            await asyncio.sleep(start - now)
        self.next = start + self.interval


@dataclass
class Call:
    client: Client
    pacer: Pacer
    samples: Samples
    flow: str

    async def step(self, url: str, body: bytes, headers: dict[str, str], expect: int, *,
                   kind: str | None = None, paced: bool = True) -> bytes:
        if paced:
            await self.pacer.wait()
        started = time.perf_counter()
        status, payload = await self.client.request("POST", url, body, headers)
        self.samples.latency[kind or self.flow].append(time.perf_counter() - started)
        if status != expect:
            self.samples.errors.append(f"{self.flow} {url.split('?')[0][-60:]}: {status} {payload[:120]!r}")
            raise FlowFailed
        return payload


_clock: list[Any] = [0, ""]  # (second, its timestamp text): one strftime per second, not per event


def v2_event(event_type: str, call_id: str, **extra: Any) -> bytes:
    second = int(time.time())
    if _clock[0] != second:
        _clock[0], _clock[1] = second, time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(second))
    now = _clock[1]
    return json.dumps({
        "eventType": event_type, "eventTime": now, "accountId": "5555",
        "applicationId": "7fc9698a-b04a-468b-9e8f-91238c0d0086", "from": "+15551112222",
        "to": "+15553334444", "direction": "inbound", "callId": call_id,
        "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/5555/calls/{call_id}",
        "startTime": now, **extra}).encode()


def twilio_form(call_id: str, status: str, **extra: str) -> bytes:
    return urlencode({"AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01", "CallSid": call_id,
                      "CallStatus": status, "Direction": "inbound", "From": "+15551112222",
                      "To": "+15553334444", **extra}).encode()


def new_call_id() -> str:
    return f"c-{uuid.uuid4().hex[:8]}-{uuid.uuid4()}"


# -- flows ----------------------------------------------------------------------------------


async def catapult_via_proxy(call: Call, proxy: str, peers: str) -> None:
    call_id = new_call_id()
    answer = await call.step(proxy + "/catapult/callbacks", v2_event("initiate", call_id), JSON, 200)
    urls = dict(_URL.findall(answer.decode()))
    await call.step(f"{proxy}/v1/users/{USER_ID}/calls/{call_id}/gather",
                    json.dumps({"maxDigits": 4, "prompt": {"sentence": "Enter your PIN"}}).encode(), REST_AUTH, 201,
                    kind="rest", paced=False)
    _, bxml = await call.client.request("GET", f"{peers}/bench/bxml/{call_id}")
    gather_url = dict(_URL.findall(bxml.decode())).get("gatherUrl")
    if "dtmfUrl" not in urls or "redirectUrl" not in urls or gather_url is None:
        call.samples.errors.append(f"catapult: no dtmfUrl/redirectUrl/gatherUrl for {call_id}")
        raise FlowFailed
    for digit in "123":
        await call.step(urls["dtmfUrl"], v2_event("dtmf", call_id, digit=digit), JSON, 204)
    await call.step(urls["redirectUrl"], v2_event("redirect", call_id), JSON, 200)
    await call.step(gather_url, v2_event("gather", call_id, digits="1234", terminatingDigit=""), JSON, 200)
    await call.step(proxy + "/catapult/callbacks", v2_event("disconnect", call_id, cause="hangup"), JSON, 204)


async def catapult_direct(call: Call, proxy: str, peers: str) -> None:
    call_id = new_call_id()
    for event in (v2_event("initiate", call_id), *(v2_event("dtmf", call_id, digit=d) for d in "123"),
                  v2_event("redirect", call_id), v2_event("gather", call_id, digits="1234"),
                  v2_event("disconnect", call_id, cause="hangup")):
        await call.step(peers + "/events", event, JSON, 200)


async def twiml_via_proxy(call: Call, proxy: str, peers: str) -> None:
    call_id = new_call_id()
    answer = await call.step(proxy + "/twiml/callbacks", v2_event("initiate", call_id), JSON, 200)
    gather_url = dict(_URL.findall(answer.decode())).get("gatherUrl")
    if gather_url is None:
        call.samples.errors.append(f"twiml: no gatherUrl in {answer[:200]!r}")
        raise FlowFailed
    answer = await call.step(gather_url.replace("&amp;", "&"),
                             v2_event("gather", call_id, digits="1234", terminatingDigit=""), JSON, 200)
    redirect_url = dict(_URL.findall(answer.decode())).get("redirectUrl")
    if redirect_url is None:
        call.samples.errors.append(f"twiml: no redirectUrl in {answer[:200]!r}")
        raise FlowFailed
    answer = await call.step(redirect_url.replace("&amp;", "&"), v2_event("redirect", call_id), JSON, 200)
    if b"<Hangup" not in answer:
        call.samples.errors.append(f"twiml: no Hangup in {answer[:200]!r}")
        raise FlowFailed
    await call.step(proxy + "/twiml/callbacks", v2_event("disconnect", call_id, cause="hangup"), JSON, 204)


async def twiml_direct(call: Call, proxy: str, peers: str) -> None:
    call_id = new_call_id()
    await call.step(peers + "/voice", twilio_form(call_id, "ringing"), FORM, 200)
    await call.step(peers + "/gather-done", twilio_form(call_id, "in-progress", Digits="1234"), FORM, 200)
    await call.step(peers + "/menu", twilio_form(call_id, "in-progress"), FORM, 200)
    await call.step(peers + "/status", twilio_form(call_id, "completed", CallDuration="12"), FORM, 204)


Flow = Callable[[Call, str, str], Awaitable[None]]
VIA_PROXY: dict[str, Flow] = {"catapult": catapult_via_proxy, "twiml": twiml_via_proxy}
DIRECT: dict[str, Flow] = {"catapult": catapult_direct, "twiml": twiml_direct}


async def run_phase(flows: dict[str, Flow], mix: list[str], proxy: str, peers: str, *, calls: int,
                    seconds: float, rate: float | None) -> tuple[Samples, float]:
    """``calls`` concurrent calls, each running flows back to back (``mix`` in turn) until
    ``seconds`` have passed; paced to ``rate`` requests/s in all when given."""
    samples = Samples()
    interval = calls / rate if rate else None
    stop_at = time.perf_counter() + seconds

    async def caller(index: int) -> None:
        client, pacer, turn = Client(), Pacer(interval), index
        try:
            while time.perf_counter() < stop_at:
                flow = mix[turn % len(mix)]
                turn += 1
                try:
                    await flows[flow](Call(client, pacer, samples, flow), proxy, peers)
                    samples.finished[flow] += 1
                except FlowFailed:
                    pass
                except (HttpError, OSError) as exc:
                    samples.errors.append(f"{flow}: {exc}")
        finally:
            client.close()

    started = time.perf_counter()
    await asyncio.gather(*(caller(i) for i in range(calls)))
    return samples, time.perf_counter() - started


# -- processes --------------------------------------------------------------------------------


def start_proxy(args: argparse.Namespace, peers: FakePeers, state_dir: str,
                redis_url: str | None) -> tuple[subprocess.Popen, str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("BXML_MIGRATE_")}
    env.update({
        "BXML_MIGRATE_SERVER_PUBLIC_URL": url,
        "BXML_MIGRATE_BANDWIDTH_API_URL": peers.url + "/api/v2",
        "BXML_MIGRATE_BANDWIDTH_ACCOUNT_ID": "5555",
        "BXML_MIGRATE_BANDWIDTH_USERNAME": "bw", "BXML_MIGRATE_BANDWIDTH_PASSWORD": "bw-pass",
        "BXML_MIGRATE_CATAPULT_USER_ID": USER_ID, "BXML_MIGRATE_CATAPULT_API_TOKEN": TOKEN,
        "BXML_MIGRATE_CATAPULT_API_SECRET": SECRET,
        "BXML_MIGRATE_CATAPULT_CALLBACK_URL": peers.url + "/events",
        "BXML_MIGRATE_TWIML_APP_URL": peers.url + "/voice",
        "BXML_MIGRATE_TWIML_STATUS_CALLBACK": peers.url + "/status",
        "BXML_MIGRATE_TWIML_ACCOUNT_SID": ACCOUNT_SID, "BXML_MIGRATE_TWIML_AUTH_TOKEN": AUTH_TOKEN,
        "BXML_MIGRATE_EGRESS_ALLOW_PRIVATE": "true",
        "BXML_MIGRATE_STATE_URL": redis_url or f"sqlite:///{state_dir}/bench.db",
        "PROMETHEUS_MULTIPROC_DIR": tempfile.mkdtemp(prefix="bench-metrics-"),
    })
    log = open(os.path.join(state_dir, "proxy.log"), "wb")  # noqa: SIM115 - kept open for the child
    command = [sys.executable, "-m", "bxml_migrate", "serve", "--port", str(port)]
    if args.workers is not None:
        command += ["--workers", str(args.workers)]
    if args.threads is not None:
        command += ["--threads", str(args.threads)]
    process = subprocess.Popen(command, env=env, stdout=log, stderr=log)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url + "/readyz", timeout=1) as response:
                if response.status == 200:
                    return process, url
        except OSError:
            pass
        time.sleep(0.1)
    process.kill()
    raise SystemExit(f"the proxy did not become ready (log: {state_dir}/proxy.log)")


def start_redis() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen(["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                                "--appendonly", "no"], stdout=subprocess.DEVNULL)
    time.sleep(0.3)
    return process, f"redis://127.0.0.1:{port}/0"


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its children that it waited for, or of a live
    process tree: gunicorn's master and its workers."""
    total = 0.0
    ticks = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
            pids += [int(p) for p in handle.read().split()]
    except OSError:
        pass
    for one in pids:
        try:
            with open(f"/proc/{one}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / ticks
        except OSError:
            pass
    return total


# -- report -----------------------------------------------------------------------------------


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * p / 100), len(ordered) - 1)] * 1000


def wait_for_events(peers: FakePeers, samples: Samples, limit: float = 60.0) -> tuple[int, int, float]:
    expected = sum(EVENTS_PER_CALL[flow] * n for flow, n in samples.finished.items())
    started = time.perf_counter()
    delivered = peers.count()
    while delivered < expected and time.perf_counter() - started < limit:
        time.sleep(0.05)
        delivered = peers.count()
    time.sleep(0.3)  # late duplicates, if any
    return peers.count(), expected, time.perf_counter() - started


def rates_list(text: str) -> list[float]:
    try:
        rates = [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a comma-separated list of numbers: {text!r}") from None
    if not rates or any(rate <= 0 for rate in rates):
        raise argparse.ArgumentTypeError("rates must be positive")
    return rates


def latency_results(tag: str, mix: list[str], direct: Samples, paced: Samples, paced_wall: float) -> dict[str, Any]:
    results: dict[str, Any] = {f"{tag}_callbacks_per_s": paced.callbacks() / paced_wall}
    everything = {flow: paced.latency[flow] for flow in mix}
    baseline = {flow: direct.latency[flow] for flow in mix}
    everything["all"] = [x for flow in mix for x in paced.latency[flow]]
    baseline["all"] = [x for flow in mix for x in direct.latency[flow]]
    for flow in [*mix, "all"] if len(mix) > 1 else mix:
        for p in (50, 99):
            proxy_ms, direct_ms = pct(everything[flow], p), pct(baseline[flow], p)
            results[f"{tag}_{flow}_p{p}_ms"] = proxy_ms
            results[f"{tag}_direct_{flow}_p{p}_ms"] = direct_ms
            results[f"{tag}_added_{flow}_p{p}_ms"] = proxy_ms - direct_ms
    if "catapult" in mix:
        results[f"{tag}_rest_create_gather_p50_ms"] = pct(paced.latency["rest"], 50)
        results[f"{tag}_rest_create_gather_p99_ms"] = pct(paced.latency["rest"], 99)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("mixed", "catapult", "twiml"), default="mixed")
    parser.add_argument("--calls", type=int, default=50, help="concurrent calls (default 50)")
    parser.add_argument("--rates", type=rates_list, default=[50.0, 500.0],
                        help="requests/s the paced calls offer together, one paced phase each "
                             "(default 50,500: a step per second per call, and the throughput target)")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each phase (default 10)")
    parser.add_argument("--workers", type=int, help="gunicorn workers (default: serve's, from the CPU count)")
    parser.add_argument("--threads", type=int, help="threads per worker (default: serve's)")
    parser.add_argument("--store", choices=("sqlite", "redis"), default="sqlite")
    parser.add_argument("--json", metavar="FILE", help="also write the results as JSON")
    args = parser.parse_args()
    mix = ["catapult", "twiml"] if args.mode == "mixed" else [args.mode]
    peers = FakePeers()
    redis_process, redis_url = start_redis() if args.store == "redis" else (None, None)
    state_dir = tempfile.mkdtemp(prefix="bench-proxy-")
    proxy, proxy_url = start_proxy(args, peers, state_dir, redis_url)
    results: dict[str, Any] = {"mode": args.mode, "calls": args.calls, "seconds": args.seconds,
                               "workers": args.workers or "serve's default",
                               "threads": args.threads or "serve's default", "store": args.store}
    errors: list[str] = []
    deliveries: list[tuple[str, tuple[int, int, float]]] = []
    try:
        def phase(flows: dict[str, Flow], rate: float | None, calls: int = args.calls,
                  seconds: float = args.seconds) -> tuple[Samples, float]:
            return run(run_phase(flows, mix, proxy_url, peers.url, calls=calls, seconds=seconds, rate=rate))

        phase(VIA_PROXY, None, calls=10, seconds=2.0)  # warm-up
        wait_for_events(peers, Samples())
        for rate in args.rates:
            tag = f"paced{rate:g}"
            direct, _ = phase(DIRECT, rate)
            peers.reset()
            paced, paced_wall = phase(VIA_PROXY, rate)
            deliveries.append((tag, wait_for_events(peers, paced)))
            peers.reset()
            errors += [f"{tag} direct: {e}" for e in direct.errors] + [f"{tag}: {e}" for e in paced.errors]
            results.update(latency_results(tag, mix, direct, paced, paced_wall))
        cpu_before = [process_cpu_seconds(proxy.pid), process_cpu_seconds(peers.pid), time.process_time()]
        saturated, saturated_wall = phase(VIA_PROXY, None)
        cpu_used, peers_cpu, load_cpu = (after - before for after, before in zip(
            [process_cpu_seconds(proxy.pid), process_cpu_seconds(peers.pid), time.process_time()], cpu_before,
            strict=True))
        deliveries.append(("saturated", wait_for_events(peers, saturated)))
    finally:
        proxy.send_signal(signal.SIGTERM)
        proxy.wait(timeout=30)
        peers.stop()
        if redis_process is not None:
            redis_process.terminate()

    errors += [f"saturated: {e}" for e in saturated.errors]
    results["saturated_callbacks_per_s"] = saturated.callbacks() / saturated_wall
    for name, seconds in (("proxy", cpu_used), ("peers", peers_cpu), ("load_generator", load_cpu)):
        results[f"saturated_{name}_cpu_ms_per_callback"] = 1000 * seconds / max(saturated.callbacks(), 1)
    for flow in mix:
        results[f"saturated_{flow}_p50_ms"] = pct(saturated.latency[flow], 50)
        results[f"saturated_{flow}_p99_ms"] = pct(saturated.latency[flow], 99)
    for tag, (delivered, expected, drain) in deliveries:
        if delivered < expected:
            errors.append(f"{tag}: {expected - delivered} of {expected} events to the app not delivered")
        results[f"{tag}_events_delivered"] = delivered
        results[f"{tag}_events_expected"] = expected
        results[f"{tag}_outbox_drain_s"] = drain
    results["errors"] = len(errors)
    width = max(len(k) for k in results)
    for key, value in results.items():
        print(f"{key:<{width}}  {value:.2f}" if isinstance(value, float) else f"{key:<{width}}  {value}")
    for error in errors[:8]:
        print("error:", error)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as handle:
            json.dump(results, handle, indent=2)
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
