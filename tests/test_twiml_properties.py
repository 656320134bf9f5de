"""Property tests: any ``<Gather>`` over the attribute space gives legal, in-range, deterministic BXML.

Attribute values are drawn from valid values, known-invalid values and arbitrary text; nested
prompts are random Say/Play/Pause with random loops.  Invariants checked on every example:
well-formed ``<Response>`` with one ``<Gather>``, legal nesting (only SpeakSentence/PlayAudio,
at most 20), every value in BXML's range, only registered codes, and determinism.  Semantic
properties tie the output to the input where the issue fixes the mapping.
"""

from __future__ import annotations

import re
from xml.sax.saxutils import escape, quoteattr

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from translators import RULES, TranslationError, twiml_to_bxml

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Text that can appear in an XML 1.0 attribute value (no control characters, no surrogates).
xml_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n "), max_size=12)
integers_as_text = st.integers(-5, 200).map(str)

ATTRIBUTE_VALUES = {
    "action": st.sampled_from(["/next", "next.php?a=1&b=2", "https://ivr.example.com/menu", "", "  /x  "]) | xml_text,
    "method": st.sampled_from(["GET", "POST", "get", "post", "PUT", ""]) | xml_text,
    "timeout": integers_as_text | st.sampled_from(["5.5", "abc", "", " 7 ", "+3", "1e3"]) | xml_text,
    "finishOnKey": st.sampled_from([*"0123456789#*", "", "##", "ab", " ", "#*"]) | xml_text,
    "numDigits": integers_as_text | st.sampled_from(["abc", "", "2.5", "64", "50", "51"]) | xml_text,
    "input": st.sampled_from(["dtmf", "speech", "dtmf speech", "speech dtmf", "DTMF", "voice", ""]) | xml_text,
    "speechTimeout": integers_as_text | st.sampled_from(["auto", "AUTO", "", "x"]) | xml_text,
    "hints": xml_text,
    "language": st.sampled_from(["en-US", "en-GB", "fr-FR", "es-MX", ""]) | xml_text,
    "profanityFilter": st.sampled_from(["true", "false", "TRUE", "maybe", ""]),
    "speechModel": st.sampled_from(["default", "phone_call", "numbers_and_commands", "experimental_conversations",
                                    "googlev2_long", ""]),
    "partialResultCallback": st.sampled_from(["/partial", "https://p.example/x", "", "a b"]),
    "partialResultCallbackMethod": st.sampled_from(["GET", "POST", "PUT"]),
    "actionOnEmptyResult": st.sampled_from(["true", "false", "yes", ""]),
    "enhanced": st.sampled_from(["true", "false", "x"]),
    "debug": st.sampled_from(["true", "false"]),
    "bargeIn": st.sampled_from(["true", "false"]),
    "maxSpeechTime": integers_as_text,
    "numdigits": integers_as_text,  # wrong case: unknown attribute
    "foo": xml_text,
}

loops = st.none() | integers_as_text | st.sampled_from(["0", "1", "3", "20", "x"])
voices = st.none() | st.sampled_from(["man", "woman", "alice", "Polly.Joanna", "Polly.Joanna-Neural", "Polly.Salli",
                                      "Google.en-GB-Standard-A", "robot"])
words = st.text(st.characters(blacklist_categories=("Cs", "Cc")), max_size=20)


def _attrs(pairs: dict[str, str | None]) -> str:
    return "".join(f" {name}={quoteattr(value)}" for name, value in pairs.items() if value is not None)


@st.composite
def say(draw: st.DrawFn) -> str:
    text = draw(words)
    markup = draw(st.sampled_from(["", '<break time="1s"/>', "<emphasis>now</emphasis>", "<w>read</w>",
                                   '<amazon:effect name="whispered">psst</amazon:effect>']))
    return f"<Say{_attrs({'loop': draw(loops), 'voice': draw(voices)})}>{escape(text)}{markup}</Say>"


@st.composite
def play(draw: st.DrawFn) -> str:
    url = draw(st.sampled_from(["https://a.example/a.mp3", "/b.wav", ""]))
    digits = draw(st.none() | st.sampled_from(["123", "w9#"]))
    return f"<Play{_attrs({'loop': draw(loops), 'digits': digits})}>{url}</Play>"


@st.composite
def pause(draw: st.DrawFn) -> str:
    return f"<Pause{_attrs({'length': draw(st.none() | integers_as_text | st.just('x'))})}/>"


nested = st.lists(st.one_of(say(), play(), pause(), st.just("<Hangup/>"), st.just("<!-- c -->")), max_size=6)


