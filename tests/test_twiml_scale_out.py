"""Scale-out, TwiML mode (issue 6): two proxy processes sharing one Redis serve the same TwiML calls.

As ``tests/test_scale_out.py`` does for Catapult mode: two real ``bxml-migrate serve`` processes
(gunicorn, one worker each, configured only through ``BXML_MIGRATE_*`` variables) behind the
round-robin balancer of ``tests.load_balancer`` on loopback, which is their ``public_url``.  The
Bandwidth simulator's application callbacks and every URL the proxies wrote into BXML (gather,
redirect) go through it; with ``twiml_call_key`` each call's consecutive callbacks land on the other
instance every time, while several calls run at once.  So every document one instance answers is
followed up by the other one: the signed URLs, the empty-input continuations (stored by one
instance, taken by the other) and the status callbacks in the shared outbox all cross instances.

The TwiML app is the fake IVR of ``tests.fake_twiml_app`` (``install_ivr``), validating every
``X-Twilio-Signature``.  No fault is injected, so nothing may be lost or repeated: each app request
arrives exactly once, with the right parameters, in order per call, and each status callback is
delivered exactly once (at-least-once delivery repeats only after a failed or unanswered attempt).
"""

from __future__ import annotations

from typing import Any

from adapter.simulator import BandwidthSimulator, gather_input
from adapter.store import open_store
from tests.fake_twiml_app import Seen, TwimlApp, install_ivr
from tests.load_balancer import RoundRobin, twiml_call_key
from tests.loopback import serve
from tests.proxy_harness import ACCOUNT_SID, wait_until
from tests.proxy_process import running_instances, twiml_mode_settings
from tests.redis_server import RedisServer, free_port
from tests.test_scale_out import delivered
from translators.callbacks import twilio_call_sid

CALLS = 6
TO = "+15553334444"
WELCOME = "Welcome. Press 1 for accounts."
ACCOUNT_PROMPT = "Enter your account number, then press pound."


def silent(index: int) -> bool:
    """Every third caller presses nothing in the main menu; the others go through the whole IVR."""
    return index % 3 == 2


def caller(index: int) -> str:
    return f"+1555000000{index}"


def account(index: int) -> str:
    return f"{index}0{index}"


def test_two_instances_behind_a_balancer_serve_concurrent_twiml_gather_flows_exactly_once(tmp_path):
    """Six concurrent calls, each callback on the other instance than the call's previous one.

    Full flow (four callers) - the caller hears: the main menu (a Gather), presses 1; the account
    menu, presses '#' first (no input: Twilio runs the verb after the Gather, an absolute
    ``<Redirect>`` to the main menu, without requesting the action); the main menu again, presses 1;
    the account menu, enters ``i0i#``; "Account i0i found."; "Goodbye."; hang-up.  The app receives,
    in order: POST /ivr/voice (ringing), POST /ivr/menu (Digits=1), POST /ivr/voice (the redirect),
    POST /ivr/menu (Digits=1), GET /ivr/account (dept=accounts, Digits=i0i, FinishedOnKey=#), GET
    /ivr/goodbye (relative redirect), then the status callback POST /ivr/status (completed).

    Silent flow (two callers) - the caller hears the main menu, presses nothing, then "We did not
    receive any input. Goodbye." (the continuation after the Gather) and the call ends.  The app
    receives POST /ivr/voice and the status callback only.
    """
    with RedisServer() as redis_server:  # its own, as tests/test_scale_out.py: nothing else uses it
        run_two_instances(redis_server, tmp_path)


def run_two_instances(redis_server: RedisServer, tmp_path: Any) -> None:
    prefix = "twiml-scale:"
    ports = [free_port(), free_port()]
    balancer = RoundRobin([f"http://127.0.0.1:{port}" for port in ports], key=twiml_call_key)
    app = TwimlApp()
    install_ivr(app)

    with serve(app.flask) as app_server, serve(balancer) as front, BandwidthSimulator(time_scale=0.01) as sim:
        app.url = app_server.url
        settings = twiml_mode_settings(sim, app.url + "/ivr/voice", redis_server.url, front.url,
                                       twiml={"status_callback": app.url + "/ivr/status"},
                                       **{"state.key_prefix": prefix})
        with running_instances(settings, tmp_path, ports) as group:
            calls = []
            for index in range(CALLS):
                keys = gather_input("") if silent(index) else gather_input("1", "#", "1", account(index) + "#")
                calls.append(sim.inbound_call(caller(index), TO, initiate_url=front.url + "/twiml/callbacks",
                                              disconnect_url=front.url + "/twiml/callbacks", keys=keys))
            for call in calls:
                assert call.wait_until_ended(timeout=30) == "hangup", call.log()[-10:]
            sids = {twilio_call_sid(call.call_id) for call in calls}
            wait_until(lambda: {s.params.get("CallSid") for s in app.requests_to("/ivr/status")} == sids,
                       timeout=20, what="every status callback")
            with open_store(redis_server.url, key_prefix=prefix) as store:
                wait_until(lambda: store.outbox_depth() == 0, timeout=20, what="an empty shared outbox")
            per_instance = [delivered(proxy.url) for proxy in group.proxies]

    assert group.codes == [0, 0], group.logs
    assert all(seen.signature_valid for seen in app.seen), [s for s in app.seen if not s.signature_valid]
    for index, call in enumerate(calls):
        assert_app_received(app, call, index)
        assert_caller_heard(call, index, front.url)
    full = CALLS - sum(silent(i) for i in range(CALLS))
    assert len(app.seen) == 7 * full + 2 * (CALLS - full)  # nothing else, nothing twice
    assert sum(per_instance) == CALLS, per_instance  # the shared outbox delivered each status callback once

    # every Bandwidth callback of a call went to the other instance than the one before it (so each
    # continuation and signed URL written by one instance was served by the other); calls started on both
    forwarded = balancer.forwarded()
    assert all(f.status is not None and f.status < 300 for f in forwarded), [f for f in forwarded
                                                                              if (f.status or 500) >= 300]
    firsts = []
    for index, call in enumerate(calls):
        callbacks = [f for f in forwarded if f.key == f"bandwidth {call.call_id}"]
        assert [callback_kind(f.path) for f in callbacks] == expected_callbacks(index), callbacks
        backends = [f.backend for f in callbacks]
        assert backends == [(backends[0] + i) % 2 for i in range(len(backends))], callbacks
        firsts.append(backends[0])
    assert set(firsts) == {0, 1}
    assert len(forwarded) == sum(len(expected_callbacks(i)) for i in range(CALLS))  # nothing else, none twice


