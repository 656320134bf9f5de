"""Faults in TwiML mode (issue 6): what the caller hears and what the TwiML app receives.

Real parts only, as in ``tests/test_twiml_proxy.py``: the Bandwidth simulator runs the BXML the
proxy answers, the proxy runs under a real WSGI server, and the TwiML app (``tests.fake_twiml_app``)
validates every signature.  Cases already covered there are not repeated: the first document
failing (app down, slow past the budget, HTTP 500, not XML, a DOCTYPE, over the default 1 MB, an
HTTP redirect to another host), a ``<Gather action>`` on another host, and a continuation
surviving a proxy restart / served by another instance.  Here: the same faults in the middle of a
call (the caller has already heard the app), entity bombs and external entities, the configured
``twiml.max_response_bytes``, a ``<Redirect>`` verb to a disallowed host, and a status callback
whose receiver was down for a while.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

import pytest
from flask import Response
from werkzeug.serving import make_server

from tests.fake_twiml_app import TwimlApp, slow
from tests.loopback import serve
from tests.proxy_harness import running_proxy, twiml_settings, wait_until

FROM, TO = "+15551112222", "+15553334444"
APOLOGY = "We are sorry, an application error occurred. Goodbye."
MENU = '<Response><Gather numDigits="1" action="/ivr/action" timeout="3"><Say>Press a key.</Say></Gather></Response>'



@pytest.fixture
def app():
    twiml_app = TwimlApp()
    with serve(twiml_app.flask) as server:
        twiml_app.url = server.url
        yield twiml_app


def proxy_for(sim: Any, app: TwimlApp, tmp_path: Any, path: str = "/ivr/voice", **twiml: Any) -> Any:
    return running_proxy(sim, None, f"sqlite:///{tmp_path}/proxy.db",
                         **twiml_settings(app.url + path, **{"timeout": 1.0, **twiml}))


def inbound(sim: Any, base_url: str, keys: Any = ()) -> Any:
    return sim.inbound_call(FROM, TO, initiate_url=base_url + "/twiml/callbacks",
                            disconnect_url=base_url + "/twiml/callbacks", keys=list(keys))


def spoken(call: Any) -> list[str]:
    return [v.text for v in call.verbs("SpeakSentence")]


def xml(text: str) -> Any:
    return lambda _seen: Response(text, status=200, content_type="text/xml")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


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
def test_entity_bombs_and_external_entities_answer_the_fallback(sim, app, tmp_path, caplog, case):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    app.route("/ivr/secret", "<Response><Say>TOP-SECRET-CONTENT</Say></Response>")
    body = {"billion-laughs": BOMB, "quadratic-blowup": QUADRATIC,
            "external-file": external(secret.as_uri()),
            "external-http": external(app.url + "/ivr/secret"),
            "parameter-entity-http": parameter_entity(app.url + "/ivr/secret")}[case]
    app.route("/ivr/voice", xml(body))
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, tmp_path) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert call.webhooks("initiate")[0].status == 200
    assert spoken(call) == [APOLOGY]  # nothing expanded, nothing read: the apology only
    assert [v.name for v in call.verbs()] == ["SpeakSentence", "Hangup"]
    assert app.paths() == ["POST /ivr/voice"]  # no external entity was fetched
    assert any(call.call_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


# --- the configured response cap -------------------------------------------------------------------


def test_a_response_over_max_response_bytes_is_refused_and_one_under_it_is_played(sim, app, tmp_path, caplog):
    small = ("<Response><Gather numDigits='1' action='/ivr/big'><Say>Small.</Say></Gather>"
             "<!--" + "c" * 1500 + "--></Response>")  # under the 2048-byte cap: played
    app.route("/ivr/voice", small)
    app.route("/ivr/big", "<Response><Say>" + "b" * 3000 + "</Say></Response>")
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, tmp_path, max_response_bytes=2048) as proxy:
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
def test_the_action_failing_mid_call_plays_the_apology_after_what_the_caller_heard(sim, app, tmp_path, case):
    app.route("/ivr/voice", MENU)
    app.route("/ivr/action", MID_CALL[case])
    with proxy_for(sim, app, tmp_path) as proxy:
        call = inbound(sim, proxy.url, keys=[("await", "Gather"), ("press", "7")])
        gather = call.wait_for_webhook("gather", timeout=15)
        assert call.wait_until_ended() == "hangup"
    assert gather.status == 200  # Bandwidth got BXML, never a 5xx
    assert spoken(call) == ["Press a key.", APOLOGY]
    assert call.verbs()[-1].name == "Hangup"
    assert app.paths() == ["POST /ivr/voice", "POST /ivr/action"]  # asked once, not retried
    action = app.requests_to("/ivr/action")[0]
    assert action.signature_valid and action.params["Digits"] == "7"


def test_the_app_going_down_mid_call_plays_the_apology(sim, tmp_path):
    app = TwimlApp()
    server = serve(app.flask)
    running = server.__enter__()
    app.url = running.url
    app.route("/ivr/voice", MENU.replace('timeout="3"', 'timeout="900"'))  # 9 s of real time to press
    app.route("/ivr/action", "<Response><Say>Never heard.</Say></Response>")
    try:
        with proxy_for(sim, app, tmp_path) as proxy:
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
def test_a_redirect_verb_to_a_disallowed_host_is_never_requested(sim, app, tmp_path, caplog, target):
    port = app.url.rsplit(":", 1)[1]
    app.route("/ivr/voice", f"<Response><Say>Moving you.</Say><Redirect>{target.format(port=port)}</Redirect>"
                            "</Response>")
    app.route("/ivr/goodbye", "<Response><Say>Should not be reached.</Say></Response>")
    caplog.set_level(logging.ERROR, logger="bxml_migrate.twiml")
    with proxy_for(sim, app, tmp_path) as proxy:
        call = inbound(sim, proxy.url)
        assert call.wait_until_ended() == "hangup"
    assert all(w.status in (200, 204) for w in call.webhooks())
    assert spoken(call) == ["Moving you.", APOLOGY]  # the Say plays; following the Redirect is refused
    assert call.verbs()[-1].name == "Hangup"
    assert app.paths() == ["POST /ivr/voice"]
    assert any(call.call_id in r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR)


# --- the status callback receiver down for a while ------------------------------------------------------


def test_status_callback_is_delivered_once_its_receiver_comes_back(sim, app, tmp_path, caplog):
    app.route("/ivr/voice", "<Response><Say>Hello.</Say><Hangup/></Response>")
    receiver = TwimlApp()
    receiver.route("/status", lambda _s: Response("", status=204))
    port = free_port()
    receiver.url = f"http://127.0.0.1:{port}"
    caplog.set_level(logging.WARNING, logger="bxml_migrate.outbox")
    with proxy_for(sim, app, tmp_path, status_callback=receiver.url + "/status") as proxy:
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