@st.composite
def gather_documents(draw: st.DrawFn) -> tuple[str, dict[str, str], str | None]:
    chosen = draw(st.lists(st.sampled_from(sorted(ATTRIBUTE_VALUES)), unique=True, max_size=8))
    attributes = {name: draw(ATTRIBUTE_VALUES[name]) for name in chosen}
    body = "".join(draw(nested))
    after = draw(st.sampled_from(["", "<Say>No input.</Say>", "<Redirect>/again</Redirect>", "<!-- end -->"]))
    document_url = draw(st.none() | st.just("https://app.example.com/voice.xml"))
    source = f"<Response><Gather{_attrs(attributes)}>{body}</Gather>{after}</Response>"
    return source, attributes, document_url


def _number(value: str | None) -> float | None:
    return None if value is None else float(value)


def _valid_int(raw: str | None, low: int) -> int | None:
    """The integer a TwiML integer attribute means, or None when invalid (mirrors Twilio's rule)."""
    if raw is None:
        return None
    text = raw.strip()
    if not re.fullmatch(r"\+?\d+", text):
        return None
    value = int(text)
    return value if value >= low else None


@SETTINGS
@given(gather_documents())
def test_any_gather_gives_legal_in_range_bxml(case):
    source, attributes, document_url = case
    translation = twiml_to_bxml(source, document_url=document_url)

    root = etree.fromstring(translation.bxml.encode("utf-8"))
    assert root.tag == "Response"
    gathers = root.findall("Gather")
    assert len(gathers) == 1
    gather = gathers[0]

    children = [child for child in gather if isinstance(child.tag, str)]
    assert len(children) == len(gather)  # nothing but elements nested
    assert len(children) <= 20
    for child in children:
        assert child.tag in ("SpeakSentence", "PlayAudio")
        assert "".join(child.itertext()).strip() or child.find("break") is not None

    if (value := _number(gather.get("maxDigits"))) is not None:
        assert 1 <= value <= 50 and value == int(value)
    assert 1 <= float(gather.get("interDigitTimeout")) <= 60
    assert 0 <= float(gather.get("firstDigitTimeout")) <= 60
    assert set(gather.get("terminatingDigits", "")) <= set("0123456789#*")
    assert len(gather.get("terminatingDigits", "")) <= 1
    assert gather.get("gatherMethod", "POST") in ("GET", "POST")
    assert gather.get("input", "speech") in ("speech", "dtmf_speech")
    if gather.get("input") is None:
        assert not {"speechTimeout", "hints", "language", "profanityFilter", "speechModel",
                    "partialResultCallback", "partialResultCallbackMethod"} & set(gather.attrib)
    else:
        assert 1 <= float(gather.get("speechTimeout")) <= 60
    assert gather.get("profanityFilter", "true") in ("true", "false")

    for diagnostic in translation.diagnostics:
        assert diagnostic.code in RULES
        assert diagnostic.severity == RULES[diagnostic.code].severity.value

    again = twiml_to_bxml(source, document_url=document_url)
    assert again.bxml == translation.bxml
    assert again.diagnostics == translation.diagnostics

    # -- semantics fixed by the issue ---------------------------------------------------------------
    timeout = _valid_int(attributes.get("timeout"), 1)
    if timeout is not None and timeout <= 60:
        assert gather.get("firstDigitTimeout") == gather.get("interDigitTimeout") == str(timeout)
    elif "timeout" not in attributes:
        assert gather.get("firstDigitTimeout") == gather.get("interDigitTimeout") == "5"
    else:
        assert gather.get("firstDigitTimeout") == gather.get("interDigitTimeout")
    if "finishOnKey" not in attributes:
        assert gather.get("terminatingDigits") == "#"
    elif attributes["finishOnKey"] == "":
        assert "terminatingDigits" not in gather.attrib
    elif len(attributes["finishOnKey"]) == 1 and attributes["finishOnKey"] in "0123456789#*":
        assert gather.get("terminatingDigits") == attributes["finishOnKey"]
    else:
        assert gather.get("terminatingDigits") == "#"
        assert "BXM014" in [d.code for d in translation.diagnostics]
    num_digits = _valid_int(attributes.get("numDigits"), 1)
    if num_digits is not None:
        assert gather.get("maxDigits") == str(min(num_digits, 50))
    elif "numDigits" in attributes:
        assert "maxDigits" not in gather.attrib
    action = attributes.get("action", "").strip()
    if action and not any(c.isspace() for c in action):
        assert gather.get("gatherUrl") == action
    elif "action" not in attributes:
        assert gather.get("gatherUrl") == document_url
        assert ("BXM101" in [d.code for d in translation.diagnostics]) == (document_url is None)
    for dropped in ("enhanced", "debug", "bargeIn", "maxSpeechTime", "numdigits", "foo"):
        if dropped in attributes:
            assert dropped in [d.field for d in translation.diagnostics], dropped


