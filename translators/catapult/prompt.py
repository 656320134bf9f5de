"""A v1 gather ``prompt`` object -> the verbs nested in the BXML ``<Gather>``."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from lxml import etree

from translators.attribute_rules import RuleContext, RuleViolation, apply_rules
from translators.bxml_writer import element
from translators.catapult import tables
from translators.diagnostics import Diagnostics


@dataclass
class Prompt:
    """The verbs of one round of the prompt and whether v1 looped it."""

    verbs: list[etree._Element] = field(default_factory=list)
    loop: bool = False

    def expand(self, copies: int) -> list[etree._Element]:
        """``copies`` rounds of the prompt, as fresh elements."""
        return [_copy(verb) for _ in range(copies) for verb in self.verbs]

    def max_copies(self) -> int:
        """How many rounds fit BXML's nested-verb limit (1 when the prompt does not loop)."""
        if not self.verbs:
            return 0
        return max(tables.MAX_NESTED // len(self.verbs), 1) if self.loop else 1


def _copy(verb: etree._Element) -> etree._Element:
    return element(verb.tag, dict(verb.attrib), verb.text)


def _default_voice_applies(raw: Mapping[str, Any]) -> bool:
    """v1 spoke with Susan unless the request chose another gender or locale."""
    gender, locale = raw.get("gender"), raw.get("locale")
    return ((gender is None or (isinstance(gender, str) and gender.strip().lower() == "female"))
            and (locale is None or (isinstance(locale, str) and locale.strip().lower() == "en_us")))


def build_prompt(raw: Any, diagnostics: Diagnostics) -> Prompt:
    """Validate ``prompt`` (``RuleViolation`` naming ``prompt.<field>`` when v1 would refuse it)."""
    if raw is None:
        return Prompt()
    try:
        raw = tables.JsonObject().parse(raw)
    except ValueError as exc:
        raise RuleViolation("prompt", str(exc)) from None
    values = {"v1_default_voice": tables.V1_DEFAULT_VOICE} if _default_voice_applies(raw) else {}
    ctx = RuleContext(diagnostics, verb="Gather prompt", values=values, field_prefix="prompt.", unknown_code=None)
    result = apply_rules(tables.PROMPT, raw, ctx)

    prompt = Prompt(loop=result.values.get("loopEnabled", False))
    sentence = result.values.get("sentence")
    file_url = result.values.get("fileUrl")
    if sentence is not None and sentence.strip():
        prompt.verbs.append(element("SpeakSentence", result.attributes, sentence))
    if file_url is not None:
        prompt.verbs.append(element("PlayAudio", None, file_url))
    if not prompt.verbs:
        diagnostics.add("BXM408", "the prompt has no sentence and no fileUrl: nothing is played", field="prompt")
    elif len(prompt.verbs) == 2:
        diagnostics.add("BXM409", "the prompt has both sentence and fileUrl; v1 does not document which one it "
                        "played: both are played, the sentence first", field="prompt.fileUrl")
    if result.values.get("bargeable") is False:
        diagnostics.add("BXM404", "prompt.bargeable=false cannot be kept: BXML prompts always stop at the first "
                        "key press (v1 deprecated the flag too)", field="prompt.bargeable")
    return prompt
