"""Parsing and validating BXML the way Bandwidth's platform does before running it.

Ground truth is ``shared/spec/bxml-v2.md``: §1 for document rules (root element, 64 KB, relative
URLs), §2 for every verb's attributes, ranges and content.  The rules are one declarative table,
``VERB_RULES``: a verb that is not in it, an attribute a verb does not have, a value out of range, or
content a verb does not take makes the document invalid, and the call ends with
``cause=invalid-bxml``.  Verbs whose attributes the sheet does not list (``StartRecording`` ...) are
accepted with any attributes and content.

The parser is hardened: no DTD, no entities, no network; the document is refused above 64 KB.
All ``*Url`` attributes and ``<PlayAudio>`` text are resolved against the URL that returned the
document; a relative URL without such a base (the body of ``PUT .../bxml``) is invalid.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urljoin, urlsplit

from lxml import etree

MAX_BXML_BYTES = 64 * 1024
WEBHOOK_ROOT = "Response"
PUT_ROOT = "Bxml"

# A check returns None when the value is fine, else what is wrong with it.
Check = Callable[[str], str | None]

_E164 = re.compile(r"^\+[1-9]\d{1,14}$")
_DTMF = re.compile(r"^[0-9*#A-Da-d]*$")
_SEND_DTMF = re.compile(r"^[0-9*#A-Da-d,wW]*$")
_CONFERENCE_NAME = re.compile(r"^[A-Za-z0-9_.-]{1,100}$")
_BREAK_TIME = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s)\s*$")
_DOCTYPE = re.compile(rb"<!(DOCTYPE|ENTITY)", re.IGNORECASE)
_PRIVACY_IDS = ("Restricted", "Anonymous", "Private", "Unavailable")


class InvalidBxml(Exception):
    """The document breaks a platform rule; ``reason`` says which (used as the disconnect errorMessage)."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        self.reason = reason if line is None else f"line {line}: {reason}"
        super().__init__(self.reason)


# --- value checks -----------------------------------------------------------------------------

def _anything(_value: str) -> str | None:
    return None


def _max_len(limit: int) -> Check:
    def check(value: str) -> str | None:
        return None if len(value) <= limit else f"longer than {limit} characters"
    return check


def _one_of(*allowed: str) -> Check:
    def check(value: str) -> str | None:
        return None if value in allowed else f"must be one of {', '.join(allowed)}"
    return check


