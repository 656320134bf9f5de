"""Catapult (Bandwidth Voice API v1) -> BXML v2.

``catapult_gather_to_bxml`` turns a v1 create-gather request into a ``<Gather>`` document;
``catapult_dtmf_listener`` / ``stop_dtmf_listener`` give the ``<StartGather>`` / ``<StopGather>``
that bring back v1's per-key ``dtmf`` events.  The mapping is data (``tables``).
"""

from translators.catapult.audio import AUDIO_REQUEST, catapult_audio_to_bxml
from translators.catapult.dtmf_listener import catapult_dtmf_listener, stop_dtmf_listener
from translators.catapult.gather import catapult_gather_to_bxml
from translators.catapult.gather_context import GatherContext, InvalidGatherContext, mint_gather_id
from translators.catapult.invalid_request import InvalidRequest
from translators.catapult.tables import GATHER_REQUEST, PROMPT, documentation_table

__all__ = [
    "AUDIO_REQUEST",
    "GATHER_REQUEST",
    "PROMPT",
    "GatherContext",
    "InvalidGatherContext",
    "InvalidRequest",
    "catapult_audio_to_bxml",
    "catapult_dtmf_listener",
    "catapult_gather_to_bxml",
    "documentation_table",
    "mint_gather_id",
    "stop_dtmf_listener",
]
