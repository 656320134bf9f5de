"""Identifiers and timestamps shaped the way Bandwidth v2 writes them (spec §3.1)."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime


def new_call_id() -> str:
    """``c-`` + 8 hex + ``-`` + UUID, e.g. ``c-95ac8d6e-1a31c52e-b38f-4198-93c1-51633ec68f8d``."""
    return f"c-{secrets.token_hex(4)}-{uuid.uuid4()}"


def new_recording_id() -> str:
    return f"r-{secrets.token_hex(4)}-{uuid.uuid4()}"


def new_error_id() -> str:
    return str(uuid.uuid4())


def utc_now() -> datetime:
    return datetime.now(UTC)


def iso_ms(moment: datetime) -> str:
    """ISO-8601 UTC with milliseconds: ``2019-06-20T15:56:11.554Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def iso_duration(seconds: float) -> str:
    """ISO-8601 duration as recordings carry it: ``PT20.056S``."""
    return f"PT{seconds:.3f}S"
