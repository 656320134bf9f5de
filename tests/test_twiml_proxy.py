"""End to end: an unchanged TwiML app on Bandwidth v2 through the proxy's TwiML mode.

Real parts only: the Bandwidth simulator executes the BXML and posts v2 webhooks; the proxy runs
under a real WSGI server; a TwiML app on loopback (``tests.fake_twiml_app``) answers TwiML and
validates ``X-Twilio-Signature`` with the Twilio helper library's ``RequestValidator``.  The
end-to-end tests run on SQLite and on a real Redis.
"""

from __future__ import annotations

import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import requests
from flask import Response
from lxml import etree
from twilio.request_validator import RequestValidator

from adapter.config import DEFAULT_FALLBACK_BXML
from adapter.simulator import BandwidthSimulator
from adapter.twilio_signature import signature, string_to_sign
from adapter.twiml_fetch import build_request, credentials_for, twilio_params, with_query
from adapter.twiml_urls import AppTarget, rewrite_urls
from tests.fake_twiml_app import TwimlApp, install_ivr, slow
from tests.loopback import serve
from tests.proxy_harness import ACCOUNT_SID, AUTH_TOKEN, Proxy, running_proxy, twiml_settings, wait_until
from translators.callbacks import TwilioSettings, twilio_call_sid

FROM, TO = "+15551112222", "+15553334444"
FALLBACK_SENTENCE = "We are sorry, an application error occurred. Goodbye."


# --- fixtures and helpers ------------------------------------------------------------------------




@pytest.fixture
def app():
    twiml_app = TwimlApp()
    install_ivr(twiml_app)
    with serve(twiml_app.flask) as server:
        twiml_app.url = server.url
        yield twiml_app


@contextmanager
def twiml_proxy(sim, app, state_url, path="/ivr/voice", *, twiml: dict[str, Any] | None = None,
                **overrides: Any) -> Iterator[Proxy]:
    url, extra = state_url
    more = {"status_callback": app.url + "/ivr/status", **(twiml or {})}
    app_url = more.pop("app_url", app.url + path)
    settings = {**twiml_settings(app_url, **more), **extra, **overrides}
    with running_proxy(sim, None, url, **settings) as proxy:
        yield proxy


@pytest.fixture
def proxy(sim, app, state_url):
    with twiml_proxy(sim, app, state_url) as running:
        yield running


def inbound(sim, base_url, keys=()):
    return sim.inbound_call(FROM, TO, initiate_url=base_url + "/twiml/callbacks",
                            disconnect_url=base_url + "/twiml/callbacks", keys=list(keys))


def spoken(call) -> list[str]:
    return [v.text for v in call.verbs("SpeakSentence")]




def assert_twilio_params(params: dict[str, str], call, status: str) -> None:
    assert params["CallSid"] == twilio_call_sid(call.call_id)
    assert params["AccountSid"] == ACCOUNT_SID and params["ApiVersion"] == "2010-04-01"
    assert (params["From"], params["To"], params["Caller"], params["Called"]) == (FROM, TO, FROM, TO)
    assert params["Direction"] == "inbound" and params["CallStatus"] == status


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


# --- the multi-step IVR ----------------------------------------------------------------------------


