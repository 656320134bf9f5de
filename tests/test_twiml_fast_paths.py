"""The translator's fast paths give exactly what the general ways give.

* BXML is written as markup (``bxml_writer.markup``, ``container``, ``render_document``) instead of
  being built as lxml elements and serialised: the text must be byte for byte what lxml writes,
  for any text and attribute value (escaping) and for the verb nesting the translator emits
  (indentation, empty elements).
* ``safe_xml`` finds DOCTYPE / ENTITY declarations from the rare ``!`` rather than with the
  case-insensitive regex, skips the declared-encoding regex where it cannot match or where the
  declaration is the usual UTF-8 one, and finds undeclared prefixes from the colons rather than
  with a regex tried at every byte: same findings, same positions.
* A table's plan visits only the rows an element's attributes need (``TablePlan.visits``) and
  answers ``is_silent`` from a precomputed set: the same rows in the same order, the same answer
  as the general definition.
* The walk over ``<Response>`` looks for stray text in the same pass as the verbs; the BXM006 it
  reports still comes before the verbs' findings.
"""

from __future__ import annotations

from xml.sax.saxutils import escape

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from translators import TranslationError, twiml_to_bxml
from translators.attribute_rules import TablePlan, plan_for
from translators.bxml_writer import container, element, markup, render_document, serialize, start_tag
from translators.catapult import tables as catapult_tables
from translators.diagnostics import Diagnostic
from translators.safe_xml import (
    _ASCII_TRANSPARENT,
    _DECLARED_ENCODING,
    _DOCTYPE,
    _DOCTYPE_TEXT,
    _PREFIXED_TAG,
    _WIDE_SIGNATURES,
    _codec_name,
    _declaration_at,
    _refuse_declarations,
    _used_prefixes,
)
from translators.twiml import tables as twiml_tables

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Any text an XML document can carry (lxml refuses control characters and surrogates).
xml_chars = st.characters(blacklist_categories=("Cs", "Cc")) | st.sampled_from("\t\n\r &<>\"'")
xml_text = st.text(xml_chars, max_size=20)
names = st.sampled_from(["gatherUrl", "maxDigits", "voice", "locale", "name", "value", "time", "x"])
attributes = st.dictionaries(names, xml_text, max_size=5)
tags = st.sampled_from(["SpeakSentence", "PlayAudio", "Pause", "Hangup", "PhoneNumber", "StreamParam"])


@SETTINGS
@given(tag=tags, attrs=attributes, text=st.none() | xml_text)
def test_markup_is_what_lxml_writes(tag, attrs, text):
    expected = etree.tostring(element(tag, attrs, text), encoding="unicode")
    if text == "":  # lxml writes an empty text as <a></a>; the translator never writes empty text
        return
    assert markup(tag, attrs, text) == expected


@SETTINGS
@given(verbs=st.lists(st.tuples(tags, attributes, st.none() | xml_text.filter(bool),
                                st.lists(st.tuples(tags, attributes, xml_text.filter(bool)), max_size=3)),
                      max_size=4),
       comments=st.lists(st.text(st.sampled_from("ab c-"), max_size=5).filter(
           lambda c: "--" not in c and not c.endswith("-")), max_size=2))
def test_documents_are_what_serialize_writes(verbs, comments):
    """Verbs holding verbs (Gather, Transfer, StartStream) indent them; leaves and comments do not change."""
    root = element("Response")
    written: list[str] = []
    for text in comments:
        root.append(etree.Comment(text))
        written.append(f"<!--{text}-->")
    for tag, attrs, text, children in verbs:
        holder = "Gather" if children else tag
        node = element(holder, attrs, None if children else text)
        root.append(node)
        nested = [markup(child_tag, child_attrs, child_text) for child_tag, child_attrs, child_text in children]
        for child_tag, child_attrs, child_text in children:
            node.append(element(child_tag, child_attrs, child_text))
        written.append(container(start_tag(holder, attrs), holder, nested, 1) if children
                       else markup(tag, attrs, text))
    assert render_document("Response", written) == serialize(root)


def test_spoken_content_keeps_its_white_space():
    sentence = element("SpeakSentence", {"voice": "julie"}, "a\r\n b\t")
    assert markup("SpeakSentence", {"voice": "julie"}, "a\r\n b\t") == etree.tostring(sentence, encoding="unicode")
    assert render_document("Response", []) == '<?xml version="1.0" encoding="UTF-8"?>\n<Response/>\n'


declaration_bytes = st.lists(st.sampled_from([b"<!", b"!", b"<", b"DOCTYPE", b"doctype", b"DocType", b"ENTITY",
                                              b"entit", b"y", b"<!--", b"-->", b"a", b" ", b"\n", b"!<!ENTITY"]),
                             max_size=12).map(b"".join)


@SETTINGS
@given(data=declaration_bytes)
def test_declaration_scan_finds_what_the_regex_finds(data):
    found = _DOCTYPE.search(data)
    assert _declaration_at(data) == (found.start() if found else -1)


prefix_bytes = st.lists(st.sampled_from([b"<", b"</", b"/", b" ", b"\t", b"\n", b"\f", b":", b"::", b"a", b"B", b"_",
                                         b"1", b".", b"-", b"=", b"x:y", b"<a:b", b" c:d=", b"\xa0", b'"']),
                       max_size=16).map(b"".join)


