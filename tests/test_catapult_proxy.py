"""End to end: an unchanged Catapult v1 app on Bandwidth v2 through the proxy.

Real parts only: the Bandwidth simulator (``adapter.simulator``) executes the BXML and posts
v2 webhooks; the proxy runs under a real WSGI server; a fake v1 app on loopback receives v1
events and calls the v1 REST API from inside its handlers, as v1 apps did.  Every test runs on
SQLite and on a real Redis.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from adapter.simulator import BandwidthSimulator
from tests.loopback import serve
from tests.proxy_harness import USER_ID, V1App, V1Client, gather_id_of, running_proxy, wait_until


@pytest.fixture
def v1app():
    app = V1App()
    with serve(app.flask) as server:
        app.url = server.url
        yield app


@pytest.fixture
def proxy(sim, v1app, state_url):
    url, extra = state_url
    with running_proxy(sim, v1app.url, url, **extra) as running:
        yield running




def inbound(sim, proxy, keys=()):
    return sim.inbound_call("+15551112222", "+15553334444", initiate_url=proxy.url + "/catapult/callbacks",
                            disconnect_url=proxy.url + "/catapult/callbacks", keys=list(keys))


def test_inbound_call_delivers_incomingcall_then_answer_and_parks(sim, proxy, v1app):
    call = inbound(sim, proxy)
    wait_until(lambda: len(v1app.events) >= 2, what="incomingcall and answer")
    incoming, answer = v1app.events[:2]
    assert incoming["eventType"] == "incomingcall" and answer["eventType"] == "answer"
    assert incoming["callId"] == call.call_id and incoming["from"] == "+15551112222"
    assert incoming["callUri"] == f"{proxy.url}/v1/users/{USER_ID}/calls/{call.call_id}"
    call.wait_for_verb("Redirect")
    names = [v.name for v in call.verbs()]
    assert names[:3] == ["StartGather", "Pause", "Redirect"], names
    assert not [d for d in call.documents() if d.error]
    call.hangup()
    call.wait_until_ended()
    wait_until(lambda: v1app.of_type("hangup"), what="hangup event")
    assert v1app.of_type("hangup")[0]["cause"] == "NORMAL_CLEARING"


@pytest.mark.parametrize("keys,request_body,expected", [
    ("12#", {"maxDigits": "5", "prompt": {"sentence": "Enter your code"}}, ("12", "terminating-digit")),
    ("123", {"maxDigits": 3, "terminatingDigits": None}, ("123", "max-digits")),
    ("7", {"maxDigits": "4", "interDigitTimeout": "2"}, ("7", "inter-digit-timeout")),
    ("45*", {"maxDigits": 9, "terminatingDigits": "*", "tag": "menu-1"}, ("45", "terminating-digit")),
], ids=["terminator", "max-digits", "inter-digit-timeout", "custom-terminator-with-tag"])
def test_gather_flow_reports_digits_reason_gather_id_and_tag(sim, proxy, v1app, keys, request_body, expected):
    client = V1Client(proxy.url)
    created = {}

    def on_answer(event):  # the v1 app creates the gather from inside its event handler
        response = client.post(f"/calls/{event['callId']}/gather", request_body)
        created["gather_id"] = gather_id_of(response)
        created["location"] = response.headers["Location"]

    v1app.on["answer"] = on_answer
    call = inbound(sim, proxy, keys=[("await", "Gather"), ("wait", 0.5), ("press", keys)])
    event = wait_until(lambda: v1app.of_type("gather"), what="v1 gather event")[0]
    digits, reason = expected
    assert (event["digits"], event["reason"], event["state"]) == (digits, reason, "completed")
    assert event["gatherId"] == created["gather_id"] and event["callId"] == call.call_id
    assert created["location"] == f"{proxy.url}/v1/users/{USER_ID}/calls/{call.call_id}/gather/" \
                                  f"{created['gather_id']}"
    assert event.get("tag") == request_body.get("tag")
    view = client.get(f"/calls/{call.call_id}/gather/{created['gather_id']}").json()
    assert view["state"] == "completed" and view["digits"] == digits and view["reason"] == reason
    assert view["call"].endswith(f"/calls/{call.call_id}") and view["createdTime"] and view["completedTime"]
    # the Gather Bandwidth ran states v1's effective values
    gather_doc = next(d for d in call.documents() if d.source == "put")
    assert 'firstDigitTimeout="' in gather_doc.body and 'interDigitTimeout="' in gather_doc.body
    call.hangup()
    call.wait_until_ended()


def test_dtmf_outside_a_gather_becomes_v1_dtmf_events(sim, proxy, v1app):
    call = inbound(sim, proxy, keys=[("await", "Pause"), ("press", "5"), ("press", "#")])
    events = wait_until(lambda: len(v1app.of_type("dtmf")) >= 2 and v1app.of_type("dtmf"), what="dtmf events")
    assert [e["dtmfDigit"] for e in events] == ["5", "#"]
    assert all(e["callId"] == call.call_id for e in events)
    call.hangup()


def test_stop_a_gather_returns_the_call_to_the_park_loop(sim, proxy, v1app):
    client = V1Client(proxy.url)
    # a 30 s first-digit timeout (0.3 s of real time here) and a long prompt: still running at the stop
    v1app.on["answer"] = lambda e: v1app.__dict__.setdefault("gid", gather_id_of(client.create_call_gather(
        e["callId"], max_digits=4, inter_digit_timeout=30,
        prompt={"sentence": "Please enter your four digit account code now. " * 20})))
    call = inbound(sim, proxy)
    call.wait_for_verb("Gather")
    gid = wait_until(lambda: v1app.__dict__.get("gid"), what="gather id")
    started = client.get(f"/calls/{call.call_id}/gather/{gid}").json()
    assert started["state"] == "started" and "reason" not in started
    stop = client.post(f"/calls/{call.call_id}/gather/{gid}", {"state": "completed"})
    assert stop.status_code == 200 and stop.text == ""
    assert client.get(f"/calls/{call.call_id}/gather/{gid}").json()["state"] == "completed"
    call.wait_for_verb("Redirect", count=2)
    assert not v1app.of_type("gather")  # a stopped gather sends no event
    again = client.create_call_gather(call.call_id, max_digits=1)  # a new gather is allowed now
    assert again.status_code == 201
    call.hangup()


def test_hang_up_during_a_gather_gives_hung_up_then_hangup(sim, proxy, v1app):
    client = V1Client(proxy.url)
    v1app.on["answer"] = lambda e: gather_id_of(client.create_call_gather(e["callId"], max_digits=4, tag="t1"))
    call = inbound(sim, proxy, keys=[("await", "Gather"), ("press", "1"), ("hangup",)])
    call.wait_until_ended()
    wait_until(lambda: v1app.of_type("hangup"), what="hangup")
    gather_events = v1app.of_type("gather")
    assert len(gather_events) == 1 and gather_events[0]["reason"] == "hung-up"
    assert gather_events[0]["tag"] == "t1"
    types = v1app.types()
    assert types.index("gather") < types.index("hangup")


def test_second_open_gather_is_a_409(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    assert client.create_call_gather(call.call_id, max_digits=3).status_code == 201
    second = client.create_call_gather(call.call_id, max_digits=3)
    assert second.status_code == 409
    body = second.json()
    assert body["code"] == "call-duplicate-gather-error" and body["category"] == "conflict"
    assert call.call_id in body["message"] and second.headers["Content-Type"].startswith("application/json")
    call.hangup()


@pytest.mark.parametrize("body,field", [
    ({"maxDigits": 31}, "maxDigits"),
    ({"maxDigits": "five"}, "maxDigits"),
    ({"interDigitTimeout": 31}, "interDigitTimeout"),
    ({"terminatingDigits": "#A"}, "terminatingDigits"),
    ({"maxDigits": 3, "colour": "blue"}, "colour"),
    ({"prompt": {"sentence": "hi", "voice": "Robot"}}, "prompt.voice"),
    ([1, 2], "body"),
])
def test_bad_gather_bodies_are_400_naming_the_field(sim, proxy, v1app, body, field):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    response = client.post(f"/calls/{call.call_id}/gather", body)
    assert response.status_code == 400
    error = response.json()
    assert error["code"] == "validation-error" and field in error["message"]
    assert proxy.runtime.store.open_gather(call.call_id) is None  # nothing half-created
    call.hangup()


def test_v1_auth_and_unknown_resources(sim, proxy, v1app):
    good = V1Client(proxy.url)
    wrong_secret = V1Client(proxy.url, secret="nope").get("/calls/c-x")
    assert wrong_secret.status_code == 401 and "WWW-Authenticate" in wrong_secret.headers
    assert wrong_secret.json()["category"] == "authentication"
    other_user = V1Client(proxy.url, user_id="u-someoneelse").get("/calls/c-x")
    assert other_user.status_code == 401 and other_user.json()["code"] == "user-access-denied"
    missing = good.create_call_gather("c-unknown", max_digits=1)
    assert missing.status_code == 404 and missing.json()["code"] == "call-not-found"
    assert good.get("/calls/c-unknown").status_code == 404


def test_requests_on_an_ended_call_are_refused(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    assert client.hangup_call(call.call_id).status_code == 200
    call.wait_until_ended()
    wait_until(lambda: v1app.of_type("hangup"))
    late = client.create_call_gather(call.call_id, max_digits=1)
    assert late.status_code == 403 and late.json()["code"] == "call-invalid-state"
    view = client.get(f"/calls/{call.call_id}").json()
    assert view["state"] == "completed" and view["direction"] == "in"


def test_bandwidth_429_is_retried_honouring_retry_after(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    sim.fail_next(1, status=429, retry_after=1, operation="updateCallBxml")
    started = time.monotonic()
    response = client.create_call_gather(call.call_id, max_digits=2)
    assert response.status_code == 201 and time.monotonic() - started >= 0.9
    call.wait_for_verb("Gather")
    call.hangup()


def test_bandwidth_persistent_500_becomes_a_v1_502_and_no_open_gather(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    sim.fail_next(10, status=500, operation="updateCallBxml")
    response = client.create_call_gather(call.call_id, max_digits=2)
    assert response.status_code == 502 and response.json()["category"] == "unavailable"
    assert proxy.runtime.store.open_gather(call.call_id) is None
    sim.clear_faults()
    assert client.create_call_gather(call.call_id, max_digits=2).status_code == 201
    call.hangup()


def test_audio_speaks_then_parks(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    response = client.post(f"/calls/{call.call_id}/audio", {
        "fileUrl": None, "sentence": "Your balance is five dollars", "gender": None, "locale": None,
        "voice": "Kate", "loopEnabled": None})
    assert response.status_code == 200 and response.text == ""
    spoken = call.wait_for_verb("SpeakSentence")
    assert spoken is not None
    put = [d for d in call.documents() if d.source == "put"][-1]
    assert 'voice="kate"' in put.body and "Your balance is five dollars" in put.body and "<Redirect" in put.body
    bad = client.post(f"/calls/{call.call_id}/audio", {"sentence": "x", "volume": 9})
    assert bad.status_code == 400 and "volume" in bad.json()["message"]
    call.hangup()


def test_outbound_call_created_by_the_v1_app(sim, proxy, v1app):
    client = V1Client(proxy.url)
    sim.on_outbound_call(outcome="answer")
    response = client.post("/calls", {"from": "+15553334444", "to": "+15557778888", "callTimeout": None,
                                      "callbackUrl": v1app.url + "/events", "callbackTimeout": None,
                                      "callbackHttpMethod": None, "fallbackUrl": None, "bridgeId": None,
                                      "conferenceId": None, "recordingEnabled": False,
                                      "recordingFileFormat": None, "recordingMaxDuration": None,
                                      "transcriptionEnabled": False, "tag": "campaign-7", "sipHeaders": None})
    assert response.status_code == 201, response.text
    call_id = response.headers["Location"].rsplit("/", 1)[-1]
    answer = wait_until(lambda: v1app.of_type("answer"), what="answer")[0]
    assert answer["callId"] == call_id and answer["tag"] == "campaign-7"
    created = json.loads(sim.rest_requests("createCall")[0].body)
    assert created["answerUrl"].startswith(proxy.url + "/catapult/bw/answer/")
    assert client.hangup_call(call_id).status_code == 200
    hangup = wait_until(lambda: v1app.of_type("hangup"), what="hangup")[0]
    assert hangup["tag"] == "campaign-7"


def test_callback_basic_auth_uses_the_challenge_flow(v1app, state_url):
    url, extra = state_url
    creds = {"bandwidth.callback_username": "bw-user", "bandwidth.callback_password": "bw-pass"}
    with BandwidthSimulator(time_scale=0.01, callback_username="bw-user", callback_password="bw-pass") as sim, \
            running_proxy(sim, v1app.url, url, **extra, **creds) as proxy:
        bare = requests.post(proxy.url + "/catapult/callbacks", json={"eventType": "initiate", "callId": "c-1"},
                             timeout=5)
        assert bare.status_code == 401 and bare.headers["WWW-Authenticate"].startswith("Basic realm=")
        wrong = requests.post(proxy.url + "/catapult/callbacks", json={"eventType": "initiate", "callId": "c-1"},
                              auth=("bw-user", "wrong"), timeout=5)
        assert wrong.status_code == 401
        call = inbound(sim, proxy)
        wait_until(lambda: v1app.of_type("answer"), what="answer through the challenge")
        first = call.webhooks("initiate")[0]
        assert [a.status for a in first.attempts][:2] == [401, 200]
        call.hangup()


def test_forged_and_cross_call_references_are_refused(sim, proxy, v1app):
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    forged = requests.post(proxy.url + "/catapult/bw/gather/eyJ4IjoxfQ.AAAA", json={}, timeout=5)
    assert forged.status_code == 403
    dtmf_url = proxy.runtime.proxy_url("/catapult/bw/dtmf", kind="dtmf", call=call.call_id)
    other_call = requests.post(dtmf_url, json={"eventType": "dtmf", "callId": "c-other", "digit": "1"}, timeout=5)
    assert other_call.status_code == 403
    wrong_kind = dtmf_url.replace("/bw/dtmf/", "/bw/gather/")
    assert requests.post(wrong_kind, json={"eventType": "gather", "callId": call.call_id}, timeout=5).status_code \
        == 403
    call.hangup()


def test_events_wait_in_the_outbox_until_the_app_is_back(sim, proxy, v1app):
    v1app.fail_next = 2  # the app answers 500 twice: the incomingcall is retried, order is kept
    call = inbound(sim, proxy)
    wait_until(lambda: len(v1app.events) >= 2, timeout=15, what="events after retries")
    assert v1app.types()[:2] == ["incomingcall", "answer"]
    call.hangup()


def test_pending_events_survive_a_proxy_restart(sim, v1app, tmp_path):
    db = f"sqlite:///{tmp_path}/restart.db"
    v1app.fail_next = 1000  # down
    with running_proxy(sim, v1app.url, db) as proxy:
        call = inbound(sim, proxy)
        wait_until(lambda: proxy.runtime.store.outbox_depth() >= 2, what="queued events")
        call.hangup()
        call.wait_until_ended()
        wait_until(lambda: proxy.runtime.store.outbox_depth() >= 3, what="hangup queued")
    v1app.fail_next = 0
    with running_proxy(sim, v1app.url, db):
        wait_until(lambda: len(v1app.events) >= 3, timeout=20, what="delivery after restart")
    assert v1app.types()[:3] == ["incomingcall", "answer", "hangup"]


def test_ops_endpoints(proxy):
    assert requests.get(proxy.url + "/healthz", timeout=5).json() == {"status": "ok"}
    ready = requests.get(proxy.url + "/readyz", timeout=5)
    assert ready.status_code == 200 and ready.json()["modes"] == ["catapult"]


def test_v1_answer_request_is_a_no_op_on_an_auto_answered_call(sim, proxy, v1app):
    client = V1Client(proxy.url)
    call = inbound(sim, proxy)
    wait_until(lambda: v1app.of_type("answer"))
    answer = client.post(f"/calls/{call.call_id}", {"state": "active", "recordingEnabled": None})
    assert answer.status_code == 200 and answer.text == ""
    assert not sim.rest_requests("updateCall")  # nothing was sent to Bandwidth
    transfer = client.post(f"/calls/{call.call_id}", {"state": "transferring", "transferTo": "+15550001111"})
    assert transfer.status_code == 400 and "transferTo" in transfer.json()["message"]
    call.hangup()


@pytest.mark.parametrize("ghost", ["unknown-to-bandwidth", "ended-at-bandwidth"])
def test_bandwidth_404_and_409_map_to_v1_errors(sim, proxy, v1app, ghost):
    client = V1Client(proxy.url)
    store = proxy.runtime.store
    if ghost == "unknown-to-bandwidth":
        call_id = "c-00000000-00000000-0000-0000-0000-000000000000"
        store.put_call(call_id, {"callId": call_id, "direction": "in", "state": "active"})
        expected = (404, "call-not-found")
    else:  # the call ended but the proxy never heard of it (a lost disconnect)
        call = inbound(sim, proxy)
        wait_until(lambda: v1app.of_type("answer"))
        call.hangup()
        call.wait_until_ended()
        wait_until(lambda: v1app.of_type("hangup"))
        call_id = call.call_id
        store.update_call(call_id, {"state": "active"})
        expected_codes = {404: "call-not-found", 403: "call-invalid-state"}
    response = client.create_call_gather(call_id, max_digits=2)
    if ghost == "unknown-to-bandwidth":
        assert (response.status_code, response.json()["code"]) == expected
    else:
        assert response.status_code in expected_codes
        assert response.json()["code"] == expected_codes[response.status_code]
    assert store.open_gather(call_id) is None
