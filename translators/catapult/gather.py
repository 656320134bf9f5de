"""A v1 gather request (``POST /v1/users/{userId}/calls/{callId}/gather``) -> a BXML ``<Gather>``.

Behaviour kept from v1 (shared/spec/catapult-v1.md §2, §6): one ``interDigitTimeout`` covers
the wait before the first key and between keys; ``terminatingDigits`` defaults to ``#``; the
gather tag belongs to this gather's event only; a looping prompt repeats until a key press
(as closely as BXML's 20-nested-verb limit allows).  Requests v1 refused raise
``InvalidRequest`` instead of becoming a silently different gather.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lxml import etree

from translators.attribute_rules import RuleContext, RuleViolation, Url, apply_rules
from translators.bxml_writer import MAX_BXML_BYTES, byte_size, element, serialize
from translators.catapult import tables
from translators.catapult.gather_context import BXML_DEFAULT_MAX_DIGITS, GatherContext, check_gather_id
from translators.catapult.invalid_request import InvalidRequest
from translators.catapult.prompt import Prompt, build_prompt
from translators.diagnostics import Diagnostics
from translators.translation import Translation, finish

ROOTS = ("Bxml", "Response")  # PUT .../calls/{callId}/bxml takes <Bxml>; a callback reply <Response>


def _value_at(request: Mapping[str, Any], field: str) -> Any:
    node: Any = request
    for part in field.split("."):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def _document(root: str, gather: etree._Element, nested: list[etree._Element]) -> str:
    for verb in nested:
        gather.append(verb)
    document = element(root)
    document.append(gather)
    return serialize(document)


def _render(root: str, attributes: dict[str, str], prompt: Prompt,
            diagnostics: Diagnostics) -> str:
    """The document, with a looping prompt repeated as often as the verb and size limits allow."""
    copies = prompt.max_copies()
    text = _document(root, element("Gather", attributes), prompt.expand(copies))
    while prompt.loop and copies > 1 and byte_size(text) > MAX_BXML_BYTES:
        copies -= 1
        text = _document(root, element("Gather", attributes), prompt.expand(copies))
    if prompt.loop and prompt.verbs:
        diagnostics.add("BXM403", "prompt.loopEnabled=true: v1 replayed the prompt until a key press; BXML "
                        f"cannot loop a nested prompt, so it is played {copies} time(s) (the "
                        f"{tables.MAX_NESTED}-nested-verb limit), then the gather waits firstDigitTimeout",
                        field="prompt.loopEnabled")
    if byte_size(text) > MAX_BXML_BYTES:
        diagnostics.add("BXM005", f"the BXML is {byte_size(text)} bytes; Bandwidth accepts at most "
                        f"{MAX_BXML_BYTES}", field="prompt")
    return text


def catapult_gather_to_bxml(request: Mapping[str, Any], *, gather_url: str | None = None, root: str = "Bxml",
                            strict: bool = False, write_tag: bool = False,
                            gather_id: str | None = None) -> Translation:
    """Translate the JSON body of a v1 create-gather request into a BXML document.

    ``gather_url``: where Bandwidth posts the v2 gather event (the proxy, which turns it into
    the v1 event); without it BXML drops the digits (BXM402).  ``root``: ``"Bxml"`` for
    ``PUT .../calls/{callId}/bxml``, ``"Response"`` for a callback reply.  ``write_tag``: also
    write the gather's v1 ``tag`` as the (sticky) BXML ``tag``.  ``gather_id``: the v1 gather id
    the proxy minted, recorded in the context.  ``strict``: warnings raise ``TranslationError``.

    Accepts what v1 clients sent: numbers or numeric strings, ``null`` for unset fields,
    booleans or ``"true"``/``"false"``.  Raises ``InvalidRequest`` (naming the field) for what
    v1 answered with 400: unknown fields, wrong types, values out of range.
    ``Translation.context`` is the ``GatherContext`` as a JSON-ready dict.
    """
    if root not in ROOTS:
        raise ValueError(f"root must be one of {', '.join(ROOTS)}, not {root!r}")
    if gather_id is not None:
        check_gather_id(gather_id)
    if not isinstance(request, Mapping):
        raise InvalidRequest("(body)", "the request body must be a JSON object")

    diagnostics = Diagnostics()
    try:
        result = apply_rules(tables.GATHER_REQUEST, request,
                             RuleContext(diagnostics, verb="Gather", unknown_code=None))
        prompt = build_prompt(request.get("prompt"), diagnostics)
    except RuleViolation as exc:
        raise InvalidRequest(exc.field, exc.reason, _value_at(request, exc.field)) from None

    attributes: dict[str, str] = {}
    if gather_url is not None:
        try:
            attributes["gatherUrl"] = Url().parse(gather_url)
        except ValueError as exc:
            raise ValueError(f"gather_url: {exc}") from None
    else:
        diagnostics.add("BXM402", "no gather_url: a BXML <Gather> without gatherUrl drops the digits, so the v1 "
                        "app would never get its gather event")
    attributes.update(result.attributes)

    values = result.values
    tag = values.get("tag")
    tag_written = False
    if write_tag and tag:
        if len(tag) > tables.MAX_TAG:
            diagnostics.add("BXM407", f"tag has {len(tag)} characters; BXML allows {tables.MAX_TAG}, so it is not "
                            "written (it stays in the gather context)", field="tag")
        else:
            attributes["tag"] = tag
            tag_written = True
            diagnostics.add("BXM406", "the gather tag is written as the BXML tag, which stays on every later "
                            "callback of the call", field="tag")
    if "maxDigits" not in values:
        diagnostics.add("BXM410", f"no maxDigits: v1's default is undocumented; BXML's {BXML_DEFAULT_MAX_DIGITS} "
                        "applies", field="maxDigits")
    if values.get("suppressDtmf") is False:
        diagnostics.add("BXM405", "suppressDtmf=false asks for a dtmf event per key during the gather; BXML "
                        "pauses <StartGather> while <Gather> runs, so the keys arrive only in the gather event",
                        field="suppressDtmf")

    bxml = _render(root, attributes, prompt, diagnostics)
    context = GatherContext(
        max_digits=values.get("maxDigits", BXML_DEFAULT_MAX_DIGITS),
        terminating_digits=values["terminatingDigits"],
        inter_digit_timeout=values["interDigitTimeout"],
        tag=tag,
        tag_written=tag_written,
        gather_id=gather_id,
    )
    return finish(Translation(bxml, diagnostics.items, context.to_dict()), strict=strict)
