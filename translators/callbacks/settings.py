"""What the rewrites need to know about the target platform (configured once per proxy)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import quote, urlsplit

V1_API_BASE = "https://api.catapult.inetwork.com"
TWILIO_API_VERSION = "2010-04-01"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*")
_ACCOUNT_SID = re.compile(r"AC[0-9a-fA-F]{32}")


@dataclass(frozen=True)
class V1Settings:
    """``user_id``: the v1 user (``u-...``) in every ``callUri``; ``api_base``: scheme and host
    the v1 app uses (Catapult's, or the proxy's own)."""

    user_id: str
    api_base: str = V1_API_BASE

    def __post_init__(self) -> None:
        if not isinstance(self.user_id, str) or not _ID.fullmatch(self.user_id):
            raise ValueError(f"user_id: not a v1 user id: {self.user_id!r}")
        parts = urlsplit(self.api_base)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
            raise ValueError(f"api_base: expected http(s)://host[:port][/path], got {self.api_base!r}")
        object.__setattr__(self, "api_base", self.api_base.rstrip("/"))

    def call_uri(self, call_id: str) -> str:
        """``{api_base}/v1/users/{userId}/calls/{callId}`` (catapult-v1.md §5, §6)."""
        return f"{self.api_base}/v1/users/{self.user_id}/calls/{quote(call_id, safe='')}"


@dataclass(frozen=True)
class TwilioSettings:
    """``account_sid``: the ``AccountSid`` the Twilio app expects (``AC`` + 32 hex)."""

    account_sid: str
    api_version: str = TWILIO_API_VERSION

    def __post_init__(self) -> None:
        if not isinstance(self.account_sid, str) or not _ACCOUNT_SID.fullmatch(self.account_sid):
            raise ValueError(f"account_sid: expected AC followed by 32 hex digits, got {self.account_sid!r}")
