"""A TwiML app for end-to-end tests: real Flask on loopback, validating ``X-Twilio-Signature``.

Like a production Twilio app, it checks every request with the Twilio helper library's own
``RequestValidator`` (``request.url`` and ``request.form``) and answers 403 when the signature
is wrong.  Routes map a path to TwiML text or to a function of the recorded request; every
request is recorded (method, path, parameters, whether the signature was valid).

``IVR`` installs a multi-step menu: ``/ivr/voice`` (main menu, POST, relative action) ->
``/ivr/menu`` (POST) -> nested menu with a GET action by absolute path with a query, followed by
an absolute ``<Redirect>`` back to the main menu -> ``/ivr/account`` (GET) -> relative GET
``<Redirect>`` -> ``/ivr/goodbye`` -> ``<Hangup/>``.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from flask import Flask, Response, request
from twilio.request_validator import RequestValidator

from tests.proxy_harness import AUTH_TOKEN


@dataclass(frozen=True)
class Seen:
    """One request the app received."""

    method: str
    path: str
    url: str
    params: dict[str, str]  # form (POST) or query (GET)
    signature_valid: bool
    headers: dict[str, str] = field(default_factory=dict)


Handler = Callable[[Seen], Any]  # -> TwiML text, or a flask Response


def twiml(body: str) -> Response:
    return Response('<?xml version="1.0" encoding="UTF-8"?>\n' + body, status=200, content_type="text/xml")


class TwimlApp:
    def __init__(self, auth_token: str = AUTH_TOKEN) -> None:
        self.validator = RequestValidator(auth_token)
        self.url = ""  # set once served
        self.seen: list[Seen] = []
        self.routes: dict[str, Handler] = {}
        self.unchecked: set[str] = set()  # paths that record a bad signature but do not refuse it
        self.status_paths = {"/ivr/status"}
        self.lock = threading.Lock()
        self.flask = Flask("fake-twiml-app")
        self.flask.add_url_rule("/<path:path>", "any", self._handle, methods=["GET", "POST"])

    def route(self, path: str, answer: str | Handler) -> None:
        """Serve ``answer`` at ``path``: TwiML text (a ``<Response>`` body) or a handler."""
        self.routes[path] = answer if callable(answer) else (lambda _seen, text=answer: text)

    def _handle(self, path: str) -> Any:
        params = request.form.to_dict() if request.method == "POST" else request.args.to_dict()
        valid = self.validator.validate(request.url, request.form,
                                        request.headers.get("X-Twilio-Signature", ""))
        seen = Seen(request.method, "/" + path, request.url, params, valid, dict(request.headers))
        with self.lock:
            self.seen.append(seen)
        if not valid and seen.path not in self.unchecked:
            return Response("invalid signature", status=403)
        handler = self.routes.get("/" + path)
        if handler is None:
            return Response("no such route", status=404)
        result = handler(seen)
        return twiml(result) if isinstance(result, str) else result

    def requests_to(self, path: str) -> list[Seen]:
        with self.lock:
            return [s for s in self.seen if s.path == path]

    def paths(self) -> list[str]:
        """``METHOD /path`` of every voice request (status callbacks, which arrive later, left out)."""
        with self.lock:
            return [f"{s.method} {s.path}" for s in self.seen if s.path not in self.status_paths]


def install_ivr(app: TwimlApp) -> None:
    app.route("/ivr/voice", """<Response>
  <Gather numDigits="1" action="menu" timeout="3">
    <Say>Welcome. Press 1 for accounts.</Say>
  </Gather>
  <Say>We did not receive any input. Goodbye.</Say>
</Response>""")

    def menu(seen: Seen) -> str:
        if seen.params.get("Digits") != "1":
            return "<Response><Say>Unknown option.</Say><Redirect>voice</Redirect></Response>"
        return f"""<Response>
  <Gather action="/ivr/account?dept=accounts" method="GET" finishOnKey="#" timeout="3">
    <Say>Enter your account number, then press pound.</Say>
  </Gather>
  <Redirect method="POST">{app.url}/ivr/voice</Redirect>
</Response>"""

    app.route("/ivr/menu", menu)
    app.route("/ivr/account", lambda seen: f"""<Response>
  <Say>Account {escape(seen.params.get("Digits", ""))} found.</Say>
  <Redirect method="GET">goodbye</Redirect>
</Response>""")
    app.route("/ivr/goodbye", "<Response><Say>Goodbye.</Say><Hangup/></Response>")
    app.route("/ivr/status", lambda seen: Response("", status=204))


def slow(seconds: float, body: str) -> Handler:
    def handler(_seen: Seen) -> str:
        time.sleep(seconds)
        return body
    return handler
