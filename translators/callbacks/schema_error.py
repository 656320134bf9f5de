"""``CallbackSchemaError``: a callback payload that cannot be rewritten without guessing."""

from __future__ import annotations

from collections.abc import Sequence

from translators.diagnostics import Diagnostic


class CallbackSchemaError(ValueError):
    """A payload (or gather context) missing required fields, of the wrong ``eventType``, with a
    field of the wrong type, or with no counterpart in the target platform.

    ``fields`` names every offending field; ``code`` is the diagnostic code (BXM501 schema,
    BXM502 no counterpart, BXM505 gather context).
    """

    def __init__(self, fields: Sequence[str], message: str, *, code: str = "BXM501") -> None:
        super().__init__(message)
        self.fields: tuple[str, ...] = tuple(fields)
        self.message = message
        self.code = code

    @property
    def diagnostic(self) -> Diagnostic:
        return Diagnostic(self.code, "error", self.message, field=", ".join(self.fields) or None)
