"""The Bandwidth v2 simulator against real callback servers on loopback.

Timing assertions use ``call_time`` (the call's simulated clock), which does not depend on how
busy the machine is; real waiting only happens through the simulator's polling helpers.
"""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests
from flask import Flask, Response, request

from adapter.simulator import BandwidthSimulator, gather_input
from tests.loopback import serve

CALLER, NUMBER = "+15551112222", "+15553334444"
CALL_ID = re.compile(r"^c-[0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
TIMESTAMP = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
COMMON = {"eventType", "eventTime", "accountId", "applicationId", "from", "to", "direction", "callId", "callUrl",
          "startTime"}


def bxml(body: str) -> str:
    return f'<?xml version="1.0" encoding="UTF-8"?>\n<Response>{body}</Response>'


class App:
    """A voice application: BXML per path (a string, or a function of the request record), every
    request recorded.  Paths without a route answer 204 (right for dtmf and disconnect)."""

    def __init__(self, credentials: tuple[str, str] | None = None, challenge: bool = True) -> None:
        self.routes: dict[str, str | Callable[[dict[str, Any]], Any]] = {}
        self.seen: list[dict[str, Any]] = []
        self.credentials = credentials
        self.challenge = challenge
        self.lock = threading.Lock()
        self.flask = Flask("simulated-voice-app")
        self.flask.add_url_rule("/<path:path>", view_func=self._view, methods=["GET", "POST"])
        self.url = ""

    def _view(self, path: str) -> Any:
        auth = request.authorization
        record = {"path": "/" + path, "method": request.method, "json": request.get_json(silent=True),
                  "args": request.args.to_dict(), "auth": (auth.username, auth.password) if auth else None}
        with self.lock:
            self.seen.append(record)
        if self.credentials is not None and record["auth"] != self.credentials:
            headers = {"WWW-Authenticate": 'Basic realm="app"'} if self.challenge else {}
            return Response("", 401, headers)
        handler = self.routes.get(record["path"])
        if handler is None:
            return Response("", 204)
        result = handler(record) if callable(handler) else handler
        if isinstance(result, str):
            return Response(result, 200, content_type="application/xml; charset=utf-8")
        return result

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            seen = list(self.seen)
        payloads = [r["json"] if r["method"] == "POST" else r["args"] for r in seen if r["auth"] is not None
                    or self.credentials is None]
        return [p for p in payloads if p and (event_type is None or p.get("eventType") == event_type)]

    def paths(self) -> list[str]:
        with self.lock:
            return [r["path"] for r in self.seen]


class _Current:
    app: App | None = None


@pytest.fixture(scope="module")
def app_server() -> Iterator[tuple[str, type[_Current]]]:
    """One loopback server for the module; each test's ``App`` is plugged into it."""
    def dispatch(environ: dict[str, Any], start_response: Any) -> Any:
        if _Current.app is None:  # a call still running after its test ended
            return Response("", 404)(environ, start_response)
        return _Current.app.flask(environ, start_response)

    with serve(dispatch) as server:
        yield server.url, _Current


@pytest.fixture
def app(app_server) -> Iterator[App]:
    url, current = app_server
    current.app = App()
    current.app.url = url
    yield current.app
    current.app = None


@pytest.fixture
def sim() -> Iterator[BandwidthSimulator]:
    # 100x faster than real time; prompts last exactly 1 s of call time so timings are exact.
    with BandwidthSimulator(time_scale=0.01, callback_timeout=3.0, key_gap=0.25,
                            prompt_duration=lambda verb: 1.0) as simulator:
        yield simulator


def dead_url() -> str:
    """A loopback URL nobody listens on (a port the OS just handed out and took back)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}/events"


def call_in(sim: BandwidthSimulator, app: App, keys: Any = None, path: str = "/voice", **kwargs: Any):
    return sim.inbound_call(CALLER, NUMBER, initiate_url=app.url + path, disconnect_url=app.url + "/status",
                            keys=keys, **kwargs)


# --- events and Gather end conditions ------------------------------------------------------

def test_gather_ends_on_max_digits_and_event_has_the_documented_shape(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" maxDigits="3" terminatingDigits="#">'
                                "<SpeakSentence>Enter your code</SpeakSentence></Gather>")
    app.routes["/gathered"] = bxml("<Hangup/>")
    call = call_in(sim, app, keys=gather_input("12345"))

    assert call.wait_until_ended() == "hangup"
    assert [e["eventType"] for e in app.events()] == ["initiate", "gather", "disconnect"]
    initiate, gather, disconnect = app.events()
    assert set(initiate) == COMMON
    assert initiate["direction"] == "inbound" and initiate["from"] == CALLER and initiate["to"] == NUMBER
    assert set(gather) == COMMON | {"answerTime", "digits", "terminatingDigit"}
    assert (gather["digits"], gather["terminatingDigit"]) == ("123", "")
    assert set(disconnect) == COMMON | {"answerTime", "endTime", "cause"}
    assert disconnect["cause"] == "hangup"
    assert CALL_ID.match(gather["callId"])
    assert gather["callUrl"] == f"{sim.account_url}/calls/{gather['callId']}"
    assert gather["accountId"] == sim.config.account_id
    for field in ("eventTime", "startTime", "answerTime"):
        assert TIMESTAMP.match(gather[field]), field
    # keys 1, 2, 3 at 0.25, 0.5, 0.75 interrupt the 1 s prompt; 4 and 5 never count
    assert call.webhooks("gather")[0].call_time == pytest.approx(0.75)
    assert call.verbs("SpeakSentence")[0].outcome == "interrupted by key"


@pytest.mark.parametrize(("keys", "digits", "terminator"), [("12#", "12", "#"), ("#", "", "#"), ("4*9", "4", "*")],
                         ids=["digits-then-terminator", "terminator-first", "second-terminator"])
def test_gather_ends_on_a_terminating_digit_which_is_not_in_digits(sim, app, keys, digits, terminator):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" terminatingDigits="#*"/>')
    app.routes["/gathered"] = bxml("")                     # an empty <Response/> hangs up
    call = call_in(sim, app, keys=gather_input(keys))

    assert call.wait_until_ended() == "hangup"
    gather = call.events("gather")[0]
    assert (gather["digits"], gather["terminatingDigit"]) == (digits, terminator)


def test_gather_ends_after_the_inter_digit_timeout(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" interDigitTimeout="2" firstDigitTimeout="10"/>'
                                '<SpeakSentence>never</SpeakSentence>')
    app.routes["/gathered"] = bxml('<Pause duration="1"/>')
    script = [("await", "Gather"), ("wait", 0.5), ("press", "1"), ("wait", 1.9), ("press", "2"),
              ("wait", 2.5), ("press", "3")]
    call = call_in(sim, app, keys=script)

    assert call.wait_until_ended() == "hangup"
    gather = call.webhooks("gather")[0]
    assert gather.payload["digits"] == "12"
    assert gather.payload["terminatingDigit"] == ""
    assert gather.call_time == pytest.approx(0.5 + 1.9 + 2.0)
    assert call.verbs("SpeakSentence") == []          # verbs after a Gather with gatherUrl never run
    assert any("key 3 dropped" in line.message for line in call.log())


def test_a_key_due_exactly_when_the_inter_digit_timeout_expires_counts(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" interDigitTimeout="2" maxDigits="2"/>')
    app.routes["/gathered"] = bxml("")
    call = call_in(sim, app, keys=[("await", "Gather"), ("wait", 0.5), ("press", "1"), ("wait", 2), ("press", "2")])
    call.wait_until_ended()
    assert call.events("gather")[0]["digits"] == "12"
    assert call.verbs("Gather")[0].outcome == "max digits"


def test_gather_times_out_with_empty_digits_after_every_repeat(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" firstDigitTimeout="3" repeatCount="2">'
                                "<SpeakSentence>Menu</SpeakSentence><PlayAudio>/menu.wav</PlayAudio></Gather>")
    call = call_in(sim, app)

    call.wait_until_ended()
    gather = call.webhooks("gather")[0]
    assert (gather.payload["digits"], gather.payload["terminatingDigit"]) == ("", "")
    # (1 s + 1 s of prompts, then 3 s) twice
    assert gather.call_time == pytest.approx(10.0)
    prompts = [(v.name, v.started, v.parent) for v in call.verbs() if v.parent == "Gather"]
    assert prompts == [("SpeakSentence", 0.0, "Gather"), ("PlayAudio", 1.0, "Gather"),
                       ("SpeakSentence", 5.0, "Gather"), ("PlayAudio", 6.0, "Gather")]
    assert call.verbs("PlayAudio")[0].attributes == {}
    assert call.verbs("PlayAudio")[0].text == app.url + "/menu.wav"


def test_gather_without_gather_url_drops_digits_and_continues(sim, app):
    app.routes["/voice"] = bxml('<Gather maxDigits="2"/><SpeakSentence>You pressed something</SpeakSentence>'
                                '<Redirect redirectUrl="/after"/>')
    app.routes["/after"] = bxml("<Hangup/>")
    call = call_in(sim, app, keys=gather_input("42"))

    assert call.wait_until_ended() == "hangup"
    assert call.events("gather") == []
    assert [e["eventType"] for e in app.events()] == ["initiate", "redirect", "disconnect"]
    assert call.verbs("SpeakSentence")[0].started == pytest.approx(0.5)


def test_first_key_interrupts_the_prompt_and_later_prompts_are_skipped(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" maxDigits="1">'
                                "<SpeakSentence>One</SpeakSentence><PlayAudio>https://x.example/a.wav</PlayAudio>"
                                "</Gather>")
    call = call_in(sim, app, keys=[("wait", 0.3), ("press", "7")])

    call.wait_until_ended()
    speak = call.verbs("SpeakSentence")[0]
    assert (speak.ended, speak.outcome) == (pytest.approx(0.3), "interrupted by key")
    assert call.verbs("PlayAudio") == []
    assert call.events("gather")[0]["digits"] == "7"


def test_a_caller_hanging_up_during_gather_sends_no_gather_event(sim, app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" maxDigits="4"/>')
    call = call_in(sim, app, keys=[("await", "Gather"), ("press", "12"), ("hangup",)])

    assert call.wait_until_ended() == "hangup"
    assert [e["eventType"] for e in app.events()] == ["initiate", "disconnect"]


# --- StartGather --------------------------------------------------------------------------

def test_start_gather_sends_dtmf_per_key_and_pauses_during_gather(sim, app):
    app.routes["/voice"] = bxml('<StartGather dtmfUrl="/dtmf" tag="listening"/><Pause duration="2"/>'
                                '<Gather gatherUrl="/gathered" maxDigits="1"/>')
    app.routes["/gathered"] = bxml('<Pause duration="2"/><StopGather/><Pause duration="2"/>')
    script = [("wait", 0.5), ("press", "7"), ("await", "Gather"), ("wait", 0.2), ("press", "8"),
              ("await", "Pause"), ("wait", 0.1), ("press", "9"), ("await", "Pause"), ("press", "0")]
    call = call_in(sim, app, keys=script)

    assert call.wait_until_ended() == "hangup"
    dtmf = app.events("dtmf")
    assert [e["digit"] for e in dtmf] == ["7", "9"]       # 8 went to the Gather; 0 after StopGather
    assert set(dtmf[0]) == COMMON | {"answerTime", "tag", "digit"}
    assert dtmf[0]["tag"] == "listening"
    assert app.events("gather")[0]["digits"] == "8"
    assert [w.call_time for w in call.webhooks("dtmf")] == [pytest.approx(0.5), pytest.approx(2.3)]
    assert any("key 0 dropped" in line.message for line in call.log())


# --- Redirect, Tag, relative URLs, GET ------------------------------------------------------

def test_redirect_verb_and_sticky_tags(sim, app):
    app.routes["/voice"] = bxml("<Tag>first</Tag>"
                                '<Redirect redirectUrl="/next" tag="second"/><SpeakSentence>never</SpeakSentence>')
    app.routes["/next"] = bxml('<Gather gatherUrl="/gathered" tag="" maxDigits="1"/>')
    app.routes["/gathered"] = bxml("<Tag>  last  </Tag>")
    call = call_in(sim, app, keys=gather_input("5"))

    call.wait_until_ended()
    events = {e["eventType"]: e for e in app.events()}
    assert "tag" not in events["initiate"]
    assert events["redirect"]["tag"] == "second"
    assert "tag" not in events["gather"]                  # tag="" cleared it
    assert events["disconnect"]["tag"] == "last"
    assert call.verbs("SpeakSentence") == []


def test_relative_urls_resolve_against_the_url_that_returned_the_document(sim, app):
    app.routes["/ivr/start"] = bxml('<Gather gatherUrl="menu-done" gatherMethod="GET" maxDigits="1">'
                                    "<PlayAudio>prompts/menu.wav</PlayAudio></Gather>")
    app.routes["/ivr/menu-done"] = bxml('<Redirect redirectUrl="/top?step=2"/>')
    app.routes["/top"] = bxml("<Hangup/>")
    call = call_in(sim, app, keys=gather_input("3"), path="/ivr/start")

    call.wait_until_ended()
    assert app.paths() == ["/ivr/start", "/ivr/menu-done", "/top", "/status"]
    get = next(r for r in app.seen if r["path"] == "/ivr/menu-done")
    assert get["method"] == "GET" and get["json"] is None
    assert get["args"]["digits"] == "3" and get["args"]["eventType"] == "gather"
    assert get["args"]["callId"] == call.call_id
    top = next(r for r in app.seen if r["path"] == "/top")
    assert top["args"] == {"step": "2"} and top["json"]["eventType"] == "redirect"
    assert call.verbs("PlayAudio")[0].text == app.url + "/ivr/prompts/menu.wav"
    assert [d.url for d in call.documents()] == [app.url + "/ivr/start", app.url + "/ivr/menu-done",
                                                 app.url + "/top?step=2"]


# --- REST: update call and PUT bxml ---------------------------------------------------------

def test_put_bxml_interrupts_the_current_verb(sim, app):
    app.routes["/voice"] = bxml('<Pause duration="300"/><SpeakSentence>never</SpeakSentence>')
    app.routes["/after-put"] = bxml("<Hangup/>")
    call = call_in(sim, app)
    call.wait_for_verb("Pause")

    reply = requests.put(f"{sim.account_url}/calls/{call.call_id}/bxml", auth=sim.auth, timeout=5,
                         data='<?xml version="1.0"?><Bxml><SpeakSentence>Hello</SpeakSentence>'
                              f'<Redirect redirectUrl="{app.url}/after-put"/></Bxml>',
                         headers={"Content-Type": "application/xml; charset=utf-8"})
    assert reply.status_code == 204 and reply.content == b""

    assert call.wait_until_ended() == "hangup"
    pause = call.verbs("Pause")[0]
    assert pause.outcome == "interrupted"
    assert pause.ended < 300
    assert [v.text for v in call.verbs("SpeakSentence")] == ["Hello"]
    assert app.paths() == ["/voice", "/after-put", "/status"]
    assert [d.source for d in call.documents()] == ["webhook", "put", "webhook"]


@pytest.mark.parametrize("body", [
    "<Response><Hangup/></Response>",
    "<Bxml><Gather gatherUrl='/relative'/></Bxml>",
    "<Bxml><Pause duration='0'/></Bxml>",
], ids=["response-root", "relative-url-without-base", "out-of-range"])
def test_put_bxml_that_the_platform_refuses_ends_the_call_with_invalid_bxml(sim, app, body):
    app.routes["/voice"] = bxml('<Pause duration="300"/>')
    call = call_in(sim, app)
    call.wait_for_verb("Pause")

    reply = requests.put(f"{sim.account_url}/calls/{call.call_id}/bxml", auth=sim.auth, timeout=5, data=body,
                         headers={"Content-Type": "application/xml"})
    assert reply.status_code == 204
    assert call.wait_until_ended() == "invalid-bxml"
    assert app.events("disconnect")[0]["errorMessage"]
    assert call.documents()[-1].error


def test_update_call_redirect_then_completed_hangs_up(sim, app):
    app.routes["/voice"] = bxml('<Pause duration="300"/>')
    app.routes["/moved"] = bxml('<Pause duration="300"/>')
    call = call_in(sim, app)
    url = f"{sim.account_url}/calls/{call.call_id}"
    call.wait_for_verb("Pause")

    reply = requests.post(url, json={"redirectUrl": app.url + "/moved", "tag": "moved"}, auth=sim.auth, timeout=5)
    assert (reply.status_code, reply.content) == (200, b"")
    call.wait_for_verb("Pause", count=2)
    assert call.events("redirect")[0]["tag"] == "moved"

    reply = requests.post(url, json={"state": "completed"}, auth=sim.auth, timeout=5)
    assert reply.status_code == 200
    assert call.wait_until_ended() == "hangup"
    assert app.events("disconnect")[0]["tag"] == "moved"

    state = requests.get(url, auth=sim.auth, timeout=5)
    assert state.status_code == 200
    body = state.json()
    assert (body["state"], body["disconnectCause"], body["direction"]) == ("disconnected", "hangup", "inbound")
    assert TIMESTAMP.match(body["endTime"])

    again = requests.post(url, json={"state": "completed"}, auth=sim.auth, timeout=5)
    assert again.status_code == 409
    assert again.json() == {"type": "validation", "id": None,
                            "description": f"Call [{call.call_id}] cannot be modified in its current state"}
    assert again.headers["Content-Type"].startswith("application/json")


def test_unknown_calls_are_404(sim):
    missing = f"{sim.account_url}/calls/c-00000000-00000000-0000-0000-0000-000000000000"
    answers = [requests.get(missing, auth=sim.auth, timeout=5),
               requests.post(missing, json={"state": "completed"}, auth=sim.auth, timeout=5),
               requests.put(missing + "/bxml", data="<Bxml/>", headers={"Content-Type": "application/xml"},
                            auth=sim.auth, timeout=5)]
    assert [a.status_code for a in answers] == [404, 404, 404]
    assert all(a.json()["type"] == "validation" for a in answers)


@pytest.mark.parametrize(("body", "status", "fragment"), [
    ({"redirectUrl": "/relative"}, 400, "redirectUrl"),
    ({"state": "completed", "tag": "x"}, 400, "tag"),
    ({"state": "active"}, 400, "redirectUrl"),
    ({"sate": "completed"}, 400, "sate"),
], ids=["relative-redirect", "tag-with-completed", "active-without-url", "unknown-field"])
def test_update_call_validation(sim, app, body, status, fragment):
    app.routes["/voice"] = bxml('<Pause duration="300"/>')
    call = call_in(sim, app)
    call.wait_for_verb("Pause")
    reply = requests.post(f"{sim.account_url}/calls/{call.call_id}", json=body, auth=sim.auth, timeout=5)
    assert reply.status_code == status
    assert reply.json()["type"] == "validation" and fragment in reply.json()["description"]
    assert not call.ended


# --- outbound calls --------------------------------------------------------------------------

def create_body(app: App, **extra: Any) -> dict[str, Any]:
    return {"to": NUMBER, "from": CALLER, "applicationId": "app-1", "answerUrl": app.url + "/answer",
            "disconnectUrl": app.url + "/status", **extra}


def test_create_call_answers_and_runs_the_answer_bxml(sim, app):
    app.routes["/answer"] = bxml('<Gather gatherUrl="/gathered" maxDigits="2"/>')
    app.routes["/gathered"] = bxml("<Hangup/>")
    sim.on_outbound_call(NUMBER, ring_seconds=2, keys=gather_input("91"))

    reply = requests.post(sim.account_url + "/calls", json=create_body(app, tag="campaign-7", answerMethod="GET"),
                          auth=sim.auth, timeout=5)
    assert reply.status_code == 201
    body = reply.json()
    assert CALL_ID.match(body["callId"])
    assert reply.headers["Location"] == body["callUrl"] == f"{sim.account_url}/calls/{body['callId']}"
    assert (body["tag"], body["answerMethod"], body["applicationId"]) == ("campaign-7", "GET", "app-1")

    call = sim.wait_for_call()
    assert call.call_id == body["callId"]
    assert call.wait_until_ended() == "hangup"
    answer = app.events("answer")[0]
    assert set(answer) == COMMON | {"answerTime", "tag"}
    assert (answer["direction"], answer["tag"]) == ("outbound", "campaign-7")
    assert app.events("gather")[0]["digits"] == "91"
    assert call.webhooks("answer")[0].call_time == pytest.approx(2.0)


def test_create_call_to_a_busy_number_disconnects_with_busy(sim, app):
    sim.on_outbound_call(NUMBER, outcome="busy", ring_seconds=1)
    reply = requests.post(sim.account_url + "/calls", json=create_body(app), auth=sim.auth, timeout=5)
    assert reply.status_code == 201
    call = sim.wait_for_call()
    assert call.wait_until_ended() == "busy"
    disconnect = app.events("disconnect")[0]
    assert "answerTime" not in disconnect
    assert disconnect["errorMessage"] == "Callee is busy" and disconnect["errorId"]
    assert app.events("answer") == []


def test_an_unanswered_outbound_call_cannot_be_redirected_but_can_be_cancelled(sim, app):
    sim.on_outbound_call(NUMBER, ring_seconds=250)
    call_id = requests.post(sim.account_url + "/calls", json=create_body(app), auth=sim.auth,
                            timeout=5).json()["callId"]
    url = f"{sim.account_url}/calls/{call_id}"
    assert requests.get(url, auth=sim.auth, timeout=5).json()["state"] == "initiated"
    redirect = requests.post(url, json={"redirectUrl": app.url + "/x"}, auth=sim.auth, timeout=5)
    assert redirect.status_code == 409
    assert requests.post(url, json={"state": "completed"}, auth=sim.auth, timeout=5).status_code == 200
    assert sim.find_call(call_id).wait_until_ended() == "cancel"


@pytest.mark.parametrize(("change", "status", "fragment"), [
    ({"to": "5553334444"}, 400, "Invalid to"),
    ({"answerUrl": None}, 400, "answerUrl"),
    ({"callTimeout": 500}, 400, "callTimeout"),
    ({"answerMethod": "PUT"}, 400, "answerMethod"),
    ({"answerURL": "http://x"}, 400, "answerURL"),
], ids=["not-e164", "missing-answer-url", "call-timeout-range", "bad-method", "misspelt-field"])
def test_create_call_validation(sim, app, change, status, fragment):
    body = {k: v for k, v in {**create_body(app), **change}.items() if v is not None}
    reply = requests.post(sim.account_url + "/calls", json=body, auth=sim.auth, timeout=5)
    assert reply.status_code == status
    assert reply.json()["type"] == "validation"
    assert fragment in reply.json()["description"]
    assert sim.calls == []


def test_rest_authentication_content_type_and_routing_errors(sim, app):
    calls = sim.account_url + "/calls"
    wrong = requests.post(calls, json=create_body(app), auth=("sim-user", "nope"), timeout=5)
    assert wrong.status_code == 401
    assert wrong.json() == {"type": "authentication-error", "description": "Invalid credentials", "id": None}
    assert requests.get(calls, timeout=5).status_code == 401
    form = requests.post(calls, data={"to": NUMBER}, auth=sim.auth, timeout=5)
    assert form.status_code == 415
    other_account = sim.api_url + "/accounts/1234/calls"
    assert requests.post(other_account, json=create_body(app), auth=sim.auth, timeout=5).status_code == 403
    assert requests.delete(calls, auth=sim.auth, timeout=5).status_code == 405
    assert requests.get(sim.api_url + "/nothing", auth=sim.auth, timeout=5).status_code == 404
    assert sim.calls == []
    recorded = sim.rest_requests()
    assert recorded[0].headers["authorization"] == "<redacted>"
    assert [r.status for r in recorded] == [401, 401, 415, 403, 405, 404]


# --- fault injection -------------------------------------------------------------------------

def test_fault_injection_429_500_and_hang(sim, app):
    calls = sim.account_url + "/calls"
    sim.fail_next(2, status=429, retry_after=3, operation="createCall")
    for _ in range(2):
        limited = requests.post(calls, json=create_body(app), auth=sim.auth, timeout=5)
        assert limited.status_code == 429 and limited.headers["Retry-After"] == "3"
        assert limited.json() == {"type": "error", "description": "Account call creation rate limit exceeded",
                                  "id": None}
    assert sim.calls == []
    assert requests.post(calls, json=create_body(app), auth=sim.auth, timeout=5).status_code == 201

    sim.fail_next(status=500)
    failed = requests.get(sim.calls[0].call_url, auth=sim.auth, timeout=5)
    assert (failed.status_code, failed.json()["type"]) == (500, "internal-error")

    sim.hang_next(seconds=5, operation="getCall")
    with pytest.raises(requests.Timeout):
        requests.get(sim.calls[0].call_url, auth=sim.auth, timeout=0.3)
    assert requests.get(sim.calls[0].call_url, auth=sim.auth, timeout=5).status_code == 200
    faults = [r.fault for r in sim.rest_requests() if r.fault]
    assert faults == ["status 429", "status 429", "status 500", "hang 5s"]


# --- callback delivery -----------------------------------------------------------------------

def test_basic_auth_challenge_flow():
    app = App(credentials=("bw", "s3cret"))
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" username="bw" password="s3cret" maxDigits="1"/>')
    app.routes["/gathered"] = bxml("<Hangup/>")
    with serve(app.flask) as server, BandwidthSimulator(time_scale=0.01, callback_username="bw",
                                                        callback_password="s3cret") as sim:
        app.url = server.url
        call = call_in(sim, app, keys=gather_input("1"))
        assert call.wait_until_ended() == "hangup"

        for event in ("initiate", "gather", "disconnect"):
            attempts = call.webhooks(event)[0].attempts
            assert [(a.authorized, a.status) for a in attempts] == [(False, 401), (True, 200 if event != "disconnect"
                                                                                     else 204)], event
        assert [r["auth"] for r in app.seen] == [None, ("bw", "s3cret")] * 3


def test_a_401_without_challenge_is_not_retried_and_ends_the_call():
    app = App(credentials=("bw", "s3cret"), challenge=False)
    with serve(app.flask) as server, BandwidthSimulator(time_scale=0.01, callback_username="bw",
                                                        callback_password="s3cret") as sim:
        app.url = server.url
        call = call_in(sim, app)
        assert call.wait_until_ended() == "callback-error"
        assert [(a.authorized, a.status) for a in call.webhooks("initiate")[0].attempts] == [(False, 401)]


def test_verb_without_credentials_is_not_answered_with_application_credentials():
    app = App(credentials=("bw", "s3cret"))
    app.routes["/voice"] = bxml('<Redirect redirectUrl="/next"/>')
    with serve(app.flask) as server, BandwidthSimulator(time_scale=0.01, callback_username="bw",
                                                        callback_password="s3cret") as sim:
        app.url = server.url
        call = call_in(sim, app)
        assert call.wait_until_ended() == "callback-error"
        assert [(a.authorized, a.status) for a in call.webhooks("redirect")[0].attempts] == [(False, 401)]


def test_unreachable_callback_ends_with_callback_error_and_fallback_is_used(sim, app):
    app.routes["/voice"] = bxml(f'<Gather gatherUrl="{dead_url()}" maxDigits="1"/>')
    call = call_in(sim, app, keys=gather_input("1"))
    assert call.wait_until_ended() == "callback-error"
    disconnect = app.events("disconnect")[0]
    assert disconnect["cause"] == "callback-error" and disconnect["errorMessage"]

    app.routes["/fallback-voice"] = bxml(f'<Redirect redirectUrl="{dead_url()}" redirectFallbackUrl="/rescued"/>')
    app.routes["/rescued"] = bxml("<Hangup/>")
    rescued = call_in(sim, app, path="/fallback-voice")
    assert rescued.wait_until_ended() == "hangup"
    record = rescued.webhooks("redirect")[0]
    assert [a.error or a.status for a in record.attempts] == ["connection", 200]
    assert record.reply_url == app.url + "/rescued"


def test_initiate_to_a_dead_application_is_a_callback_error(sim):
    call = sim.inbound_call(CALLER, NUMBER, initiate_url=dead_url())
    assert call.wait_until_ended() == "callback-error"
    assert call.state_json()["disconnectCause"] == "callback-error"


# --- BXML the platform refuses ------------------------------------------------------------------

@pytest.mark.parametrize("document", [
    "<Response><Gather><Pause duration='1'/></Gather></Response>",
    "<Response><Gather maxDigits='0'/></Response>",
    "<Response><Gather maxDigits='51'/></Response>",
    "<Response><Gather interDigitTimeout='0.5'/></Response>",
    "<Response><Gather repeatCount='21'><SpeakSentence>x</SpeakSentence></Gather></Response>",
    "<Response><Gather repeatCount='2'>" + "<SpeakSentence>x</SpeakSentence>" * 11 + "</Gather></Response>",
    "<Response><Gather terminatingDigits='x'/></Response>",
    "<Response><Gather gatherMethod='PUT'/></Response>",
    "<Response><StartGather dtmfUrl='/d' dtmfFallbackUrl='/f'/></Response>",
    "<Response><StartGather/></Response>",
    "<Response><Redirect/></Response>",
    "<Response><Say>hello</Say></Response>",
    "<Response><SpeakSentence>  </SpeakSentence></Response>",
    "<Response><SpeakSentence voice='alice'>hi</SpeakSentence></Response>",
    "<Response><SpeakSentence locale='en_GB'>hi</SpeakSentence></Response>",
    "<Response><Pause duration='0.05'/></Response>",
    "<Response><Hangup>now</Hangup></Response>",
    "<Response><Tag>" + "x" * 257 + "</Tag></Response>",
    "<Bxml><Hangup/></Bxml>",
    "<Response><Hangup/>",
    "",
    "<!DOCTYPE r [<!ENTITY e 'x'>]><Response/>",
    "<Response><Transfer/></Response>",
    "<Response>" + "<SpeakSentence>padding padding</SpeakSentence>" * 1700 + "</Response>",
], ids=["pause-in-gather", "max-digits-0", "max-digits-51", "inter-digit-below-1", "repeat-21",
        "22-nested", "bad-terminator", "bad-method", "start-gather-fallback", "start-gather-no-url",
        "redirect-no-url", "twiml-verb", "blank-speech", "unknown-voice", "en-gb-locale", "pause-too-short",
        "text-in-hangup", "tag-too-long", "bxml-root-in-reply", "malformed", "empty", "doctype",
        "transfer-without-targets", "over-64kb"])
def test_invalid_bxml_ends_the_call_with_invalid_bxml(sim, app, document):
    app.routes["/voice"] = lambda _record: Response(document, 200, content_type="application/xml")
    call = call_in(sim, app)
    assert call.wait_until_ended() == "invalid-bxml"
    assert call.documents()[0].error
    disconnect = app.events("disconnect")[0]
    assert disconnect["cause"] == "invalid-bxml" and disconnect["errorMessage"] == call.documents()[0].error
    assert "answerTime" not in disconnect


def test_valid_documents_using_many_verbs_run(sim, app):
    app.routes["/voice"] = bxml(
        '<Ring duration="1" answerCall="false"/>'
        '<SpeakSentence voice="Julie"><prosody rate="slow">Hi</prosody><break time="2s"/></SpeakSentence>'
        '<SendDtmf toneDuration="100" toneInterval="100">12w</SendDtmf>'
        '<Record recordCompleteUrl="/recorded" maxDuration="10" fileFormat="mp3"/>')
    app.routes["/recorded"] = bxml(
        '<Transfer transferCallerId="+15550001111"><PhoneNumber>+15557778888</PhoneNumber></Transfer>'
        '<Transfer transferCompleteUrl="/transferred"><SipUri>sip:agent@pbx.example.com</SipUri></Transfer>')
    app.routes["/transferred"] = bxml("<StartRecording/><Conference>room-1</Conference>")
    call = call_in(sim, app, keys=[("await", "Record"), ("wait", 1.5), ("press", "#")])

    assert call.wait_until_ended() == "hangup"
    recorded = app.events("recordComplete")[0]
    assert set(recorded) >= {"recordingId", "mediaUrl", "duration", "channels", "fileFormat", "endTime"}
    assert (recorded["duration"], recorded["fileFormat"], recorded["channels"]) == ("PT1.500S", "mp3", 1)
    transferred = app.events("transferComplete")[0]
    assert (transferred["transferTo"], transferred["cause"]) == ("sip:agent@pbx.example.com", "hangup")
    assert call.verbs("StartRecording")[0].outcome == "skipped"
    # Ring answerCall=false does not answer; the SpeakSentence after it does, at call time 1
    assert call.verbs("SpeakSentence")[0].started == pytest.approx(1.0)


def test_live_key_presses_reach_a_running_gather(app):
    app.routes["/voice"] = bxml('<Gather gatherUrl="/gathered" maxDigits="2" firstDigitTimeout="60"/>')
    app.routes["/gathered"] = bxml('<Pause duration="600"/>')
    with BandwidthSimulator(time_scale=0.1) as sim:        # 6 s of real time before the gather gives up
        call = call_in(sim, app)
        call.wait_for_verb("Gather")
        call.press("42")
        call.wait_for_webhook("gather")
        assert call.events("gather")[0]["digits"] == "42"
        call.hangup()
        assert call.wait_until_ended() == "hangup"


def test_sim_wait_for_times_out_with_a_clear_message(sim):
    with pytest.raises(TimeoutError, match="call #0"):
        sim.wait_for_call(timeout=0.1)


# --- changes racing webhooks -------------------------------------------------------------------

def test_a_put_racing_the_initiate_reply_lands_after_the_replys_instant_verbs(sim, app):
    """The proxy pattern: answer initiate with StartGather + a park Pause, and have the legacy app
    change the call right away.  The change must not see an unanswered call (409), and the
    reply's StartGather must still run."""
    outcome: dict[str, int] = {}

    def change_soon(_record: dict[str, Any]) -> str:
        def put() -> None:
            outcome["status"] = requests.put(
                f"{sim.account_url}/calls/{sim.calls[0].call_id}/bxml", auth=sim.auth, timeout=5,
                data=f'<Bxml><Gather gatherUrl="{app.url}/gathered" maxDigits="1"/></Bxml>',
                headers={"Content-Type": "application/xml"}).status_code
        sender = threading.Thread(target=put)
        sender.start()
        sender.join(0.2)   # usually the PUT is now held while this reply is still in flight
        return bxml('<StartGather dtmfUrl="/dtmf"/><Pause duration="300"/>')

    app.routes["/voice"] = change_soon
    app.routes["/gathered"] = bxml("<Hangup/>")
    call = call_in(sim, app, keys=[("await", "Gather"), ("press", "5")])

    assert call.wait_until_ended() == "hangup"
    assert outcome == {"status": 204}
    assert [v.name for v in call.verbs() if v.parent is None] == ["StartGather", "Pause", "Gather", "Hangup"]
    assert app.events("gather")[0]["digits"] == "5"
    assert app.events("dtmf") == []                       # StartGather is paused during the Gather


def test_an_unanswered_inbound_call_cannot_be_changed(sim, app):
    app.routes["/voice"] = bxml('<Ring duration="300" answerCall="false"/>')
    call = call_in(sim, app)
    call.wait_for_verb("Ring")
    url = f"{sim.account_url}/calls/{call.call_id}"
    put = requests.put(url + "/bxml", data="<Bxml><Hangup/></Bxml>", headers={"Content-Type": "application/xml"},
                       auth=sim.auth, timeout=5)
    assert put.status_code == 409
    assert requests.get(url, auth=sim.auth, timeout=5).json()["state"] == "initiated"
    assert requests.post(url, json={"state": "completed"}, auth=sim.auth, timeout=5).status_code == 200
    assert call.wait_until_ended() == "hangup"
    assert "answerTime" not in app.events("disconnect")[0]