def test_multi_step_ivr_menu_action_nested_menu_redirect_hangup(sim, app, proxy):
    call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "1"), ("await", "Gather"),
                                         ("press", "4321#")])
    assert call.wait_until_ended() == "hangup"
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/menu", "GET /ivr/account", "GET /ivr/goodbye"]
    assert all(seen.signature_valid for seen in app.seen)
    voice, menu, account, goodbye = app.seen
    assert_twilio_params(voice.params, call, "ringing")
    assert "Digits" not in voice.params
    assert_twilio_params(menu.params, call, "in-progress")
    assert (menu.params["Digits"], menu.params["FinishedOnKey"]) == ("1", "")  # numDigits reached
    assert_twilio_params(account.params, call, "in-progress")
    assert (account.params["Digits"], account.params["FinishedOnKey"]) == ("4321", "#")  # no terminator
    assert account.params["dept"] == "accounts"  # the action's own query survives, GET gets a query string
    assert account.url.startswith(app.url + "/ivr/account?dept=accounts&")
    assert menu.params["msg"] == account.params["msg"] == "Gather End"  # as Twilio's Gather action requests
    assert "Digits" not in goodbye.params and "msg" not in goodbye.params  # a <Redirect>: the standard ones only
    assert spoken(call) == ["Welcome. Press 1 for accounts.", "Enter your account number, then press pound.",
                            "Account 4321 found.", "Goodbye."]
    assert [v.parent for v in call.verbs("SpeakSentence")][:2] == ["Gather", "Gather"]
    first, nested = call.verbs("Gather")
    assert (first.attributes["maxDigits"], first.attributes["terminatingDigits"]) == ("1", "#")
    assert first.attributes["firstDigitTimeout"] == "3" and first.outcome == "max digits"
    assert nested.outcome == "terminating digit"
    assert not [d for d in call.documents() if d.error]
    # every URL Bandwidth called is a signed proxy URL, never the app's
    assert all(w.url.startswith(proxy.url + "/twiml/") for w in call.webhooks())
    # the status callback: through the outbox, signed, with the final status
    status = wait_until(lambda: app.requests_to("/ivr/status"), what="status callback")[0]
    assert status.method == "POST" and status.signature_valid
    assert_twilio_params(status.params, call, "completed")
    assert status.params["CallDuration"].isdigit()


def test_no_input_runs_the_verbs_after_gather_without_calling_the_action(sim, app, proxy):
    call = inbound(sim, proxy.url, keys=[("await", "Gather")])  # the caller presses nothing
    assert call.wait_until_ended() == "hangup"
    assert app.paths()[0] == "POST /ivr/voice"
    assert not app.requests_to("/ivr/menu")
    assert spoken(call) == ["Welcome. Press 1 for accounts.", "We did not receive any input. Goodbye."]
    gather_event = call.events("gather")[0]
    assert gather_event["digits"] == ""
    assert call.verbs("Gather")[0].outcome == "first-digit timeout"


def test_finish_key_first_continues_after_gather_and_the_redirect_there_goes_back_to_the_menu(sim, app, proxy):
    call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "1"), ("await", "Gather"),
                                         ("press", "#"), ("await", "Gather"), ("hangup",)])
    assert call.wait_until_ended() == "hangup"
    # '#' first in the nested menu: no request to its GET action; the <Redirect> after the Gather
    # (an absolute URL, POST) runs and fetches the main menu again
    assert app.paths()[:3] == ["POST /ivr/voice", "POST /ivr/menu", "POST /ivr/voice"]
    assert not app.requests_to("/ivr/account")
    assert all(seen.signature_valid for seen in app.seen)
    assert call.events("gather")[1]["terminatingDigit"] == "#" and call.events("gather")[1]["digits"] == ""
    assert spoken(call)[:3] == ["Welcome. Press 1 for accounts.", "Enter your account number, then press pound.",
                                "Welcome. Press 1 for accounts."]


def test_action_on_empty_result_requests_the_action_with_empty_digits(sim, app, proxy):
    app.route("/ivr/voice", """<Response>
  <Gather actionOnEmptyResult="true" action="/ivr/empty" timeout="2"><Say>Say something.</Say></Gather>
  <Say>Never spoken.</Say>
</Response>""")
    app.route("/ivr/empty", "<Response><Say>Nothing it is.</Say></Response>")
    call = inbound(sim, proxy.url, keys=[("await", "Gather")])
    assert call.wait_until_ended() == "hangup"
    assert app.paths()[:2] == ["POST /ivr/voice", "POST /ivr/empty"]
    empty = app.requests_to("/ivr/empty")[0]
    assert empty.signature_valid and empty.params["Digits"] == "" and empty.params["FinishedOnKey"] == ""
    assert spoken(call) == ["Say something.", "Nothing it is."]


