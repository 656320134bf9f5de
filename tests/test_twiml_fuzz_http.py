"""Bad input on the HTTP surface of TwiML mode (issue 6), fuzzed with hypothesis.

One proxy for the module (real WSGI server on loopback, file SQLite store, ``server.max_request_bytes``
4096) in front of the Bandwidth simulator and a TwiML app.  A real call is held in a ``<Gather>``
that has verbs after it, so the store holds its continuation; the signed URLs below are the
proxy's own references for that call.  Every bad request to ``/twiml/callbacks`` or
``/twiml/bw/{kind}/{reference}`` must get a clear 4xx (``{"error": ...}``), never a 5xx, never
reach the app, and leave the store as it was (calls, continuations, outbox, markers).

Strategies and the 4xx check are the Catapult-mode ones of ``tests/test_fuzz_http.py``.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.simulator import BandwidthSimulator
from tests.fake_twiml_app import TwimlApp
from tests.loopback import LoopbackServer
from tests.proxy_harness import running_proxy, twiml_settings, wait_until
from tests.test_fuzz_http import MAX_BYTES, assert_clear_4xx, content_types, malformed_json, non_objects

FUZZ = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                       HealthCheck.function_scoped_fixture],
                derandomize=True)
KINDS = ("gather", "redirect", "action", "notify")
HELD = ('<Response><Gather numDigits="1" action="/ivr/action" timeout="60"><Say>Hold on.</Say></Gather>'
        "<Say>After the gather.</Say></Response>")


@dataclass
class World:
    proxy: Any
    app: TwimlApp
    db: Path
    session: requests.Session
    call_id: str  # the held call
    gather_url: str  # the Gather's own signed URL (with the continuation's key)

    minted: dict[str, str] = field(default_factory=dict)

    def path(self, kind: str) -> str:
        """A signed URL of ``kind`` for the held call (minted once: the same text every example)."""
        if kind not in self.minted:
            url = self.proxy.runtime.proxy_url(f"/twiml/bw/{kind}", kind=kind, call=self.call_id,
                                               url=self.app.url + "/ivr/action", method="POST")
            self.minted[kind] = url[len(self.proxy.url):]
        return self.minted[kind]

    def paths(self) -> list[str]:
        return ["/twiml/callbacks", self.gather_url[len(self.proxy.url):], *(self.path(kind) for kind in KINDS)]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = tmp_path_factory.mktemp("twiml-fuzz") / "state.db"
    app = TwimlApp()
    app.route("/ivr/voice", HELD)
    app.route("/ivr/status", "<Response/>")
    app_server = LoopbackServer(app.flask).start()
    app.url = app_server.url
    try:
        with BandwidthSimulator(time_scale=1.0) as sim, \
                running_proxy(sim, None, f"sqlite:///{db}",
                              **twiml_settings(app.url + "/ivr/voice", status_callback=app.url + "/ivr/status"),
                              **{"server.max_request_bytes": MAX_BYTES}) as proxy:
            call = sim.inbound_call("+15551112222", "+15553334444", initiate_url=proxy.url + "/twiml/callbacks",
                                    disconnect_url=proxy.url + "/twiml/callbacks")
            gather = wait_until(lambda: call.verbs("Gather"), what="the held Gather")[0]
            session = requests.Session()
            session.trust_env = False
            world = World(proxy, app, db, session, call.call_id, gather.attributes["gatherUrl"])
            assert state(world)["continuations"], "the held Gather left no continuation"
            yield world
            call.hangup()
    finally:
        app_server.stop()


def state(world: World) -> dict[str, Any]:
    """What bad input must not change."""
    with contextlib.closing(sqlite3.connect(world.db)) as conn:
        tables = {table: conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
                  for table in ("calls", "call_ends", "gathers", "continuations", "outbox", "markers")}
        sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return {**tables, "outbox_sequence": sequence[0] if sequence else 0, "app_requests": len(world.app.seen)}


def check(world: World, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
          params: dict[str, str] | None = None) -> requests.Response:
    """Send a bad request: a clear 4xx, nothing reaches the app, and the store is unchanged."""
    before = state(world)
    headers = {"Content-Type": content_type} if content_type is not None else {}
    response = world.session.request(method, world.proxy.url + path, data=body, headers=headers, params=params,
                                     timeout=15)
    assert_clear_4xx(response, path)
    assert state(world) == before, (method, path, body[:200] if body else params)
    return response


def event_for(call_id: str, kind: str) -> dict[str, Any]:
    return {"eventType": kind, "callId": call_id, "eventTime": "2026-01-01T00:00:01.000Z", "accountId": "9900000",
            "applicationId": "app", "from": "+15551112222", "to": "+15553334444", "direction": "inbound",
            "callUrl": "https://voice.bandwidth.com/calls/" + call_id, "startTime": "2026-01-01T00:00:00.000Z",
            "answerTime": "2026-01-01T00:00:00.500Z", "digits": "1", "terminatingDigit": "", "cause": "hangup",
            "endTime": "2026-01-01T00:00:02.000Z"}


EVENT_OF_KIND = {"gather": "gather", "redirect": "redirect", "action": "transferComplete",
                 "notify": "transferDisconnect"}
token_chars = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1,
                      max_size=120)
other_call_ids = st.from_regex(r"c-[0-9a-f]{8}-[0-9a-f]{4}", fullmatch=True)


# --- bodies ---------------------------------------------------------------------------------------


@FUZZ
@given(data=st.data(), body=malformed_json(), content_type=content_types)
def test_malformed_bodies_are_4xx(world, data, body, content_type):
    check(world, "POST", data.draw(st.sampled_from(world.paths())), body, content_type or "application/json")


@FUZZ
@given(data=st.data(), value=non_objects)
def test_non_object_json_is_400(world, data, value):
    path = data.draw(st.sampled_from(world.paths()))
    assert check(world, "POST", path, json.dumps(value).encode(), "application/json").status_code == 400


@FUZZ
@given(data=st.data(), content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded",
                                                     "application/xml", "multipart/form-data; boundary=b"]))
def test_wrong_content_type_is_415(world, data, content_type):
    path = data.draw(st.sampled_from([p for p in world.paths() if "/bw/notify/" not in p]))
    event = event_for(world.call_id, "gather")
    assert check(world, "POST", path, json.dumps(event).encode(), content_type).status_code == 415


def test_notify_with_a_wrong_content_type_is_400(world):
    # the notify URL reads the body leniently (status events only): not JSON is "not an event"
    event = json.dumps(event_for(world.call_id, "transferDisconnect")).encode()
    assert check(world, "POST", world.path("notify"), event, "text/plain").status_code == 400


@FUZZ
@given(data=st.data(), params=st.dictionaries(st.sampled_from(["digits", "from", "cause", "tag", "x"]),
                                              st.text(max_size=20), max_size=3))
def test_get_without_an_event_type_is_400(world, data, params):
    path = data.draw(st.sampled_from(world.paths()[1:]))
    assert check(world, "GET", path, params=params).status_code == 400


@FUZZ
@given(data=st.data(), size=st.integers(MAX_BYTES + 1, MAX_BYTES * 4))
def test_oversize_bodies_are_413(world, data, size):
    path = data.draw(st.sampled_from(world.paths()))
    body = (b'{"eventType": "gather", "callId": "' + world.call_id.encode() + b'", "x": "' + b"a" * size + b'"}')
    assert check(world, "POST", path, body, "application/json").status_code == 413


# --- signed references ------------------------------------------------------------------------------


@FUZZ
@given(kind=st.sampled_from(KINDS), token=token_chars)
def test_forged_references_are_403(world, kind, token):
    event = json.dumps(event_for(world.call_id, EVENT_OF_KIND[kind])).encode()
    assert check(world, "POST", f"/twiml/bw/{kind}/{token}", event, "application/json").status_code == 403


@FUZZ
@given(data=st.data(), kind=st.sampled_from(KINDS))
def test_tampered_references_are_403(world, data, kind):
    path = world.path(kind) if kind != "gather" else data.draw(st.sampled_from([world.path(kind),
                                                                                 world.paths()[1]]))
    prefix, token = path.rsplit("/", 1)
    at = data.draw(st.integers(0, len(token) - 2))  # the last character may carry unused bits
    replacement = data.draw(st.sampled_from([c for c in "AQgwZ_-.9" if c != token[at]]))
    tampered = token[:at] + replacement + token[at + 1:]
    event = json.dumps(event_for(world.call_id, EVENT_OF_KIND[kind])).encode()
    assert check(world, "POST", f"{prefix}/{tampered}", event, "application/json").status_code in (400, 403)


@FUZZ
@given(kind=st.sampled_from(KINDS), other=other_call_ids)
def test_an_event_of_another_or_unknown_call_is_403(world, kind, other):
    event = json.dumps(event_for(other, EVENT_OF_KIND[kind])).encode()
    path = world.paths()[1] if kind == "gather" else world.path(kind)
    assert check(world, "POST", path, event, "application/json").status_code == 403


@FUZZ
@given(kind=st.sampled_from(KINDS), used_as=st.sampled_from(KINDS))
def test_a_reference_used_for_another_kind_of_url_is_403(world, kind, used_as):
    if kind == used_as:
        return
    token = world.path(kind).rsplit("/", 1)[1]
    event = json.dumps(event_for(world.call_id, EVENT_OF_KIND[used_as])).encode()
    assert check(world, "POST", f"/twiml/bw/{used_as}/{token}", event, "application/json").status_code == 403


# --- the application callback ------------------------------------------------------------------------


@FUZZ
@given(event_type=st.sampled_from(["", "INITIATE", "gather", "redirect", "dtmf", "transferComplete"]),
       call_id=st.one_of(st.just(""), st.text(max_size=40).map(lambda t: t + " :x"), st.text(min_size=201),
                         st.integers(), st.none(), st.lists(st.text(max_size=3), max_size=2)))
def test_application_callback_with_a_bad_call_id_is_400(world, event_type, call_id):
    """Not an id the store can key a call by (empty, ':' or whitespace, too long, not a string)."""
    event = {**event_for("c-x", "initiate"), "eventType": event_type, "callId": call_id}
    assert check(world, "POST", "/twiml/callbacks", json.dumps(event).encode(),
                 "application/json").status_code == 400


@FUZZ
@given(data=st.data(), drop=st.lists(st.sampled_from(["from", "to", "direction", "cause"]), min_size=1,
                                     unique=True))
def test_a_malformed_end_of_call_is_400_and_leaves_no_duplicate_marker(world, data, drop):
    """disconnect / transferDisconnect that cannot become a status callback: 400, nothing stored.

    (Regression: the duplicate marker used to be written before the event was translated, so a
    rejected event left a marker - and the call's end never reached the store.)"""
    leg = data.draw(other_call_ids)
    path, event = data.draw(st.sampled_from([
        ("/twiml/callbacks", {**event_for(leg, "disconnect")}),
        (world.path("notify"), {**event_for(leg, "transferDisconnect"), "parentCallId": world.call_id})]))
    for name in drop:
        event.pop(name)
    assert check(world, "POST", path, json.dumps(event).encode(), "application/json").status_code == 400


@FUZZ
@given(event_type=st.sampled_from(["gather", "redirect", "dtmf", "transferComplete", "conferenceCreated", "x"]),
       call_id=other_call_ids)
def test_other_events_of_unknown_calls_on_the_application_callback_are_ignored(world, event_type, call_id):
    before = state(world)
    response = world.session.post(world.proxy.url + "/twiml/callbacks", json=event_for(call_id, event_type),
                                  timeout=15)
    assert response.status_code == 204  # documented: only initiate, answer and disconnect are acted on
    assert state(world) == before
