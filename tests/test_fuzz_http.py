"""Bad input on the HTTP surface of Catapult mode (issue 6), fuzzed with hypothesis.

One proxy for the module, under a real WSGI server on loopback, with a file SQLite store, in front
of the Bandwidth simulator and a fake v1 app.  Its state holds a real call (incomingcall, answer, a
dtmf and a completed gather went through the simulator; its webhooks are replayed below) and two
calls only the store knows (one with an open gather), so requests about known ids get past the
lookups.  Every bad request must get a clear 4xx - v1-shaped JSON (``category``, ``code``,
``message``, ``details``) under ``/v1``, ``{"error": ...}`` elsewhere - never a 5xx, and leave the
stored state as it was: the calls, the open gathers, the outbox (its depth, and its sequence, so an
event queued and delivered in between is seen too) and the events the app received.

The proxy publishes no OpenAPI description of its v1 REST surface, so schemathesis is not used.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapter.signed_refs import sign
from adapter.simulator import BandwidthSimulator
from tests.loopback import LoopbackServer
from tests.proxy_harness import API_SECRET, API_TOKEN, USER_ID, V1App, V1Client, gather_id_of, running_proxy, wait_until

MAX_BYTES = 4096  # server.max_request_bytes of the proxy under test
V1 = f"/v1/users/{USER_ID}"
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow],
                derandomize=True)


@dataclass
class World:
    proxy: Any
    sim: BandwidthSimulator
    app: V1App
    db: Path
    session: requests.Session
    real_call: Any  # the simulator's call that went through a gather flow
    idle_call: str  # a call only the store knows, without a gather
    busy_call: str  # a call only the store knows, with an open gather
    open_gather: str
    done_gather: str  # the real call's completed gather

    def token(self, kind: str, **reference: Any) -> str:
        return self.proxy.runtime.proxy_url("/x", kind=kind, **reference).rsplit("/", 1)[-1]

    @property
    def url(self) -> str:
        return self.proxy.url




@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    db = tmp_path_factory.mktemp("fuzz") / "state.db"
    app = V1App()
    app_server = LoopbackServer(app.flask).start()
    try:
        with BandwidthSimulator(time_scale=0.01) as sim, \
                running_proxy(sim, app_server.url, f"sqlite:///{db}",
                              **{"server.max_request_bytes": MAX_BYTES}) as proxy:
            client = V1Client(proxy.url)
            created: dict[str, str] = {}
            app.on["answer"] = lambda e: created.setdefault(
                "gather", gather_id_of(client.create_call_gather(e["callId"], max_digits=3, tag="fuzz")))
            call = sim.inbound_call("+15551112222", "+15553334444", initiate_url=proxy.url + "/catapult/callbacks",
                                    disconnect_url=proxy.url + "/catapult/callbacks",
                                    keys=[("await", "Pause"), ("press", "4"), ("await", "Gather"), ("press", "12#")])
            wait_until(lambda: app.types() == ["incomingcall", "answer", "dtmf", "gather"], what="the real call's flow")
            store = proxy.runtime.store
            wait_until(lambda: store.outbox_depth() == 0, what="an empty outbox")
            idle, busy = "c-fuzz-idle-0000", "c-fuzz-busy-0000"
            for call_id in (idle, busy):
                store.put_call(call_id, {"callId": call_id, "direction": "in", "state": "active",
                                         "from": "+15550000001", "to": "+15550000002"})
            store.create_gather(busy, "gtr-fuzzopen", {"context": {"maxDigits": 4, "tag": None}})
            session = requests.Session()
            session.trust_env = False
            yield World(proxy, sim, app, db, session, call, idle, busy, "gtr-fuzzopen", created["gather"])
            call.hangup()
    finally:
        app_server.stop()


def state(world: World) -> dict[str, Any]:
    """What bad input must not change."""
    with contextlib.closing(sqlite3.connect(world.db)) as conn:
        now = time.time()
        calls = conn.execute("SELECT call_id, record FROM calls WHERE expires_at > ? ORDER BY call_id",
                             (now,)).fetchall()
        gathers = conn.execute("SELECT call_id, gather_id, state, record FROM gathers WHERE expires_at > ?"
                               " AND (state = 'created' OR gather_id = ?) ORDER BY call_id, gather_id",
                               (now, world.done_gather)).fetchall()
        sequence = conn.execute("SELECT seq FROM sqlite_sequence WHERE name = 'outbox'").fetchone()
    return {"calls": calls, "gathers": gathers, "outbox_depth": world.proxy.runtime.store.outbox_depth(),
            "outbox_sequence": sequence[0] if sequence else 0, "app_events": len(world.app.events)}


def send(world: World, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
         *, auth: bool = True, headers: dict[str, str] | None = None) -> requests.Response:
    sent = dict(headers or {})
    if content_type is not None:
        sent["Content-Type"] = content_type
    return world.session.request(method, world.url + path, data=body, headers=sent, timeout=15,
                                 auth=(API_TOKEN, API_SECRET) if auth and path.startswith("/v1/") else None)


def assert_clear_4xx(response: requests.Response, path: str) -> None:
    assert 400 <= response.status_code < 500, (response.status_code, path, response.text[:300])
    assert response.headers.get("Content-Type", "").startswith("application/json"), response.headers
    body = response.json()
    if path.startswith("/v1/"):
        assert set(body) == {"category", "code", "message", "details"}, body
        assert all(isinstance(body[k], str) and body[k] for k in ("category", "code", "message")), body
    else:
        assert set(body) == {"error"} and isinstance(body["error"], str) and body["error"], body


def check(world: World, method: str, path: str, body: bytes | None = None, content_type: str | None = None,
          **kwargs: Any) -> requests.Response:
    """Send a bad request: a clear 4xx, and the stored state unchanged."""
    before = state(world)
    response = send(world, method, path, body, content_type, **kwargs)
    assert_clear_4xx(response, path)
    assert state(world) == before, (method, path, body[:200] if body else body)
    return response


# -- strategies ------------------------------------------------------------------------------

json_scalars = (st.none() | st.booleans() | st.integers(min_value=-(10 ** 30), max_value=10 ** 30)
                | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=8), inner, max_size=3), max_leaves=8)
non_objects = st.one_of(json_scalars, st.lists(json_values, max_size=4))
content_types = st.sampled_from([None, "application/json", "application/json; charset=utf-8", "text/plain",
                                 "application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz",
                                 "application/xml", "application/octet-stream", "not a content type"])


@st.composite
def malformed_json(draw: st.DrawFn) -> bytes:
    """Bytes that are not one JSON document (or use what JSON does not have: NaN, deep nesting)."""
    kind = draw(st.sampled_from(["binary", "text", "truncated", "nan", "nested", "trailing"]))
    if kind == "binary":
        return draw(st.binary(min_size=1, max_size=200).filter(lambda b: not _parses(b)))
    if kind == "text":
        return draw(st.text(min_size=1, max_size=100).filter(lambda t: not _parses(t.encode()))).encode()
    if kind == "truncated":
        text = json.dumps(draw(st.dictionaries(st.text(max_size=8), json_values, min_size=1, max_size=4)))
        return text[: draw(st.integers(1, len(text) - 1))].encode()
    if kind == "nan":
        return draw(st.sampled_from([b'{"maxDigits": NaN, "eventType": "gather", "callId": "c-1"}',
                                     b'{"interDigitTimeout": Infinity, "callTimeout": -Infinity}',
                                     b'{"maxDigits": 1e400, "callbackTimeout": -1e999, "digits": 1e400}']))
    if kind == "nested":
        depth = draw(st.integers(500, MAX_BYTES // 2 - 10))
        return b'{"a":' * (depth // 5) + b"1" + b"}" * (depth // 5) if draw(st.booleans()) else \
            b"[" * depth + b"]" * depth
    return json.dumps(draw(json_values)).encode() + b" " + draw(st.sampled_from([b"x", b"{}", b"]"]))


def _parses(data: bytes) -> bool:
    try:
        json.loads(data)
    except (ValueError, RecursionError):
        return False
    return True


def _oversize(draw: st.DrawFn) -> bytes:
    size = draw(st.integers(MAX_BYTES + 1, MAX_BYTES * 4))
    return (b'{"sentence": "' + b"a" * size + b'"}')[: max(size, MAX_BYTES + 1)]


# -- the Bandwidth-facing surface ---------------------------------------------------------------


def bandwidth_paths(world: World) -> list[str]:
    real, busy = world.real_call.call_id, world.busy_call
    return ["/catapult/callbacks",
            "/catapult/bw/gather/" + world.token("gather", call=busy, gather=world.open_gather),
            "/catapult/bw/gather/" + world.token("gather", call=real, gather=world.done_gather),
            "/catapult/bw/dtmf/" + world.token("dtmf", call=real),
            "/catapult/bw/answer/" + world.token("answer", pending="pending-fuzz"),
            "/catapult/bw/disconnect/" + world.token("disconnect", pending="pending-fuzz")]


@FUZZ
@given(data=st.data(), body=malformed_json(), content_type=content_types)
def test_bandwidth_side_malformed_bodies_are_4xx(world, data, body, content_type):
    path = data.draw(st.sampled_from(bandwidth_paths(world)))
    check(world, "POST", path, body, content_type or "application/json")


@FUZZ
@given(data=st.data(), value=non_objects)
def test_bandwidth_side_non_object_json_is_400(world, data, value):
    path = data.draw(st.sampled_from(bandwidth_paths(world)))
    response = check(world, "POST", path, json.dumps(value).encode(), "application/json")
    assert response.status_code == 400


@FUZZ
@given(data=st.data(), content_type=st.sampled_from(["text/plain", "application/x-www-form-urlencoded",
                                                     "application/xml", "multipart/form-data; boundary=b"]))
def test_bandwidth_side_wrong_content_type_is_415(world, data, content_type):
    path = data.draw(st.sampled_from(bandwidth_paths(world)))
    event = {"eventType": "gather", "callId": world.busy_call, "digits": "1"}
    response = check(world, "POST", path, json.dumps(event).encode(), content_type)
    assert response.status_code == 415


event_types = st.sampled_from(["initiate", "answer", "disconnect", "gather", "dtmf", "redirect", "transferComplete",
                               "", "INITIATE"])


@st.composite
def broken_events(draw: st.DrawFn, call_ids: list[str]) -> dict[str, Any]:
    """v2-event-shaped objects that are not valid v2 events: a required field missing, or of the
    wrong type, or an id the store cannot hold."""
    event: dict[str, Any] = {"eventType": draw(event_types)}
    call_id = draw(st.one_of(st.sampled_from(call_ids), st.text(max_size=250), json_values))
    if draw(st.booleans()):
        event["callId"] = call_id
    for name in draw(st.lists(st.sampled_from(["eventTime", "from", "to", "direction", "startTime", "answerTime",
                                               "digits", "digit", "cause", "endTime", "tag", "accountId"]),
                              max_size=4, unique=True)):
        event[name] = draw(json_values)
    if draw(st.booleans()):
        event[draw(st.text(min_size=1, max_size=10))] = draw(json_values)
    valid_id = isinstance(event.get("callId"), str) and event["callId"]
    if valid_id and all(isinstance(event.get(f), str) for f in ("eventTime", "from", "to", "direction",
                                                                  "startTime", "accountId")):
        event.pop("eventTime")  # never a complete, well-formed event
    return event


@FUZZ
@given(data=st.data())
def test_bandwidth_side_broken_events_are_4xx_and_change_nothing(world, data):
    call_ids = [world.real_call.call_id, world.busy_call, world.idle_call, "c-unknown", "a:b", "a b", "x" * 201]
    event = data.draw(broken_events(call_ids))
    path = data.draw(st.sampled_from(bandwidth_paths(world)))
    before = state(world)
    response = send(world, "POST", path, json.dumps(event).encode(), "application/json")
    assert state(world) == before, (path, event)
    if response.status_code >= 400:
        assert_clear_4xx(response, path)
    else:  # answer/redirect/unknown types of an unknown call: Bandwidth gets the park loop or a 204
        assert response.status_code in (200, 204), (path, event, response.status_code, response.text[:200])


@FUZZ
@given(data=st.data())
def test_oversize_bodies_are_413(world, data):
    path = data.draw(st.sampled_from([*bandwidth_paths(world), f"{V1}/calls/{world.idle_call}/gather",
                                      f"{V1}/calls/{world.idle_call}/audio", f"{V1}/calls"]))
    body = _oversize(data.draw)
    response = check(world, "POST", path, body, "application/json")
    assert response.status_code == 413


def test_oversize_chunked_bodies_are_413(world):
    def chunks() -> Iterator[bytes]:
        yield b'{"sentence": "'
        for _ in range(MAX_BYTES // 512 + 2):
            yield b"a" * 512
        yield b'"}'

    for path in ["/catapult/callbacks", f"{V1}/calls/{world.idle_call}/audio"]:
        before = state(world)
        response = world.session.post(world.url + path, data=chunks(), timeout=10,
                                      headers={"Content-Type": "application/json"},
                                      auth=(API_TOKEN, API_SECRET) if path.startswith("/v1/") else None)
        assert_clear_4xx(response, path)
        assert response.status_code == 413
        assert state(world) == before


# -- signed references ----------------------------------------------------------------------------

token_alphabet = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@st.composite
def tampered(draw: st.DrawFn, token: str) -> str:
    how = draw(st.sampled_from(["replace", "insert", "delete", "truncate", "swap-halves", "non-ascii",
                                "other-text"]))
    i = draw(st.integers(0, len(token) - 1))
    if how == "replace":
        new = draw(token_alphabet.filter(lambda c: c != token[i]))
        return token[:i] + new + token[i + 1:]
    if how == "non-ascii":  # in the payload or in the MAC
        return token[:i] + draw(st.characters(min_codepoint=0x80, exclude_categories=["Cs"])) + token[i + 1:]
    if how == "insert":
        return token[:i] + draw(token_alphabet) + token[i:]
    if how == "delete":
        return token[:i] + token[i + 1:]
    if how == "truncate":
        return token[:i]
    if how == "swap-halves":
        body, _, mac = token.partition(".")
        return f"{mac}.{body}"
    return draw(st.text(min_size=1, max_size=5000).filter(lambda t: t not in (".", "..")))


@FUZZ
@given(data=st.data())
def test_tampered_references_are_403(world, data):
    kind, reference = data.draw(st.sampled_from([
        ("gather", {"call": world.busy_call, "gather": world.open_gather}),
        ("dtmf", {"call": world.real_call.call_id}),
        ("park", {"call": world.real_call.call_id}),
        ("answer", {"pending": "pending-fuzz"}),
        ("disconnect", {"pending": "pending-fuzz"}),
    ]))
    token = data.draw(tampered(world.token(kind, **reference)))
    event = {"eventType": kind, "callId": reference.get("call", "c-x"), "digits": "1", "digit": "1"}
    path = f"/catapult/bw/{kind}/{quote(token, safe='')}"
    response = check(world, data.draw(st.sampled_from(["POST", "GET"])), path, json.dumps(event).encode(),
                     "application/json")
    assert response.status_code in (403, 404), response.status_code  # 404: the token became no path segment


@FUZZ
@given(payload=st.dictionaries(st.sampled_from(["kind", "call", "gather", "pending", "iat", "ctx"]), json_values),
       key=st.binary(min_size=1, max_size=40), kind=st.sampled_from(["gather", "dtmf", "park", "answer",
                                                                     "disconnect"]))
def test_forged_references_are_403(world, payload, key, kind):
    token = sign({**payload, "kind": kind}, key)  # signed, but not with the proxy's key
    check(world, "POST", f"/catapult/bw/{kind}/{token}", b'{"eventType": "%s", "callId": "c-x"}' % kind.encode(),
          "application/json")


def test_expired_and_cross_kind_references_are_403(world):
    key = world.proxy.runtime.config.signing_key
    old = sign({"kind": "gather", "call": world.busy_call, "gather": world.open_gather}, key,
               now=time.time() - 8 * 86400)
    event = {"eventType": "gather", "callId": world.busy_call, "digits": "1"}
    assert check(world, "POST", f"/catapult/bw/gather/{old}", json.dumps(event).encode(),
                 "application/json").status_code == 403
    dtmf_token = world.token("dtmf", call=world.busy_call)
    assert check(world, "POST", f"/catapult/bw/gather/{dtmf_token}", json.dumps(event).encode(),
                 "application/json").status_code == 403
    other_call = world.token("gather", call=world.idle_call, gather=world.open_gather)
    assert check(world, "POST", f"/catapult/bw/gather/{other_call}", json.dumps(event).encode(),
                 "application/json").status_code == 403


# -- replays ------------------------------------------------------------------------------------


@pytest.mark.parametrize("event_type", ["initiate", "dtmf", "gather"])
def test_replayed_webhooks_produce_no_second_v1_event(world, event_type):
    webhook = world.real_call.webhooks(event_type)[0]
    assert webhook.delivered
    before = state(world)
    for _ in range(3):
        response = world.session.request(webhook.method, webhook.url, json=webhook.payload, timeout=10)
        assert response.status_code in (200, 204)
        if event_type != "dtmf":  # Bandwidth still gets BXML keeping the call alive
            assert "<Redirect" in response.text
    time.sleep(0.1)  # an event queued by mistake would be released now; the outbox sequence shows it anyway
    assert state(world) == before
    assert world.app.types() == ["incomingcall", "answer", "dtmf", "gather"]


def test_replayed_signed_url_for_another_event_type_is_refused(world):
    gather = world.real_call.webhooks("gather")[0]
    dtmf = world.real_call.webhooks("dtmf")[0]
    check(world, "POST", gather.url.removeprefix(world.url), json.dumps(dtmf.payload).encode(), "application/json")


# -- the v1 surface ---------------------------------------------------------------------------------

ids = st.one_of(st.text(min_size=1, max_size=250), st.sampled_from(["a:b", "a b", "x" * 201, "..", "%", "c-x/y"]))


@FUZZ
@given(call_id=ids, gather_id=ids)
def test_unknown_call_and_gather_ids_are_v1_404(world, call_id, gather_id):
    c, g = quote(call_id, safe=""), quote(gather_id, safe="")
    stop = b'{"state": "completed"}'
    for method, path, body in [
        ("GET", f"{V1}/calls/{c}", None),
        ("GET", f"{V1}/calls/{c}/gather/{g}", None),
        ("GET", f"{V1}/calls/{world.idle_call}/gather/{g}", None),
        ("POST", f"{V1}/calls/{world.busy_call}/gather/{g}", stop),
        ("POST", f"{V1}/calls/{c}/gather", b'{"maxDigits": 2}'),
        ("POST", f"{V1}/calls/{c}/audio", b'{"sentence": "hi"}'),
        ("POST", f"{V1}/calls/{c}", stop),
    ]:
        response = check(world, method, path, body, "application/json")
        # 405: an id that decodes to several path segments can land on another route
        assert response.status_code in (404, 405), (path, response.status_code)


def v1_paths(world: World) -> list[str]:
    return [f"{V1}/calls/{world.idle_call}/gather", f"{V1}/calls/{world.busy_call}/gather",
            f"{V1}/calls/{world.busy_call}/gather/{world.open_gather}", f"{V1}/calls/{world.idle_call}/audio",
            f"{V1}/calls/{world.idle_call}", f"{V1}/calls"]


@FUZZ
@given(data=st.data(), body=st.one_of(malformed_json(), non_objects.map(lambda v: json.dumps(v).encode())),
       content_type=content_types)
def test_v1_malformed_and_non_object_bodies_are_400(world, data, body, content_type):
    path = data.draw(st.sampled_from(v1_paths(world)))
    response = check(world, "POST", path, body, content_type)
    assert response.status_code in (400, 409), response.text  # 409: the busy call's gather is checked first


GATHER_KEYS = ["maxDigits", "interDigitTimeout", "terminatingDigits", "tag", "prompt", "suppressDtmf"]
PROMPT_KEYS = ["sentence", "gender", "locale", "voice", "fileUrl", "loopEnabled", "bargeable"]
AUDIO_KEYS = ["fileUrl", "sentence", "gender", "locale", "voice", "loopEnabled", "tag"]
CALL_KEYS = ["state", "recordingEnabled", "transferTo", "callbackUrl", "whisperAudio"]
CREATE_KEYS = ["from", "to", "callTimeout", "callbackUrl", "callbackTimeout", "callbackHttpMethod", "tag",
               "fallbackUrl", "recordingEnabled", "sipHeaders"]
# values that broke, or could break, a field: wrong types, edges of ranges, text XML cannot carry,
# numbers no float holds, URLs the proxy must not call
specials = st.sampled_from([None, True, False, 0, -1, 1, 31, 2 ** 53 + 1, 10 ** 400, -(10 ** 400), 1.5, 1e308, "",
                            " ", "5", "true", "#A", "*#", "http://127.0.0.1:1/x", "ftp://x", "file:///etc/passwd",
                            "Robot", "kate", "completed", "active", "rejected", "+15551234567", "sip:a@b", "\x00",
                            "a\x1fb", "\ud800", "\ufffe", "é" * 300, [], {}, [1], {"a": 1}])
wild = st.one_of(specials, specials, json_values)


@st.composite
def v1_bodies(draw: st.DrawFn, keys: list[str]) -> dict[str, Any]:
    chosen = draw(st.lists(st.sampled_from(keys), min_size=1, max_size=len(keys), unique=True))
    body: dict[str, Any] = {}
    for key in chosen:
        if key == "prompt" and draw(st.booleans()):
            body[key] = draw(v1_bodies(PROMPT_KEYS))
        else:
            body[key] = draw(wild)
    if draw(st.integers(0, 3)) == 0:
        body[draw(st.text(min_size=1, max_size=12))] = draw(wild)
    return body


@settings(FUZZ, max_examples=150)
@given(data=st.data())
def test_v1_random_request_bodies_get_a_clear_answer_and_keep_the_state(world, data):
    """Fields of wrong types, out-of-range values, unknown keys, nulls: 4xx (v1-shaped), never 5xx.
    A body that happens to be valid is sent on to Bandwidth, which does not know these store-only
    calls: 404, still a 4xx, still no state change."""
    path, keys = data.draw(st.sampled_from([
        (f"{V1}/calls/{world.idle_call}/gather", GATHER_KEYS), (f"{V1}/calls/{world.busy_call}/gather", GATHER_KEYS),
        (f"{V1}/calls/{world.busy_call}/gather/{world.open_gather}", ["state"]),
        (f"{V1}/calls/{world.idle_call}/audio", AUDIO_KEYS), (f"{V1}/calls/{world.idle_call}", CALL_KEYS),
        (f"{V1}/calls", CREATE_KEYS)]))
    body = data.draw(v1_bodies(keys))
    encoded = json.dumps(body).encode()
    before = state(world)
    response = send(world, "POST", path, encoded, "application/json")
    if response.status_code < 400:  # valid and harmless: the answer-is-a-no-op cases
        assert (path, response.status_code) in {(f"{V1}/calls/{world.idle_call}", 200)}, (body, response.text)
    else:
        assert_clear_4xx(response, path)
    assert state(world) == before, (path, body)


not_e164 = st.one_of(st.text(min_size=1, max_size=20), st.sampled_from(["5551234567", "+0123", "+1 555 123"])).filter(
    lambda n: n.strip() and not n.lower().startswith("sip:") and not re.fullmatch(r"\+[1-9]\d{1,14}", n))


@FUZZ
@given(number=not_e164, which=st.sampled_from(["from", "to"]), tag=st.none() | st.text(max_size=10))
def test_v1_create_call_with_a_number_bandwidth_refuses_is_400_and_leaves_no_record(world, number, which, tag):
    """The proxy checks the shape of ``from``/``to``, Bandwidth checks the numbers: its 400 is the
    app's bad request (v1 400, not a 502), and the record kept for the call's first callback goes."""
    body = {"from": "+15553334444", "to": "+15557778888", "tag": tag, which: number}
    before = state(world)
    response = send(world, "POST", f"{V1}/calls", json.dumps(body).encode(), "application/json")
    assert_clear_4xx(response, f"{V1}/calls")
    assert response.status_code == 400, response.text
    assert state(world) == before, body


def test_v1_requests_without_credentials_are_401_and_change_nothing(world):
    for path in v1_paths(world):
        response = check(world, "POST", path, b'{"state": "completed"}', "application/json", auth=False)
        assert response.status_code == 401 and response.headers["WWW-Authenticate"].startswith("Basic")
    bad = "Basic " + base64.b64encode(b"\xff\xfe:\x00").decode()
    response = check(world, "GET", f"{V1}/calls/{world.idle_call}", auth=False, headers={"Authorization": bad})
    assert response.status_code == 401


def test_v1_unknown_routes_and_methods_are_v1_shaped(world):
    assert check(world, "GET", f"{V1}/nothing-here").status_code == 404
    assert check(world, "DELETE", f"{V1}/calls/{world.idle_call}").status_code == 405
    assert check(world, "PUT", f"{V1}/calls/{world.idle_call}/gather", b"{}", "application/json").status_code == 405