def test_gather_without_action_posts_to_the_document_and_no_verb_left_hangs_up(sim, app, proxy):
    def voice(seen):
        if seen.params.get("Digits"):
            return f"<Response><Say>You pressed {seen.params['Digits']}.</Say><Gather timeout='1'/></Response>"
        return "<Response><Gather numDigits='2'><Say>Two digits.</Say></Gather></Response>"

    app.route("/ivr/voice", voice)
    call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "42"), ("await", "Gather")])
    assert call.wait_until_ended() == "hangup"
    # no action: the digits go to the document URL itself; then an empty Gather with nothing after it
    # ends the call without a request
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/voice"]
    assert app.seen[1].params["Digits"] == "42" and app.seen[1].signature_valid
    assert spoken(call) == ["Two digits.", "You pressed 42."]
    assert call.verbs()[-1].name == "Hangup"


def test_voice_url_by_get_and_other_verbs(sim, app, state_url):
    app.route("/ivr/start", """<Response>
  <Play>sounds/hello.mp3</Play>
  <Dial action="after-dial" method="GET" timeout="20">+15557778888</Dial>
  <Say>Not reached: the action answers.</Say>
</Response>""")
    app.route("/ivr/after-dial", "<Response><Say>The call is over.</Say></Response>")
    with twiml_proxy(sim, app, state_url, "/ivr/start", twiml={"app_method": "GET"}) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert app.paths() == ["GET /ivr/start", "GET /ivr/after-dial"]
    assert all(seen.signature_valid for seen in app.seen)
    assert_twilio_params(app.seen[0].params, call, "ringing")
    after = app.seen[1].params
    assert after["DialCallStatus"] == "completed" and after["CallSid"] == twilio_call_sid(call.call_id)
    assert call.verbs("PlayAudio")[0].text == app.url + "/ivr/sounds/hello.mp3"  # media: absolute, not proxied
    assert call.verbs("Transfer")[0].attributes["callTimeout"] == "20"
    assert spoken(call) == ["The call is over."]


# --- failure and abuse ---------------------------------------------------------------------------


def _big_twiml(_seen: Any) -> str:
    return "<Response><Say>" + "a" * (1024 * 1024 + 10) + "</Say></Response>"


FAILURES = {
    "app-down": ({"twiml": {"app_url": "http://127.0.0.1:{free}/case"}}, None, "cannot reach the app"),
    "slow-past-budget": ({"twiml": {"timeout": 0.5}}, slow(3.0, "<Response><Say>Late.</Say></Response>"),
                         "budget"),
    "http-500": ({}, lambda _s: Response("boom", status=500), "HTTP 500"),
    "not-xml": ({}, lambda _s: Response("hello, world", status=200, content_type="text/plain"),
                "not a TwiML document"),
    "root-not-response": ({}, "<Play>https://example.com/a.mp3</Play>", "not <Response>"),
    "verb-without-bandwidth-equivalent": ({}, "<Response><Enqueue>support</Enqueue></Response>", "BXM010"),
    "doctype": ({}, lambda _s: Response('<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><Response/>',
                                        content_type="text/xml"), "BXM003"),
    "over-1-mb": ({}, _big_twiml, "response refused"),
    "redirect-to-other-host": ({}, None, "not in the allowed hosts"),
    "private-address": ({"egress.allow_private": False}, "<Response><Say>Hi.</Say></Response>",
                        "non-public address"),
    "wrong-signature": ({"twiml": {"auth_token": "not-the-apps-token"}}, "<Response><Say>Hi.</Say></Response>",
                        "HTTP 403"),
}


