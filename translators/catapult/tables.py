"""The Catapult v1 gather request -> BXML ``<Gather>`` mapping, as data.

Two tables: the request's top-level fields (-> ``<Gather>`` attributes or the gather
context) and its ``prompt`` object (-> a nested ``<SpeakSentence>`` / ``<PlayAudio>``).
Sources: shared/spec/catapult-v1.md §2.1, §3.4 and §6; shared/spec/bxml-v2.md §2.1, §2.3.
Every field a v1 client may send has a row; anything else is refused (``InvalidRequest``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from translators.attribute_rules import (
    Action,
    AttributeRule,
    Boolean,
    Choice,
    ContextValue,
    Keys,
    Kind,
    Number,
    Range,
    Text,
    Url,
    validate_table,
)

REJECT = Action.REJECT
MAX_NESTED = 20  # BXML: at most 20 verbs nested in <Gather> (repeatCount 1)
MAX_TAG = 256  # BXML tag attribute limit

# v1 voice names (catapult-v1.md §3.4; "Simon" is sent by SDKs and is a BXML voice) -> BXML's lower-case names.
V1_VOICES: dict[str, str] = {name: name.lower() for name in (
    "Kate", "Susan", "Julie", "Dave", "Paul", "Bridget", "Simon", "Esperanza", "Violeta", "Jorge",
    "Jolie", "Bernard", "Katrin", "Stefan", "Paola", "Luca")}
V1_DEFAULT_VOICE = "Susan"  # v1's audio default (en_US, female)

# v1 locales -> BXML locales; the v1-only regional forms have no BXML value of their own.
V1_LOCALES: dict[str, str] = {
    "en_US": "en_US", "en_UK": "en_UK", "es": "es", "es_MX": "es_MX",
    "fr": "fr", "fr_FR": "fr", "de": "de", "de_DE": "de", "it": "it", "it_IT": "it"}


class JsonObject(Kind):
    """A nested JSON object (documented by its own table)."""

    label = "object"

    def parse(self, raw: Any) -> Mapping[str, Any]:
        if not isinstance(raw, Mapping):
            raise ValueError("expected a JSON object")
        return raw


GATHER_REQUEST: tuple[AttributeRule, ...] = validate_table((
    AttributeRule("maxDigits", ("maxDigits",), Number(integer=True), None, "50", valid=Range(1, 30),
                  target_range=Range(1, 50), on_invalid=REJECT,
                  note="v1 allowed 1–30 (400 otherwise); absent: v1's default is undocumented, BXML's 50 "
                       "applies (BXM410)"),
    AttributeRule("interDigitTimeout", ("interDigitTimeout", "firstDigitTimeout"), Number(unit="s"), "5", "5",
                  valid=Range(0, 30), target_range=Range(1, 60), on_invalid=REJECT, always_state=True,
                  note="v1 used one timer before the first key and between keys: both BXML timers; "
                       "below 1 s is clamped to BXML's minimum 1 (BXM015)"),
    AttributeRule("terminatingDigits", ("terminatingDigits",), Keys(), "#", "", on_invalid=REJECT,
                  always_state=True,
                  note="absent/null: v1's default `#` is stated (BXML's default is none); `\"\"`: no terminator"),
    AttributeRule("tag", (), Text(), on_invalid=REJECT, context_only=True,
                  note="kept in the gather context for the v1 gather event; written as the BXML `tag` only "
                       "with `write_tag` (a v2 tag is sticky for the rest of the call, BXM406)"),
    AttributeRule("suppressDtmf", (), Boolean(), on_invalid=REJECT, context_only=True,
                  note="true/absent: as BXML, which pauses `<StartGather>` while `<Gather>` runs; "
                       "false: per-key events are lost (BXM405)"),
    AttributeRule("prompt", (), JsonObject(), on_invalid=REJECT, custom=True,
                  note="nested `<SpeakSentence>` / `<PlayAudio>`: see the prompt table"),
))

DEFAULT_VOICE = ContextValue("v1_default_voice")

PROMPT: tuple[AttributeRule, ...] = validate_table((
    AttributeRule("sentence", (), Text(), on_invalid=REJECT, context_only=True,
                  note="text of a nested `<SpeakSentence>`; empty: nothing to say (BXM408)"),
    AttributeRule("gender", ("gender",), Choice({"male": "male", "female": "female"}, case_sensitive=False),
                  "female", "female", on_invalid=REJECT),
    AttributeRule("locale", ("locale",), Choice(V1_LOCALES, case_sensitive=False), "en_US", "en_US",
                  on_invalid=REJECT, note="v1-only `fr_FR`, `de_DE`, `it_IT` become `fr`, `de`, `it`"),
    AttributeRule("voice", ("voice",), Choice(V1_VOICES, case_sensitive=False), DEFAULT_VOICE, None,
                  on_invalid=REJECT,
                  note="Bandwidth's lower-case name (`Susan` -> `susan`); absent with the default gender and "
                       "locale: v1's default `susan` is stated"),
    AttributeRule("fileUrl", (), Url(), on_invalid=REJECT, context_only=True,
                  note="URL of a nested `<PlayAudio>` (after the sentence when both are given, BXM409)"),
    AttributeRule("loopEnabled", (), Boolean(), "false", on_invalid=REJECT, context_only=True,
                  note="true: the prompt is repeated up to the 20-nested-verb limit, not `repeatCount` "
                       "(BXM403)"),
    AttributeRule("bargeable", (), Boolean(), "true", on_invalid=REJECT, context_only=True,
                  note="false: BXML prompts always stop at the first key (BXM404)"),
))


def documentation_table() -> str:
    """Markdown for the README (``translators.docs`` renders it into ``generated:catapult-gather``)."""
    from translators.docs import attribute_table

    return ("#### v1 gather request → `<Gather>`\n\n" + attribute_table(GATHER_REQUEST, "v1", "BXML")
            + "\n\n#### v1 `prompt` → nested `<SpeakSentence>` / `<PlayAudio>`\n\n"
            + attribute_table(PROMPT, "v1 prompt", "SpeakSentence")
            + "\n\n#### v1 audio request (`POST .../calls/{callId}/audio`) → `<SpeakSentence>` / `<PlayAudio>`\n\n"
            + attribute_table(_audio_rows(), "v1 audio", "SpeakSentence"))


def _audio_rows() -> tuple[AttributeRule, ...]:
    from translators.catapult.audio import AUDIO_REQUEST

    return AUDIO_REQUEST
