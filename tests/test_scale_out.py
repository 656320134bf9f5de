"""Scale-out, Catapult mode (issue 6): two proxy processes sharing one Redis serve the same calls.

Two real ``bxml-migrate serve`` processes (gunicorn, one worker each, configured only through
``BXML_MIGRATE_*`` variables) sit behind a round-robin load balancer on loopback
(``tests.load_balancer``), which is their ``public_url``: the Bandwidth simulator's callbacks, the
URLs the proxies wrote into BXML and the v1 app's REST requests all go through it.  It alternates
per call, so each call's consecutive requests - Bandwidth webhooks and v1 REST requests alike -
land on the other instance every time, while several calls run at once.

Each call runs the v1 app's two-gather flow from inside its event handlers (answer -> gather 1,
gather event 1 -> gather 2, gather event 2 -> hang up).  No fault is injected, so every call's
v1 events must be exactly right: complete, in order, none twice.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from typing import Any

import requests

from adapter.simulator import BandwidthSimulator, gather_input
from adapter.store import open_store
from tests.load_balancer import RoundRobin, catapult_call_key
from tests.loopback import serve
from tests.proxy_harness import V1App, V1Client, gather_id_of, wait_until
from tests.proxy_process import catapult_settings, running_instances
from tests.redis_server import RedisServer, free_port

CALLS = 6




def delivered(url: str) -> float:
    """Events this instance delivered, from its /metrics."""
    for line in requests.get(url + "/metrics", timeout=5).text.splitlines():
        if line.startswith('bxml_migrate_outbox_deliveries_total{outcome="delivered"}'):
            return float(line.split()[-1])
    return 0.0


def test_two_instances_behind_a_balancer_serve_concurrent_gather_flows_exactly_once(tmp_path):
    with RedisServer() as redis_server:  # its own: the session's Redis is checked for stray keys elsewhere
        run_two_instances(redis_server, tmp_path)


def run_two_instances(redis_server: RedisServer, tmp_path: Any) -> None:
    prefix = "scale:"
    ports = [free_port(), free_port()]
    balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports], key=catapult_call_key)
    app = V1App()
    gathers: dict[str, list[str]] = defaultdict(list)  # call id -> gather ids from the Location headers
    failures: list[str] = []
    lock = threading.Lock()

    with serve(app.flask) as app_server, serve(balancer) as front, BandwidthSimulator(time_scale=0.01) as sim:
        client = V1Client(front.url)

        def create(call_id: str, tag: str) -> None:
            response = client.create_call_gather(call_id, max_digits=5, tag=tag)
            if response.status_code != 201:
                failures.append(f"{call_id} {tag}: {response.status_code} {response.text[:200]}")
                return
            with lock:
                gathers[call_id].append(gather_id_of(response))

        def on_gather(event: dict[str, Any]) -> None:
            if event.get("tag") == "first":
                create(event["callId"], "second")
            else:
                response = client.hangup_call(event["callId"])
                if response.status_code != 200:
                    failures.append(f"{event['callId']} hangup: {response.status_code} {response.text[:200]}")

        app.on["answer"] = lambda event: create(event["callId"], "first")
        app.on["gather"] = on_gather

        settings = catapult_settings(sim, app_server.url + "/events", redis_server.url, front.url,
                                     **{"state.key_prefix": prefix})
        with running_instances(settings, tmp_path, ports) as group:
            calls = [sim.inbound_call(f"+1555000000{i}", "+15553334444", initiate_url=front.url + "/catapult/callbacks",
                                      disconnect_url=front.url + "/catapult/callbacks",
                                      keys=gather_input(f"{i}{i}#", f"{i}0#"))
                     for i in range(CALLS)]
            for call in calls:
                assert call.wait_until_ended(timeout=30) == "hangup", call.log()[-10:]
            ids = {call.call_id for call in calls}
            wait_until(lambda: {e["callId"] for e in app.of_type("hangup")} == ids, timeout=20,
                       what="every hangup event")
            with open_store(redis_server.url, key_prefix=prefix) as store:
                wait_until(lambda: store.outbox_depth() == 0, timeout=20, what="an empty shared outbox")
            per_instance = [delivered(proxy.url) for proxy in group.proxies]

    assert not failures, failures
    assert group.codes == [0, 0], group.logs
    # what the v1 app received for each call: complete, in order, exactly once
    for index, call in enumerate(calls):
        events = [e for e in app.events if e["callId"] == call.call_id]
        assert [e["eventType"] for e in events] == ["incomingcall", "answer", "gather", "gather", "hangup"], events
        first, second = events[2], events[3]
        assert (first["digits"], first["reason"], first["tag"]) == (f"{index}{index}", "terminating-digit", "first")
        assert (second["digits"], second["reason"], second["tag"]) == (f"{index}0", "terminating-digit", "second")
        assert [first["gatherId"], second["gatherId"]] == gathers[call.call_id]
        # what the caller heard: the two gathers the app asked for, each ended by '#'
        assert [v.outcome for v in call.verbs("Gather")] == ["terminating digit", "terminating digit"]
        assert not [d for d in call.documents() if d.error]
    assert len(app.events) == 5 * CALLS
    assert sum(per_instance) == 5 * CALLS, per_instance  # the shared outbox delivered each event once

    # every Bandwidth callback of a call went to the other instance than the one before, and so
    # did every v1 request about it; the calls started on alternate instances
    forwarded = balancer.forwarded()
    assert all(f.status is not None and f.status < 500 for f in forwarded), [f for f in forwarded if
                                                                              (f.status or 500) >= 500]
    firsts = []
    for call in calls:
        callbacks = [f for f in forwarded if f.key == f"bandwidth {call.call_id}"]
        requests_v1 = [f for f in forwarded if f.key == f"v1 {call.call_id}"]
        # initiate, gather event, gather event, disconnect (+ park redirects); create gather x2, hang up
        assert len(callbacks) >= 4 and len(requests_v1) == 3, (callbacks, requests_v1)
        for series in (callbacks, requests_v1):
            backends = [f.backend for f in series]
            assert backends == [(backends[0] + i) % 2 for i in range(len(backends))], series
        assert [f.path.split("/")[3] for f in callbacks if f.path.startswith("/catapult/bw/")][:2] == \
            ["gather", "gather"]
        firsts.append(callbacks[0].backend)
    assert set(firsts) == {0, 1}
