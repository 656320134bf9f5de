"""Twilio-style ``CallSid`` values derived from Bandwidth v2 call ids."""

from __future__ import annotations

import hashlib


def twilio_call_sid(v2_call_id: str) -> str:
    """``CA`` + the first 32 hex digits of SHA-256(call id): stable for a call, distinct across calls,
    and the 34-character shape Twilio apps validate."""
    return "CA" + hashlib.sha256(v2_call_id.encode("utf-8")).hexdigest()[:32]