@pytest.mark.parametrize("case", list(FAILURES))
def test_failures_answer_the_fallback_bxml_and_log_the_call_id(sim, app, state_url, caplog, case):
    settings, answer, reason = FAILURES[case]
    settings = {key: dict(value) if isinstance(value, dict) else value for key, value in settings.items()}
    if case == "app-down":
        settings["twiml"]["app_url"] = settings["twiml"]["app_url"].format(free=free_port())
    if case == "redirect-to-other-host":  # localhost is the same machine, but not an allowed host
        port = app.url.rsplit(":", 1)[1]
        answer = lambda _s: Response("", status=302, headers={"Location": f"http://localhost:{port}/ivr/goodbye"})  # noqa: E731
    if answer is not None:
        app.route("/case", answer)
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    started = time.monotonic()
    with twiml_proxy(sim, app, state_url, "/case", **settings) as proxy:
        call = inbound(sim, proxy.url)
        initiate = call.wait_for_webhook("initiate", timeout=15)
        answered_after = time.monotonic() - started
        assert call.wait_until_ended() == "hangup"
    assert initiate.status == 200  # never a bare 500: the caller hears the apology
    assert spoken(call) == [FALLBACK_SENTENCE]
    assert [v.name for v in call.verbs()] == ["SpeakSentence", "Hangup"]
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(call.call_id in message and reason in message for message in errors), errors
    if case == "slow-past-budget":
        assert answered_after < 2.5  # the proxy did not wait for the 3 s app
    if case == "private-address":
        assert not app.seen  # refused before anything was sent


def test_an_action_on_another_host_is_refused(sim, app, proxy, caplog):
    port = app.url.rsplit(":", 1)[1]
    app.route("/ivr/voice", f"""<Response>
  <Gather numDigits="1" action="http://localhost:{port}/ivr/menu"><Say>Press a key.</Say></Gather>
</Response>""")
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "1")])
    assert call.wait_until_ended() == "hangup"
    assert app.paths() == ["POST /ivr/voice"]  # the action was never requested
    assert call.webhooks("gather")[0].status == 200
    assert spoken(call) == ["Press a key.", FALLBACK_SENTENCE]
    assert any("not in the allowed hosts" in r.getMessage() and call.call_id in r.getMessage()
               for r in caplog.records)


def test_dialled_leg_events_whisper_and_status_callback(sim, app, proxy):
    """transferAnswer / transferDisconnect (not simulated): posted as Bandwidth would send them."""
    app.route("/ivr/whisper", "<Response><Gather numDigits='1' action='accept'><Say>Press 1.</Say></Gather>"
                              "<Say>Declined.</Say></Response>")
    call = inbound(sim, proxy.url, keys=[("await", "Gather")])
    leg_id = "c-0000aaaa-1111-2222-3333-444455556666"
    common = {"eventTime": "2026-01-01T00:00:01.000Z", "accountId": "9900000", "applicationId": "app",
              "from": TO, "to": "+15557778888", "direction": "outbound", "callId": leg_id,
              "callUrl": "https://voice.bandwidth.com/calls/" + leg_id, "startTime": "2026-01-01T00:00:00.000Z",
              "parentCallId": call.call_id, "transferCallerId": TO, "transferTo": "+15557778888"}
    whisper = proxy.runtime.proxy_url("/twiml/bw/action", kind="action", call=call.call_id,
                                      url=app.url + "/ivr/whisper", method="POST")
    reply = requests.post(whisper, json={**common, "eventType": "transferAnswer",
                                         "answerTime": "2026-01-01T00:00:01.000Z"}, timeout=10)
    assert reply.status_code == 200 and "Press 1." in reply.text
    seen = app.requests_to("/ivr/whisper")[0]
    assert seen.signature_valid and seen.params["Direction"] == "outbound-dial"
    assert seen.params["CallSid"] == twilio_call_sid(leg_id)
    assert seen.params["ParentCallSid"] == twilio_call_sid(call.call_id)
    # the whisper's own URLs belong to the leg: its gather event (callId = the leg) is accepted
    gather_url = etree.fromstring(reply.content).find("Gather").get("gatherUrl")
    app.route("/ivr/accept", "<Response><Say>Connecting.</Say></Response>")
    accepted = requests.post(gather_url, json={**common, "eventType": "gather", "digits": "1",
                                               "terminatingDigit": ""}, timeout=10)
    assert accepted.status_code == 200 and "Connecting." in accepted.text
    assert app.requests_to("/ivr/accept")[0].params["Digits"] == "1"
    # the leg's statusCallback gets Twilio's status callback of that leg, through the outbox
    notify = proxy.runtime.proxy_url("/twiml/bw/notify", kind="notify", call=call.call_id,
                                     url=app.url + "/ivr/leg-status", method="POST")
    app.route("/ivr/leg-status", lambda _s: Response("", status=204))
    end = {**common, "eventType": "transferDisconnect", "cause": "hangup", "answerTime": "2026-01-01T00:00:01.000Z",
           "endTime": "2026-01-01T00:00:31.000Z"}
    assert requests.post(notify, json=end, timeout=10).status_code == 204
    assert requests.post(notify, json=end, timeout=10).status_code == 204  # a duplicate is not forwarded twice
    status = wait_until(lambda: app.requests_to("/ivr/leg-status"), what="leg status callback")[0]
    assert status.signature_valid and status.params["CallStatus"] == "completed"
    assert status.params["CallDuration"] == "30" and status.params["CallSid"] == twilio_call_sid(leg_id)
    call.wait_until_ended()
    assert proxy.runtime.outbox.wait_idle(10)
    assert len(app.requests_to("/ivr/leg-status")) == 1


