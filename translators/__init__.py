"""Pure translators from TwiML and Catapult v1 to Bandwidth BXML v2, with diagnostics.

No Flask, no network, no global state: text (or dicts) in, text (or dicts) out.
"""

from translators.diagnostics import RULES, Diagnostic, Severity
from translators.dialects import UnknownDialect, translate
from translators.errors import TranslationError
from translators.translation import Translation
from translators.twiml import twiml_to_bxml

__all__ = [
    "RULES",
    "Diagnostic",
    "Severity",
    "Translation",
    "TranslationError",
    "UnknownDialect",
    "translate",
    "twiml_to_bxml",
]
