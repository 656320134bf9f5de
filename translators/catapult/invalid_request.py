"""``InvalidRequest``: a v1 gather request Catapult would have answered with 400."""

from __future__ import annotations

import json

from translators.diagnostics import Diagnostic

_NO_VALUE = object()


def _shown(value: object) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        return repr(value)


class InvalidRequest(ValueError):
    """A v1 gather request field that v1 refused.  The proxy answers the v1 client with a 400.

    ``field`` is the dotted field name (``maxDigits``, ``prompt.voice``; ``(body)`` for a body
    that is not a JSON object), ``reason`` says what is wrong, ``value`` is the value sent.
    """

    def __init__(self, field: str, reason: str, value: object = _NO_VALUE) -> None:
        self.field = field
        self.reason = reason
        self.value = None if value is _NO_VALUE else value
        where = field if value is _NO_VALUE else f"{field}={_shown(value)}"
        self.message = f"{where}: {reason}"
        super().__init__(f"invalid v1 gather request: {self.message}")

    @property
    def diagnostic(self) -> Diagnostic:
        """The finding as a BXM401 diagnostic (what the CLI prints)."""
        return Diagnostic("BXM401", "error", self.message, field=self.field)