def test_configured_fallback_bxml(sim, app, state_url):
    app.route("/case", lambda _s: Response("down for maintenance", status=503))
    fallback = "<Bxml><SpeakSentence>Please call again later.</SpeakSentence><Hangup/></Bxml>"
    with twiml_proxy(sim, app, state_url, "/case", twiml={"fallback_bxml": fallback}) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert spoken(call) == ["Please call again later."]
    assert DEFAULT_FALLBACK_BXML.count(FALLBACK_SENTENCE) == 1


def test_redirects_within_the_allowed_hosts_are_followed(sim, app, proxy):
    app.route("/ivr/voice", lambda _s: Response("", status=302, headers={"Location": "/ivr/moved"}))
    app.route("/ivr/moved", "<Response><Say>Moved here.</Say><Redirect>goodbye</Redirect></Response>")
    app.unchecked.add("/ivr/moved")  # the redirected request carries the signature of the first one
    call = inbound(sim, proxy.url)
    assert call.wait_until_ended() == "hangup"
    # the 302 turns the POST into a GET without the parameters (Twilio does not resend them either);
    # relative URLs then resolve against the document's final URL
    assert app.paths() == ["POST /ivr/voice", "GET /ivr/moved", "POST /ivr/goodbye"]
    assert spoken(call) == ["Moved here.", "Goodbye."]


def test_callback_basic_auth_challenge_and_signed_references(app, state_url):
    creds = {"bandwidth.callback_username": "bw-user", "bandwidth.callback_password": "bw-secret"}
    with BandwidthSimulator(time_scale=0.01, callback_username="bw-user", callback_password="bw-secret") as sim, \
            twiml_proxy(sim, app, state_url, **creds) as proxy:
        call = inbound(sim, proxy.url, keys=[("await", "Gather")])
        assert call.wait_until_ended() == "hangup"
        attempts = call.webhooks("initiate")[0].attempts
        assert [(a.authorized, a.status) for a in attempts] == [(False, 401), (True, 200)]
        bare = requests.post(proxy.url + "/twiml/callbacks", json={"eventType": "initiate", "callId": "c-x"},
                             timeout=5)
        assert bare.status_code == 401 and bare.headers["WWW-Authenticate"].startswith("Basic realm=")
        wrong = requests.post(proxy.url + "/twiml/callbacks", json={}, auth=("bw-user", "nope"), timeout=5)
        assert wrong.status_code == 401
        # references: forged, for another call, or for another kind of URL -> 403
        forged = requests.post(proxy.url + "/twiml/bw/gather/eyJ4IjoxfQ.AAAA", json={}, timeout=5)
        assert forged.status_code == 403
        url = proxy.runtime.proxy_url("/twiml/bw/gather", kind="gather", call=call.call_id,
                                      url=app.url + "/ivr/menu", method="POST")
        other = requests.post(url, json={**call.events("gather")[0], "callId": "c-other"}, timeout=5)
        assert other.status_code == 403
        wrong_kind = requests.post(url.replace("/bw/gather/", "/bw/redirect/"),
                                   json={**call.events("gather")[0], "eventType": "redirect"}, timeout=5)
        assert wrong_kind.status_code == 403
        too_big = requests.post(url, data=b"x" * (1024 * 1024 + 1), headers={"Content-Type": "application/json"},
                                timeout=5)
        assert too_big.status_code == 413
    assert app.paths() == ["POST /ivr/voice"]


