"""Guards on requests from Bandwidth: Basic auth with the challenge flow, and event bodies."""

from __future__ import annotations

import json
import math
from typing import Any

from flask import Response, abort, request

from adapter.basic_auth import challenge_headers, credentials_match
from adapter.config import Config
from adapter.store.base import check_id


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range")
    return value


_DECODER = json.JSONDecoder(parse_constant=_no_constant, parse_float=_finite)


def parse_json(data: bytes | str) -> Any:
    """A request body as strict JSON; ``ValueError`` for anything else: bytes that are not JSON
    text, ``NaN``/``Infinity`` or numbers like ``1e400`` (Python's parser makes them infinite;
    the store and the event deliveries refuse them later), nesting too deep to parse."""
    try:  # json.loads(data, parse_constant=..., parse_float=...) without building a decoder each time
        text = data if isinstance(data, str) else data.decode(json.detect_encoding(data), "surrogatepass")
        return _DECODER.decode(text)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        raise ValueError("the body is not valid JSON") from None


def bandwidth_callback_auth(config: Config) -> Response | None:
    """None when the request may pass; else the 401 with ``WWW-Authenticate`` Bandwidth retries on."""
    username = config.bandwidth.callback_username
    if not username:
        return None
    if credentials_match(request.headers.get("Authorization"), username, config.bandwidth.callback_password or ""):
        return None
    return Response("authentication required\n", status=401, headers=challenge_headers(),
                    content_type="text/plain")


def json_event(*, expect_call: str | None = None, expect_type: str | None = None) -> dict[str, Any]:
    """The v2 event of this request (JSON body, or query parameters for GET); 400 when malformed."""
    if request.method == "GET":
        event: Any = request.args.to_dict()
    else:
        if not request.is_json:
            abort(415)
        try:
            event = parse_json(request.get_data())
        except ValueError:
            event = None
    if not isinstance(event, dict) or not isinstance(event.get("eventType"), str) or not isinstance(
            event.get("callId"), str) or not event["callId"]:
        abort(400, "expected a Bandwidth v2 event with eventType and callId")
    try:
        check_id("callId", event["callId"])  # what the state store can key a call by
    except ValueError as exc:
        abort(400, f"malformed event: {exc}")
    if expect_type is not None and event["eventType"] != expect_type:
        abort(400, f"expected a {expect_type} event, got {event['eventType']}")
    if expect_call is not None and event["callId"] != expect_call:
        abort(403, "the event is for another call than this URL")
    return event
