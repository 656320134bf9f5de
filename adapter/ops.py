"""Operations endpoints, no auth: ``/healthz`` (process up) and ``/readyz`` (ready for calls)."""

from __future__ import annotations

from flask import Blueprint, Response, json

from adapter.runtime import runtime
from adapter.store import StoreError

bp = Blueprint("ops", __name__)


def _json(data: dict, status: int = 200) -> Response:
    return Response(json.dumps(data), status=status, content_type="application/json")


@bp.get("/healthz")
def healthz() -> Response:
    return _json({"status": "ok"})


@bp.get("/metrics")
def metrics() -> Response:
    body, content_type = runtime().metrics.render()
    return Response(body, status=200, content_type=content_type)


@bp.get("/readyz")
def readyz() -> Response:
    rt = runtime()
    problems = []
    try:
        rt.store.ping()
    except StoreError as exc:
        problems.append(f"state store unreachable: {exc}")
    if not rt.modes:
        problems.append("no mode is configured")
    body = {"status": "ready" if not problems else "not ready", "modes": [m.value for m in rt.modes],
            "problems": problems}
    return _json(body, 200 if not problems else 503)
