"""What the callback side needs to know about a v1 gather that runs as a BXML ``<Gather>``.

Kept by the proxy from the moment the gather is created until its event has been sent.
Serialised with v1's own key names (``maxDigits``, ``terminatingDigits``, ``tag`` ...).
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

BXML_DEFAULT_MAX_DIGITS = 50  # BXML's default and maximum; v1's own default is undocumented
_KEYS = re.compile(r"[0-9#*]*")
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"


class InvalidGatherContext(ValueError):
    """A serialised gather context with an unknown key or a malformed value; ``field`` names it."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason


@dataclass(frozen=True)
class GatherContext:
    """The effective values of one v1 gather.

    ``max_digits``: the ``maxDigits`` the BXML ``<Gather>`` runs with (50, BXML's default,
    when the request had none); decides the v1 ``reason`` ``max-digits``.
    ``terminating_digits``: the keys that end the gather (``""``: none).
    ``inter_digit_timeout``: seconds, as written to both BXML timers.
    ``tag``: the v1 gather's own tag, for the v1 gather event (``None``: none given).
    ``tag_written``: the tag was also written as the (sticky) BXML ``tag``.
    ``gather_id``: the v1 gather id the proxy minted (``Location`` header); ``None`` until then.
    """

    max_digits: int = BXML_DEFAULT_MAX_DIGITS
    terminating_digits: str = "#"
    inter_digit_timeout: float = 5
    tag: str | None = None
    tag_written: bool = False
    gather_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "maxDigits": self.max_digits,
            "terminatingDigits": self.terminating_digits,
            "interDigitTimeout": self.inter_digit_timeout,
            "tag": self.tag,
            "tagWritten": self.tag_written,
            "gatherId": self.gather_id,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> GatherContext:
        """Read ``to_dict()`` output back; missing keys take the defaults, unknown keys are refused."""
        if not isinstance(data, Mapping):
            raise InvalidGatherContext("(context)", "expected a JSON object")
        unknown = sorted(set(data) - _FIELDS.keys())
        if unknown:
            raise InvalidGatherContext(unknown[0], f"unknown key (known: {', '.join(_FIELDS)})")
        values: dict[str, Any] = {}
        for key, (attribute, check) in _FIELDS.items():
            if key in data:
                values[attribute] = check(key, data[key])
        return cls(**values)


def _max_digits(key: str, value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= BXML_DEFAULT_MAX_DIGITS:
        raise InvalidGatherContext(key, f"expected an integer 1–{BXML_DEFAULT_MAX_DIGITS}, got {value!r}")
    return value


def _keys(key: str, value: Any) -> str:
    if not isinstance(value, str) or not _KEYS.fullmatch(value):
        raise InvalidGatherContext(key, f"expected keys of 0-9 # *, got {value!r}")
    return value


def _timeout(key: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 60:
        raise InvalidGatherContext(key, f"expected seconds 0–60, got {value!r}")
    return value


def _optional_text(key: str, value: Any) -> str | None:
    if value is not None and not isinstance(value, str):
        raise InvalidGatherContext(key, f"expected a string or null, got {value!r}")
    return value


def _flag(key: str, value: Any) -> bool:
    if not isinstance(value, bool):
        raise InvalidGatherContext(key, f"expected true or false, got {value!r}")
    return value


def _gather_id(key: str, value: Any) -> str | None:
    value = _optional_text(key, value)
    if value is not None:
        check_gather_id(value)
    return value


_FIELDS = {
    "maxDigits": ("max_digits", _max_digits),
    "terminatingDigits": ("terminating_digits", _keys),
    "interDigitTimeout": ("inter_digit_timeout", _timeout),
    "tag": ("tag", _optional_text),
    "tagWritten": ("tag_written", _flag),
    "gatherId": ("gather_id", _gather_id),
}


def check_gather_id(gather_id: str) -> str:
    """v1 ids are opaque ``[a-z0-9-]`` strings; refuse anything that would break a URL path."""
    if not isinstance(gather_id, str) or not _ID.fullmatch(gather_id):
        raise InvalidGatherContext("gatherId", f"not an id of letters, digits and '-': {gather_id!r}")
    return gather_id


def mint_gather_id() -> str:
    """A fresh v1-style gather id: ``gtr-`` + 23 base32 characters, as Bandwidth's fixtures show."""
    return "gtr-" + "".join(secrets.choice(_BASE32) for _ in range(23))