def test_wrong_callback_credentials_never_reach_the_app(app, state_url):
    with BandwidthSimulator(time_scale=0.01, callback_username="bw-user", callback_password="wrong") as sim, \
            twiml_proxy(sim, app, state_url, **{"bandwidth.callback_username": "bw-user",
                                                "bandwidth.callback_password": "bw-secret"}) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "callback-error"
    assert not app.seen


# --- continuations: restart and any instance -----------------------------------------------------


class Balancer:
    """A load balancer in front of proxy instances.  Requests whose path starts with ``hold`` wait
    until ``release()``; each request goes to the backend current when it is forwarded."""

    def __init__(self) -> None:
        self.backend = ""
        self.hold = ""
        self.held = 0
        self.released = False
        self.served: list[tuple[str, str]] = []
        self.cond = threading.Condition()

    def release(self, backend: str) -> None:
        with self.cond:
            self.backend, self.released = backend, True
            self.cond.notify_all()

    def __call__(self, environ: Any, start_response: Any) -> Any:
        path = environ["PATH_INFO"]
        with self.cond:
            if self.hold and path.startswith(self.hold) and not self.released:
                self.held += 1
                self.cond.wait_for(lambda: self.released, timeout=15)
            backend = self.backend
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        headers = {"Content-Type": environ.get("CONTENT_TYPE", "")}
        if "HTTP_AUTHORIZATION" in environ:
            headers["Authorization"] = environ["HTTP_AUTHORIZATION"]
        query = environ.get("QUERY_STRING")
        answer = requests.request(environ["REQUEST_METHOD"], backend + path + (f"?{query}" if query else ""),
                                  data=body, headers=headers, timeout=15)
        with self.cond:
            self.served.append((path, backend))
        kept = [(k, v) for k, v in answer.headers.items() if k.lower() in ("content-type", "www-authenticate")]
        start_response(f"{answer.status_code} {answer.reason}", kept)
        return [answer.content]


@pytest.mark.parametrize("scenario", ["restart", "other-instance"])
def test_a_continuation_survives_a_restart_and_is_served_by_any_instance(sim, app, state_url, scenario):
    app.route("/ivr/voice", """<Response>
  <Gather action="/ivr/never" timeout="2"><Say>Menu.</Say></Gather>
  <Say>Nothing pressed.</Say>
  <Gather action="/ivr/second" numDigits="1" timeout="2"><Say>Last chance.</Say></Gather>
  <Say>Bye.</Say>
</Response>""")
    balancer = Balancer()
    with serve(balancer) as lb:
        first = twiml_proxy(sim, app, state_url, **{"server.public_url": lb.url})
        first_proxy = first.__enter__()
        try:
            balancer.backend, balancer.hold = first_proxy.url, "/twiml/bw/gather"
            call = inbound(sim, lb.url, keys=[("await", "Gather"), ("await", "Gather")])
            wait_until(lambda: balancer.held, what="the gather event at the load balancer")
            if scenario == "restart":
                first.__exit__(None, None, None)
            with twiml_proxy(sim, app, state_url, **{"server.public_url": lb.url}) as second:
                balancer.release(second.url)
                assert call.wait_until_ended() == "hangup"
        finally:
            if scenario != "restart":
                first.__exit__(None, None, None)
    assert app.paths() == ["POST /ivr/voice"]  # both no-input continuations came from the store
    assert spoken(call) == ["Menu.", "Nothing pressed.", "Last chance.", "Bye."]
    gathers = [(path, backend) for path, backend in balancer.served if path.startswith("/twiml/bw/gather")]
    assert [backend for _, backend in gathers] == [second.url, second.url]


