"""A v1 audio request (``POST /v1/users/{userId}/calls/{callId}/audio``) -> BXML.

v1 spoke a sentence or played a file on the live call (catapult-v1.md §3.4); BXML does it
with ``<SpeakSentence>`` / ``<PlayAudio>``.  The caller of this function passes ``then``:
the verbs that follow the audio (for the proxy, its park loop).  ``sentence: ""`` or
``fileUrl: ""`` stopped playback in v1: the result is just ``then``, which replaces (and so
stops) whatever was playing.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from lxml import etree

from translators.attribute_rules import (
    Action,
    AttributeRule,
    Number,
    Range,
    RuleContext,
    RuleViolation,
    Status,
    Text,
    apply_rules,
    validate_table,
)
from translators.bxml_writer import element, serialize
from translators.catapult import tables
from translators.catapult.gather import ROOTS
from translators.catapult.invalid_request import InvalidRequest
from translators.catapult.prompt import _default_voice_applies
from translators.diagnostics import Diagnostics
from translators.translation import Translation, finish

LOOP_COPIES = 20  # copies of a looping sentence or file (v1 looped until stopped)

AUDIO_REQUEST: tuple[AttributeRule, ...] = validate_table((
    *(row for row in tables.PROMPT if row.source != "bargeable"),
    AttributeRule("tag", (), Text(), on_invalid=Action.REJECT, context_only=True,
                  note="v1 echoed it in the speak/playback events, which v2 does not send (BXM414)"),
    AttributeRule("volume", (), Number(integer=True), "0", "0", valid=Range(-4, 4), on_invalid=Action.REJECT,
                  status=Status.UNSUPPORTED, note="BXML has no playback volume"),
))
_AUDIO_FIELDS = ("fileUrl", "sentence", "gender", "locale", "voice", "loopEnabled", "tag")


def _unwrap_nested(request: Mapping[str, Any], diagnostics: Diagnostics) -> dict[str, Any]:
    """The v1 Python client's helpers sent the whole audio object inside ``fileUrl``; accept it."""
    body = dict(request)
    nested = body.get("fileUrl")
    if isinstance(nested, Mapping):
        diagnostics.add("BXM412", "the audio fields came inside fileUrl (as the v1 Python client's "
                        "speak_sentence_to_call / play_audio_file_to_call send them); read from there",
                        field="fileUrl")
        body["fileUrl"] = None
        for key, value in nested.items():
            if key not in _AUDIO_FIELDS:
                raise InvalidRequest(f"fileUrl.{key}", "unknown field")
            if body.get(key) is None:
                body[key] = value
    return body


def catapult_audio_to_bxml(request: Mapping[str, Any], *, then: Sequence[etree._Element] = (),
                           root: str = "Bxml", strict: bool = False) -> Translation:
    """Translate a v1 audio request body; ``then`` are appended after the audio.

    ``Translation.context``: ``{"stop": bool, "tag": str | None}``.  Raises ``InvalidRequest``
    for what v1 answered with 400 (unknown fields, wrong types, volume outside -4..4).
    """
    if root not in ROOTS:
        raise ValueError(f"root must be one of {', '.join(ROOTS)}, not {root!r}")
    if not isinstance(request, Mapping):
        raise InvalidRequest("(body)", "the request body must be a JSON object")
    diagnostics = Diagnostics()
    body = _unwrap_nested(request, diagnostics)
    stop = body.get("sentence") == "" or body.get("fileUrl") == ""
    if stop:
        body = {k: v for k, v in body.items() if v != ""}
    values = {"v1_default_voice": tables.V1_DEFAULT_VOICE} if _default_voice_applies(body) else {}
    try:
        result = apply_rules(AUDIO_REQUEST, body, RuleContext(diagnostics, verb="audio", values=values,
                                                              unknown_code=None))
    except RuleViolation as exc:
        raise InvalidRequest(exc.field, exc.reason, body.get(exc.field)) from None

    verbs: list[etree._Element] = []
    sentence, file_url = result.values.get("sentence"), result.values.get("fileUrl")
    if not stop:
        if sentence is not None and sentence.strip():
            verbs.append(element("SpeakSentence", result.attributes, sentence))
        if file_url is not None:
            verbs.append(element("PlayAudio", None, file_url))
        if not verbs:
            raise InvalidRequest("sentence", "an audio request needs a sentence or a fileUrl")
    if verbs and result.values.get("loopEnabled"):
        diagnostics.add("BXM413", f"loopEnabled: v1 repeated the audio until stopped; it is repeated "
                        f"{LOOP_COPIES} times", field="loopEnabled")
        verbs = [element(v.tag, dict(v.attrib), v.text) for _ in range(LOOP_COPIES) for v in verbs]
    if verbs:
        diagnostics.add("BXM414", "v1 sent speak/playback events (started, done) for this audio; v2 has no such "
                        "events, so the app gets none", field="tag" if result.values.get("tag") else None)
    node = element(root)
    for verb in [*verbs, *then]:
        node.append(verb)
    translation = Translation(serialize(node), diagnostics.items,
                              {"stop": stop, "tag": result.values.get("tag")})
    return finish(translation, strict=strict)
