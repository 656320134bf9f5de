"""Real parts for proxy end-to-end tests: the proxy under a WSGI server, a fake v1 app, a v1 client.

Everything listens on 127.0.0.1.  The proxy's ``public_url`` is its own loopback URL, so the
Bandwidth simulator calls it back for real; ``egress.allow_private`` is on because the legacy
app is on loopback too.  Catapult mode is configured when a v1 app URL is given; TwiML mode
with ``**twiml_settings(app_url)``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests
from flask import Flask, request
from werkzeug.serving import make_server

from adapter.app import close_app, create_app, runtime_of
from adapter.config import load_config

USER_ID = "u-xa2n3oxk6it4efbglisna6a"
API_TOKEN = "t-proxytoken"
API_SECRET = "proxy-secret"
ACCOUNT_SID = "AC" + "0123456789abcdef" * 2
AUTH_TOKEN = "twiml-app-auth-token"


def twiml_settings(app_url: str, **more: Any) -> dict[str, Any]:
    """Overrides that configure TwiML mode for an app whose voice URL is ``app_url``
    (``more``: other ``twiml.*`` keys without the section, e.g. ``timeout=1.0``)."""
    settings: dict[str, Any] = {"twiml.app_url": app_url, "twiml.account_sid": ACCOUNT_SID,
                                "twiml.auth_token": AUTH_TOKEN}
    settings.update({f"twiml.{key}": value for key, value in more.items()})
    return settings


def proxy_settings(sim: Any, state_url: str, public_url: str, *, v1_events_url: str | None = None) -> dict[str, Any]:
    """Dotted-key settings for a proxy in front of the simulator ``sim`` (Catapult mode too when
    ``v1_events_url`` is given)."""
    settings: dict[str, Any] = {
        "server.public_url": public_url,
        "bandwidth.api_url": sim.api_url,
        "bandwidth.account_id": sim.config.account_id,
        "bandwidth.username": sim.auth[0],
        "bandwidth.password": sim.auth[1],
        "bandwidth.application_id": sim.config.application_id,
        "bandwidth.retry_budget": 3.0,
        "state.url": state_url,
        "egress.allow_private": True,
    }
    if v1_events_url is not None:
        settings.update({
            "catapult.user_id": USER_ID,
            "catapult.api_token": API_TOKEN,
            "catapult.api_secret": API_SECRET,
            "catapult.callback_url": v1_events_url,
            "catapult.event_timeout": 5.0,
        })
    return settings


class LateApp:
    """A WSGI app whose target is set after the server (and so its port) exists."""

    def __init__(self) -> None:
        self.target: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.target(environ, start_response)


class Proxy:
    def __init__(self, sim: Any, v1_app_url: str | None, state_url: str, **overrides: Any) -> None:
        self.late = LateApp()
        self.server = make_server("127.0.0.1", 0, self.late, threaded=True)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        settings = proxy_settings(sim, state_url, self.url, v1_events_url=v1_app_url and v1_app_url + "/events")
        settings.update(overrides)
        self.config = load_config(env={}, overrides=settings)
        self.app = create_app(self.config)
        self.late.target = self.app
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def runtime(self) -> Any:
        return runtime_of(self.app)

    def stop(self) -> None:
        close_app(self.app)  # outbox first: in-flight deliveries may still call the proxy back
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def running_proxy(sim: Any, v1_app_url: str | None, state_url: str, **overrides: Any) -> Iterator[Proxy]:
    """A proxy on a free 127.0.0.1 port; Catapult mode for ``v1_app_url`` (None: not configured)."""
    proxy = Proxy(sim, v1_app_url, state_url, **overrides)
    try:
        yield proxy
    finally:
        proxy.stop()


class V1App:
    """A legacy Catapult v1 app: records every event; ``on[eventType]`` reacts inside the handler."""

    def __init__(self) -> None:
        self.events: list[dict[str, Any]] = []
        self.on: dict[str, Callable[[dict[str, Any]], None]] = {}
        self.fail_next = 0
        self.lock = threading.Lock()
        self.flask = Flask("fake-v1-app")
        self.flask.add_url_rule("/events", "events", self._event, methods=["POST", "GET"])

    def _event(self) -> Any:
        event = request.get_json(force=True) if request.method == "POST" else request.args.to_dict()
        with self.lock:
            if self.fail_next:
                self.fail_next -= 1
                return "temporarily broken", 500
            self.events.append(event)
        reaction = self.on.get(event.get("eventType"))
        if reaction is not None:
            reaction(event)  # inline, as v1 apps did: the proxy must not deadlock on it
        return "", 200

    def of_type(self, event_type: str) -> list[dict[str, Any]]:
        with self.lock:
            return [e for e in self.events if e.get("eventType") == event_type]

    def types(self) -> list[str]:
        with self.lock:
            return [e["eventType"] for e in self.events]


class V1Client:
    """Requests shaped like Bandwidth's v1 Python client (all keys present, unset ones null)."""

    def __init__(self, base_url: str, *, token: str = API_TOKEN, secret: str = API_SECRET,
                 user_id: str = USER_ID) -> None:
        self.base = f"{base_url}/v1/users/{user_id}"
        self.session = requests.Session()
        self.session.auth = (token, secret)
        self.session.headers["User-Agent"] = "PythonSDK_test"

    def post(self, path: str, body: Any) -> requests.Response:
        return self.session.post(self.base + path, json=body, timeout=10)

    def get(self, path: str) -> requests.Response:
        return self.session.get(self.base + path, timeout=10)

    def create_call_gather(self, call_id: str, max_digits: Any = None, inter_digit_timeout: Any = None,
                           terminating_digits: Any = None, tag: Any = None, **kwargs: Any) -> requests.Response:
        body = {**kwargs, "maxDigits": max_digits, "interDigitTimeout": inter_digit_timeout,
                "terminatingDigits": terminating_digits, "tag": tag}
        return self.post(f"/calls/{call_id}/gather", body)

    def hangup_call(self, call_id: str) -> requests.Response:
        return self.post(f"/calls/{call_id}", {"state": "completed", "recordingEnabled": None,
                                               "recordingFileFormat": None, "transferTo": None,
                                               "transferCallerId": None, "whisperAudio": None,
                                               "callbackUrl": None})


def gather_id_of(response: requests.Response) -> str:
    assert response.status_code == 201, response.text
    return response.headers["Location"].rsplit("/", 1)[-1]


def wait_until(predicate: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll ``predicate`` until it returns something truthy (returned), or fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")
