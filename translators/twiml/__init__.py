"""TwiML -> BXML v2.  ``twiml_to_bxml`` is the entry point; the mapping lives in ``tables``."""

from __future__ import annotations

from lxml import etree

from translators.translation import Translation, finish
from translators.twiml.document import translate, translate_tree


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


def twiml_tree_to_bxml(root: etree._Element, *, source: str | bytes, encoding: str | None = None,
                       document_url: str | None = None, strict: bool = False) -> Translation:
    """``twiml_to_bxml`` of a tree the caller parsed with ``translators.safe_xml.parse_with_encoding``
    (and may have changed, e.g. rewritten its URLs), without serialising and parsing it again.

    ``source`` and ``encoding`` are that parse's input and reported encoding: diagnostics give
    lines of ``source``.  The tree is read, never changed.  Raises ``TranslationError`` for a
    root other than ``<Response>`` (and, with ``strict``, for any warning or error).
    """
    return finish(translate_tree(root, document_url, source=source, encoding=encoding), strict=strict)


__all__ = ["twiml_to_bxml", "twiml_tree_to_bxml"]
