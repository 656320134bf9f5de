"""The result type shared by every translator."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from translators.diagnostics import Diagnostic, has_severity
from translators.errors import TranslationError


@dataclass(frozen=True)
class Translation:
    """A translated BXML document and what the translation changed.

    ``context`` carries data the callback side needs later (for a Catapult gather: the
    effective ``maxDigits``, terminating digits and v1 tag); it is JSON-serialisable.
    """

    bxml: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    context: Mapping[str, Any] = field(default_factory=dict)

    @property
    def has_errors(self) -> bool:
        return has_severity(self.diagnostics, "error")

    @property
    def has_warnings(self) -> bool:
        return has_severity(self.diagnostics, "warning")


def finish(translation: Translation, *, strict: bool) -> Translation:
    """Apply the strict level: any warning or error becomes a raised ``TranslationError``."""
    if strict and has_severity(translation.diagnostics, "error", "warning"):
        raise TranslationError(translation.diagnostics)
    return translation