def _prompt_count(source: str) -> int:
    return len(etree.fromstring(twiml_to_bxml(source).bxml.encode()).find("Gather"))


@SETTINGS
@given(st.integers(1, 40), st.integers(1, 40))
def test_finite_loops_repeat_back_to_back_up_to_20(say_loop, play_loop):
    source = (f'<Response><Gather action="/n"><Say loop="{say_loop}">Menu</Say>'
              f'<Play loop="{play_loop}">/a.wav</Play></Gather></Response>')
    gather = etree.fromstring(twiml_to_bxml(source).bxml.encode()).find("Gather")
    tags = [child.tag for child in gather]
    expected = (["SpeakSentence"] * say_loop + ["PlayAudio"] * play_loop)[:20]
    assert tags == expected


@SETTINGS
@given(st.lists(st.sampled_from(['<Say loop="0">a</Say>', '<Play loop="0">/a.wav</Play>', "<Say>b</Say>",
                                 '<Pause length="2"/>']), min_size=1, max_size=8))
def test_endless_loops_fill_but_never_pass_the_limit(prompts):
    count = _prompt_count(f'<Response><Gather action="/n">{"".join(prompts)}</Gather></Response>')
    endless = sum("loop" in p for p in prompts)
    assert count <= 20
    if endless and len(prompts) <= 20:
        assert count >= len(prompts)


@SETTINGS
@given(st.binary(max_size=200) | st.text(max_size=200))
def test_arbitrary_input_only_ever_raises_translation_error(source):
    try:
        translation = twiml_to_bxml(source)
    except TranslationError as exc:
        assert exc.diagnostics and all(d.severity == "error" for d in exc.diagnostics)
    else:
        assert etree.fromstring(translation.bxml.encode("utf-8")).tag == "Response"


@SETTINGS
@given(st.lists(st.sampled_from(["<Gather/>", "<Say>x</Say>", "<Gather><Say>y</Say></Gather>", "<Hangup/>",
                                 "<Pause/>", "<Record/>", "<Dial>+1555</Dial>", "<Enqueue>q</Enqueue>", "junk",
                                 "<Bogus/>", '<Play digits="1"/>', "<Redirect>/r</Redirect>"]), max_size=8),
       st.booleans())
def test_any_verb_sequence_translates_or_raises_cleanly(verbs, strict):
    source = "<Response>" + "".join(verbs) + "</Response>"
    try:
        translation = twiml_to_bxml(source, strict=strict)
    except TranslationError as exc:
        assert strict and any(d.severity in ("error", "warning") for d in exc.diagnostics)
    else:
        root = etree.fromstring(translation.bxml.encode("utf-8"))
        for gather in root.iter("Gather"):
            assert all(child.tag in ("SpeakSentence", "PlayAudio") for child in gather)


# -- fast paths give what the general paths give ---------------------------------------------------------

spoken_text = st.text(st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r "), max_size=15)


@SETTINGS
@given(text=spoken_text, tail=st.none() | spoken_text, child=st.booleans())
def test_stray_text_check_agrees_with_stray_text(text, tail, child):
    from translators.twiml.context import stray_text
    from translators.twiml.document import _has_stray_text

    inner = f"<Hangup/>{escape(tail or '')}" if child else ""
    node = etree.fromstring(f"<Gather>{escape(text)}{inner}</Gather>")
    assert _has_stray_text(node) == bool(stray_text(node))


@SETTINGS
@given(text=spoken_text)
def test_plain_say_matches_the_ssml_path(text):
    from translators.bxml_writer import element
    from translators.twiml import speech
    from translators.twiml.context import TwimlContext

    node = etree.fromstring(f"<Say>{escape(text)}</Say>".encode())
    prompts = speech.say(node, TwimlContext(document_url=None))  # no child element: the direct path
    general = element("SpeakSentence", {"gender": "male"})
    speech._copy_ssml(node, general, TwimlContext(document_url=None))
    speech._strip(general)
    if speech._speaks(general):
        (prompt,) = prompts
        assert etree.tostring(prompt.elements[0]) == etree.tostring(general)
    else:
        assert prompts == []
