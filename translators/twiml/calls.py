"""Call-control verbs: ``<Redirect>``, ``<Hangup>``, ``<Reject>``, ``<Dial>`` and ``<Record>``."""

from __future__ import annotations

import re

from lxml import etree

from translators.attribute_rules import plan_for
from translators.bxml_writer import VERB_LEVEL, container, markup, start_tag
from translators.twiml import tables
from translators.twiml.context import TwimlContext, element_children, local_name, stray_text

# The verb tables, compiled once.
_REDIRECT = plan_for(tables.REDIRECT)
_HANGUP = plan_for(tables.HANGUP)
_REJECT = plan_for(tables.REJECT)
_CONFERENCE = plan_for(tables.CONFERENCE)
_DIAL_CONFERENCE = plan_for(tables.DIAL_CONFERENCE)
_DIAL = plan_for(tables.DIAL)
_NUMBER = plan_for(tables.NUMBER)
_SIP = plan_for(tables.SIP)
_RECORD = plan_for(tables.RECORD)

MAX_TRANSFER_TARGETS = 8
_CONFERENCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def redirect(node: etree._Element, ctx: TwimlContext) -> list[str]:
    result = ctx.attributes(_REDIRECT, node)
    url = (node.text or "").strip()
    if not url:
        ctx.add("BXM303", "<Redirect> has no URL; left out (Twilio would fail the call here)", node)
        return []
    ctx.callback_urls.append(("redirectUrl", url, node))
    return [markup("Redirect", {"redirectUrl": url, **result.attributes})]


def hangup(node: etree._Element, ctx: TwimlContext) -> list[str]:
    ctx.check(_HANGUP, node)
    return ["<Hangup/>"]


_REJECT_TONES = {"rejected": "not-in-service", "busy": "busy"}


def reject(node: etree._Element, ctx: TwimlContext) -> list[str]:
    ctx.check(_REJECT, node)
    raw = node.get("reason")
    reason = "rejected"
    if raw is not None:
        try:
            reason = tables.REJECT_REASON.parse(raw)
        except ValueError:
            ctx.add("BXM014", f'<Reject reason="{raw}"> is invalid; using the default "rejected" as Twilio does',
                    node, field_name="reason")
    first = not any(isinstance(s.tag, str) for s in node.itersiblings(preceding=True))
    where = ("as the first verb, BXML's <Hangup> also rejects the unanswered call" if first else
             "after other verbs the call is already answered, so the caller is simply hung up on")
    stated = f' reason="{raw}"' if raw is not None else ""
    ctx.add("BXM011", f"<Reject{stated}> becomes <Hangup>: {where}; the caller does not hear Twilio's "
            f"{_REJECT_TONES[reason]} tone", node, field_name="reason" if raw is not None else None)
    return ["<Hangup/>"]


def _conference(noun: etree._Element, ctx: TwimlContext) -> str:
    result = ctx.attributes(_CONFERENCE, noun)
    name = (noun.text or "").strip()
    if not _CONFERENCE_NAME.fullmatch(name):
        fixed = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "conference"
        ctx.add("BXM304", f'conference name "{name}" is not allowed in BXML (letters, digits, -_. only, ≤ 100); '
                f'using "{fixed}" (every document maps the same name the same way)', noun)
        name = fixed
    return markup("Conference", result.attributes, name)


def dial(node: etree._Element, ctx: TwimlContext) -> list[str]:
    nouns = element_children(node)
    conferences = [n for n in nouns if local_name(n) == "Conference"]
    if conferences:
        if len(conferences) > 1 or len(nouns) > 1 or stray_text(node):
            ctx.add("BXM302", "<Dial> with <Conference> must hold that one noun; only the first conference is "
                    "translated", node)
        ctx.check(_DIAL_CONFERENCE, node)
        return [_conference(conferences[0], ctx)]

    result = ctx.attributes(_DIAL, node)
    targets: list[str] = []
    text = (node.text or "").strip()
    if text:
        targets.append(markup("PhoneNumber", None, text))
    for noun in nouns:
        name = local_name(noun)
        if name in ("Number", "Sip"):
            address = (noun.text or "").strip()
            if address:
                # The SIP password is dropped (BXM013); its diagnostic must not carry the secret.
                shown = {k: ("****" if k == "password" else v) for k, v in noun.attrib.items()}
                leg = ctx.attributes(_NUMBER if name == "Number" else _SIP, noun, attributes=shown)
                targets.append(markup("PhoneNumber" if name == "Number" else "SipUri", leg.attributes, address))
            else:
                ctx.add("BXM309", f"<{name}> is empty: there is nothing to ring; left out with its attributes",
                        noun)
        elif name in ("Client", "Queue"):
            ctx.add("BXM010", f"<Dial><{name}> has no Bandwidth equivalent; left out", noun)
        else:
            ctx.add("BXM009", f"<{name}> is not a <Dial> noun; left out", noun)
        if (noun.tail or "").strip():
            ctx.add("BXM006", "text between <Dial> nouns is ignored", noun)
    if not targets:
        ctx.add("BXM305", "<Dial> has nothing BXML can call; left out", node)
        return []
    if len(targets) > MAX_TRANSFER_TARGETS:
        ctx.add("BXM301", f"<Dial> rings {len(targets)} targets; BXML <Transfer> rings at most "
                f"{MAX_TRANSFER_TARGETS}, so the rest are left out", node)
        targets = targets[:MAX_TRANSFER_TARGETS]
    return [container(start_tag("Transfer", result.attributes), "Transfer", targets, VERB_LEVEL)]


def record(node: etree._Element, ctx: TwimlContext) -> list[str]:
    result = ctx.attributes(_RECORD, node)
    if "recordCompleteUrl" not in result.attributes:
        ctx.add("BXM306", "<Record> has no action and no document URL is known: Twilio would post the "
                "recording to this document; BXML continues with the next verb", node, field_name="action")
    return [markup("Record", result.attributes)]