def _decimal(low: float, high: float) -> Check:
    def check(value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if not math.isfinite(number) or not low <= number <= high:
            return f"must be between {low:g} and {high:g}"
        return None
    return check


def _integer(low: int, high: int | None = None) -> Check:
    def check(value: str) -> str | None:
        try:
            number = float(value)
        except ValueError:
            return "is not a number"
        if not math.isfinite(number) or number != int(number):
            return "must be a whole number"
        if number < low or (high is not None and number > high):
            return f"must be between {low} and {high}" if high is not None else f"must be at least {low}"
        return None
    return check


def _dtmf_string(value: str) -> str | None:
    return None if _DTMF.match(value) else "may contain only 0-9, *, #, A-D"


def _caller_id(value: str) -> str | None:
    if _E164.match(value) or value in _PRIVACY_IDS:
        return None
    return "must be E.164 or Restricted/Anonymous/Private/Unavailable"


_METHOD = _one_of("GET", "POST")
_BOOLEAN = _one_of("true", "false")
_URL = _anything  # resolved and checked separately (relative URLs are allowed)
_TAG = _max_len(256)
_CREDENTIALS = {"username": _anything, "password": _anything}
_FALLBACK_CREDENTIALS = {"fallbackUsername": _anything, "fallbackPassword": _anything}
_DIVERSION = {
    "diversionTreatment": _one_of("none", "propagate", "stack"),
    "diversionReason": _one_of("unknown", "user-busy", "no-answer", "unavailable", "unconditional", "time-of-day",
                               "do-not-disturb", "deflection", "follow-me", "out-of-service", "away"),
}
VOICES = frozenset({
    "julie", "kate", "susan", "dave", "paul", "bridget", "simon", "katrin", "stefan", "esperanza", "violeta",
    "jorge", "rosa", "jolie", "bernard", "paola", "luca", "masako", "kenji", "nadiya", "anatoli", "zeina",
    "zhiyu", "ruth", "stephen", "lupe", "pedro", "gabrielle", "liam",
})
LOCALES = ("en_US", "en_UK", "es", "es_MX", "es_US", "fr", "fr_CA", "de", "it", "ja", "ru", "arb", "cmn-CN")
SSML_TAGS = frozenset({"break", "emphasis", "lang", "p", "phoneme", "prosody", "s", "say-as", "sub"})


def _voice(value: str) -> str | None:
    return None if value.lower() in VOICES else "is not a Bandwidth voice"


def _callback(prefix: str) -> dict[str, Check]:
    """``{prefix}Url``, ``{prefix}Method`` and their fallback pair."""
    return {f"{prefix}Url": _URL, f"{prefix}Method": _METHOD,
            f"{prefix}FallbackUrl": _URL, f"{prefix}FallbackMethod": _METHOD}


# --- the verb table ---------------------------------------------------------------------------

@dataclass(frozen=True)
class VerbRule:
    """What one verb may carry.  ``content``: "none", "text" (plain text), "ssml" or "children"."""

    attributes: Mapping[str, Check] = field(default_factory=dict)
    required: frozenset[str] = frozenset()
    content: str = "none"
    text: Check | None = None          # check of the stripped text ("text" content)
    text_required: bool = False
    children: frozenset[str] = frozenset()
    min_children: int = 0
    max_children: int | None = None
    nested_only: bool = False          # may appear only inside another verb
    open: bool = False                 # attributes/content not documented: accept anything


VERB_RULES: dict[str, VerbRule] = {
    "Gather": VerbRule(
        attributes={**_callback("gather"), **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG,
                    "terminatingDigits": _dtmf_string, "maxDigits": _integer(1, 50),
                    "interDigitTimeout": _decimal(1, 60), "firstDigitTimeout": _decimal(0, 60),
                    "repeatCount": _integer(1), "input": _one_of("dtmf", "speech", "dtmf_speech"),
                    "hints": _anything, "language": _anything, "speechModel": _anything,
                    "speechTimeout": _decimal(0, 60), "profanityFilter": _BOOLEAN,
                    "partialResultCallback": _URL, "partialResultCallbackMethod": _METHOD},
        content="children", children=frozenset({"SpeakSentence", "PlayAudio"}), max_children=20),
    "StartGather": VerbRule(
        attributes={"dtmfUrl": _URL, "dtmfMethod": _METHOD, **_CREDENTIALS, "tag": _TAG},
        required=frozenset({"dtmfUrl"})),
    "StopGather": VerbRule(),
    "SpeakSentence": VerbRule(
        attributes={"voice": _voice, "gender": _one_of("male", "female"), "locale": _one_of(*LOCALES)},
        content="ssml"),
    "PlayAudio": VerbRule(attributes=dict(_CREDENTIALS), content="text", text_required=True),
    "Pause": VerbRule(attributes={"duration": _decimal(0.1, 86400)}),
    "Redirect": VerbRule(
        attributes={**_callback("redirect"), **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG},
        required=frozenset({"redirectUrl"})),
    "Hangup": VerbRule(),
    "Tag": VerbRule(content="text", text=_TAG),
    "SendDtmf": VerbRule(
        attributes={"toneDuration": _decimal(50, 5000), "toneInterval": _decimal(50, 5000)},
        content="text", text_required=True,
        text=lambda v: None if len(v) <= 50 and _SEND_DTMF.match(v) else "must be <= 50 of 0-9*#A-D,wW"),
    "Transfer": VerbRule(
        attributes={"transferCallerId": _caller_id, "transferCallerDisplayName": _max_len(256),
                    "callTimeout": _decimal(1, 300), **_callback("transferComplete"), **_CREDENTIALS,
                    **_FALLBACK_CREDENTIALS, "tag": _TAG, **_DIVERSION},
        content="children", children=frozenset({"PhoneNumber", "SipUri"}), min_children=1, max_children=8),
    "PhoneNumber": VerbRule(
        attributes={**_callback("transferAnswer"), "transferDisconnectUrl": _URL, "transferDisconnectMethod": _METHOD,
                    **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG, "uui": _max_len(256)},
        content="text", text_required=True, nested_only=True,
        text=lambda v: None if _E164.match(v) else "must be an E.164 number"),
    "SipUri": VerbRule(
        attributes={**_callback("transferAnswer"), "transferDisconnectUrl": _URL, "transferDisconnectMethod": _METHOD,
                    **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG, "uui": _max_len(256)},
        content="text", text_required=True, nested_only=True,
        text=lambda v: None if v.startswith(("sip:", "sips:")) else "must be a sip: URI"),
    "Conference": VerbRule(
        attributes={"mute": _BOOLEAN, "hold": _BOOLEAN, "callIdsToCoach": _anything,
                    **_callback("conferenceEvent"), **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG,
                    "callbackTimeout": _decimal(1, 25)},
        content="text", text_required=True,
        text=lambda v: None if _CONFERENCE_NAME.match(v) else "must be <= 100 letters, digits, -, _, ."),
    "Record": VerbRule(
        attributes={**_callback("recordComplete"), "recordingAvailableUrl": _URL,
                    "recordingAvailableMethod": _METHOD, "transcribe": _BOOLEAN, "detectLanguage": _BOOLEAN,
                    "transcriptionAvailableUrl": _URL, "transcriptionAvailableMethod": _METHOD,
                    **_CREDENTIALS, **_FALLBACK_CREDENTIALS, "tag": _TAG, "terminatingDigits": _dtmf_string,
                    "maxDuration": _decimal(1, 10800), "silenceTimeout": _decimal(0, 10800),
                    "fileFormat": _one_of("wav", "mp3")}),
    "Forward": VerbRule(
        attributes={"to": _anything, "from": _caller_id, "callTimeout": _decimal(1, 300), **_DIVERSION,
                    "uui": _max_len(256)},
        required=frozenset({"to"})),
    "Bridge": VerbRule(
        attributes={**_callback("bridgeComplete"), **_callback("bridgeTargetComplete"), **_CREDENTIALS,
                    **_FALLBACK_CREDENTIALS, "tag": _TAG},
        content="text", text_required=True),
    "Ring": VerbRule(attributes={"duration": _decimal(0.1, 86400), "answerCall": _BOOLEAN}),
    "StartStream": VerbRule(
        attributes={"destination": _anything, "name": _anything, "tracks": _one_of("inbound", "outbound", "both"),
                    "streamEventUrl": _URL, "streamEventMethod": _METHOD, **_CREDENTIALS,
                    "mode": _one_of("unidirectional", "bidirectional"), "destinationUsername": _anything,
                    "destinationPassword": _anything},
        required=frozenset({"destination"}), content="children", children=frozenset({"StreamParam"}),
        max_children=12),
    "StreamParam": VerbRule(attributes={"name": _max_len(256), "value": _max_len(2048)},
                            required=frozenset({"name", "value"}), nested_only=True),
    "StopStream": VerbRule(attributes={"name": _anything, "wait": _BOOLEAN}, required=frozenset({"name"})),
    **{name: VerbRule(open=True) for name in (
        "StartRecording", "StopRecording", "PauseRecording", "ResumeRecording",
        "StartTranscription", "StopTranscription", "Connect", "Endpoint")},
}


# --- the parsed model -------------------------------------------------------------------------

@dataclass(frozen=True)
class Verb:
    """One verb with URLs already resolved.  ``text`` is the stripped text content (for
    ``<SpeakSentence>`` the spoken words without markup); ``break_seconds`` sums its SSML breaks."""

    name: str
    attributes: Mapping[str, str]
    text: str = ""
    children: tuple[Verb, ...] = ()
    line: int | None = None
    break_seconds: float = 0.0

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.attributes.get(name, default)

    def number(self, name: str, default: float) -> float:
        value = self.attributes.get(name)
        return default if value is None else float(value)

    def flag(self, name: str, default: bool) -> bool:
        value = self.attributes.get(name)
        return default if value is None else value == "true"


@dataclass(frozen=True)
class Document:
    root: str
    verbs: tuple[Verb, ...]
    base_url: str | None
    source: str


def _is_url_attribute(name: str) -> bool:
    return name.endswith("Url") or name == "partialResultCallback"


def _resolve(value: str, base_url: str | None, where: str, line: int | None) -> str:
    value = value.strip()
    if not value:
        raise InvalidBxml(f"{where} is empty", line)
    if not urlsplit(value).scheme:
        if base_url is None:
            raise InvalidBxml(f"{where} is the relative URL {value!r} but the document has no base URL", line)
        value = urljoin(base_url, value)
    if urlsplit(value).scheme not in ("http", "https"):
        raise InvalidBxml(f"{where} must be an http(s) URL, got {value!r}", line)
    return value


def _direct_text(node: etree._Element) -> str:
    parts = [node.text or ""]
    parts.extend(child.tail or "" for child in node)
    return "".join(parts)


def _elements(node: etree._Element) -> list[etree._Element]:
    """Element children, skipping comments and processing instructions."""
    return [child for child in node if isinstance(child.tag, str)]


def _local_name(node: etree._Element, line: int | None) -> str:
    if node.tag.startswith("{"):
        raise InvalidBxml(f"namespaced element {node.tag} is not BXML", line)
    return node.tag


def _check_ssml(node: etree._Element) -> float:
    """Validate SSML inside ``<SpeakSentence>``; return the seconds its ``<break>`` tags last."""
    seconds = 0.0
    for child in _elements(node):
        line = child.sourceline
        name = _local_name(child, line)
        if name not in SSML_TAGS:
            raise InvalidBxml(f"<{name}> is not a supported SSML tag inside <SpeakSentence>", line)
        if name == "break" and child.get("time") is not None:
            match = _BREAK_TIME.match(child.get("time", ""))
            if match is None:
                raise InvalidBxml(f"<break time={child.get('time')!r}> must look like 1s or 500ms", line)
            value = float(match.group(1)) / (1000 if match.group(2) == "ms" else 1)
            if value > 10:
                raise InvalidBxml("<break> time is at most 10 s", line)
            seconds += value
        seconds += _check_ssml(child)
    return seconds


def _build(node: etree._Element, base_url: str | None, parent: str | None) -> Verb:
    line = node.sourceline
    name = _local_name(node, line)
    rule = VERB_RULES.get(name)
    if rule is None:
        raise InvalidBxml(f"<{name}> is not a BXML verb", line)
    if rule.nested_only and parent is None:
        raise InvalidBxml(f"<{name}> may appear only inside another verb", line)
    if rule.open:
        return Verb(name, dict(node.attrib), "".join(node.itertext()).strip(), (), line)

    attributes: dict[str, str] = {}
    for key, value in node.attrib.items():
        if key.startswith("{"):
            raise InvalidBxml(f"<{name}> has the namespaced attribute {key}", line)
        check = rule.attributes.get(key)
        if check is None:
            raise InvalidBxml(f"<{name}> has no attribute {key!r}", line)
        problem = check(value)
        if problem:
            raise InvalidBxml(f"<{name} {key}={value!r}>: {problem}", line)
        attributes[key] = _resolve(value, base_url, f"<{name} {key}>", line) if _is_url_attribute(key) else value
    missing = sorted(rule.required - attributes.keys())
    if missing:
        raise InvalidBxml(f"<{name}> requires the attribute {missing[0]!r}", line)

    children: list[Verb] = []
    text = ""
    break_seconds = 0.0
    elements = _elements(node)
    if rule.content == "ssml":
        break_seconds = _check_ssml(node)
        text = " ".join("".join(node.itertext()).split())
        if not text and not elements:
            raise InvalidBxml(f"<{name}> must not be blank", line)
    else:
        if rule.content != "children" and elements:
            raise InvalidBxml(f"<{name}> may not contain <{elements[0].tag}>", line)
        text = _direct_text(node).strip()
        if rule.content != "text" and text:
            raise InvalidBxml(f"<{name}> takes no text content", line)
        if rule.text_required and not text:
            raise InvalidBxml(f"<{name}> needs text content", line)
        if rule.text is not None and text and (problem := rule.text(text)):
            raise InvalidBxml(f"<{name}> text {text!r}: {problem}", line)
        if name == "PlayAudio":
            text = _resolve(text, base_url, "<PlayAudio> URL", line)
        for element in elements:
            child_name = _local_name(element, element.sourceline)
            if child_name not in rule.children:
                raise InvalidBxml(f"<{child_name}> is not allowed inside <{name}>", element.sourceline)
            children.append(_build(element, base_url, name))
        if len(children) < rule.min_children:
            raise InvalidBxml(f"<{name}> needs at least {rule.min_children} child element(s)", line)
        if rule.max_children is not None and len(children) > rule.max_children:
            raise InvalidBxml(f"<{name}> allows at most {rule.max_children} child elements", line)

    if name == "Gather" and children:
        repeat = int(float(attributes.get("repeatCount", "1")))
        if repeat * len(children) > 20:
            raise InvalidBxml(f"<Gather> repeatCount ({repeat}) x nested verbs ({len(children)}) exceeds 20", line)
    return Verb(name, attributes, text, tuple(children), line, break_seconds)


def parse_document(body: bytes | str, *, root: str, base_url: str | None) -> Document:
    """Parse and validate a BXML document whose root must be ``root`` (``Response`` or ``Bxml``)."""
    data = body.encode("utf-8") if isinstance(body, str) else bytes(body)
    if not data.strip():
        raise InvalidBxml("the document is empty")
    if len(data) > MAX_BXML_BYTES:
        raise InvalidBxml(f"the document is {len(data)} bytes, over the 64 KB limit")
    if _DOCTYPE.search(data):
        raise InvalidBxml("DOCTYPE and ENTITY declarations are not allowed")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False,
                             remove_pis=True)
    try:
        tree = etree.fromstring(data, parser)
    except etree.XMLSyntaxError as exc:
        raise InvalidBxml(f"not well-formed XML: {exc.msg}", exc.lineno) from None
    if tree.tag != root:
        raise InvalidBxml(f"the root element must be <{root}>, got <{tree.tag}>", tree.sourceline)
    if _direct_text(tree).strip():
        raise InvalidBxml(f"<{root}> contains text outside any verb", tree.sourceline)
    verbs = tuple(_build(node, base_url, None) for node in _elements(tree))
    return Document(root, verbs, base_url, data.decode("utf-8", errors="replace"))
