"""Callback rewriting between Bandwidth v2, Catapult v1 and Twilio (issue 3).

Fixtures (fixtures/callbacks/): ``v2/<case>/event.json`` with the expected ``v1.json`` and
``twilio.json`` (and the gather ``context.json`` when one runs), ``v1/<case>/event.json`` with
the expected ``v2.json`` for replays.  Dicts are compared with deepdiff.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from deepdiff import DeepDiff
from hypothesis import given, settings
from hypothesis import strategies as st

from translators.callbacks import (
    CallbackSchemaError,
    TwilioSettings,
    V1Settings,
    documentation_table,
    gather_context,
    tables,
    twilio_call_sid,
    v1_dtmf_to_v2,
    v1_gather_to_v2,
    v1_to_v2,
    v1_to_v2_event,
    v2_answer_to_twilio,
    v2_answer_to_v1,
    v2_disconnect_to_twilio,
    v2_disconnect_to_v1,
    v2_disconnect_to_v1_gather,
    v2_disconnect_to_v1_timeout,
    v2_dtmf_to_v1,
    v2_gather_to_twilio,
    v2_gather_to_v1,
    v2_initiate_to_twilio,
    v2_initiate_to_v1,
    v2_to_twilio,
    v2_to_twilio_params,
    v2_to_v1,
    v2_to_v1_events,
)
from translators.callbacks.schemas import V2_CALL_FIELDS, V2_EVENT_FIELDS
from translators.catapult import GatherContext
from translators.diagnostics import RULES

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "callbacks"
SETTINGS = json.loads((FIXTURES / "settings.json").read_text(encoding="utf-8"))
V1 = V1Settings(**SETTINGS["v1"])
TWILIO = TwilioSettings(**SETTINGS["twilio"])
V2_CASES = sorted(p.name for p in (FIXTURES / "v2").iterdir())
V1_CASES = sorted(p.name for p in (FIXTURES / "v1").iterdir())

C1 = "c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d"


def _load(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else None


def _case(kind: str, name: str) -> dict[str, Any]:
    base = FIXTURES / kind / name
    return {p.stem: _load(p) for p in base.glob("*.json")}


def _event(**fields: Any) -> dict[str, Any]:
    """A v2 event in the shape of the seeds, with ``fields`` changed (``None`` removes a key)."""
    event = {"eventType": "gather", "eventTime": "2019-06-20T15:56:11.554Z", "accountId": "55555555",
             "applicationId": "7fc9698a-b04a-468b-9e8f-91238c0d0086", "from": "+15551112222", "to": "+15553334444",
             "direction": "outbound", "callId": C1,
             "callUrl": f"https://voice.bandwidth.com/api/v2/accounts/55555555/calls/{C1}",
             "startTime": "2019-06-20T15:54:22.234Z", "answerTime": "2019-06-20T15:54:25.432Z",
             "digits": "123", "terminatingDigit": "#"}
    for name, value in fields.items():
        if value is None:
            event.pop(name, None)
        else:
            event[name] = value
    return event


def _error(call: Callable[[], Any]) -> CallbackSchemaError:
    with pytest.raises(CallbackSchemaError) as caught:
        call()
    return caught.value


# -- the fixtures ------------------------------------------------------------------------------


def test_fixtures_include_the_seed_examples():
    assert {"seed-gather-max-digits", "seed-gather-terminating-digit", "seed-gather-enqueued-no-context",
            "seed-dtmf"} <= set(V2_CASES)
    seed = _case("v2", "seed-gather-terminating-digit")["event"]
    assert (seed["digits"], seed["terminatingDigit"], seed["callId"]) == ("123", "#", C1)


@pytest.mark.parametrize("name", V2_CASES)
def test_v2_to_v1_fixture(name):
    case = _case("v2", name)
    expected = case["v1"]
    if "error" in expected:
        error = _error(lambda: v2_to_v1_events(case["event"], V1, case.get("context")))
        assert (error.code, list(error.fields)) == (expected["error"]["code"], expected["error"]["fields"])
        return
    rewrite = v2_to_v1_events(case["event"], V1, case.get("context"))
    assert DeepDiff(rewrite.events, expected["events"]) == {}
    assert [d.code for d in rewrite.diagnostics] == expected["diagnostics"]
    for event in rewrite.events:  # v1 values are strings, except the nested diversion object
        assert all(isinstance(v, str) for k, v in event.items() if k != "diversion")


@pytest.mark.parametrize("name", V2_CASES)
def test_v2_to_twilio_fixture(name):
    case = _case("v2", name)
    expected = case["twilio"]
    if "error" in expected:
        error = _error(lambda: v2_to_twilio_params(case["event"], TWILIO))
        assert (error.code, list(error.fields)) == (expected["error"]["code"], expected["error"]["fields"])
        return
    rewrite = v2_to_twilio_params(case["event"], TWILIO)
    assert len(rewrite.events) == 1
    assert DeepDiff(rewrite.events[0], expected["params"]) == {}
    assert [d.code for d in rewrite.diagnostics] == expected["diagnostics"]
    assert all(isinstance(v, str) for v in rewrite.events[0].values())


@pytest.mark.parametrize("name", V1_CASES)
def test_v1_to_v2_fixture(name):
    case = _case("v1", name)
    expected = case["v2"]
    rewrite = lambda: v1_to_v2_event(case["event"], case.get("context"), call=case.get("call"))  # noqa: E731
    if "error" in expected:
        error = _error(rewrite)
        assert (error.code, list(error.fields)) == (expected["error"]["code"], expected["error"]["fields"])
        return
    assert DeepDiff(rewrite().events, [expected["event"]]) == {}


SINGLE_V1 = {"gather": v2_gather_to_v1, "dtmf": v2_dtmf_to_v1, "initiate": v2_initiate_to_v1,
             "answer": v2_answer_to_v1}
SINGLE_TWILIO = {"gather": v2_gather_to_twilio, "initiate": v2_initiate_to_twilio, "answer": v2_answer_to_twilio,
                 "disconnect": v2_disconnect_to_twilio}


@pytest.mark.parametrize("name", V2_CASES)
def test_single_event_functions_agree_with_the_dispatchers(name):
    case = _case("v2", name)
    event, context = case["event"], case.get("context")
    event_type = event["eventType"]
    if event_type in SINGLE_V1 and "error" not in case["v1"]:
        args = (event, V1, GatherContext.from_dict(context)) if event_type == "gather" and context else (event, V1)
        assert SINGLE_V1[event_type](*args) == case["v1"]["events"][0]
    if event_type == "disconnect":
        assert v2_disconnect_to_v1(event, V1) == case["v1"]["events"][-1]
    if event_type in SINGLE_TWILIO:
        assert SINGLE_TWILIO[event_type](event, TWILIO) == case["twilio"]["params"]


# -- v2 gather -> v1 gather: reason --------------------------------------------------------------


@pytest.mark.parametrize("digits, terminating, max_digits, reason", [
    ("123", "#", 5, "terminating-digit"),
    ("12345", "#", 5, "terminating-digit"),   # the terminator wins, as v2 reports it
    ("12345", "", 5, "max-digits"),
    ("123456", "", 5, "max-digits"),
    ("1234", "", 5, "inter-digit-timeout"),
    ("", "", 5, "inter-digit-timeout"),
    ("", "*", 5, "terminating-digit"),
    (None, None, 1, "inter-digit-timeout"),
    ("7", None, 1, "max-digits"),
])
def test_gather_reason(digits, terminating, max_digits, reason):
    event = _event(digits=digits, terminatingDigit=terminating)
    result = v2_gather_to_v1(event, V1, GatherContext(max_digits=max_digits))
    assert result["reason"] == reason
    assert result["digits"] == (digits or "")
    assert result["state"] == "completed"


def test_without_context_max_digits_is_bxmls_fifty():
    assert v2_gather_to_v1(_event(digits="1" * 49, terminatingDigit=""), V1)["reason"] == "inter-digit-timeout"
    assert v2_gather_to_v1(_event(digits="1" * 50, terminatingDigit=""), V1)["reason"] == "max-digits"


@pytest.mark.parametrize("as_dict", [False, True], ids=["GatherContext", "dict"])
def test_gather_event_fields(as_dict):
    context = GatherContext(max_digits=5, tag="menu-1", gather_id="gtr-kj4xloaq5vbpfxyeypndgxa")
    assert v2_gather_to_v1(_event(tag="sticky-call-tag"), V1, context.to_dict() if as_dict else context) == {
        "eventType": "gather", "state": "completed", "digits": "123", "reason": "terminating-digit", "callId": C1,
        "callUri": f"https://api.catapult.inetwork.com/v1/users/u-xa2n3oxk6it4efbglisna6a/calls/{C1}",
        "gatherId": "gtr-kj4xloaq5vbpfxyeypndgxa", "time": "2019-06-20T15:56:11.554Z", "tag": "menu-1",
        "terminatingDigit": "#"}


def test_the_sticky_v2_tag_is_not_the_gather_tag():
    assert "tag" not in v2_gather_to_v1(_event(tag="sticky-call-tag"), V1, GatherContext())


def test_disconnect_during_a_gather_gives_hung_up_then_hangup():
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="hangup",
                   endTime="2019-06-20T15:57:00.000Z", tag="call-tag")
    context = {"maxDigits": 4, "tag": "menu-1", "gatherId": "gtr-1"}
    events = v2_to_v1_events(event, V1, context).events
    assert [(e["eventType"], e.get("reason"), e.get("cause")) for e in events] == [
        ("gather", "hung-up", None), ("hangup", None, "NORMAL_CLEARING")]
    assert (events[0]["digits"], events[0]["tag"], events[0]["gatherId"]) == ("", "menu-1", "gtr-1")
    assert events[1]["tag"] == "call-tag"
    assert v2_disconnect_to_v1_gather(event, V1, GatherContext.from_dict(context)) == events[0]


def test_disconnect_without_a_running_gather_is_only_a_hangup():
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="hangup")
    assert [e["eventType"] for e in v2_to_v1_events(event, V1).events] == ["hangup"]


# -- hangup causes and Twilio statuses ---------------------------------------------------------------

CAUSES = [
    # v2 cause, v1 hangup cause, Twilio CallStatus
    ("hangup", "NORMAL_CLEARING", "completed"),
    ("busy", "USER_BUSY", "busy"),
    ("rejected", "CALL_REJECTED", "busy"),
    ("cancel", "ORIGINATOR_CANCEL", "canceled"),
    ("timeout", "NO_ANSWER", "no-answer"),
    ("callback-error", "UNSPECIFIED", "failed"),
    ("invalid-bxml", "UNSPECIFIED", "failed"),
    ("application-error", "UNSPECIFIED", "failed"),
    ("account-limit", "UNSPECIFIED", "failed"),
    ("node-capacity-exceeded", "UNSPECIFIED", "failed"),
    ("error", "UNSPECIFIED", "failed"),
    ("unknown", "UNSPECIFIED", "failed"),
    ("a-cause-added-later", "UNSPECIFIED", "failed"),
]


@pytest.mark.parametrize("cause, v1_cause, status", CAUSES)
def test_disconnect_cause(cause, v1_cause, status):
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause=cause, direction="inbound")
    hangup = v2_disconnect_to_v1(event, V1)
    assert (hangup["eventType"], hangup["cause"], hangup["callState"]) == ("hangup", v1_cause, "completed")
    assert v2_disconnect_to_twilio(event, TWILIO)["CallStatus"] == status


@pytest.mark.parametrize("direction, events", [("outbound", ["timeout", "hangup"]), ("inbound", ["hangup"])])
def test_unanswered_outbound_call_gets_a_timeout_event_first(direction, events):
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, answerTime=None, cause="timeout",
                   direction=direction)
    assert [e["eventType"] for e in v2_to_v1_events(event, V1).events] == events


def test_timeout_event_needs_cause_timeout():
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="busy")
    error = _error(lambda: v2_disconnect_to_v1_timeout(event, V1))
    assert error.fields == ("cause",)
    assert "expected cause 'timeout', got 'busy'" in str(error)


@pytest.mark.parametrize("answer, end, duration", [
    ("2019-06-20T16:01:02.410Z", "2019-06-20T16:02:31.101Z", "88"),
    ("2019-06-20T16:01:02Z", "2019-06-20T16:01:02Z", "0"),
    ("2019-06-20T16:01:02.999Z", "2019-06-20T16:01:04.000Z", "1"),
    ("2019-06-20T16:01:02", "2019-06-20T16:01:12.000Z", "10"),
    (None, "2019-06-20T16:02:31.101Z", "0"),
    ("2019-06-20T16:01:02.410Z", None, "0"),
])
def test_twilio_call_duration(answer, end, duration):
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="hangup", answerTime=answer,
                   endTime=end)
    assert v2_disconnect_to_twilio(event, TWILIO)["CallDuration"] == duration


def test_malformed_time_names_the_field():
    event = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="hangup", endTime="yesterday")
    error = _error(lambda: v2_disconnect_to_twilio(event, TWILIO))
    assert error.fields == ("endTime",)


# -- Twilio parameters ----------------------------------------------------------------------------


def test_call_sid_is_stable_distinct_and_twilio_shaped():
    sid = twilio_call_sid(C1)
    assert re.fullmatch(r"CA[0-9a-f]{32}", sid)
    assert sid == twilio_call_sid(C1) == "CA" + hashlib.sha256(C1.encode()).hexdigest()[:32]
    assert twilio_call_sid(C1.replace("95", "96")) != sid


@pytest.mark.parametrize("fields, direction, parent", [
    ({"direction": "inbound"}, "inbound", None),
    ({"direction": "outbound"}, "outbound-api", None),
    ({"direction": "outbound", "parentCallId": "c-parent"}, "outbound-dial", twilio_call_sid("c-parent")),
])
def test_twilio_direction(fields, direction, parent):
    params = v2_gather_to_twilio(_event(**fields), TWILIO)
    assert (params["Direction"], params.get("ParentCallSid")) == (direction, parent)


def test_unknown_direction_cannot_become_a_twilio_direction():
    error = _error(lambda: v2_gather_to_twilio(_event(direction="sideways"), TWILIO))
    assert error.fields == ("direction",)


def test_twilio_gather_parameters():
    assert v2_gather_to_twilio(_event(direction="inbound"), TWILIO) == {
        "AccountSid": SETTINGS["twilio"]["account_sid"], "ApiVersion": "2010-04-01", "CallSid": twilio_call_sid(C1),
        "CallStatus": "in-progress", "Called": "+15553334444", "Caller": "+15551112222", "Direction": "inbound",
        "From": "+15551112222", "To": "+15553334444", "Digits": "123", "FinishedOnKey": "#",
        "msg": "Gather End"}


@pytest.mark.parametrize("text, result", [
    ("pay my bill", "pay my bill"),
    ("Speech timeout elapsed with no speech detected", None),
    ("", None),
    (None, None),
])
def test_twilio_speech_result(text, result):
    params = v2_gather_to_twilio(_event(text=text, digits="", terminatingDigit=""), TWILIO)
    assert params.get("SpeechResult") == result
    assert "Confidence" not in params


@pytest.mark.parametrize("event_type, status", [("initiate", "ringing"), ("answer", "in-progress")])
def test_twilio_voice_url_parameters(event_type, status):
    event = _event(eventType=event_type, digits=None, terminatingDigit=None,
                   direction="inbound" if event_type == "initiate" else "outbound",
                   answerTime=None if event_type == "initiate" else "2019-06-20T15:54:25.432Z")
    params = v2_to_twilio_params(event, TWILIO).events[0]
    assert params["CallStatus"] == status
    assert set(params) == {"AccountSid", "ApiVersion", "CallSid", "CallStatus", "Called", "Caller", "Direction",
                           "From", "To"}


@pytest.mark.parametrize("account_sid", ["AC123", "CA0123456789abcdef0123456789abcdef", "",
                                         "AC0123456789abcdef0123456789abcdeg"])
def test_account_sid_must_look_like_one(account_sid):
    with pytest.raises(ValueError, match="account_sid"):
        TwilioSettings(account_sid)


# -- v1 settings ------------------------------------------------------------------------------------


def test_call_uri_uses_the_configured_base():
    settings = V1Settings("u-abc", "https://proxy.example.com/legacy/")
    assert settings.call_uri("c-1") == "https://proxy.example.com/legacy/v1/users/u-abc/calls/c-1"


@pytest.mark.parametrize("user_id, base", [("", "https://a.example"), ("u-a/b", "https://a.example"),
                                           ("u-abc", "ftp://a.example"), ("u-abc", "https://a.example/?x=1")])
def test_v1_settings_are_checked(user_id, base):
    with pytest.raises(ValueError):
        V1Settings(user_id, base)


# -- bad payloads: CallbackSchemaError naming the fields ---------------------------------------------

GATHER_EVENT = _event()
DTMF_EVENT = _event(eventType="dtmf", digits=None, terminatingDigit=None, digit="5")
DISCONNECT_EVENT = _event(eventType="disconnect", digits=None, terminatingDigit=None, cause="hangup")
INITIATE_EVENT = _event(eventType="initiate", digits=None, terminatingDigit=None, answerTime=None)


def _without(event: dict[str, Any], *names: str) -> dict[str, Any]:
    return {k: v for k, v in event.items() if k not in names}


BAD_PAYLOADS = [
    # (id, function, payload, fields, message fragment)
    ("gather-missing", lambda e: v2_gather_to_v1(e, V1), _without(GATHER_EVENT, "callId", "eventTime"),
     ("callId", "eventTime"), "v2 gather → v1 gather: missing required field(s) callId, eventTime"),
    ("gather-empty-call-id", lambda e: v2_gather_to_v1(e, V1), {**GATHER_EVENT, "callId": ""}, ("callId",),
     "missing required field(s) callId"),
    ("gather-wrong-event-type", lambda e: v2_gather_to_v1(e, V1), DTMF_EVENT, ("eventType",),
     "v2 gather → v1 gather: expected eventType 'gather', got eventType 'dtmf'"),
    ("gather-no-event-type", lambda e: v2_gather_to_v1(e, V1), _without(GATHER_EVENT, "eventType"),
     ("eventType",), "got no eventType"),
    ("gather-wrong-types", lambda e: v2_gather_to_v1(e, V1), {**GATHER_EVENT, "digits": 123, "tag": ["a"]},
     ("digits", "tag"), "wrong type: tag (expected a string, got an array); digits (expected a string, got a number)"),
    ("gather-not-object", lambda e: v2_gather_to_v1(e, V1), ["gather"], ("(event)",),
     "the payload must be a JSON object, not an array"),
    ("dtmf-missing-digit", lambda e: v2_dtmf_to_v1(e, V1), _without(DTMF_EVENT, "digit"), ("digit",),
     "v2 dtmf → v1 dtmf: missing required field(s) digit"),
    ("initiate-missing-from-to", lambda e: v2_initiate_to_v1(e, V1), _without(INITIATE_EVENT, "from", "to"),
     ("from", "to"), "missing required field(s) from, to"),
    ("initiate-diversion-not-object", lambda e: v2_initiate_to_v1(e, V1), {**INITIATE_EVENT, "diversion": "x"},
     ("diversion",), "diversion (expected an object, got a string)"),
    ("disconnect-missing-cause", lambda e: v2_disconnect_to_v1(e, V1), _without(DISCONNECT_EVENT, "cause"),
     ("cause",), "v2 disconnect → v1 hangup: missing required field(s) cause"),
    ("twilio-missing", lambda e: v2_gather_to_twilio(e, TWILIO),
     _without(GATHER_EVENT, "from", "to", "direction"), ("from", "to", "direction"),
     "missing required field(s) from, to, direction"),
    ("twilio-answer-given-gather", lambda e: v2_answer_to_twilio(e, TWILIO), GATHER_EVENT, ("eventType",),
     "v2 answer → Twilio voice URL request: expected eventType 'answer', got eventType 'gather'"),
    ("v1-gather-missing", lambda e: v1_gather_to_v2(e), {"eventType": "gather", "digits": "12"},
     ("callId", "time"), "v1 gather → v2 gather: missing required field(s) callId, time"),
    ("v1-gather-state", lambda e: v1_gather_to_v2(e),
     {"eventType": "gather", "state": "started", "callId": "c-1", "time": "2014-07-31T01:01:27Z"}, ("state",),
     "a gather event has state 'completed', got 'started'"),
    ("v1-dtmf-missing", lambda e: v1_dtmf_to_v2(e), {"eventType": "dtmf", "callId": "c-1"},
     ("time", "dtmfDigit"), "v1 dtmf → v2 dtmf: missing required field(s) time, dtmfDigit"),
]


@pytest.mark.parametrize("function, payload, fields, message", [case[1:] for case in BAD_PAYLOADS],
                         ids=[case[0] for case in BAD_PAYLOADS])
def test_bad_payload_names_the_fields(function, payload, fields, message):
    error = _error(lambda: function(payload))
    assert isinstance(error, ValueError)
    assert sorted(error.fields) == sorted(fields)
    assert message in str(error)
    assert error.code == "BXM501"
    assert error.diagnostic.code == "BXM501"


def test_v1_gather_hung_up_has_no_v2_gather():
    event = {"eventType": "gather", "state": "completed", "reason": "hung-up", "digits": "", "callId": "c-1",
             "time": "2014-07-31T01:01:27Z"}
    error = _error(lambda: v1_gather_to_v2(event))
    assert (error.fields, error.code) == (("reason",), "BXM502")


@pytest.mark.parametrize("event_type, rewrite", [
    ("redirect", lambda e: v2_to_v1_events(e, V1)),
    ("transferComplete", lambda e: v2_to_v1_events(e, V1)),
    ("dtmf", lambda e: v2_to_twilio_params(e, TWILIO)),
    ("recordComplete", lambda e: v2_to_twilio_params(e, TWILIO)),
    ("speak", lambda e: v1_to_v2_event(e)),
])
def test_events_without_a_counterpart(event_type, rewrite):
    error = _error(lambda: rewrite({"eventType": event_type, "callId": "c-1"}))
    assert (error.fields, error.code) == (("eventType",), "BXM502")
    assert f"a {event_type!r} event has no" in str(error)


@pytest.mark.parametrize("payload, fields", [([], ("(event)",)), ({}, ("eventType",)), ({"eventType": 5},
                                                                                          ("eventType",))])
def test_dispatchers_name_the_bad_part(payload, fields):
    assert _error(lambda: v2_to_v1_events(payload, V1)).fields == fields
    assert _error(lambda: v2_to_twilio_params(payload, TWILIO)).fields == fields


@pytest.mark.parametrize("context, field", [({"maxDigits": "five"}, "context.maxDigits"),
                                            ({"bogus": 1}, "context.bogus"), ("menu", "context.(context)")])
def test_invalid_context_is_bxm505(context, field):
    error = _error(lambda: v2_to_v1_events(GATHER_EVENT, V1, context))
    assert (error.fields, error.code) == ((field,), "BXM505")
    assert gather_context(None) is None
    assert gather_context(GatherContext(tag="x")) == GatherContext(tag="x")


# -- unknown fields: kept where the target allows, dropped otherwise, never a crash -------------------


def test_unknown_fields_are_dropped_for_v1_and_twilio_and_reported():
    event = _event(sipCallId="abc", bwExperimental={"a": 1})
    for rewrite in (v2_to_v1_events(event, V1, {"gatherId": "gtr-1"}), v2_to_twilio_params(event, TWILIO)):
        assert not {"sipCallId", "bwExperimental"} & set(rewrite.events[0])
        (dropped,) = [d for d in rewrite.diagnostics if d.code == "BXM504"]
        assert dropped.message.endswith("sipCallId, bwExperimental")


def test_known_v2_only_fields_are_dropped_silently():
    rewrite = v2_to_v1_events(_event(enqueuedTime="2019-06-20T15:53:22.681Z", tag="t"), V1, {"gatherId": "gtr-1"})
    assert rewrite.diagnostics == []
    assert not {"accountId", "applicationId", "startTime", "answerTime", "enqueuedTime", "callUrl", "direction",
                "from", "to"} & set(rewrite.events[0])


def test_unknown_v1_fields_are_kept_in_v2():
    event = {"eventType": "gather", "state": "completed", "reason": "max-digits", "digits": "1", "callId": "c-1",
             "time": "2014-07-31T01:01:27Z", "gatherId": "gtr-1", "customerRef": "A-1"}
    assert v1_gather_to_v2(event) == {"eventType": "gather", "eventTime": "2014-07-31T01:01:27Z", "callId": "c-1",
                                      "digits": "1", "terminatingDigit": "", "customerRef": "A-1"}


JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8)
JSON_VALUES = st.recursive(JSON_SCALARS, lambda inner: st.lists(inner, max_size=3)
                           | st.dictionaries(st.text(max_size=5), inner, max_size=3), max_leaves=6)
FIELD_NAMES = st.sampled_from(sorted({name for fields in V2_EVENT_FIELDS.values() for name in fields}
                                     | {"reason", "state", "time", "dtmfDigit", "x"}))
EVENT_TYPES = st.sampled_from(["gather", "dtmf", "initiate", "answer", "disconnect", "redirect"])
PAYLOADS = st.builds(lambda event_type, fields: {**fields, "eventType": event_type}, EVENT_TYPES,
                     st.dictionaries(FIELD_NAMES, JSON_VALUES, max_size=12)) | JSON_VALUES


@settings(max_examples=300, deadline=None)
@given(PAYLOADS, st.sampled_from([None, {"maxDigits": 3, "gatherId": "gtr-1"}]))
def test_arbitrary_payloads_either_rewrite_or_raise_callback_schema_error(payload, context):
    for rewrite in (lambda: v2_to_v1_events(payload, V1, context), lambda: v2_to_twilio_params(payload, TWILIO),
                    lambda: v1_to_v2_event(payload, context)):
        try:
            result = rewrite()
        except CallbackSchemaError as exc:
            assert exc.fields
            continue
        json.dumps(result.events)


# -- round trips: v2 -> v1 -> v2 loses nothing both schemas carry ------------------------------------


def _round_trip_cases() -> list[str]:
    return [name for name in V2_CASES
            if _case("v2", name)["event"]["eventType"] in ("gather", "dtmf") and "error" not in _case("v2", name)["v1"]]


def _call_fields(event: dict[str, Any]) -> dict[str, Any]:
    return {name: event[name] for name in V2_CALL_FIELDS if name in event}


# The fields v1 and v2 gather/dtmf events both carry (``time`` is v2's ``eventTime``, ``dtmfDigit`` v2's ``digit``).
SHARED = ("eventType", "eventTime", "callId", "digits", "terminatingDigit", "digit", "tag")


def _expected_back(event: dict[str, Any], context: GatherContext | None) -> dict[str, Any]:
    """What v2 -> v1 -> v2 returns by design: the shared fields and the call fields (``call``); nothing
    v1 lacks (the speech ``text``, unknown fields), absent/null digits read as "", and a gather's tag is
    the v1 gather's own tag (the context's), not the sticky v2 tag."""
    back = {name: value for name, value in event.items()
            if (name in SHARED or name in V2_CALL_FIELDS) and value is not None}
    if event["eventType"] == "gather":
        back["digits"] = event.get("digits") or ""
        back["terminatingDigit"] = event.get("terminatingDigit") or ""
        back.pop("tag", None)
        if context is not None and context.tag is not None:
            back["tag"] = context.tag
    return back


@pytest.mark.parametrize("name", _round_trip_cases())
def test_v2_v1_v2_round_trip(name):
    case = _case("v2", name)
    event = case["event"]
    context = gather_context(case.get("context"))
    v1_event = v2_to_v1_events(event, V1, context).events[0]
    back = v1_to_v2_event(v1_event, context, call=_call_fields(event)).events[0]
    assert DeepDiff(back, _expected_back(event, context)) == {}


@pytest.mark.parametrize("name", _round_trip_cases())
def test_round_trip_without_call_fields_keeps_every_shared_field(name):
    case = _case("v2", name)
    event, context = case["event"], gather_context(case.get("context"))
    back = v1_to_v2_event(v2_to_v1_events(event, V1, context).events[0], context).events[0]
    expected = _expected_back(event, context)
    assert DeepDiff({k: back.get(k) for k in SHARED}, {k: expected.get(k) for k in SHARED}) == {}


@pytest.mark.parametrize("terminating", ["#", "*", "0"])
def test_round_trip_keeps_which_terminator_ended_the_gather(terminating):
    context = GatherContext(terminating_digits="#*0", tag="menu-1")
    event = _event(terminatingDigit=terminating, tag="menu-1")
    back = v1_gather_to_v2(v2_gather_to_v1(event, V1, context), context.to_dict(), call=_call_fields(event))
    assert DeepDiff(back, event) == {}


def test_v1_v2_v1_round_trip_of_the_spec_gather_event():
    case = _case("v1", "spec-gather-max-digits")
    v1_event = case["event"]
    context = GatherContext(max_digits=2, tag=v1_event["tag"], gather_id=v1_event["gatherId"])
    v2_event = v1_gather_to_v2(v1_event, context, call=case["call"])
    again = v2_gather_to_v1(v2_event, V1, context)
    assert DeepDiff(again, {**v1_event, "callUri": V1.call_uri(v1_event["callId"])}) == {}


@pytest.mark.parametrize("event, context, terminating", [
    ({"reason": "terminating-digit", "terminatingDigit": "*"}, None, "*"),
    ({"reason": "terminating-digit"}, None, "#"),
    ({"reason": "terminating-digit"}, GatherContext(terminating_digits="9"), "9"),
    ({"reason": "terminating-digit"}, GatherContext(terminating_digits="*#"), "*"),
    ({"reason": "max-digits"}, GatherContext(terminating_digits="*"), ""),
    ({"reason": "inter-digit-timeout"}, None, ""),
])
def test_v1_terminating_digit_to_v2(event, context, terminating):
    base = {"eventType": "gather", "state": "completed", "digits": "12", "callId": "c-1",
            "time": "2014-07-31T01:01:27Z"}
    assert v1_gather_to_v2({**base, **event}, context)["terminatingDigit"] == terminating


@pytest.mark.parametrize("call, fields", [({"accountId": 5}, ("call.accountId",)),
                                          ({"bogus": "x"}, ("call.bogus",)), (["x"], ("call",))])
def test_call_fields_are_checked(call, fields):
    event = {"eventType": "dtmf", "callId": "c-1", "dtmfDigit": "1", "time": "2014-07-31T01:01:27Z"}
    assert _error(lambda: v1_dtmf_to_v2(event, call=call)).fields == fields


# -- the tables are data, and the docstrings list every field -------------------------------------------

DOCUMENTED = [
    (v2_gather_to_v1, v2_to_v1.GATHER), (v2_disconnect_to_v1_gather, v2_to_v1.GATHER_HUNG_UP),
    (v2_dtmf_to_v1, v2_to_v1.DTMF), (v2_initiate_to_v1, v2_to_v1.INCOMING_CALL), (v2_answer_to_v1, v2_to_v1.ANSWER),
    (v2_disconnect_to_v1_timeout, v2_to_v1.TIMEOUT), (v2_disconnect_to_v1, v2_to_v1.HANGUP),
    (v2_gather_to_twilio, v2_to_twilio.GATHER), (v2_initiate_to_twilio, v2_to_twilio.INITIATE),
    (v2_answer_to_twilio, v2_to_twilio.ANSWER), (v2_disconnect_to_twilio, v2_to_twilio.DISCONNECT),
    (v1_gather_to_v2, v1_to_v2.GATHER), (v1_dtmf_to_v2, v1_to_v2.DTMF),
]


@pytest.mark.parametrize("function, event_map", DOCUMENTED, ids=[f.__name__ for f, _ in DOCUMENTED])
def test_docstring_lists_every_target_field(function, event_map):
    doc = inspect.getdoc(function)
    for item in event_map.fields:
        assert f"``{item.target}``" in doc, f"{function.__name__} does not document {item.target}"


def test_every_table_is_documented_and_registered():
    assert sorted(m.name for _, m in DOCUMENTED) == sorted(m.name for m in tables.ALL_MAPS)
    page = documentation_table()
    for event_map in tables.ALL_MAPS:
        assert f"#### {event_map.name}" in page
        for item in event_map.fields:
            assert f"| `{item.target}` |" in page


def test_callback_codes_are_registered():
    codes = [code for code in RULES if code.startswith("BXM5")]
    assert codes == [f"BXM50{n}" for n in range(1, 7)]
    assert all(RULES[code].name.startswith("callback-") for code in codes)
