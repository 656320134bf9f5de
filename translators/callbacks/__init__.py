"""Callback payload rewriting between Bandwidth v2, Catapult v1 and Twilio.

Pure functions over dicts; each one's docstring lists what maps to what, and the tables
behind them are data (``translators.callbacks.tables``).  Malformed payloads raise
``CallbackSchemaError`` naming the fields.
"""

from translators.callbacks.call_sid import twilio_call_sid
from translators.callbacks.context_input import gather_context
from translators.callbacks.rewrite import (
    CallbackRewrite,
    v1_to_v2_event,
    v2_to_twilio_params,
    v2_to_v1_events,
)
from translators.callbacks.schema_error import CallbackSchemaError
from translators.callbacks.settings import TwilioSettings, V1Settings
from translators.callbacks.tables import documentation_table
from translators.callbacks.v1_to_v2 import v1_dtmf_to_v2, v1_gather_to_v2
from translators.callbacks.v2_to_twilio import (
    v2_answer_to_twilio,
    v2_disconnect_to_twilio,
    v2_gather_to_twilio,
    v2_initiate_to_twilio,
)
from translators.callbacks.v2_to_v1 import (
    v2_answer_to_v1,
    v2_disconnect_to_v1,
    v2_disconnect_to_v1_gather,
    v2_disconnect_to_v1_timeout,
    v2_dtmf_to_v1,
    v2_gather_to_v1,
    v2_initiate_to_v1,
)

__all__ = [
    "CallbackRewrite",
    "CallbackSchemaError",
    "TwilioSettings",
    "V1Settings",
    "documentation_table",
    "gather_context",
    "twilio_call_sid",
    "v1_dtmf_to_v2",
    "v1_gather_to_v2",
    "v1_to_v2_event",
    "v2_answer_to_twilio",
    "v2_answer_to_v1",
    "v2_disconnect_to_twilio",
    "v2_disconnect_to_v1",
    "v2_disconnect_to_v1_gather",
    "v2_disconnect_to_v1_timeout",
    "v2_dtmf_to_v1",
    "v2_gather_to_twilio",
    "v2_gather_to_v1",
    "v2_initiate_to_twilio",
    "v2_initiate_to_v1",
    "v2_to_twilio_params",
    "v2_to_v1_events",
]
