"""HTTP Basic authentication with Bandwidth's challenge flow (shared/spec/bxml-v2.md §4).

Bandwidth first sends a callback without credentials; only a ``401`` carrying
``WWW-Authenticate: Basic realm=...`` makes it resend with them.  A 401 without that
header is not retried, so every refusal here carries the challenge.
"""

from __future__ import annotations

import base64
import binascii
import hmac

REALM = "bxml-migrate"


def challenge_headers(realm: str = REALM) -> dict[str, str]:
    return {"WWW-Authenticate": f'Basic realm="{realm}", charset="UTF-8"'}


def parse_basic(header: str | None) -> tuple[str, str] | None:
    """``(username, password)`` from an ``Authorization`` header, or None."""
    if not header:
        return None
    scheme, _, value = header.strip().partition(" ")
    if scheme.lower() != "basic" or not value:
        return None
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, sep, password = decoded.partition(":")
    return (username, password) if sep else None


def credentials_match(header: str | None, username: str, password: str) -> bool:
    """Constant-time comparison of both parts (no early exit on the user name)."""
    given = parse_basic(header)
    if given is None:
        return False
    user_ok = hmac.compare_digest(given[0].encode("utf-8"), username.encode("utf-8"))
    password_ok = hmac.compare_digest(given[1].encode("utf-8"), password.encode("utf-8"))
    return user_ok & password_ok
