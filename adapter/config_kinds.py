"""Value kinds of configuration settings: how a value is parsed, checked and shown.

Each kind turns a value from a TOML file (already typed) or from an environment
variable (always text) into the value the proxy uses, or raises ``ValueError``
with a short problem description.  Problem texts never contain the value itself:
the loader adds the value (masked for secrets) when it reports the problem, so a
secret cannot leak through a validation message.
"""

from __future__ import annotations

import json
import math
import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import SplitResult, urlsplit, urlunsplit

MASK = "***"

_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
_HOST = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9-]{0,62})(\.[A-Za-z0-9]([A-Za-z0-9-]{0,62}))*\.?$")
_IPV6 = re.compile(r"^\[?[0-9A-Fa-f:.]+\]?$")


def _type_name(value: object) -> str:
    return {bool: "a boolean", int: "an integer", float: "a number", str: "a string", list: "an array"}.get(
        type(value), f"a {type(value).__name__}"
    )


def mask_url_password(url: str) -> str:
    """``url`` with the password of its user-info (``user:password@``) replaced by ``***``."""
    try:
        parts = urlsplit(url)
        password = parts.password
    except ValueError:
        return url
    if not password:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return urlunsplit(parts._replace(netloc=f"{user}:{MASK}@{hostport}"))


class Kind:
    """Base class: a string setting.  Subclasses override ``check`` and maybe ``parse_text``."""

    description = "a string"

    def from_toml(self, value: object) -> Any:
        return self.check(value)

    def from_text(self, text: str) -> Any:
        """Parse the text of an environment variable."""
        return self.check(self.parse_text(text))

    def parse_text(self, text: str) -> object:
        return text

    def check(self, value: object) -> Any:
        if not isinstance(value, str):
            raise ValueError(f"must be {self.description}, not {_type_name(value)}")
        return value

    def show(self, value: object) -> str:
        """How a (non-secret) value of this kind appears in messages."""
        text = repr(value)
        return text if len(text) <= 80 else text[:77] + "..."


@dataclass(frozen=True)
class Text(Kind):
    """A string, optionally limited by a pattern, a minimum length or a set of choices."""

    pattern: str | None = None
    pattern_hint: str = ""
    min_length: int = 0
    choices: tuple[str, ...] = ()
    upper: bool = False  # normalise to upper case (HTTP methods)

    @property
    def description(self) -> str:  # type: ignore[override]
        if self.choices:
            return "one of " + ", ".join(self.choices)
        return "a string"

    def check(self, value: object) -> str:
        text = super().check(value)
        if self.upper:
            text = text.upper()
        if self.choices and text not in self.choices:
            raise ValueError(f"must be {self.description}")
        if len(text) < self.min_length:
            raise ValueError(f"must be at least {self.min_length} characters long")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise ValueError(f"must be {self.pattern_hint or 'of the form ' + self.pattern}")
        return text


