"""The Flask application factory of the translation proxy.

``create_app(config)`` builds the runtime (state store, API clients, outbox worker) and
registers one blueprint per face: ``catapult_bandwidth`` (v2 webhooks of Catapult mode),
``catapult_rest`` (the v1 REST API the legacy app calls) and ``ops`` (health, readiness).
Configuration is never read at import time: ``create_app`` takes a ``Config`` or loads one.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Mapping
from http import HTTPStatus
from typing import Any

from flask import Flask, Response, g, has_request_context, json, request
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from adapter import catapult_bandwidth, catapult_rest, ops, twiml_mode, v1_errors
from adapter.config import Config, load_config
from adapter.json_logs import REQUEST_CONTEXT
from adapter.metrics import Timer
from adapter.runtime import Runtime, build_runtime, init_app
from adapter.store import Store, StoreUnavailable
from translators.callbacks import CallbackSchemaError

log = logging.getLogger("bxml_migrate.adapter")


def create_app(config: Config | None = None, *, overrides: Mapping[str, Any] | None = None,
               store: Store | None = None, start_worker: bool = True) -> Flask:
    """Build the proxy.  ``config`` defaults to ``load_config(overrides=overrides)`` (file-less)."""
    if config is None:
        config = load_config(env={}, overrides=overrides)
    app = Flask("bxml_migrate")
    app.config["MAX_CONTENT_LENGTH"] = config.server.max_request_bytes
    rt = build_runtime(config, store=store, start_worker=start_worker)
    init_app(app, rt)
    _instrument(app, rt)
    app.register_blueprint(ops.bp)
    app.register_blueprint(catapult_bandwidth.bp)
    app.register_blueprint(catapult_rest.bp)
    app.register_blueprint(twiml_mode.bp)

    @app.errorhandler(CallbackSchemaError)
    def _bad_event(error: CallbackSchemaError) -> Response:
        return _error(400, f"malformed event: {error}")

    @app.errorhandler(StoreUnavailable)
    def _store_down(error: StoreUnavailable) -> Response:
        log.error("state store unavailable: %s", error)
        return _error(503, "state store unavailable")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException) -> Response:
        return _error(error.code or 500, error.description or error.name)

    @app.before_request
    def _limit_streamed_body() -> None:
        """A body without Content-Length (chunked) over the limit is a 413 as well; Werkzeug would
        otherwise cut it short at ``max_request_bytes`` without a word."""
        if request.content_length is None and request.environ.get("wsgi.input_terminated"):
            limit = config.server.max_request_bytes
            data = request.environ["wsgi.input"].read(limit + 1)
            if len(data) > limit:
                raise RequestEntityTooLarge()
            request.environ["wsgi.input"] = io.BytesIO(data)
            request.environ["CONTENT_LENGTH"] = str(len(data))

    return app


def _instrument(app: Flask, rt: Runtime) -> None:
    """Per request: JSON-log context (route, call id, gather id), latency and status metrics."""

    # Each ``request.x`` / ``g.x`` goes through a context-local proxy lookup: these hooks run on
    # every request, so they resolve each proxy once.
    @app.before_request
    def _start() -> None:
        req = request._get_current_object()  # type: ignore[attr-defined]
        state = g._get_current_object()  # type: ignore[attr-defined]
        state.bxml_timer = Timer()
        args = req.view_args or {}
        rule = req.url_rule
        state.bxml_route = route = rule.rule if rule is not None else "(unmatched)"
        state.bxml_context = REQUEST_CONTEXT.set({"route": route, "callId": args.get("call_id", ""),
                                                  "gatherId": args.get("gather_id", "")})

    @app.after_request
    def _finish(response: Response) -> Response:
        state = g._get_current_object()  # type: ignore[attr-defined]
        held = state.pop("bxml_held_items", None)
        if held:  # events queued by this request go out once the response has been sent
            response.call_on_close(lambda items=dict(held): _release(rt, items))
        timer = getattr(state, "bxml_timer", None)
        if timer is not None:
            route, method, status = state.bxml_route, request.method, response.status_code
            seconds = timer.elapsed()
            rt.metrics.observe_request(route, method, status, seconds)
            log.info("%s %s %s", method, route, status,
                     extra={"status": status, "duration_ms": round(seconds * 1000, 2), "method": method})
        return response

    @app.teardown_request
    def _reset(_: BaseException | None) -> None:
        state = g._get_current_object()  # type: ignore[attr-defined]
        token = getattr(state, "bxml_context", None)
        if token is not None:
            REQUEST_CONTEXT.reset(token)
            state.bxml_context = None


def _release(rt: Runtime, items: dict[str, list[str]]) -> None:
    for call_id, item_ids in items.items():
        rt.outbox.release(call_id, item_ids)


def _error(status: int, message: str) -> Response:
    """``{"error": message}``; under ``/v1/`` (the legacy app's REST API) the v1 error shape."""
    if has_request_context() and request.path.startswith("/v1/"):
        try:
            slug = HTTPStatus(status).phrase.lower().replace(" ", "-")
        except ValueError:
            slug = "error"
        return v1_errors.response(v1_errors.V1Error(status, slug, slug, message))
    return Response(json.dumps({"error": message}), status=status, content_type="application/json")


def runtime_of(app: Flask) -> Runtime:
    return app.extensions["bxml_migrate"]


def close_app(app: Flask) -> None:
    """Stop the outbox worker (in-flight deliveries finish) and close connections."""
    runtime_of(app).close()
