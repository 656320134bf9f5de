"""Pure translators from TwiML and Catapult v1 to Bandwidth BXML v2, with diagnostics.

No Flask, no network, no global state: text (or dicts) in, text (or dicts) out.
"""

from translators.callbacks import CallbackSchemaError, TwilioSettings, V1Settings
from translators.catapult import (
    GatherContext,
    InvalidRequest,
    catapult_dtmf_listener,
    catapult_gather_to_bxml,
    stop_dtmf_listener,
)
from translators.diagnostics import RULES, Diagnostic, Severity
from translators.dialects import UnknownDialect, translate
from translators.errors import TranslationError
from translators.translation import Translation
from translators.twiml import twiml_to_bxml, twiml_tree_to_bxml

__all__ = [
    "RULES",
    "CallbackSchemaError",
    "Diagnostic",
    "GatherContext",
    "InvalidRequest",
    "Severity",
    "Translation",
    "TranslationError",
    "TwilioSettings",
    "UnknownDialect",
    "V1Settings",
    "catapult_dtmf_listener",
    "catapult_gather_to_bxml",
    "stop_dtmf_listener",
    "translate",
    "twiml_to_bxml",
    "twiml_tree_to_bxml",
]
