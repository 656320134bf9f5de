"""``<Gather>``: attributes through the GATHER table, prompts through ``speech``.

Behaviour kept from Twilio (shared/spec/twiml.md §2.2): ``timeout`` covers the wait for
the first key and between keys; ``finishOnKey`` defaults to ``#``; without ``action`` the
digits go to the current document; nested prompts are cut at BXML's 20-verb limit.
"""

from __future__ import annotations

from functools import lru_cache

from lxml import etree

from translators.attribute_rules import Boolean, plan_for
from translators.bxml_writer import VERB_LEVEL, container, start_tag
from translators.twiml import speech, tables
from translators.twiml.context import NO_CONDITIONS, TwimlContext, local_name

# The verb tables, compiled once.
_GATHER = plan_for(tables.GATHER)

MAX_NESTED = 20  # BXML: at most 20 verbs nested in <Gather> (repeatCount 1)
_SPEECH_ROWS = frozenset(row.source for row in tables.GATHER if row.requires == "speech")
_BOOLEAN = Boolean()


@lru_cache(maxsize=64)
def _conditions(raw: str | None) -> frozenset[str]:
    """The table conditions of an ``input`` value (the GATHER table parses and reports it too)."""
    if raw is None:
        return NO_CONDITIONS
    try:
        value = tables.INPUT_KIND.parse(raw)
    except ValueError:
        return NO_CONDITIONS  # the table reports it and falls back to dtmf
    return frozenset({"speech"}) if "speech" in value else NO_CONDITIONS


def _prepare_speech(node: etree._Element, attributes: dict[str, str], ctx: TwimlContext) -> None:
    """speechTimeout="auto" and speechModel: the parts of the speech mapping that are not plain rows."""
    if attributes.get("speechTimeout", "").strip().lower() == "auto":
        ctx.add("BXM107", '<Gather speechTimeout="auto"> has no BXML equivalent; using the Gather\'s timeout',
                node, field_name="speechTimeout")
        del attributes["speechTimeout"]
    model = attributes.get("speechModel")
    if model is not None and model.strip() != "default":
        ctx.add("BXM108", f'<Gather speechModel="{model}"> is a Twilio model; left out (Bandwidth chooses its '
                "own)", node, field_name="speechModel")


def _action_on_empty_result(node: etree._Element, raw: str | None, ctx: TwimlContext) -> bool:
    if raw is None:
        return False
    try:
        return _BOOLEAN.parse(raw)
    except ValueError:
        ctx.add("BXM014", f'<Gather actionOnEmptyResult="{raw}"> is invalid; using the default false as Twilio '
                "does", node, field_name="actionOnEmptyResult")
        return False


def _prompts(node: etree._Element, ctx: TwimlContext) -> list[speech.Prompt]:
    prompts: list[speech.Prompt] = []
    for child in node:
        tag = child.tag
        if type(tag) is not str:  # comments
            continue
        name = tag if tag[0] != "{" else tag.rpartition("}")[2]
        if name == "Say":
            prompts.extend(speech.say(child, ctx))
        elif name == "Play":
            prompts.extend(speech.play(child, ctx, in_gather=True))
        elif name == "Pause":
            prompts.extend(speech.pause_in_gather(child, ctx))
        else:
            ctx.add("BXM105", f"<{name}> cannot be nested in <Gather> (only Say, Play and Pause); left out", child)
    return prompts


def _allocate(prompts: list[speech.Prompt], ctx: TwimlContext, gather: etree._Element) -> list[str]:
    """Expand loops within the 20-verb limit: endless loops share what finite ones leave.

    Copies past the limit are counted, never built (``loop="1000000000"`` costs nothing).
    """
    played: list[str] = []
    for prompt in prompts:
        if prompt.copies != 1:
            break
        played.extend(prompt.verbs)
    else:  # no loops (most prompts): the verbs as they are
        if len(played) <= MAX_NESTED:
            return played
    fixed = sum(len(p.verbs) * p.copies for p in prompts if p.copies is not None)
    endless = [p for p in prompts if p.copies is None]
    spare = max(MAX_NESTED - fixed, 0)
    nested: list[str] = []
    total = 0
    for prompt in prompts:
        copies = prompt.copies
        if copies is None:
            copies = max(spare // (len(endless) * len(prompt.verbs)), 1)
            ctx.add("BXM202", f'<{local_name(prompt.node)} loop="0"> inside <Gather> plays until a key press on '
                    f"Twilio; repeated {copies} times to fit BXML's {MAX_NESTED}-verb limit", prompt.node,
                    field_name="loop")
        total += len(prompt.verbs) * copies
        room = MAX_NESTED + 1 - len(nested)  # one past the limit is enough to know it was passed
        if room > 0:
            nested.extend(prompt.expand(min(copies, -(-room // len(prompt.verbs)))))
    if total > MAX_NESTED:
        ctx.add("BXM104", f"<Gather> prompt has {total} verbs after loop expansion; BXML allows "
                f"{MAX_NESTED}, so the prompt stops after the {MAX_NESTED}th", gather)
    return nested[:MAX_NESTED]


def _followed_by_a_verb(node: etree._Element) -> bool:
    sibling = node.getnext()
    while sibling is not None:
        if type(sibling.tag) is str:
            return True
        sibling = sibling.getnext()
    return False


def gather(node: etree._Element, ctx: TwimlContext) -> list[str]:
    attributes = dict(node.items())
    kind = attributes.get("input")
    conditions = NO_CONDITIONS if kind is None else _conditions(kind)
    speech_input = "speech" in conditions
    action_on_empty_raw = attributes.get("actionOnEmptyResult")
    if speech_input:
        _prepare_speech(node, attributes, ctx)
    out = ctx.attributes(_GATHER, node, attributes=attributes, conditions=conditions).attributes
    if speech_input:
        speech_attributes = sorted(_SPEECH_ROWS.intersection(out))
        ctx.add("BXM106", "speech recognition attributes emitted (" + ", ".join(["input", *speech_attributes])
                + "); Bandwidth must have speech enabled for the account", node)

    if "gatherUrl" not in out:
        ctx.add("BXM101", "<Gather> has no action and no document URL is known: Twilio would post the digits "
                "to this document, BXML without gatherUrl discards them", node, field_name="action")
    action_on_empty_result = (action_on_empty_raw is not None  # validated even if moot
                              and _action_on_empty_result(node, action_on_empty_raw, ctx))
    if "gatherUrl" in out and not action_on_empty_result:
        if _followed_by_a_verb(node):
            ctx.add("BXM102", "on no input Twilio skips the action and runs the verbs after <Gather>; Bandwidth "
                    "posts empty digits to gatherUrl instead and never runs them", node,
                    field_name="actionOnEmptyResult")
        else:
            ctx.add("BXM103", "on no input Twilio ends the call; Bandwidth posts empty digits to gatherUrl",
                    node, field_name="actionOnEmptyResult")
    return [container(start_tag("Gather", out), "Gather", _allocate(_prompts(node, ctx), ctx, node), VERB_LEVEL)]
