"""Egress guard, Basic-auth challenge helpers and signed references, against real loopback servers."""

import base64

import pytest
from flask import Flask, Response, redirect, request

from adapter.basic_auth import challenge_headers, credentials_match, parse_basic
from adapter.egress import EgressDenied, EgressPolicy, EgressTimeout, GuardedClient, ResponseTooLarge
from adapter.signed_refs import BadReference, sign, verify
from tests.loopback import serve


def _app() -> Flask:
    app = Flask("egress-target")

    @app.route("/ok", methods=["GET", "POST"])
    def ok():
        return {"method": request.method, "form": request.form.to_dict(), "args": request.args.to_dict()}

    @app.route("/big")
    def big():
        return Response(b"x" * 2_000_000, mimetype="text/plain")

    @app.route("/stream-big")
    def stream_big():
        def gen():
            for _ in range(40):
                yield b"y" * 65536

        return Response(gen(), mimetype="text/plain")

    @app.route("/loop")
    def loop():
        return redirect("/loop")

    @app.route("/hop", methods=["GET", "POST"])
    def hop():
        return redirect(request.args["to"], code=int(request.args.get("code", 302)))

    return app


@pytest.fixture(scope="module")
def target():
    with serve(_app()) as server:
        yield server


def test_loopback_refused_without_allow_private_even_when_host_is_allowed(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"})))
    with pytest.raises(EgressDenied, match=r"non-public address 127\.0\.0\.1"):
        client.request("GET", target.url + "/ok")


def test_name_is_checked_on_the_connected_address_not_the_name(target):
    # "localhost" is an allowed *name*, but it resolves to loopback: refused.
    client = GuardedClient(EgressPolicy(frozenset({"localhost"})))
    with pytest.raises(EgressDenied, match="non-public"):
        client.request("GET", f"http://localhost:{target.port}/ok")


def test_allowed_host_with_allow_private_goes_through(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    reply = client.request("POST", target.url + "/ok", data={"Digits": "12"})
    assert reply.status == 200 and '"Digits":"12"' in reply.text.replace(" ", "")


def test_host_not_in_allowlist_is_refused_before_connecting(target):
    client = GuardedClient(EgressPolicy(frozenset({"example.com"}), allow_private=True))
    with pytest.raises(EgressDenied, match="not in the allowed hosts"):
        client.request("GET", target.url + "/ok")


@pytest.mark.parametrize("url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "/relative"])
def test_non_http_schemes_refused(url):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    with pytest.raises(EgressDenied, match="only http"):
        client.request("GET", url)


def test_redirect_within_allowed_hosts_is_followed_and_303_becomes_get(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    reply = client.request("POST", target.url + "/hop?to=/ok&code=303", data={"a": "1"})
    assert reply.status == 200 and '"method":"GET"' in reply.text.replace(" ", "")
    assert reply.redirects == [target.url + "/hop?to=/ok&code=303"]


def test_redirect_307_keeps_method(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    reply = client.request("POST", target.url + "/hop?to=/ok&code=307", data={"a": "1"})
    assert '"method":"POST"' in reply.text.replace(" ", "")


def test_redirect_to_other_host_is_refused(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    with pytest.raises(EgressDenied, match=r"evil\.example"):
        client.request("GET", target.url + "/hop?to=http://evil.example/x")


def test_credentials_do_not_follow_a_redirect_to_another_origin(target):
    seen = []
    other = Flask("other-origin")

    @other.route("/ok")
    def ok():
        seen.append(request.headers.get("Authorization"))
        return "ok"

    with serve(other) as second:
        client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
        hop = f"{target.url}/hop?to={second.url}/ok"
        assert client.request("GET", hop, auth=("user", "secret")).status == 200
        assert client.request("GET", hop, headers={"Authorization": "Basic abc"}).status == 200
    assert seen == [None, None]


def test_redirect_loop_is_bounded(target):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True), max_redirects=3)
    with pytest.raises(EgressDenied, match="more than 3 redirects"):
        client.request("GET", target.url + "/loop")


@pytest.mark.parametrize("path", ["/big", "/stream-big"])
def test_oversize_responses_refused(target, path):
    client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True))
    with pytest.raises(ResponseTooLarge):
        client.request("GET", target.url + path)


def test_timeout_is_enforced():
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the TCP connection, never answers
    try:
        client = GuardedClient(EgressPolicy(frozenset({"127.0.0.1"}), allow_private=True), timeout=0.3)
        with pytest.raises(EgressTimeout):
            client.request("GET", f"http://127.0.0.1:{listener.getsockname()[1]}/")
    finally:
        listener.close()


@pytest.mark.parametrize("address,allowed", [
    ("8.8.8.8", True), ("127.0.0.1", False), ("10.1.2.3", False), ("172.16.0.1", False),
    ("192.168.1.1", False), ("169.254.169.254", False), ("::1", False), ("fe80::1", False),
    ("::ffff:127.0.0.1", False), ("0.0.0.0", False), ("224.0.0.1", False), ("2001:4860:4860::8888", True),
])
def test_address_classes(address, allowed):
    policy = EgressPolicy(frozenset({"h"}))
    if allowed:
        policy.check_address(address, "h")
    else:
        with pytest.raises(EgressDenied):
            policy.check_address(address, "h")


def test_policy_for_urls_collects_hosts():
    policy = EgressPolicy.for_urls(["https://App.Example.com/voice", None], ["extra.example"])
    assert policy.allowed_hosts == {"app.example.com", "extra.example"}


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_basic_auth_helpers():
    assert parse_basic(_basic("bw", "p:w")) == ("bw", "p:w")
    assert credentials_match(_basic("bw", "secret"), "bw", "secret")
    assert not credentials_match(_basic("bw", "wrong"), "bw", "secret")
    assert not credentials_match(_basic("other", "secret"), "bw", "secret")
    for bad in (None, "", "Bearer x", "Basic !!!", "Basic " + base64.b64encode(b"nocolon").decode()):
        assert not credentials_match(bad, "bw", "secret")
    assert challenge_headers()["WWW-Authenticate"].startswith('Basic realm="')


def test_signed_reference_round_trip_and_tamper():
    key = b"k" * 32
    token = sign({"call": "c-1", "gather": "gtr-1", "kind": "gather"}, key, now=1000)
    assert verify(token, key, now=1000)["gather"] == "gtr-1"
    body, mac = token.split(".")
    forged_body = sign({"call": "c-2", "gather": "gtr-1", "kind": "gather"}, key, now=1000).split(".")[0]
    for bad in (forged_body + "." + mac, body + "." + mac[:-2] + "AA", "x", "a.b.c", ""):
        with pytest.raises(BadReference):
            verify(bad, key)
    with pytest.raises(BadReference, match="signature"):
        verify(token, b"other-key")
    with pytest.raises(BadReference, match="expired"):
        verify(token, key, max_age=60, now=1061)
    assert verify(token, key, max_age=60, now=1060)
