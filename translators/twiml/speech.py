"""``<Say>``, ``<Play>`` and ``<Pause>``: at the top level and as ``<Gather>`` prompts."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from lxml import etree

from translators.attribute_rules import Number, plan_for
from translators.bxml_writer import element, escape_text, markup, start_tag
from translators.safe_xml import UNDECLARED_NS
from translators.twiml import tables
from translators.twiml.context import TwimlContext, local_name
from translators.twiml.voices import choose_voice

# The verb tables, compiled once.
_SAY = plan_for(tables.SAY)
_PLAY = plan_for(tables.PLAY)
_PAUSE = plan_for(tables.PAUSE)

# SSML tags Bandwidth supports inside <SpeakSentence> (bxml-v2.md §2.3).
BXML_SSML = frozenset({"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub"})
MAX_BREAK_SECONDS = 10  # one SSML <break> lasts at most 10 s
LOOP_CAP = 100  # copies of one verb outside <Gather> (keeps documents under 64 KB)
INFINITE_LOOP_COPIES = 20  # copies for loop="0" outside <Gather>
MAX_SEND_DTMF = 50  # characters in one BXML <SendDtmf>; longer digit strings are split


@dataclass(slots=True)
class Prompt:
    """One source verb's output: the BXML verbs of one play (as markup), and how often to play them."""

    verbs: list[str]
    copies: int | None  # None: loop="0", repeat "forever"
    node: etree._Element

    def expand(self, copies: int) -> list[str]:
        """The verbs of ``copies`` plays, one after the other."""
        if copies <= 1:
            return list(self.verbs) if copies == 1 else []
        return self.verbs * copies

    @property
    def elements(self) -> list[etree._Element]:
        """The verbs of one play as lxml elements, for callers that build trees."""
        return [etree.fromstring(verb) for verb in self.verbs]


_INTEGER = Number(integer=True)


def _loop_count(node: etree._Element, raw: str | None, ctx: TwimlContext) -> int | None:
    """The number of plays ``loop="raw"`` asks for (None: forever)."""
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
    """Whether ``node`` says anything: some text that is not white space, or a ``<break>`` of its own."""
    for text in node.itertext():
        if text and not text.isspace():
            return True
    return any(isinstance(c.tag, str) and c.tag == "break" for c in node)


@dataclass(frozen=True, slots=True)
class _Speaker:
    """What one ``voice``/``language`` pair gives every ``<Say>`` stating it."""

    attributes: dict[str, str]  # the <SpeakSentence> attributes (shared: never changed)
    head: str  # their start tag
    notes: tuple[tuple[str, str, str], ...]  # the diagnostics: (code, message, field)


@lru_cache(maxsize=1024)
def _speaker(voice: str | None, language: str | None) -> _Speaker:
    """A pure function of the pair, kept like ``choose_voice`` (documents repeat a few voices)."""
    choice = choose_voice(voice, language)
    notes: list[tuple[str, str, str]] = []
    if choice.unknown:
        speaker = f"speaker for locale {choice.locale}" if choice.locale else "speaker (female, en_US)"
        notes.append(("BXM206", f'<Say> voice="{voice}" is not a Twilio voice; Bandwidth\'s default '
                      f"{speaker} is used", "voice"))
    if choice.approximated:
        notes.append(("BXM205", choice.approximated, "voice"))
    if choice.unsupported_language:
        notes.append(("BXM207", f"language {choice.unsupported_language} has no Bandwidth locale; the text is "
                      "spoken with Bandwidth's default locale", "language"))
    attributes: dict[str, str] = {}
    if choice.voice:
        attributes["voice"] = choice.voice
    else:
        if choice.gender:
            attributes["gender"] = choice.gender
        explicit_locale = language is not None or (voice or "").startswith(("Polly.", "Google."))
        if choice.locale and (explicit_locale or choice.locale != "en_US"):
            attributes["locale"] = choice.locale
    return _Speaker(attributes, start_tag("SpeakSentence", attributes), tuple(notes))


def say(node: etree._Element, ctx: TwimlContext) -> list[Prompt]:
    attributes = dict(node.items())
    if not _SAY.is_silent(attributes):
        ctx.attributes(_SAY, node, attributes=attributes)
    loop = attributes.get("loop")
    copies = 1 if loop is None else _loop_count(node, loop, ctx)
    speaker = _speaker(attributes.get("voice"), attributes.get("language"))
    if speaker.notes:
        for code, message, field_name in speaker.notes:
            ctx.add(code, message, node, field_name=field_name)
    if len(node):  # SSML, comments: copied node by node
        sentence = element("SpeakSentence", speaker.attributes)
        _copy_ssml(node, sentence, ctx)
        _strip(sentence)
        spoken = etree.tostring(sentence, encoding="unicode") if _speaks(sentence) else ""
    else:  # plain text (most prompts): the same result, directly
        text = node.text
        text = text.strip() if text else ""
        spoken = f"{speaker.head}>{escape_text(text)}</SpeakSentence>" if text else ""
    if not spoken:
        ctx.add("BXM210", "<Say> has no text; left out", node)
        return []
    return [Prompt([spoken], copies, node)]


def play(node: etree._Element, ctx: TwimlContext, *, in_gather: bool) -> list[Prompt]:
    attributes = dict(node.items())
    if not _PLAY.is_silent(attributes):
        ctx.attributes(_PLAY, node, attributes=attributes)
    loop = attributes.get("loop")
    copies = 1 if loop is None else _loop_count(node, loop, ctx)
    prompts: list[Prompt] = []
    digits = attributes.get("digits")
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
                tones = [markup("SendDtmf", None, value[i:i + MAX_SEND_DTMF])
                         for i in range(0, len(value), MAX_SEND_DTMF)]
                if tones:
                    prompts.append(Prompt(tones, copies, node))
    url = (node.text or "").strip()
    if url:
        prompts.append(Prompt([markup("PlayAudio", None, url)], copies, node))
    elif digits is None:
        ctx.add("BXM210", "<Play> has no audio URL; left out", node)
    for child in node:
        if isinstance(child.tag, str):
            ctx.add("BXM006", f"<Play> cannot contain <{local_name(child)}>; ignored", child)
    return prompts


def pause_top_level(node: etree._Element, ctx: TwimlContext) -> list[str]:
    result = ctx.attributes(_PAUSE, node)
    return [markup("Pause", result.attributes)]


def pause_in_gather(node: etree._Element, ctx: TwimlContext) -> list[Prompt]:
    result = ctx.attributes(_PAUSE, node)
    seconds = int(result.values.get("length", 1))
    breaks: list[str] = []
    remaining = seconds
    while remaining > 0:
        chunk = min(remaining, MAX_BREAK_SECONDS)
        breaks.append(f'<break time="{chunk}s"/>')
        remaining -= chunk
    sentence = "<SpeakSentence>" + "".join(breaks) + "</SpeakSentence>" if breaks else "<SpeakSentence/>"
    ctx.add("BXM208", f"<Pause length=\"{seconds}\"> inside <Gather> becomes a <SpeakSentence> of SSML breaks "
            f"({seconds} s of silence)", node)
    return [Prompt([sentence], 1, node)]


def expand_top_level(prompts: list[Prompt], ctx: TwimlContext) -> list[str]:
    out: list[str] = []
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
