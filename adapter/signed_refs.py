"""Signed, tamper-proof references carried in the URLs the proxy writes into BXML.

Every URL Bandwidth calls back (other than the application callback URL) is one the proxy
wrote, and it carries a token naming the call, the gather and what the URL is for. The
token is ``base64url(JSON payload) "." base64url(HMAC-SHA256(key, payload))``; ``verify``
recomputes the MAC in constant time and checks the age.  Tokens hold no secrets (the
payload is readable), only references.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import hmac
import json
import time
from collections.abc import Mapping
from typing import Any

_PAYLOAD = json.JSONEncoder(separators=(",", ":"), sort_keys=True)  # json.dumps(..., separators, sort_keys)


class BadReference(ValueError):
    """A reference that is malformed, forged, or too old."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@functools.lru_cache(maxsize=16)  # a proxy has one key (tests: a few)
def _keyed(key: bytes) -> hmac.HMAC:
    """HMAC-SHA256 keyed with ``key``, nothing hashed yet: copies of it skip the key setup."""
    return hmac.new(key, digestmod=hashlib.sha256)


def _mac(key: bytes, body: str) -> str:
    mac = _keyed(key).copy()
    mac.update(body.encode("ascii"))
    return _b64(mac.digest())


def sign(payload: Mapping[str, Any], key: bytes, *, now: float | None = None) -> str:
    """A token for ``payload`` (JSON-able; the issue time is added as ``iat``)."""
    if not key:
        raise ValueError("signing key is empty")
    data = dict(payload)
    data["iat"] = int(now if now is not None else time.time())
    body = _b64(_PAYLOAD.encode(data).encode("utf-8"))
    return f"{body}.{_mac(key, body)}"


def verify(token: str, key: bytes, *, max_age: float | None = None, now: float | None = None) -> dict[str, Any]:
    """The payload of a token this key signed; ``BadReference`` for anything else."""
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 4096:
        raise BadReference("malformed reference")
    body, mac = token.split(".")
    if not hmac.compare_digest(_mac(key, body), mac):
        raise BadReference("reference signature does not match")
    try:
        payload = json.loads(_unb64(body))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadReference("malformed reference") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("iat"), int):
        raise BadReference("malformed reference")
    if max_age is not None:
        age = (now if now is not None else time.time()) - payload["iat"]
        if age > max_age:
            raise BadReference("reference has expired")
    return payload
