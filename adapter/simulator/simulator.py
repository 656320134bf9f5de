"""``BandwidthSimulator``: the front door.  Starts the REST server, creates calls, runs their engines,
and gives tests the records and waiting helpers."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable, Mapping
from typing import Any, Literal, TypeVar

from adapter.simulator.call import Callee, Interrupt, SimulatedCall
from adapter.simulator.caller import CallerScript, ScriptLike, normalize_script
from adapter.simulator.config import SimulatorConfig
from adapter.simulator.delivery import Credentials, Target, credentials
from adapter.simulator.engine import CallEngine
from adapter.simulator.events import EVENT_SHAPES
from adapter.simulator.faults import Fault, FaultInjector
from adapter.simulator.ids import new_call_id, utc_now
from adapter.simulator.journal import Journal
from adapter.simulator.records import DocumentRecord, LogLine, RestRecord, VerbRecord, WebhookRecord
from adapter.simulator.rest import RestApi
from adapter.simulator.server import RestServer

T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class _CalleeRule:
    callee: Callee
    script: ScriptLike | None


class BandwidthSimulator:
    """A fake Bandwidth Voice API v2 on loopback.  Use as a context manager::

        with BandwidthSimulator(time_scale=0.01) as sim:
            call = sim.inbound_call("+15551112222", "+15553334444", initiate_url=app_url, keys="12#")
            call.wait_until_ended()

    Settings are the fields of ``SimulatorConfig``, given as a config object, keywords, or both.
    """

    def __init__(self, config: SimulatorConfig | None = None, /, **changes: Any) -> None:
        self.config = dataclasses.replace(config or SimulatorConfig(), **changes)
        if self.config.time_scale < 0:
            raise ValueError("time_scale must be >= 0")
        self.journal = Journal()
        self.faults = FaultInjector()
        self._lock = threading.Lock()
        self._calls: dict[str, SimulatedCall] = {}
        self._engines: dict[str, CallEngine] = {}
        self._callees: dict[str | None, _CalleeRule] = {None: _CalleeRule(Callee(), None)}
        self._server: RestServer | None = None

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> BandwidthSimulator:
        if self._server is None:
            server = RestServer(RestApi(self), self.config.host, self.config.port, self.config.max_request_bytes)
            server.start()
            self._server = server
        return self

    def stop(self) -> None:
        """End every call quietly (no disconnect events) and stop the server."""
        with self._lock:
            calls, engines = list(self._calls.values()), list(self._engines.values())
        for call in calls:
            call.interrupt(Interrupt("shutdown"))
        for engine in engines:
            engine.join(2.0)
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> BandwidthSimulator:
        return self.start()

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    # --- addresses -------------------------------------------------------------------------

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` of the running server."""
        if self._server is None:
            raise RuntimeError("the simulator is not started")
        host = self.config.host if ":" not in self.config.host else f"[{self.config.host}]"
        return f"http://{host}:{self._server.port}"

    @property
    def api_url(self) -> str:
        """What a client uses as ``api_url``, e.g. ``http://127.0.0.1:PORT/api/v2``."""
        return self.base_url + self.config.base_path.rstrip("/")

    @property
    def account_url(self) -> str:
        return f"{self.api_url}/accounts/{self.config.account_id}"

    @property
    def auth(self) -> tuple[str, str]:
        """The REST API credentials, ready for ``requests``."""
        return self.config.username, self.config.password

    # --- calls -----------------------------------------------------------------------------

    def inbound_call(self, from_: str, to: str, *, initiate_url: str, initiate_method: str = "POST",
                     initiate_fallback_url: str | None = None, initiate_fallback_method: str = "POST",
                     disconnect_url: str | None = None, disconnect_method: str = "POST",
                     keys: ScriptLike | None = None, username: str | None = None, password: str | None = None,
                     application_id: str | None = None,
                     initiate_fields: Mapping[str, Any] | None = None) -> SimulatedCall:
        """Someone calls ``to`` from ``from_``: the ``initiate`` event goes to ``initiate_url`` (the
        application's CallInitiatedCallbackUrl) and its BXML runs; ``disconnect`` goes to
        ``disconnect_url`` (CallStatusCallbackUrl).  ``username``/``password`` are the application's
        callback credentials (default: ``callback_username``/``callback_password`` of the config).
        ``keys`` is the caller's script (see ``adapter.simulator.caller``).  ``initiate_fields`` may
        add ``diversion``, ``stirShaken`` or ``uui`` to the initiate event."""
        extra = dict(initiate_fields or {})
        unknown = set(extra) - EVENT_SHAPES["initiate"].fields
        if unknown:
            raise ValueError(f"initiate events have no field(s) {sorted(unknown)}")
        creds = credentials(username, password) or self._app_credentials()
        call_id = new_call_id()
        call = SimulatedCall(
            self.journal, call_id=call_id, call_url=self._call_url(call_id), direction="inbound", from_=from_,
            to=to, account_id=self.config.account_id, application_id=application_id or self.config.application_id,
            start_time=utc_now(),
            first_target=Target(initiate_url, initiate_method, creds, initiate_fallback_url,
                                initiate_fallback_method, creds),
            disconnect_target=Target(disconnect_url, disconnect_method, creds) if disconnect_url else None,
            tag=None, callback_timeout=self.config.callback_timeout, call_timeout=30.0, initiate_fields=extra)
        self._launch(call, keys)
        return call

    def on_outbound_call(self, to: str | None = None, *,
                         outcome: Literal["answer", "busy", "no-answer", "reject"] = "answer",
                         ring_seconds: float = 0.0, keys: ScriptLike | None = None) -> None:
        """How the far end behaves on calls created through the REST API (to ``to``, or any number
        when ``to`` is None); ``keys`` is that person's script, counted from call creation."""
        normalize_script(keys, key_gap=self.config.key_gap)  # fail early on a bad script
        with self._lock:
            self._callees[to] = _CalleeRule(Callee(outcome, ring_seconds), keys)

    def create_outbound_call(self, body: Mapping[str, Any]) -> SimulatedCall:
        """Used by ``POST .../calls`` with a validated body."""
        with self._lock:
            rule = self._callees.get(body["to"]) or self._callees[None]
        app_creds = self._app_credentials() if self.config.app_credentials_for_all_callbacks else None
        creds = credentials(body.get("username"), body.get("password")) or app_creds
        fallback_creds = credentials(body.get("fallbackUsername"), body.get("fallbackPassword")) or app_creds
        call_id = new_call_id()
        now = utc_now()
        disconnect_url = body.get("disconnectUrl")
        call = SimulatedCall(
            self.journal, call_id=call_id, call_url=self._call_url(call_id), direction="outbound",
            from_=body["from"], to=body["to"], account_id=self.config.account_id,
            application_id=body["applicationId"], start_time=now, enqueued_time=now,
            first_target=Target(body["answerUrl"], body.get("answerMethod", "POST"), creds,
                                body.get("answerFallbackUrl"), body.get("answerFallbackMethod", "POST"),
                                fallback_creds),
            disconnect_target=Target(disconnect_url, body.get("disconnectMethod", "POST"), creds)
            if disconnect_url else None,
            tag=body.get("tag") or None, callback_timeout=float(body.get("callbackTimeout",
                                                                         self.config.callback_timeout)),
            call_timeout=float(body.get("callTimeout", 30)), callee=rule.callee)
        self._launch(call, rule.script)
        return call

    def _launch(self, call: SimulatedCall, keys: ScriptLike | None) -> None:
        script = CallerScript(normalize_script(keys, key_gap=self.config.key_gap))
        engine = CallEngine(call, script, self.config, self.journal, self._app_credentials())
        with self._lock:
            if self._server is None:
                raise RuntimeError("the simulator is not started")
            self._calls[call.call_id] = call
            self._engines[call.call_id] = engine
        self.journal.log(call.call_id, 0.0, f"{call.direction} call {call.from_} -> {call.to}")
        engine.start()

    def _call_url(self, call_id: str) -> str:
        return f"{self.account_url}/calls/{call_id}"

    def _app_credentials(self) -> Credentials | None:
        return credentials(self.config.callback_username, self.config.callback_password)

    @property
    def calls(self) -> list[SimulatedCall]:
        """Every call so far, in creation order."""
        with self._lock:
            return list(self._calls.values())

    def find_call(self, call_id: str) -> SimulatedCall | None:
        with self._lock:
            return self._calls.get(call_id)

    def wait_for_call(self, index: int = 0, timeout: float = 10.0) -> SimulatedCall:
        """The ``index``-th call (0 = first), once it exists (e.g. created by the app under test)."""
        def exists() -> SimulatedCall | None:
            calls = self.calls
            return calls[index] if len(calls) > index else None
        return self.wait_for(exists, timeout, f"call #{index}")

    # --- records and waiting ---------------------------------------------------------------

    def webhooks(self, event_type: str | None = None) -> list[WebhookRecord]:
        return [w for w in self.journal.snapshot(self.journal.webhooks)
                if event_type is None or w.event_type == event_type]

    def documents(self) -> list[DocumentRecord]:
        return self.journal.snapshot(self.journal.documents)

    def verbs(self) -> list[VerbRecord]:
        return self.journal.snapshot(self.journal.verbs)

    def rest_requests(self, operation: str | None = None) -> list[RestRecord]:
        return [r for r in self.journal.snapshot(self.journal.rest) if operation is None or r.operation == operation]

    def log(self) -> list[LogLine]:
        return self.journal.snapshot(self.journal.lines)

    def wait_for(self, predicate: Callable[[], T], timeout: float = 10.0, what: str = "condition") -> T:
        """Return the first truthy ``predicate()``, re-checked whenever anything changes;
        ``TimeoutError`` after ``timeout`` real seconds."""
        return self.journal.wait_for(predicate, timeout, what)

    # --- fault injection -------------------------------------------------------------------

    def fail_next(self, count: int = 1, *, status: int = 429, retry_after: int | None = None,
                  operation: str | None = None) -> None:
        """The next ``count`` REST requests (of ``operation``: createCall, getCall, updateCall,
        updateCallBxml, listCalls; None = any) get ``status`` and change nothing.  A 429 carries
        ``Retry-After`` (default 1 s)."""
        if status == 429 and retry_after is None:
            retry_after = 1
        self.faults.add(Fault("status", count, status=status, retry_after=retry_after, operation=operation))

    def hang_next(self, count: int = 1, *, seconds: float = 30.0, operation: str | None = None) -> None:
        """The next ``count`` REST requests get no answer: the connection is held ``seconds`` (or
        until the simulator stops), then closed."""
        self.faults.add(Fault("hang", count, seconds=seconds, operation=operation))

    def clear_faults(self) -> None:
        self.faults.clear()