@SETTINGS
@given(data=prefix_bytes)
def test_prefixes_are_what_the_regex_finds(data):
    assert _used_prefixes(data) == {match.group(1) for match in _PREFIXED_TAG.finditer(data)}


def _reference_refusal(data: bytes) -> str | None:
    """``_refuse_declarations`` read plainly: both regexes on every document, no shortcut."""
    found = _DOCTYPE.search(data)
    if found:
        return f"BXM003 at {found.start()}"
    encoding, skip, label = "", 0, ""
    for signature, name, length in _WIDE_SIGNATURES:
        if data.startswith(signature):
            encoding, skip = name, length
            break
    if not encoding:
        declared = _DECLARED_ENCODING.match(data)
        if declared is None:
            return None
        label = declared.group(1).decode("ascii", "replace").strip()
        encoding = _codec_name(label)
        if encoding in _ASCII_TRANSPARENT:
            return None
    try:
        text = data[skip:].decode(encoding, errors="replace")
    except LookupError:
        return f"BXM001 {label!r}"
    return "BXM003 text" if _DOCTYPE_TEXT.search(text) else None


def _refusal(data: bytes) -> str | None:
    try:
        _refuse_declarations(data, sniff=True)
    except TranslationError as exc:
        (diagnostic,) = exc.diagnostics
        if diagnostic.code == "BXM001":
            return diagnostic.message.replace("unsupported encoding ", "BXM001 ")
        return "BXM003 text" if "document)" in diagnostic.message else f"BXM003 at {_offset(data, diagnostic)}"
    return None


def _offset(data: bytes, diagnostic: Diagnostic) -> int:
    assert diagnostic.line is not None and diagnostic.column is not None
    starts = [0] + [i + 1 for i, byte in enumerate(data) if byte == 0x0A]
    return starts[diagnostic.line - 1] + diagnostic.column - 1


DECLARATIONS = ['<?xml version="1.0" encoding="UTF-8"?>', '<?xml version="1.0" encoding="utf-8"?>',
                '<?xml version="1.0"?>', "<?xml version='1.0' encoding='latin-1'?>",
                '<?xml version="1.0" encoding="UTF-7"?>', '<?xml version="1.0" encoding="rot13"?>',
                '<?xml version="1.0" encoding="nope"?>', '<?xml  encoding="UTF-8" version="1.0"?>', ""]


@SETTINGS
@given(declaration=st.sampled_from(DECLARATIONS), body=declaration_bytes,
       bom=st.sampled_from([b"", b"\xef\xbb\xbf"]), wide=st.sampled_from([None, "utf-16", "utf-16-le", "utf-32"]))
def test_declaration_refusals_are_unchanged(declaration, body, bom, wide):
    text = declaration + "<Response>" + body.decode("ascii") + "</Response>"
    data = text.encode(wide) if wide else bom + text.encode("ascii")
    assert _refusal(data) == _reference_refusal(data)
    assert _refusal(b"+ADw-!DOCTYPE") is None  # UTF-7 is looked at only when declared


TABLES = {verb.twiml: verb.attributes for verb in twiml_tables.VERBS if verb.attributes}
TABLES |= {"DialConference": twiml_tables.DIAL_CONFERENCE, "v1-gather": catapult_tables.GATHER_REQUEST}


def _general_is_silent(plan: TablePlan, stated: list[str]) -> bool:
    """No attribute, value or diagnostic: every stated name is inert and the absent result is empty."""
    if not plan.inert.issuperset(stated):
        return False
    absent = plan.absent_result()
    return absent is not None and not absent.attributes and not absent.values


@pytest.mark.parametrize("name", sorted(TABLES))
@SETTINGS
@given(data=st.data())
def test_visits_and_silence_follow_the_rows(name, data):
    plan = plan_for(TABLES[name])
    stated = data.draw(st.lists(st.sampled_from([row.source for row in plan.rules] + ["bogus"]), unique=True))
    attributes = dict.fromkeys(stated, "x")
    visited = [step.source for step in plan.visits(attributes)]
    assert visited == [row.source for row in plan.rules if row.source in attributes or row.source not in plan.idle]
    assert plan.is_silent(stated) == _general_is_silent(plan, stated)


def _codes(document: str) -> list[str]:
    return [d.code for d in twiml_to_bxml(document, document_url="https://a.example/x.xml").diagnostics]


def test_stray_text_in_response_is_reported_before_the_verbs_findings():
    assert _codes("<Response>oops<Foo/><Say>a</Say></Response>") == ["BXM006", "BXM009"]
    assert _codes("<Response><Foo/>tail<Bar/></Response>") == ["BXM006", "BXM009", "BXM009"]
    assert _codes('<Response a="1"><Foo/> x </Response>') == ["BXM012", "BXM006", "BXM009"]
    assert _codes("<Response>\n  <Foo/>\n  <!-- c -->\n</Response>") == ["BXM009"]


def test_say_prompts_still_offer_lxml_elements():
    from translators.twiml import speech
    from translators.twiml.context import TwimlContext

    node = etree.fromstring(f"<Say voice='alice'>{escape('a & b')}</Say>")
    (prompt,) = speech.say(node, TwimlContext(document_url=None))
    assert prompt.verbs == ['<SpeakSentence gender="female">a &amp; b</SpeakSentence>']
    assert etree.tostring(prompt.elements[0]) == b'<SpeakSentence gender="female">a &amp; b</SpeakSentence>'
