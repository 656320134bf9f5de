"""BandwidthApi against a scripted fake Bandwidth on loopback: retries, Retry-After, error mapping."""

import threading
import time

import pytest
from flask import Flask, Response, request

from adapter.bandwidth_api import (
    BandwidthApi,
    BandwidthRejected,
    BandwidthUnavailable,
    CallConflict,
    CallNotFound,
    retry_after_seconds,
)
from tests.loopback import serve


class Script:
    """Answers queued per test: (status, headers, body) or ("hang", seconds)."""

    def __init__(self):
        self.answers = []
        self.seen = []
        self.lock = threading.Lock()

    def next(self):
        with self.lock:
            self.seen.append((request.method, request.path, request.headers.get("Content-Type"),
                              request.get_data(as_text=True), request.authorization))
            return self.answers.pop(0) if self.answers else (204, {}, "")


@pytest.fixture(scope="module")
def fake():
    script = Script()
    app = Flask("fake-bandwidth")

    @app.route("/api/v2/accounts/<account>/calls", methods=["POST"])
    @app.route("/api/v2/accounts/<account>/calls/<call>", methods=["GET", "POST"])
    @app.route("/api/v2/accounts/<account>/calls/<call>/bxml", methods=["PUT"])
    def any_call(account, call=None):
        answer = script.next()
        if answer[0] == "hang":
            time.sleep(answer[1])
            return Response(status=204)
        status, headers, body = answer
        return Response(body, status=status, headers=headers,
                        content_type="application/json" if body.startswith("{") else "text/plain")

    with serve(app) as server:
        yield server, script


@pytest.fixture
def api(fake):
    server, script = fake
    script.answers.clear()
    script.seen.clear()
    sleeps = []
    client = BandwidthApi(server.url + "/api/v2", "5555", "user", "pw", timeout=0.5, retry_budget=3,
                          backoff=0.01, sleep=lambda s: (sleeps.append(s), time.sleep(min(s, 0.05))))
    yield client, script, sleeps
    client.close()


ERR = '{"type": "validation", "description": "Call [c-1] cannot be modified in its current state", "id": null}'


def test_put_bxml_sends_xml_with_basic_auth(api):
    client, script, _ = api
    client.update_bxml("c-1", "<Bxml><Hangup/></Bxml>")
    method, path, ctype, body, auth = script.seen[0]
    assert (method, path, body) == ("PUT", "/api/v2/accounts/5555/calls/c-1/bxml", "<Bxml><Hangup/></Bxml>")
    assert ctype.startswith("application/xml") and (auth.username, auth.password) == ("user", "pw")


def test_429_honours_retry_after_then_succeeds(api):
    client, script, sleeps = api
    script.answers += [(429, {"Retry-After": "2"}, '{"type":"error","description":"rate"}'), (204, {}, "")]
    client.update_call("c-1", {"state": "completed"})
    assert sleeps == [2.0] and len(script.seen) == 2


def test_retry_after_beyond_budget_gives_up_at_once(api):
    client, script, sleeps = api
    script.answers += [(429, {"Retry-After": "30"}, '{"type":"error","description":"Account concurrent call '
                        'limit exceeded"}')]
    with pytest.raises(BandwidthUnavailable, match="concurrent call limit") as info:
        client.update_bxml("c-1", "<Bxml/>")
    assert info.value.status == 429 and sleeps == [] and len(script.seen) == 1


def test_500_retried_with_backoff_for_idempotent_requests(api):
    client, script, sleeps = api
    script.answers += [(500, {}, '{"type":"internal-error","description":"x"}')] * 2 + [(204, {}, "")]
    client.update_bxml("c-1", "<Bxml/>")
    assert sleeps == [0.01, 0.02] and len(script.seen) == 3


def test_persistent_503_becomes_unavailable_after_max_attempts(api):
    client, script, _ = api
    script.answers += [(503, {}, '{"type":"system-overloaded","description":"busy"}')] * 6
    with pytest.raises(BandwidthUnavailable):
        client.update_call("c-1", {"state": "completed"})
    assert len(script.seen) == 4


def test_create_call_not_retried_on_500(api):
    client, script, _ = api
    script.answers += [(500, {}, '{"type":"internal-error","description":"x"}'), (201, {}, '{"callId":"c-9"}')]
    with pytest.raises(BandwidthUnavailable):
        client.create_call({"to": "+1", "from": "+2", "applicationId": "a", "answerUrl": "https://p/a"})
    assert len(script.seen) == 1


def test_create_call_returns_body(api):
    client, script, _ = api
    script.answers += [(201, {"Location": "x"}, '{"callId":"c-9","to":"+1"}')]
    assert client.create_call({"to": "+1"})["callId"] == "c-9"


def test_timeout_retried_then_unavailable(api):
    client, script, _ = api
    script.answers += [("hang", 1.0)] * 5
    started = time.monotonic()
    with pytest.raises(BandwidthUnavailable, match="Timeout"):
        client.update_bxml("c-1", "<Bxml/>")
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("status,exc", [(404, CallNotFound), (409, CallConflict), (400, BandwidthRejected),
                                        (401, BandwidthRejected)])
def test_error_mapping(api, status, exc):
    client, script, _ = api
    script.answers += [(status, {}, ERR)]
    with pytest.raises(exc) as info:
        client.update_call("c-1", {"state": "completed"})
    assert info.value.status == status and "cannot be modified" in info.value.description
    assert len(script.seen) == 1


def test_retry_after_parsing():
    assert retry_after_seconds("3") == 3.0
    assert retry_after_seconds(None) is None and retry_after_seconds("soon") is None
    assert retry_after_seconds("Wed, 21 Oct 2015 07:28:10 GMT", now=1445412480.0) == 10.0
