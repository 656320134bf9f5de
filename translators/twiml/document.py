"""Walk a TwiML ``<Response>`` and translate each verb through the verb table."""

from __future__ import annotations

import re
from collections.abc import Callable

from lxml import etree

from translators.bxml_writer import MAX_BXML_BYTES, byte_size, comment, render_document
from translators.diagnostics import Diagnostic
from translators.errors import TranslationError
from translators.safe_xml import parse_with_encoding
from translators.translation import Translation
from translators.twiml import calls, gather, speech, streams
from translators.twiml.context import TwimlContext, local_name, stray_text
from translators.twiml.tables import TEXT_VERBS, VERB_ROWS

# A verb's translation: the markup of the BXML verbs it becomes (children of <Response>).
Handler = Callable[[etree._Element, TwimlContext], list[str]]


def _say(node: etree._Element, ctx: TwimlContext) -> list[str]:
    return speech.expand_top_level(speech.say(node, ctx), ctx)


def _play(node: etree._Element, ctx: TwimlContext) -> list[str]:
    return speech.expand_top_level(speech.play(node, ctx, in_gather=False), ctx)


HANDLERS: dict[str, Handler] = {
    "Gather": gather.gather,
    "Say": _say,
    "Play": _play,
    "Pause": speech.pause_top_level,
    "Redirect": calls.redirect,
    "Hangup": calls.hangup,
    "Reject": calls.reject,
    "Dial": calls.dial,
    "Record": calls.record,
    "Start": streams.start,
    "Stop": streams.stop,
}


def _has_stray_text(node: etree._Element) -> bool:
    """Whether ``stray_text(node)`` is not empty, without building it."""
    text = node.text
    if text and not text.isspace():
        return True
    if len(node):
        for child in node:
            tail = child.tail
            if tail and not tail.isspace():
                return True
    return False


def _verb(node: etree._Element, name: str, ctx: TwimlContext) -> list[str]:
    """The BXML of one verb; ``name`` is its local name."""
    handler = HANDLERS.get(name)
    if handler is not None:
        if name not in TEXT_VERBS and _has_stray_text(node):
            ctx.add("BXM006", f"text directly inside <{name}> is ignored: {stray_text(node)[:40]!r}", node)
        return handler(node, ctx)
    row = VERB_ROWS.get(name)
    if row is not None and row.noun_of:
        ctx.add("BXM009", f"<{name}> is a noun of <{row.noun_of}>, not a verb; left out", node)
    elif row is not None:
        ctx.add("BXM010", f"<{name}> has no Bandwidth equivalent ({row.note}); left out", node)
    else:
        ctx.add("BXM009", f"<{name}> is not a TwiML voice verb; left out", node)
    return []


def _column(lines: list[str], line: int | None) -> int | None:
    """1-based column (in characters) of the first start tag on ``line``."""
    if line is None or line > len(lines):
        return None
    found = re.search(r"<(?![?!])", lines[line - 1])
    return found.start() + 1 if found else None


def translate(source: str | bytes, document_url: str | None) -> Translation:
    root, encoding = parse_with_encoding(source)
    return translate_tree(root, document_url, source=source, encoding=encoding)


def translate_tree(root: etree._Element, document_url: str | None, *, source: str | bytes | None,
                   encoding: str | None) -> Translation:
    """``translate`` of a document already parsed by ``safe_xml.parse_with_encoding`` (which
    returned ``encoding``); ``source`` is what it parsed, for the lines of diagnostics."""
    ctx = TwimlContext(document_url=document_url, source=source, encoding=encoding)
    if local_name(root) != "Response" or root.tag != "Response":
        line = ctx.line(root)
        ctx.diagnostics.add("BXM002", f"the root element is <{root.tag}>, not <Response>", line,
                            column=_column(ctx.source_lines, line))
        raise TranslationError(ctx.diagnostics.items)
    for attribute in root.attrib:
        ctx.add("BXM012", f"<Response> has no attribute {attribute!r}; dropped", root, field_name=attribute)
    # The verbs, in one pass that also looks for text between them (BXM006 comes before their findings).
    diagnostics = ctx.diagnostics.items
    mark = len(diagnostics)
    text = root.text
    stray = bool(text) and not text.isspace()
    verbs: list[str] = []
    for child in root:
        if not stray:
            text = child.tail
            stray = bool(text) and not text.isspace()
        tag = child.tag
        if type(tag) is str:  # an element (comments and entities have a function as tag)
            verbs.extend(_verb(child, tag if tag[0] != "{" else tag.rpartition("}")[2], ctx))
        elif isinstance(child, etree._Comment):
            verbs.append(comment(child.text))
    if stray:
        ctx.add("BXM006", f"text directly inside <Response> is ignored: {stray_text(root)[:40]!r}", root)
        diagnostics.insert(mark, diagnostics.pop())

    if ctx.callback_urls:
        names = sorted({name for name, _, _ in ctx.callback_urls})
        ctx.add("BXM007", f"{len(ctx.callback_urls)} callback URL(s) ({', '.join(names)}) will receive Bandwidth "
                "v2 JSON events instead of Twilio form parameters", ctx.callback_urls[0][2])
    document = render_document("Response", verbs)
    # A character is at most 4 bytes in UTF-8: a short document cannot pass the limit (no need to encode it).
    if len(document) * 4 > MAX_BXML_BYTES and (size := byte_size(document)) > MAX_BXML_BYTES:
        ctx.add("BXM005", f"the BXML is {size} bytes; Bandwidth accepts at most {MAX_BXML_BYTES}", root)
    return Translation(bxml=document, diagnostics=sorted(ctx.diagnostics.items, key=_order))


def _order(diagnostic: Diagnostic) -> int:
    return diagnostic.line if diagnostic.line is not None else 0