def expected_callbacks(index: int) -> list[str]:
    """The call's Bandwidth callbacks: ``callbacks`` (initiate, disconnect), gather events, redirects."""
    if silent(index):
        return ["callbacks", "gather", "callbacks"]
    return ["callbacks", "gather", "gather", "redirect", "gather", "gather", "redirect", "callbacks"]


def callback_kind(path: str) -> str:
    """``callbacks`` for ``/twiml/callbacks``, else the kind of a ``/twiml/bw/{kind}/...`` URL."""
    parts = path.strip("/").split("/")
    return parts[1] if parts[1] == "callbacks" else parts[2]


def assert_app_received(app: TwimlApp, call: Any, index: int) -> None:
    """The app's requests for this call: complete, in order, once each, with Twilio's parameters."""
    sid = twilio_call_sid(call.call_id)
    mine = [seen for seen in app.seen if seen.params.get("CallSid") == sid]
    for seen in mine:
        assert_standard_params(seen, index)
    if silent(index):
        assert [f"{s.method} {s.path}" for s in mine] == ["POST /ivr/voice", "POST /ivr/status"]
        voice, status = mine
    else:
        assert [f"{s.method} {s.path}" for s in mine] == [
            "POST /ivr/voice", "POST /ivr/menu", "POST /ivr/voice", "POST /ivr/menu", "GET /ivr/account",
            "GET /ivr/goodbye", "POST /ivr/status"]
        voice, menu, again, menu_again, account_request, goodbye, status = mine
        for seen in (menu, menu_again):
            assert (seen.params["Digits"], seen.params["FinishedOnKey"]) == ("1", "")  # numDigits reached
        assert "Digits" not in again.params and again.params["CallStatus"] == "in-progress"  # the <Redirect>
        assert (account_request.params["Digits"], account_request.params["FinishedOnKey"]) == (account(index), "#")
        assert account_request.params["dept"] == "accounts"  # the action's own query, plus the parameters
        assert "Digits" not in goodbye.params
    assert voice.params["CallStatus"] == "ringing" and "Digits" not in voice.params
    assert status.params["CallStatus"] == "completed" and status.params["CallDuration"].isdigit()


def assert_standard_params(seen: Seen, index: int) -> None:
    params = seen.params
    assert params["AccountSid"] == ACCOUNT_SID and params["ApiVersion"] == "2010-04-01", params
    assert (params["From"], params["To"], params["Direction"]) == (caller(index), TO, "inbound"), params


def assert_caller_heard(call: Any, index: int, front_url: str) -> None:
    """What the caller heard (the BXML each answer held, as the simulator ran it)."""
    assert not [d for d in call.documents() if d.error], [d.error for d in call.documents()]
    documents = [d.verbs for d in call.documents()]
    spoken = [v.text for v in call.verbs("SpeakSentence")]
    gathers = [v.outcome for v in call.verbs("Gather")]
    if silent(index):
        # the main menu; the verbs after its Gather (a continuation: no request to the app)
        assert documents == [("Gather",), ("SpeakSentence",)]
        assert spoken == [WELCOME, "We did not receive any input. Goodbye."]
        assert gathers == ["first-digit timeout"]
    else:
        assert documents == [("Gather",), ("Gather",), ("Redirect",), ("Gather",), ("Gather",),
                             ("SpeakSentence", "Redirect"), ("SpeakSentence", "Hangup")]
        assert spoken == [WELCOME, ACCOUNT_PROMPT, WELCOME, ACCOUNT_PROMPT, f"Account {account(index)} found.",
                          "Goodbye."]
        assert gathers == ["max digits", "terminating digit", "max digits", "terminating digit"]
        assert call.events("gather")[1]["digits"] == ""  # '#' first: no input
    # every URL Bandwidth called back is a signed proxy URL behind the balancer, never the app's
    assert all(w.url.startswith(front_url + "/twiml/") for w in call.webhooks())
    assert all(v.attributes["gatherUrl"].startswith(front_url + "/twiml/bw/gather/") for v in call.verbs("Gather"))
