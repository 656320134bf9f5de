"""``<Say>``, ``<Play>`` and ``<Pause>``: at the top level and as ``<Gather>`` prompts."""

from __future__ import annotations

from dataclasses import dataclass

from lxml import etree

from translators.attribute_rules import Number
from translators.bxml_writer import element
from translators.safe_xml import UNDECLARED_NS
from translators.twiml import tables
from translators.twiml.context import TwimlContext, local_name
from translators.twiml.voices import choose_voice

# SSML tags Bandwidth supports inside <SpeakSentence> (bxml-v2.md §2.3).
BXML_SSML = frozenset({"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub"})
MAX_BREAK_SECONDS = 10  # one SSML <break> lasts at most 10 s
LOOP_CAP = 100  # copies of one verb outside <Gather> (keeps documents under 64 KB)
INFINITE_LOOP_COPIES = 20  # copies for loop="0" outside <Gather>
MAX_SEND_DTMF = 50  # characters in one BXML <SendDtmf>; longer digit strings are split


@dataclass(slots=True)
class Prompt:
    """One source verb's output: the elements of one play, and how often to play them."""

    elements: list[etree._Element]
    copies: int | None  # None: loop="0", repeat "forever"
    node: etree._Element

    def expand(self, copies: int) -> list[etree._Element]:
        """``copies`` plays: the elements themselves, then deep copies (``__copy__`` copies the subtree)."""
        if copies <= 1:
            return list(self.elements) if copies == 1 else []
        out = list(self.elements)
        for _ in range(copies - 1):
            out.extend([item.__copy__() for item in self.elements])
        return out


_INTEGER = Number(integer=True)


def _loop_count(node: etree._Element, ctx: TwimlContext) -> int | None:
    raw = node.get("loop")
    if raw is None:
        return 1
    try:
        value = _INTEGER.parse(raw)
        if value < 0:
            raise ValueError("negative")
    except ValueError:
        ctx.add("BXM014", f'<{local_name(node)}> loop="{raw}" is invalid; using the default 1 as Twilio does',
                node, field_name="loop")
        return 1
    return None if value == 0 else int(value)


def _append_text(target: etree._Element, text: str | None) -> None:
    if not text:
        return
    if len(target):
        last = target[-1]
        last.tail = (last.tail or "") + text
    else:
        target.text = (target.text or "") + text


def _ssml_name(tag: str) -> str:
    if tag.startswith("{" + UNDECLARED_NS):
        prefix, _, local = tag[len(UNDECLARED_NS) + 1:].partition("}")
        return f"{prefix}:{local}"
    return tag.rsplit("}", 1)[-1]


_XML_NS = "{http://www.w3.org/XML/1998/namespace}"


def _ssml_attributes(node: etree._Element, name: str, ctx: TwimlContext) -> dict[str, str]:
    """A kept SSML tag's attributes; vendor ones (``amazon:max-duration``) have no BXML meaning."""
    kept: dict[str, str] = {}
    for attribute, value in node.attrib.items():
        if attribute.startswith("{") and not attribute.startswith(_XML_NS):
            shown = _ssml_name(attribute)
            ctx.add("BXM013", f'<{name} {shown}="{value}"> in <Say>: Bandwidth\'s SSML has no such attribute; '
                    "dropped", node, field_name=shown)
        else:
            kept[attribute] = value
    return kept


def _copy_ssml(source: etree._Element, target: etree._Element, ctx: TwimlContext) -> None:
    """Copy ``source``'s content into ``target``: supported SSML kept, the rest unwrapped."""
    _append_text(target, source.text)
    for child in source:
        if not isinstance(child.tag, str):  # comments inside speech are not spoken
            _append_text(target, child.tail)
            continue
        name = _ssml_name(child.tag)
        if name in BXML_SSML and not child.tag.startswith("{"):
            copied = etree.SubElement(target, name, _ssml_attributes(child, name, ctx))
            _copy_ssml(child, copied, ctx)
        else:
            ctx.add("BXM204", f"<{name}> in <Say> is not SSML that Bandwidth supports; its words are kept "
                    "without it", child)
            _copy_ssml(child, target, ctx)
        _append_text(target, child.tail)


def _strip(node: etree._Element) -> None:
    """Trim white space at the edges of spoken content (not inside it)."""
    if node.text:
        node.text = node.text.lstrip()
    if len(node):
        if node[-1].tail:
            node[-1].tail = node[-1].tail.rstrip()
    elif node.text:
        node.text = node.text.rstrip()


def _speaks(node: etree._Element) -> bool:
    return bool("".join(node.itertext()).strip()) or any(isinstance(c.tag, str) and c.tag == "break" for c in node)