def test_a_continuation_is_served_once(sim, app, proxy):
    call = inbound(sim, proxy.url, keys=[("await", "Gather")])
    assert call.wait_until_ended() == "hangup"
    gather = call.webhooks("gather")[0]
    replay = requests.post(gather.url, json=gather.payload, timeout=5)  # the same empty event again
    assert replay.status_code == 200
    assert "Sorry" in replay.text or "sorry" in replay.text  # already served: the fallback, not twice
    assert app.paths() == ["POST /ivr/voice"]


# --- units -----------------------------------------------------------------------------------------

PARAMS = {"CallSid": "CA1234567890ABCDE", "Caller": "+14158675309", "Digits": "1234", "From": "+14158675309",
          "To": "+18005551212"}


@pytest.mark.parametrize("url,params,expected", [
    ("https://mycompany.com/myapp.php?foo=1&bar=2", PARAMS, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
    ("https://mycompany.com:443/myapp.php?foo=1&bar=2", PARAMS, "kvajT1Ptam85bY51eRf/AJRuM3w="),
    ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", PARAMS, "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ("http://mycompany.com:80/myapp.php?foo=1&bar=2", PARAMS, "0ZXoZLH/DfblKGATFgpif+LLRf4="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2",
     {"Sid": "CA123", "SidAccount": "AC123", "Digits": ["5678", "1234", "1234"]}, "IK+Dwps556ElfBT0I3Rgjkr1wJU="),
    ("https://mycompany.com/myapp.php?foo=1&bar=2&bodySHA256="
     "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620", None, "a9nBmqA0ju/hNViExpshrM61xv4="),
], ids=["vector", "port-443", "port-1234", "port-80", "multi-value", "json-body-hash"])
def test_signature_matches_the_spec_vectors(url, params, expected):
    assert signature("12345", url, params) == expected


def test_signed_string_of_the_spec_vector():
    assert string_to_sign("https://mycompany.com/myapp.php?foo=1&bar=2", PARAMS) == (
        "https://mycompany.com/myapp.php?foo=1&bar=2CallSidCA1234567890ABCDECaller+14158675309Digits1234"
        "From+14158675309To+18005551212")


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_built_requests_validate_with_the_twilio_library(method):
    params = {"CallSid": "CA" + "1" * 32, "From": "+15551112222", "Digits": "", "Note": "a b&c=d/é"}
    built = build_request("https://u:p@app.example.com/ivr/next?x=1&Digits=old", method, params, AUTH_TOKEN)
    assert "u:p@" not in built.url
    validator = RequestValidator(AUTH_TOKEN)
    form = {} if built.form is None else built.form
    assert validator.validate(built.url, form, built.headers["X-Twilio-Signature"])
    if method == "GET":
        assert built.url.count("Digits=") == 1 and "x=1" in built.url and built.form is None
    else:
        assert built.url == "https://app.example.com/ivr/next?x=1&Digits=old"
        assert built.headers["Content-Type"] == "application/x-www-form-urlencoded"


def test_credentials_of_a_configured_origin():
    configured = [None, "https://u:p%40ss@app.example.com/voice"]
    assert credentials_for("https://app.example.com:443/ivr/next", configured) == ("u", "p@ss")
    assert credentials_for("http://app.example.com/ivr/next", configured) is None
    assert credentials_for("https://other.example.com/x", configured) is None


def test_with_query_appends_and_replaces():
    assert with_query("http://h/p", {"A": "1"}) == "http://h/p?A=1"
    assert with_query("http://h/p?keep=%20x&A=0#frag", {"A": "+1"}) == "http://h/p?keep=%20x&A=%2B1"


def test_rewrite_urls_resolves_against_the_document_and_drops_methods():
    root = etree.fromstring("""<Response>
  <Gather method="GET"><Say>x</Say><Play>beep.wav</Play></Gather>
  <Redirect method="get">../other?a=1#top</Redirect>
  <Record action="https://elsewhere.example.com/rec"/>
  <Dial><Number url="whisper" statusCallback="/leg-status" statusCallbackMethod="GET">+15550001111</Number></Dial>
  <Pause length="1"/>
</Response>""")
    seen: list[tuple[str, AppTarget]] = []

    def link(kind, target, extra):
        seen.append((kind, target))
        return f"https://proxy.example.com/twiml/bw/{kind}/{len(seen)}"

    count = rewrite_urls(root, "https://app.example.com/ivr/menu.xml?step=2", link)
    assert count == 5
    assert seen == [
        ("gather", AppTarget("https://app.example.com/ivr/menu.xml?step=2", "GET")),
        ("redirect", AppTarget("https://app.example.com/other?a=1", "GET")),
        ("action", AppTarget("https://elsewhere.example.com/rec", "POST")),
        ("action", AppTarget("https://app.example.com/ivr/whisper", "POST")),
        ("notify", AppTarget("https://app.example.com/leg-status", "GET")),
    ]
    gather = root.find("Gather")
    assert gather.get("action") == "https://proxy.example.com/twiml/bw/gather/1" and "method" not in gather.attrib
    assert gather.find("Play").text == "https://app.example.com/ivr/beep.wav"
    assert root.find("Redirect").text == "https://proxy.example.com/twiml/bw/redirect/2"
    assert "statusCallbackMethod" not in root.find("Dial/Number").attrib


def test_twilio_params_for_events_without_their_own_mapping():
    settings = TwilioSettings(ACCOUNT_SID)
    base = {"callId": "c-1", "from": FROM, "to": TO, "direction": "inbound", "eventTime": "2026-01-01T00:00:00Z",
            "accountId": "1", "applicationId": "a", "callUrl": "https://x", "startTime": "2026-01-01T00:00:00Z"}
    redirect = twilio_params({**base, "eventType": "redirect"}, settings)
    assert redirect["CallStatus"] == "in-progress" and redirect["CallSid"] == twilio_call_sid("c-1")
    dial = twilio_params({**base, "eventType": "transferComplete", "cause": "busy", "transferTo": "+1555"},
                         settings)
    assert dial["DialCallStatus"] == "busy"
    leg = twilio_params({**base, "eventType": "transferDisconnect", "callId": "c-2", "parentCallId": "c-1",
                         "direction": "outbound", "cause": "hangup", "endTime": "2026-01-01T00:00:09Z"}, settings)
    assert leg["CallSid"] == twilio_call_sid("c-2") and leg["ParentCallSid"] == twilio_call_sid("c-1")
    assert leg["Direction"] == "outbound-dial" and leg["CallStatus"] == "completed"


@pytest.mark.parametrize("entered", ["7#", "#"], ids=["input", "no-input"])
def test_verbs_after_the_gather_are_translated_only_when_they_run(sim, app, proxy, caplog, entered):
    """The BXML Bandwidth gets stops at the first <Gather>, as Twilio's run does.  A verb after it
    that BXML cannot express (<Enqueue>) does not stop the Gather: with input the caller hears the
    prompt, then the action's "Got 7." (the app receives POST /ivr/voice, POST /ivr/got with
    Digits=7); with no input Twilio would run <Enqueue>, which cannot be translated, so the caller
    hears the prompt, then the fallback apology (the app receives POST /ivr/voice only) and the log
    says why."""
    app.route("/ivr/voice", """<Response><Say>Before.</Say>
  <Gather action="/ivr/got" finishOnKey="#"><Say>Enter a digit.</Say></Gather>
  <Enqueue>support</Enqueue><Say>Never reached.</Say>
</Response>""")
    app.route("/ivr/got", lambda seen: f"<Response><Say>Got {seen.params['Digits']}.</Say></Response>")
    call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", entered)])
    assert call.wait_until_ended() == "hangup"
    first = [verb.name for verb in call.verbs()][:2]
    assert first == ["SpeakSentence", "Gather"]
    if entered == "7#":
        assert app.paths() == ["POST /ivr/voice", "POST /ivr/got"]
        assert spoken(call) == ["Before.", "Enter a digit.", "Got 7."]
    else:
        assert app.paths() == ["POST /ivr/voice"]
        assert spoken(call) == ["Before.", "Enter a digit.", FALLBACK_SENTENCE]
        assert any(call.call_id in r.getMessage() and "Enqueue" in r.getMessage() for r in caplog.records)


