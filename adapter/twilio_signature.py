"""``X-Twilio-Signature``: how Twilio signs the requests it sends to an app (shared/spec/twiml.md §6).

The signed string is the full URL as requested (scheme, host, optional port, path and query),
followed, for a form POST, by every parameter name and value with no separators: names in
code-point order, and for a repeated name each distinct value in sorted order.  A GET appends
nothing (its parameters are already in the URL).  The signature is
``base64(HMAC-SHA1(auth_token, that string))``.

The proxy signs what it sends with the app's auth token, so an app that validates the header
(``twilio.request_validator.RequestValidator``) keeps working unchanged.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
from collections.abc import Iterable, Mapping

ParamValue = str | Iterable[str]
HEADER = "X-Twilio-Signature"


def _values(value: ParamValue) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def string_to_sign(url: str, params: Mapping[str, ParamValue] | None = None) -> str:
    """The exact text Twilio signs for a request to ``url`` with form ``params`` (None for GET)."""
    parts = [url]
    given = params or {}
    for name in sorted(given):  # a mapping's names are distinct already
        value = given[name]
        if isinstance(value, str):  # the usual case: one value, nothing to sort
            parts.append(name + value)
            continue
        for one in sorted(set(_values(value))):
            parts.append(name + one)
    return "".join(parts)


@functools.lru_cache(maxsize=16)  # one auth token per proxy
def _keyed(auth_token: str) -> hmac.HMAC:
    """HMAC-SHA1 keyed with the token, nothing hashed yet: copies of it skip the key setup."""
    return hmac.new(auth_token.encode("utf-8"), digestmod=hashlib.sha1)


def signature(auth_token: str, url: str, params: Mapping[str, ParamValue] | None = None) -> str:
    """The ``X-Twilio-Signature`` value of a request to ``url`` with form ``params`` (None for GET)."""
    mac = _keyed(auth_token).copy()
    mac.update(string_to_sign(url, params).encode("utf-8"))
    return base64.b64encode(mac.digest()).decode("ascii")