def say(node: etree._Element, ctx: TwimlContext) -> list[Prompt]:
    ctx.check(tables.SAY, node)
    copies = _loop_count(node, ctx)
    voice, language = node.get("voice"), node.get("language")
    choice = choose_voice(voice, language)
    attributes: dict[str, str] = {}
    if choice.unknown:
        speaker = f"speaker for locale {choice.locale}" if choice.locale else "speaker (female, en_US)"
        ctx.add("BXM206", f'<Say> voice="{voice}" is not a Twilio voice; Bandwidth\'s default '
                f"{speaker} is used", node, field_name="voice")
    if choice.approximated:
        ctx.add("BXM205", choice.approximated, node, field_name="voice")
    if choice.unsupported_language:
        ctx.add("BXM207", f"language {choice.unsupported_language} has no Bandwidth locale; the text is spoken "
                "with Bandwidth's default locale", node, field_name="language")
    if choice.voice:
        attributes["voice"] = choice.voice
    else:
        if choice.gender:
            attributes["gender"] = choice.gender
        explicit_locale = language is not None or (voice or "").startswith(("Polly.", "Google."))
        if choice.locale and (explicit_locale or choice.locale != "en_US"):
            attributes["locale"] = choice.locale
    if len(node):  # SSML, comments: copied node by node
        sentence = element("SpeakSentence", attributes)
        _copy_ssml(node, sentence, ctx)
        _strip(sentence)
        speaks = _speaks(sentence)
    else:  # plain text (most prompts): the same result, directly
        text = node.text.strip() if node.text else ""
        speaks = bool(text)
        sentence = element("SpeakSentence", attributes, text) if speaks else None
    if not speaks or sentence is None:
        ctx.add("BXM210", "<Say> has no text; left out", node)
        return []
    return [Prompt([sentence], copies, node)]


def play(node: etree._Element, ctx: TwimlContext, *, in_gather: bool) -> list[Prompt]:
    ctx.check(tables.PLAY, node)
    copies = _loop_count(node, ctx)
    prompts: list[Prompt] = []
    digits = node.get("digits")
    if digits is not None:
        if in_gather:
            ctx.add("BXM209", f'<Play digits="{digits}"> inside <Gather>: BXML cannot play DTMF tones there; '
                    "left out", node, field_name="digits")
        else:
            try:
                value = tables.PLAY_DIGITS.kind.parse(digits)
            except ValueError as exc:
                ctx.add("BXM016", f'<Play digits="{digits}"> is invalid ({exc}); left out', node, field_name="digits")
            else:
                tones = [element("SendDtmf", text=value[i:i + MAX_SEND_DTMF])
                         for i in range(0, len(value), MAX_SEND_DTMF)]
                if tones:
                    prompts.append(Prompt(tones, copies, node))
    url = (node.text or "").strip()
    if url:
        prompts.append(Prompt([element("PlayAudio", text=url)], copies, node))
    elif digits is None:
        ctx.add("BXM210", "<Play> has no audio URL; left out", node)
    for child in node:
        if isinstance(child.tag, str):
            ctx.add("BXM006", f"<Play> cannot contain <{local_name(child)}>; ignored", child)
    return prompts


def pause_top_level(node: etree._Element, ctx: TwimlContext) -> list[etree._Element]:
    result = ctx.attributes(tables.PAUSE, node)
    return [element("Pause", result.attributes)]


def pause_in_gather(node: etree._Element, ctx: TwimlContext) -> list[Prompt]:
    result = ctx.attributes(tables.PAUSE, node)
    seconds = int(result.values.get("length", 1))
    sentence = element("SpeakSentence")
    remaining = seconds
    while remaining > 0:
        chunk = min(remaining, MAX_BREAK_SECONDS)
        etree.SubElement(sentence, "break", {"time": f"{chunk}s"})
        remaining -= chunk
    ctx.add("BXM208", f"<Pause length=\"{seconds}\"> inside <Gather> becomes a <SpeakSentence> of SSML breaks "
            f"({seconds} s of silence)", node)
    return [Prompt([sentence], 1, node)]


def expand_top_level(prompts: list[Prompt], ctx: TwimlContext) -> list[etree._Element]:
    out: list[etree._Element] = []
    for prompt in prompts:
        if prompt.copies is None:
            ctx.add("BXM202", f'<{local_name(prompt.node)} loop="0"> repeats until hang-up on Twilio; repeated '
                    f"{INFINITE_LOOP_COPIES} times", prompt.node, field_name="loop")
            out.extend(prompt.expand(INFINITE_LOOP_COPIES))
        elif prompt.copies > LOOP_CAP:
            ctx.add("BXM203", f'<{local_name(prompt.node)} loop="{prompt.copies}"> capped at {LOOP_CAP} copies',
                    prompt.node, field_name="loop")
            out.extend(prompt.expand(LOOP_CAP))
        else:
            out.extend(prompt.expand(prompt.copies))
    return out
