"""Exceptions raised by the translators."""

from __future__ import annotations

from collections.abc import Sequence

from translators.diagnostics import Diagnostic


class TranslationError(Exception):
    """A document could not be translated, or (``strict=True``) translated with findings.

    ``diagnostics`` holds every finding; the first error (or warning) gives the message.
    """

    def __init__(self, diagnostics: Sequence[Diagnostic], message: str | None = None) -> None:
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        if message is None:
            first = next((d for d in self.diagnostics if d.severity == "error"), None)
            first = first or (self.diagnostics[0] if self.diagnostics else None)
            message = first.format() if first else "translation failed"
            if len(self.diagnostics) > 1:
                message += f" (+{len(self.diagnostics) - 1} more)"
        super().__init__(message)

    @property
    def line(self) -> int | None:
        return self.diagnostics[0].line if self.diagnostics else None

    @property
    def column(self) -> int | None:
        return self.diagnostics[0].column if self.diagnostics else None
