"""Call-control verbs: ``<Redirect>``, ``<Hangup>``, ``<Reject>``, ``<Dial>`` and ``<Record>``."""

from __future__ import annotations

import re

from lxml import etree

from translators.bxml_writer import element
from translators.twiml import tables
from translators.twiml.context import TwimlContext, element_children, local_name, stray_text

MAX_TRANSFER_TARGETS = 8
_CONFERENCE_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


def redirect(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    result = ctx.attributes(tables.REDIRECT, node)
    url = (node.text or "").strip()
    if not url:
        ctx.add("BXM303", "<Redirect> has no URL; left out (Twilio would fail the call here)", node)
        return []
    ctx.callback_urls.append(("redirectUrl", url, node))
    return [element("Redirect", {"redirectUrl": url, **result.attributes})]


def hangup(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    ctx.check(tables.HANGUP, node)
    return [element("Hangup")]


_REJECT_TONES = {"rejected": "not-in-service", "busy": "busy"}


def reject(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    ctx.check(tables.REJECT, node)
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
    return [element("Hangup")]


def _conference(noun: etree._Element, ctx: TwimlContext) -> etree._Element:
    result = ctx.attributes(tables.CONFERENCE, noun)
    name = (noun.text or "").strip()
    if not _CONFERENCE_NAME.fullmatch(name):
        fixed = re.sub(r"[^A-Za-z0-9_.-]", "_", name)[:100] or "conference"
        ctx.add("BXM304", f'conference name "{name}" is not allowed in BXML (letters, digits, -_. only, ≤ 100); '
                f'using "{fixed}" (every document maps the same name the same way)', noun)
        name = fixed
    return element("Conference", result.attributes, text=name)


def dial(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    nouns = element_children(node)
    conferences = [n for n in nouns if local_name(n) == "Conference"]
    if conferences:
        if len(conferences) > 1 or len(nouns) > 1 or stray_text(node):
            ctx.add("BXM302", "<Dial> with <Conference> must hold that one noun; only the first conference is "
                    "translated", node)
        ctx.check(tables.DIAL_CONFERENCE, node)
        return [_conference(conferences[0], ctx)]

    result = ctx.attributes(tables.DIAL, node)
    targets: list[etree._Element] = []
    text = (node.text or "").strip()
    if text:
        targets.append(element("PhoneNumber", text=text))
    for noun in nouns:
        name = local_name(noun)
        if name in ("Number", "Sip"):
            address = (noun.text or "").strip()
            if address:
                # The SIP password is dropped (BXM013); its diagnostic must not carry the secret.
                shown = {k: ("****" if k == "password" else v) for k, v in noun.attrib.items()}
                leg = ctx.attributes(tables.NUMBER if name == "Number" else tables.SIP, noun, attributes=shown)
                targets.append(element("PhoneNumber" if name == "Number" else "SipUri", leg.attributes, address))
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
    transfer = element("Transfer", result.attributes)
    for target in targets:
        transfer.append(target)
    return [transfer]


def record(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    result = ctx.attributes(tables.RECORD, node)
    if "recordCompleteUrl" not in result.attributes:
        ctx.add("BXM306", "<Record> has no action and no document URL is known: Twilio would post the "
                "recording to this document; BXML continues with the next verb", node, field_name="action")
    return [element("Record", result.attributes)]
