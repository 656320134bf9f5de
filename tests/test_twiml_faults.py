"""Faults in TwiML mode (issue 6): what the caller hears and what the TwiML app receives.

Real parts only, as in ``tests/test_twiml_proxy.py``: the Bandwidth simulator runs the BXML the
proxy answers, the proxy runs under a real WSGI server (in-process) or as a real ``bxml-migrate
serve`` process, the TwiML app (``tests.fake_twiml_app``) validates every signature, and the state
store is a file SQLite database or a real ``redis-server`` (the ``state_url`` fixture: each test
runs on both, but the Redis restart, which has its own ``redis-server``).  Cases already covered
there are not repeated: the first document failing (app down, slow past the budget, HTTP 500, not
XML, a DOCTYPE, over the default 1 MB, an HTTP redirect to another host), a ``<Gather action>`` on
another host, and a continuation surviving a proxy restart / served by another instance.  Here:
the same faults in the middle of a call (the caller has already heard the app), entity bombs and
external entities, the configured ``twiml.max_response_bytes``, a ``<Redirect>`` verb to a
disallowed host, a status callback whose receiver was down for a while, Redis restarted (with AOF
persistence, or without: its data gone) while a caller is in a ``<Gather>``, and the proxy process
SIGKILLed with status callbacks queued in the outbox.

Status callbacks are delivered at least once (README, "TwiML mode"): an attempt that got no 2xx in
time is repeated.  Here receivers refuse or are unreachable (they never answer late), so they see
refused attempts again, but accept each status callback exactly once.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

import pytest
import requests
from flask import Response
from lxml import etree
from werkzeug.serving import make_server

from adapter.simulator import BandwidthSimulator
from adapter.store import open_store
from tests.fake_twiml_app import Seen, TwimlApp, slow
from tests.loopback import serve
from tests.proxy_harness import running_proxy, twiml_settings, wait_until
from tests.proxy_process import ProxyProcess, twiml_mode_settings
from tests.redis_server import RedisServer, free_port
from translators.callbacks import twilio_call_sid

FROM, TO = "+15551112222", "+15553334444"
APOLOGY = "We are sorry, an application error occurred. Goodbye."
MENU = '<Response><Gather numDigits="1" action="/ivr/action" timeout="3"><Say>Press a key.</Say></Gather></Response>'


@pytest.fixture
def app():
    twiml_app = TwimlApp()
    with serve(twiml_app.flask) as server:
        twiml_app.url = server.url
        yield twiml_app


def proxy_for(sim: Any, app: TwimlApp, state_url: tuple[str, dict[str, str]], path: str = "/ivr/voice",
              **twiml: Any) -> Any:
    """An in-process proxy in TwiML mode for ``app`` (voice URL ``path``) on the ``state_url`` store."""
    url, extra = state_url
    return running_proxy(sim, None, url, **twiml_settings(app.url + path, **{"timeout": 1.0, **twiml}), **extra)


def inbound(sim: Any, base_url: str, keys: Any = ()) -> Any:
    return sim.inbound_call(FROM, TO, initiate_url=base_url + "/twiml/callbacks",
                            disconnect_url=base_url + "/twiml/callbacks", keys=list(keys))


def spoken(call: Any) -> list[str]:
    return [v.text for v in call.verbs("SpeakSentence")]


def xml(text: str) -> Any:
    return lambda _seen: Response(text, status=200, content_type="text/xml")


BOMB = ('<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY a "aaaaaaaaaa">'
        + "".join(f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9))
        + ']><Response><Say>&j;</Say></Response>')
QUADRATIC = ('<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY a "' + "a" * 5000 + '">]><Response><Say>'
             + "&a;" * 5000 + "</Say></Response>")


def external(target: str) -> str:
    return (f'<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY x SYSTEM "{target}">]>'
            "<Response><Say>&x;</Say></Response>")


def parameter_entity(target: str) -> str:
    return f'<?xml version="1.0"?><!DOCTYPE Response [<!ENTITY % p SYSTEM "{target}"> %p;]><Response/>'


# --- hostile XML ---------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["billion-laughs", "quadratic-blowup", "external-file", "external-http",
                                  "parameter-entity-http"])
def test_entity_bombs_and_external_entities_answer_the_fallback(sim, app, state_url, tmp_path, caplog, case):
    """The voice URL answers a hostile document.  The caller hears the apology, then the call ends;
    the app receives POST /ivr/voice only (no entity expanded, no external entity fetched)."""
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    app.route("/ivr/secret", "<Response><Say>TOP-SECRET-CONTENT</Say></Response>")
    body = {"billion-laughs": BOMB, "quadratic-blowup": QUADRATIC,
            "external-file": external(secret.as_uri()),
            "external-http": external(app.url + "/ivr/secret"),
            "parameter-entity-http": parameter_entity(app.url + "/ivr/secret")}[case]
    app.route("/ivr/voice", xml(body))
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, state_url) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert call.webhooks("initiate")[0].status == 200
    assert spoken(call) == [APOLOGY]  # nothing expanded, nothing read: the apology only
    assert [v.name for v in call.verbs()] == ["SpeakSentence", "Hangup"]
    assert app.paths() == ["POST /ivr/voice"]  # no external entity was fetched
    assert any(call.call_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


# --- the configured response cap -------------------------------------------------------------------


def test_a_response_over_max_response_bytes_is_refused_and_one_under_it_is_played(sim, app, state_url, caplog):
    """``twiml.max_response_bytes`` = 2048.  The caller hears "Small." (a menu under the cap), presses 5,
    then the apology (the action's 3 KB answer is refused).  The app receives POST /ivr/voice and
    POST /ivr/big (Digits=5)."""
    small = ("<Response><Gather numDigits='1' action='/ivr/big'><Say>Small.</Say></Gather>"
             "<!--" + "c" * 1500 + "--></Response>")  # under the 2048-byte cap: played
    app.route("/ivr/voice", small)
    app.route("/ivr/big", "<Response><Say>" + "b" * 3000 + "</Say></Response>")
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, state_url, max_response_bytes=2048) as proxy:
        call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "5")])
        assert call.wait_until_ended() == "hangup"
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/big"]
    assert app.requests_to("/ivr/big")[0].params["Digits"] == "5"
    assert spoken(call) == ["Small.", APOLOGY]
    assert any("response refused" in r.getMessage() and call.call_id in r.getMessage() for r in caplog.records)


# --- faults in the middle of a call --------------------------------------------------------------


MID_CALL = {
    "slow-past-timeout": slow(2.5, "<Response><Say>Too late.</Say></Response>"),
    "http-500": lambda _s: Response("boom", status=500),
    "garbage-bytes": lambda _s: Response(b"\x00\xff\xfe<Resp", status=200, content_type="text/xml"),
    "html": lambda _s: Response("<html><body>Oops</body></html>", status=200, content_type="text/html"),
    "json": lambda _s: Response('{"say": "hi"}', status=200, content_type="application/json"),
    "truncated-twiml": xml("<Response><Say>Half a docu"),
    "empty-200": lambda _s: Response("", status=200, content_type="text/xml"),
    "entity-bomb": xml(BOMB),
}


@pytest.mark.parametrize("case", list(MID_CALL))
def test_the_action_failing_mid_call_plays_the_apology_after_what_the_caller_heard(sim, app, state_url, case):
    """The caller hears "Press a key.", presses 7, then - the action failing as ``case`` says - the
    apology and the hang-up.  The app receives POST /ivr/voice and POST /ivr/action (Digits=7) once:
    a failed document request is not retried."""
    app.route("/ivr/voice", MENU)
    app.route("/ivr/action", MID_CALL[case])
    with proxy_for(sim, app, state_url) as proxy:
        call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "7")])
        gather = call.wait_for_webhook("gather", timeout=15)
        assert call.wait_until_ended() == "hangup"
    assert gather.status == 200  # Bandwidth got BXML, never a 5xx
    assert spoken(call) == ["Press a key.", APOLOGY]
    assert call.verbs()[-1].name == "Hangup"
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/action"]  # asked once, not retried
    action = app.requests_to("/ivr/action")[0]
    assert action.signature_valid and action.params["Digits"] == "7"


def test_the_app_going_down_mid_call_plays_the_apology(sim, state_url):
    """The app dies while the caller listens to the menu.  The caller hears "Press a key.", presses 3,
    then the apology and the hang-up.  The app received POST /ivr/voice only."""
    app = TwimlApp()
    server = serve(app.flask)
    running = server.__enter__()
    app.url = running.url
    app.route("/ivr/voice", MENU.replace('timeout="3"', 'timeout="900"'))  # 9 s of real time to press
    app.route("/ivr/action", "<Response><Say>Never heard.</Say></Response>")
    try:
        with proxy_for(sim, app, state_url) as proxy:
            call = inbound(sim, proxy.url)
            call.wait_for_verb("Gather")
            server.__exit__(None, None, None)  # the app dies while the caller listens to the menu
            server = None
            call.press("3")
            assert call.wait_until_ended() == "hangup"
    finally:
        if server is not None:
            server.__exit__(None, None, None)
    assert call.webhooks("gather")[0].status == 200
    assert spoken(call) == ["Press a key.", APOLOGY]
    assert app.paths() == ["POST /ivr/voice"]


# --- a <Redirect> verb to a disallowed host ---------------------------------------------------------


@pytest.mark.parametrize("target", ["http://localhost:{port}/ivr/goodbye", "http://169.254.169.254/latest/meta-data/",
                                    "file:///etc/passwd"])
def test_a_redirect_verb_to_a_disallowed_host_is_never_requested(sim, app, state_url, caplog, target):
    """The caller hears "Moving you.", then the apology (following the ``<Redirect>`` is refused) and
    the hang-up.  The app receives POST /ivr/voice only; the disallowed target nothing."""
    port = app.url.rsplit(":", 1)[1]
    app.route("/ivr/voice", f"<Response><Say>Moving you.</Say><Redirect>{target.format(port=port)}</Redirect>"
                            "</Response>")
    app.route("/ivr/goodbye", "<Response><Say>Should not be reached.</Say></Response>")
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, state_url) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert all(w.status in (200, 204) for w in call.webhooks())
    assert spoken(call) == ["Moving you.", APOLOGY]  # the Say plays; following the Redirect is refused
    assert call.verbs()[-1].name == "Hangup"
    assert app.paths() == ["POST /ivr/voice"]
    assert any(call.call_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


# --- the status callback receiver down for a while ------------------------------------------------------


def test_status_callback_is_delivered_once_its_receiver_comes_back(sim, app, state_url, caplog):
    """The caller hears "Hello." and the call ends, never held up by the status callback.  The
    receiver is down (connection refused) for at least two attempts; once it is up it receives the
    status callback (POST, signed, CallStatus=completed) once."""
    app.route("/ivr/voice", "<Response><Say>Hello.</Say><Hangup/></Response>")
    receiver = TwimlApp()
    receiver.route("/status", lambda _s: Response("", status=204))
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.WARNING, logger="bxml_migrate.outbox")
    with proxy_for(sim, app, state_url, status_callback=receiver.url + "/status") as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
        assert call.webhooks("disconnect")[0].status == 204  # accepted at once, queued in the outbox
        # the receiver is down (connection refused) for a while: the callback stays queued and is retried
        wait_until(lambda: len(_failed_attempts(caplog)) >= 2, timeout=15, what="two failed delivery attempts")
        assert proxy.runtime.store.outbox_depth() == 1
        server = make_server("127.0.0.1", port, receiver.flask, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        try:
            status = wait_until(lambda: receiver.requests_to("/status"), timeout=15, what="the status callback")
            assert proxy.runtime.outbox.wait_idle(10)
            assert proxy.runtime.store.outbox_depth() == 0
        finally:
            server.shutdown()
            server.server_close()
    assert spoken(call) == ["Hello."]
    assert status[0].method == "POST" and status[0].signature_valid
    assert status[0].params["CallStatus"] == "completed"
    assert len(receiver.requests_to("/status")) == 1  # delivered once the receiver answered 2xx
    assert all(call.call_id in message for message in _failed_attempts(caplog))


def _failed_attempts(caplog: Any) -> list[str]:
    return [r.getMessage() for r in caplog.records if "not delivered" in r.getMessage()]


# --- Redis restarted while a caller is in a <Gather> -----------------------------------------------------

PIN_MENU = """<Response>
  <Gather numDigits="4" finishOnKey="#" action="/ivr/pin" timeout="30"><Say>Enter your PIN.</Say></Gather>
  <Say>No PIN entered.</Say>
</Response>"""
SORRY = "Sorry, we cannot take your call right now. Please call again later."
SORRY_BXML = f"<Bxml><SpeakSentence>{SORRY}</SpeakSentence><Hangup/></Bxml>"


def pin_call_across_a_redis_restart(app: TwimlApp, entered: str, *, persistent: bool,
                                    **twiml: Any) -> tuple[Any, list[Seen]]:
    """One caller in the PIN ``<Gather>`` (30 call-seconds, 6 s of real time, for the first key) while
    the proxy's own ``redis-server`` (AOF-persistent or not) is restarted; then the caller presses
    ``entered`` and the call runs to its end.  The call and the status callbacks the app accepted."""
    app.route("/ivr/voice", PIN_MENU)
    app.route("/ivr/pin", lambda seen: f"<Response><Say>PIN {seen.params['Digits']} accepted.</Say></Response>")
    app.route("/ivr/status", lambda _seen: Response("", status=204))
    with RedisServer(persistent=persistent) as redis_server, BandwidthSimulator(time_scale=0.2) as sim, \
            proxy_for(sim, app, (redis_server.url, {"state.key_prefix": "twiml-restart:"}),
                      status_callback=app.url + "/ivr/status", **{"timeout": 5.0, **twiml}) as proxy:
        call = inbound(sim, proxy.url)
        gather = call.wait_for_verb("Gather")
        redis_server.restart()  # persistent: the store reloads its append-only file; else every record is gone
        assert gather.ended is None and not call.ended  # still waiting for the first key
        call.press(entered)
        assert call.wait_until_ended(timeout=15) == "hangup"
        status = wait_until(lambda: app.requests_to("/ivr/status"), what="the status callback after the restart")
        assert proxy.runtime.outbox.wait_idle(10)
    # Bandwidth got an answer to every webhook, never a 5xx; the status callback was delivered once
    assert all(a.status is not None and 200 <= a.status < 300 for w in call.webhooks() for a in w.attempts)
    assert len(status) == 1 and status[0].signature_valid and status[0].params["CallStatus"] == "completed"
    return call, status


@pytest.mark.parametrize(("entered", "persistent"), [("314#", False), ("#", True)], ids=["digits", "no-input"])
def test_redis_restarted_during_a_gather_the_call_goes_on(app, entered, persistent):
    """Redis is restarted while the caller is in the PIN ``<Gather>``.  The caller hears "Enter your PIN."; then
    - ``digits`` (314#, Redis without persistence: every record of the call is gone): "PIN 314 accepted."
      and the call ends.  The Gather's signed URL names the action, so nothing the store lost is needed.
      The app receives POST /ivr/voice, POST /ivr/pin (Digits=314, FinishedOnKey=#) and, after the
      hang-up, the status callback (completed) once.
    - ``no-input`` ('#' first, Redis with AOF persistence: the records survive the restart): as on
      Twilio, the verb after the Gather runs - "No PIN entered." - and the call ends.  The app is not
      asked for the action: it receives POST /ivr/voice and, after the hang-up, the status callback
      (completed) once.  (Without persistence see the next test.)
    """
    call, _status = pin_call_across_a_redis_restart(app, entered, persistent=persistent)
    if entered == "#":
        assert app.paths() == ["POST /ivr/voice"]  # no POST /ivr/pin: the continuation came from the store
        assert spoken(call) == ["Enter your PIN.", "No PIN entered."]
        assert not [d for d in call.documents() if d.error]
        return
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/pin"]
    pin = app.requests_to("/ivr/pin")[0]
    assert pin.signature_valid and (pin.params["Digits"], pin.params["FinishedOnKey"]) == ("314", "#")
    assert spoken(call) == ["Enter your PIN.", "PIN 314 accepted."]
    assert call.verbs("Gather")[0].outcome == "terminating digit"


def test_redis_without_persistence_restarted_during_a_gather_no_input_hears_the_fallback(app, caplog):
    """Redis without persistence is restarted while the caller is in the PIN ``<Gather>``: the verbs
    after it (its empty-input continuation) are gone with Redis's data (README, "TwiML mode": use AOF).
    The caller hears "Enter your PIN.", presses '#' first (no input), then the configured
    ``twiml.fallback_bxml`` (``SORRY``, not "No PIN entered.") and the hang-up.  The app is not asked
    for the action either: it receives POST /ivr/voice and, after the hang-up, the status callback
    (completed) once.  The proxy logs an error with the call id: the continuation is no longer stored."""
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    call, _status = pin_call_across_a_redis_restart(app, "#", persistent=False, fallback_bxml=SORRY_BXML)
    assert spoken(call) == ["Enter your PIN.", SORRY]
    assert call.verbs()[-1].name == "Hangup"
    assert app.paths() == ["POST /ivr/voice"]  # no POST /ivr/pin
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(call.call_id in m and "verbs after <Gather> are no longer stored" in m for m in errors), errors


# --- the proxy SIGKILLed with status callbacks queued ----------------------------------------------------

WELCOME = "Welcome to the help line. Press the number of the desk you want to talk to, at any time."
DESK_MENU = f"""<Response>
  <Gather numDigits="1" action="/ivr/desk" timeout="60"><Say>{WELCOME}</Say></Gather>
  <Say>We did not receive any input. Goodbye.</Say>
</Response>"""
STATUS_PATHS = ("/ivr/leg-status", "/ivr/status")


class StatusReceiver:
    """The app's status-callback endpoints (the call's and the dialled legs'): 503 while ``down``,
    else 204 (``refused`` and ``accepted`` hold the attempts of each kind)."""

    def __init__(self, app: TwimlApp) -> None:
        self.down = True
        self.accepted: list[Seen] = []
        self.refused: list[Seen] = []
        self.lock = threading.Lock()
        for path in STATUS_PATHS:
            app.route(path, self._answer)
        app.status_paths.update(STATUS_PATHS)

    def _answer(self, seen: Seen) -> Response:
        with self.lock:
            if self.down:
                self.refused.append(seen)
                return Response("status receiver down", status=503)
            self.accepted.append(seen)
        return Response("", status=204)

    def of_call(self, sid: str) -> list[tuple[str, str]]:
        """(path, CallSid) of the callbacks accepted for the call ``sid`` and its legs, in arrival order."""
        with self.lock:
            return [(s.path, s.params["CallSid"]) for s in self.accepted
                    if sid in (s.params.get("CallSid"), s.params.get("ParentCallSid"))]


def store_of(state_url: tuple[str, dict[str, str]]) -> Any:
    """The ``state_url`` store, opened by the test itself (to look at the outbox a proxy process fills)."""
    url, extra = state_url
    return open_store(url, **({"key_prefix": extra["state.key_prefix"]} if "state.key_prefix" in extra else {}))


def leg_id(index: int) -> str:
    return f"c-0000000{index}-1111-2222-3333-444455556666"


def end_dialled_leg(call: Any, index: int) -> None:
    """Play Bandwidth's part for the dialled leg's end, which the simulator does not send: once the
    call's ``<Transfer>`` runs, POST a ``transferDisconnect`` for the B-leg to the
    ``transferDisconnectUrl`` of its ``<PhoneNumber>`` (the proxy's notify URL for the TwiML
    ``<Number statusCallback>``).  The fields are those of the v2 event (shared/spec/bxml-v2.md §3.2)."""
    try:
        call.wait_for_verb("Transfer", timeout=15)
    except TimeoutError:
        raise AssertionError("no <Transfer>: " + "\n".join(line.message for line in call.log()[-6:])) from None
    document = next(d for d in reversed(call.documents()) if "Transfer" in d.verbs)
    url = etree.fromstring(document.body.encode()).find("Transfer/PhoneNumber").get("transferDisconnectUrl")
    leg = leg_id(index)
    event = {"eventType": "transferDisconnect", "eventTime": "2026-01-01T00:00:31.000Z", "from": TO,
             "to": f"+1555777000{index}", "direction": "outbound", "callId": leg,
             "callUrl": "https://voice.bandwidth.com/api/v2/accounts/9900000/calls/" + leg,
             "parentCallId": call.call_id, "startTime": "2026-01-01T00:00:00.000Z",
             "answerTime": "2026-01-01T00:00:01.000Z", "endTime": "2026-01-01T00:00:31.000Z",
             "transferCallerId": TO, "transferTo": f"+1555777000{index}", "cause": "hangup"}
    reply = requests.post(url, json=event, timeout=10)
    assert reply.status_code == 204, reply.text  # accepted at once: queued in the outbox


def test_proxy_killed_with_status_callbacks_queued_delivers_them_all_after_a_restart(app, state_url, tmp_path):
    """Three callers on a ``bxml-migrate serve`` process (gunicorn); the app's status-callback
    endpoints answer 503 until the proxy has been SIGKILLed and started again.

    What each caller hears: the desk menu (a Gather), presses the desk number d, "Connecting you to
    desk d.", the transfer (a B-leg to +1555777000d; its end is reported to the leg's TwiML
    ``<Number statusCallback>``), "The desk has hung up. Goodbye.", hang-up.
    Callers 0 and 1 do it all while the status receiver is down: their calls are never held up by
    the callbacks piling up.  Caller 2 is still listening to the menu when the proxy is SIGKILLed and
    restarted: Bandwidth runs the BXML alone, so the caller notices nothing, and its key press
    reaches the new process, which goes on with the call (the signed action URL and the store survive).

    What the app receives: per call POST /ivr/voice, POST /ivr/desk (Digits=d), POST /ivr/after-dial
    (DialCallStatus=completed), once each; and the status callbacks, each refused (503) as long as
    the receiver is down and retried, then accepted exactly once after the restart, in order per
    call: the leg's (/ivr/leg-status, the leg's CallSid, ParentCallSid) before the call's own
    (/ivr/status, CallStatus=completed).  Nothing reached the receiver while it was down, so
    nothing is accepted twice.
    """
    url, extra = state_url
    app.route("/ivr/voice", DESK_MENU)
    app.route("/ivr/desk", lambda seen: f"""<Response>
  <Say>Connecting you to desk {seen.params['Digits']}.</Say>
  <Dial action="/ivr/after-dial" timeout="20">
    <Number statusCallback="/ivr/leg-status">+1555777000{seen.params['Digits']}</Number>
  </Dial>
</Response>""")
    app.route("/ivr/after-dial", "<Response><Say>The desk has hung up. Goodbye.</Say><Hangup/></Response>")
    receiver = StatusReceiver(app)
    port = free_port()
    # A slower clock: the desk menu waits 60 call-seconds (15 s) after its prompt for a key while the
    # proxy restarts.  Each transfer lasts 16 call-seconds (4 s): time to send its leg's transferDisconnect
    # first.  (Not ~2-3 s: gunicorn drops a keep-alive connection idle for 2 s at its next 1 s tick, and a
    # webhook sent on the pooled connection at that moment fails - Bandwidth then ends the call.)
    with BandwidthSimulator(time_scale=0.25, transfer_seconds=16) as sim:
        settings = twiml_mode_settings(sim, app.url + "/ivr/voice", url, f"http://127.0.0.1:{port}",
                                       twiml={"status_callback": app.url + "/ivr/status"}, **extra)
        proxy = ProxyProcess(settings, tmp_path / "proxy", port=port)
        try:
            proxy.start()
            calls = [sim.inbound_call(f"+1555111000{i}", TO, initiate_url=proxy.url + "/twiml/callbacks",
                                      disconnect_url=proxy.url + "/twiml/callbacks",
                                      keys=[("await", "Gather"), ("press", str(i))]) for i in range(2)]
            for index, call in enumerate(calls):
                end_dialled_leg(call, index)
            for call in calls:
                assert call.wait_until_ended(timeout=15) == "hangup", call.log()[-5:]
            with store_of(state_url) as store:
                wait_until(lambda: store.outbox_depth() == 4, what="two status callbacks per finished call queued")
            # the head of each call's queue (its leg's callback) was refused, and refused again on retry
            legs = {twilio_call_sid(leg_id(i)) for i in (0, 1)}
            wait_until(lambda: all(len([s for s in receiver.refused if s.params["CallSid"] == sid]) >= 2
                                   for sid in legs),
                       timeout=15, what="two refused attempts of each queued leg callback")
            assert not app.requests_to("/ivr/status")  # each call's own callback waits behind its leg's
            # caller 2 arrives and listens to the desk menu while the proxy dies and comes back
            calls.append(sim.inbound_call("+15551110002", TO, initiate_url=proxy.url + "/twiml/callbacks",
                                          disconnect_url=proxy.url + "/twiml/callbacks"))
            gather = calls[2].wait_for_verb("Gather")
            proxy.kill()  # SIGKILL: no graceful shutdown; the outbox is whatever the store holds
            assert not proxy.running and not receiver.accepted
            receiver.down = False
            proxy.start()
            assert gather.ended is None and not calls[2].ended, "caller 2's menu timed out during the restart"
            calls[2].press("2")
            end_dialled_leg(calls[2], 2)
            assert calls[2].wait_until_ended(timeout=15) == "hangup", calls[2].log()[-5:]
            # (a delivery caught in flight by the kill waits for its 30 s lease to run out: rare, slow, not lost)
            wait_until(lambda: len(receiver.accepted) >= 6, timeout=45, what="every status callback accepted")
            with store_of(state_url) as store:
                wait_until(lambda: store.outbox_depth() == 0, what="an empty outbox")
        finally:
            proxy.stop()
    assert len(receiver.accepted) == 6, receiver.accepted
    for index, call in enumerate(calls):
        sid, leg = twilio_call_sid(call.call_id), twilio_call_sid(leg_id(index))
        # the caller heard the whole flow; for caller 2 the kill and the restart went unnoticed
        assert spoken(call) == [WELCOME, f"Connecting you to desk {index}.", "The desk has hung up. Goodbye."]
        assert call.verbs("Gather")[0].outcome == "max digits" and len(call.verbs("Transfer")) == 1
        assert not [d for d in call.documents() if d.error]
        assert all(a.status is not None and 200 <= a.status < 300 for w in call.webhooks() for a in w.attempts)
        # the voice requests: once each, in order
        mine = [s for s in app.seen if s.params.get("CallSid") == sid and s.path not in STATUS_PATHS]
        assert [s.path for s in mine] == ["/ivr/voice", "/ivr/desk", "/ivr/after-dial"]
        assert mine[1].params["Digits"] == str(index) and mine[2].params["DialCallStatus"] == "completed"
        # the status callbacks: accepted once each, in order (the leg's, then the call's)
        assert receiver.of_call(sid) == [("/ivr/leg-status", leg), ("/ivr/status", sid)]
    for seen in receiver.accepted:
        assert seen.method == "POST" and seen.signature_valid and seen.params["CallStatus"] == "completed"
        assert seen.params["CallDuration"].isdigit()
    legs_seen = [s for s in receiver.accepted if s.path == "/ivr/leg-status"]
    assert all(s.params["Direction"] == "outbound-dial" and s.params["CallDuration"] == "30" for s in legs_seen)
    assert {s.params["ParentCallSid"] for s in legs_seen} == {twilio_call_sid(c.call_id) for c in calls}
    # the refused attempts before the kill were for the queued legs' callbacks only (the head of each queue)
    assert {(s.path, s.params["CallSid"]) for s in receiver.refused} == {("/ivr/leg-status", leg) for leg in legs}