@dataclass(frozen=True)
class Url(Kind):
    """An absolute http(s) URL.  ``base=True``: a base URL, trailing ``/`` removed, no query."""

    base: bool = False
    description = "an http(s) URL"

    def check(self, value: object) -> str:
        text = super().check(value).strip()
        parts = _split_url(text)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an absolute http(s) URL (http://host/... or https://host/...)")
        if self.base:
            if parts.query or parts.fragment:
                raise ValueError("must be a base URL without query or fragment")
            text = text.rstrip("/")
        return text

    def show(self, value: object) -> str:
        return super().show(mask_url_password(value) if isinstance(value, str) else value)


def _split_url(text: str) -> SplitResult:
    if any(ch.isspace() for ch in text):
        raise ValueError("must not contain spaces")
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a non-numeric or out-of-range port
    except ValueError:
        raise ValueError("is not a valid URL (bad host or port)") from None
    return parts


@dataclass(frozen=True)
class StateUrl(Kind):
    """Where the state lives: ``sqlite:///path``, ``sqlite://`` (temporary) or ``redis://host:port/db``."""

    description = "a state store URL"

    def check(self, value: object) -> str:
        text = super().check(value).strip()
        hint = "must be sqlite:///path/to/file.db, sqlite:// (temporary) or redis://host:port/db"
        if text.startswith("sqlite:"):
            if text in ("sqlite://", "sqlite:///:memory:") or (text.startswith("sqlite:///") and len(text) > 10):
                return text
            raise ValueError(hint)
        if text.startswith(("redis://", "rediss://")):
            try:
                parts = _split_url(text)
            except ValueError as exc:
                raise ValueError(f"{hint} ({exc})") from None
            if not parts.hostname:
                raise ValueError(hint + " (the host is missing)")
            if parts.path not in ("", "/") and not re.fullmatch(r"/\d+", parts.path):
                raise ValueError(hint + " (the database must be a number)")
            return text
        raise ValueError(hint)

    def show(self, value: object) -> str:
        return super().show(mask_url_password(value) if isinstance(value, str) else value)


@dataclass(frozen=True)
class Integer(Kind):
    minimum: int | None = None
    maximum: int | None = None
    description = "an integer"

    def parse_text(self, text: str) -> object:
        try:
            return int(text.strip())
        except ValueError:
            raise ValueError("must be an integer") from None

    def check(self, value: object) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError(f"must be an integer, not {_type_name(value)}")
        _check_range(value, self.minimum, self.maximum)
        return value


@dataclass(frozen=True)
class Seconds(Kind):
    """A duration in seconds (integer or decimal), strictly positive unless ``minimum`` says otherwise."""

    minimum: float = 0.0
    maximum: float | None = None
    minimum_inclusive: bool = False
    description = "a number of seconds"

    def parse_text(self, text: str) -> object:
        try:
            return float(text.strip())
        except ValueError:
            raise ValueError("must be a number of seconds") from None

    def check(self, value: object) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number of seconds, not {_type_name(value)}")
        number = float(value)
        if not math.isfinite(number):
            raise ValueError("must be a finite number of seconds")
        if number < self.minimum or (number == self.minimum and not self.minimum_inclusive):
            relation = "at least" if self.minimum_inclusive else "greater than"
            raise ValueError(f"must be {relation} {self.minimum:g} seconds")
        if self.maximum is not None and number > self.maximum:
            raise ValueError(f"must be at most {self.maximum:g} seconds")
        return number


def _check_range(value: int, minimum: int | None, maximum: int | None) -> None:
    if minimum is not None and value < minimum:
        raise ValueError(f"must be at least {minimum}")
    if maximum is not None and value > maximum:
        raise ValueError(f"must be at most {maximum}")


@dataclass(frozen=True)
class Boolean(Kind):
    description = "true or false"

    def parse_text(self, text: str) -> object:
        word = text.strip().lower()
        if word in _TRUE:
            return True
        if word in _FALSE:
            return False
        raise ValueError("must be true or false (also accepted: 1/0, yes/no, on/off)")

    def check(self, value: object) -> bool:
        if not isinstance(value, bool):
            raise ValueError(f"must be true or false, not {_type_name(value)}")
        return value


@dataclass(frozen=True)
class HostList(Kind):
    """A list of exact host names or IP addresses (no wildcards, no URLs); kept as a tuple."""

    description = "a list of host names"

    def parse_text(self, text: str) -> object:
        text = text.strip()
        if text.startswith("["):
            try:
                return json.loads(text)
            except json.JSONDecodeError:
                raise ValueError('must be a JSON array of strings (["a.example", "b.example"])') from None
        return [item.strip() for item in text.split(",") if item.strip()]

    def check(self, value: object) -> tuple[str, ...]:
        if not isinstance(value, list | tuple):
            raise ValueError(f"must be a list of host names, not {_type_name(value)}")
        hosts: list[str] = []
        for index, item in enumerate(value):
            if not isinstance(item, str):
                raise ValueError(f"entry {index} must be a string, not {_type_name(item)}")
            host = item.strip().lower()
            if "/" in host or "@" in host:
                raise ValueError(f"entry {index} ({host!r}) must be a host name, not a URL")
            if not (_HOST.fullmatch(host) or _IPV6.fullmatch(host)):
                raise ValueError(f"entry {index} ({host!r}) is not a valid host name or IP address")
            hosts.append(host.strip("[]"))
        return tuple(hosts)

    def show(self, value: object) -> str:
        return super().show(list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value)


@dataclass(frozen=True)
class BxmlDocument(Kind):
    """A well-formed ``<Bxml>`` document (no DOCTYPE or entities); trusted operator input."""

    description = "a BXML document"

    def check(self, value: object) -> str:
        text = super().check(value).strip()
        if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
            raise ValueError("must not contain DOCTYPE or entity declarations")
        try:
            root = ElementTree.fromstring(text)
        except ElementTree.ParseError as exc:
            raise ValueError(f"is not well-formed XML ({exc})") from None
        if root.tag != "Bxml":
            raise ValueError(f"must have <Bxml> as its root element, not <{root.tag}>")
        return text
