"""Structured logs: one JSON object per line, with call id, gather id and route, secrets redacted.

``configure(secrets)`` installs the formatter on the root logger.  Request context (route,
call id, gather id) comes from ``contextvars`` set by the app for each request, so every log
line written while handling it carries them.  Every configured secret value, and anything
that looks like an ``Authorization`` header value, is replaced by ``***``.
"""

from __future__ import annotations

import contextvars
import json
import logging
import math
import re
import sys
import time
from collections.abc import Iterable
from typing import Any

REQUEST_CONTEXT: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("bxml_migrate_request",
                                                                                       default=None)
_AUTH = re.compile(r"(?i)\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]{6,}")
MASK = "***"
_ENCODER = json.JSONEncoder(ensure_ascii=False, default=str)  # json.dumps(..., ensure_ascii=False, default=str)


class Redactor:
    def __init__(self, secrets: Iterable[str | None]) -> None:
        values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
        self._pattern = re.compile("|".join(re.escape(v) for v in values)) if values else None

    def __call__(self, text: str) -> str:
        # ASCII text without either word cannot match _AUTH (non-ASCII text can: "ſ" matches "s"
        # when case is ignored), so the regex runs only where it might find something.
        if not text.isascii() or "basic" in (lowered := text.lower()) or "bearer" in lowered:
            text = _AUTH.sub(lambda m: f"{m.group(1)} {MASK}", text)
        if self._pattern is not None:
            text = self._pattern.sub(MASK, text)
        return text


class JsonFormatter(logging.Formatter):
    def __init__(self, redact: Redactor) -> None:
        super().__init__()
        self.redact = redact
        self._second: tuple[int, str] = (0, "")  # the last second formatted, and its text

    def _timestamp(self, created: float, msecs: float) -> str:
        second = math.floor(created)  # the second time.gmtime(created) falls in
        cached = self._second  # one tuple: threads share it safely
        if cached[0] != second or not cached[1]:
            cached = self._second = (second, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)))
        return f"{cached[1]}.{int(msecs):03d}Z"

    def format(self, record: logging.LogRecord) -> str:
        event: dict[str, Any] = {
            "ts": self._timestamp(record.created, record.msecs),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": self.redact(record.getMessage()),
        }
        context = REQUEST_CONTEXT.get()
        if context:
            event.update({k: v for k, v in context.items() if v})
        for key in ("callId", "gatherId", "route", "status", "duration_ms", "method"):
            value = getattr(record, key, None)
            if value is not None:
                event[key] = value
        if record.exc_info:
            event["error"] = self.redact(self.formatException(record.exc_info))
        return _ENCODER.encode(event)


def plain_formatter() -> JsonFormatter:
    """For logging.config dictionaries (gunicorn's own loggers): JSON without configured secrets."""
    return JsonFormatter(Redactor(()))


def configure(secrets: Iterable[str | None], *, level: int = logging.INFO, stream: Any = None) -> None:
    # The JSON lines carry no source file, line, thread or process name: skip gathering them for
    # every record (the logging HOWTO's "Optimization" settings; finding the caller walks frames).
    logging._srcfile = None  # type: ignore[attr-defined]
    logging.logThreads = False
    logging.logProcesses = False
    logging.logMultiprocessing = False
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter(Redactor(secrets)))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
