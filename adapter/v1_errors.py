"""Errors in the shape Catapult v1 answered them (shared/spec/catapult-v1.md §1.2).

``{"category", "code", "message", "details": [{"name", "value"}]}`` with a JSON content
type; v1 clients read ``message`` (the Python client requires it) and ``code``.
"""

from __future__ import annotations

from flask import Response, json, request


class V1Error(Exception):
    def __init__(self, status: int, category: str, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.category = category
        self.code = code
        self.message = message


def bad_request(message: str, code: str = "validation-error") -> V1Error:
    return V1Error(400, "bad-request", code, message)


def call_not_found(call_id: str) -> V1Error:
    return V1Error(404, "not-found", "call-not-found", f"The call `{call_id}` could not be found")


def call_invalid_state(call_id: str, state: str) -> V1Error:
    return V1Error(403, "forbidden", "call-invalid-state", f"Unable to update call `{call_id}`. Invalid call "
                   f"state `{state}`")


def duplicate_gather(call_id: str) -> V1Error:
    return V1Error(409, "conflict", "call-duplicate-gather-error",
                   f"DTMF digits are already being gathered for call `{call_id}`")


def unavailable(message: str, status: int = 503) -> V1Error:
    return V1Error(status, "unavailable", "call-unavailable", message)


def response(error: V1Error, headers: dict[str, str] | None = None) -> Response:
    body = {
        "category": error.category,
        "code": error.code,
        "message": error.message,
        "details": [
            {"name": "requestPath", "value": request.path.removeprefix("/v1/")},
            {"name": "requestMethod", "value": request.method},
            {"name": "remoteAddress", "value": request.remote_addr or ""},
        ],
    }
    return Response(json.dumps(body), status=error.status, headers=headers or {},
                    content_type="application/json")
