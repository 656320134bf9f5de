"""TwiML -> BXML v2.  ``twiml_to_bxml`` is the entry point; the mapping lives in ``tables``."""

from __future__ import annotations

from translators.translation import Translation, finish
from translators.twiml.document import translate


def twiml_to_bxml(source: str | bytes, *, document_url: str | None = None, strict: bool = False) -> Translation:
    """Translate one TwiML document into a BXML ``<Response>`` document.

    ``document_url`` is the URL the TwiML was (or will be) served from: a ``<Gather>`` or
    ``<Record>`` without ``action`` posts there on Twilio, so it becomes the ``gatherUrl``.
    With ``strict=True`` any warning or error raises ``TranslationError`` (carrying every
    diagnostic); otherwise errors still produce the closest faithful document.

    Raises ``TranslationError`` (with line and column) for malformed XML, a root other than
    ``<Response>``, a DOCTYPE or entity declaration, or input over 1 MiB.
    """
    return finish(translate(source, document_url), strict=strict)


__all__ = ["twiml_to_bxml"]
