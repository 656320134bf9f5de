"""Document-level behaviour of ``twiml_to_bxml``: parsing, refusal of unsafe input, limits,
strict mode, encodings, and a table with one triggering document per registered diagnostic code.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest
from lxml import etree
from xml_compare import assert_xml_equal

from translators import RULES, Translation, TranslationError, codes_document, codes_twiml, twiml_to_bxml
from translators.bxml_writer import MAX_BXML_BYTES
from translators.safe_xml import MAX_INPUT_BYTES


def refused(source: str | bytes, **kwargs) -> TranslationError:
    with pytest.raises(TranslationError) as info:
        twiml_to_bxml(source, **kwargs)
    return info.value


def codes(translation: Translation) -> list[str]:
    return sorted(d.code for d in translation.diagnostics)


# -- malformed XML: BXM001 with line and column ------------------------------------------------------

MALFORMED = [
    ("unclosed-tag", "<Response><Say>Hi</Response>", 1),
    ("mismatched-tag-line-3", "<Response>\n<Say>\nHi</Sey>\n</Response>", 3),
    ("two-roots", "<Response/><Response/>", 1),
    ("text-after-root", "<Response><Say>a</Say></Response>junk", 1),
    ("undefined-entity", "<Response><Say>&nbsp;</Say></Response>", 1),
    ("bare-ampersand", "<Response>\n  <Say>Tom & Jerry</Say>\n</Response>", 2),
    ("unquoted-attribute", "<Response><Gather numDigits=4/></Response>", 1),
    ("duplicate-attribute", '<Response><Gather a="1" a="2"/></Response>', 1),
    ("control-character", "<Response><Say>\x01</Say></Response>", 1),
    ("truncated", "<Response>\n<Gather action=", 2),
    ("not-xml", "Hello, world", 1),
    ("empty", "", 1),
    ("blank", "  \n\t ", 1),
    ("unclosed-comment", "<Response>\n<!-- note\n<Hangup/>\n</Response>", 4),
    ("undeclared-prefix-in-end-tag-only", "<Response><Say>Hi</x:Say></Response>", 1),
    ("unsupported-encoding", b'<?xml version="1.0" encoding="x-klingon"?><Response/>', 1),
    ("invalid-utf8-bytes", b'<?xml version="1.0" encoding="UTF-8"?>\n<Response><Say>\xff\xfe</Say></Response>', 2),
]


@pytest.mark.parametrize(("source", "line"), [m[1:] for m in MALFORMED], ids=[m[0] for m in MALFORMED])
def test_malformed_xml_raises_with_line_and_column(source, line):
    error = refused(source)
    (diagnostic,) = error.diagnostics
    assert (diagnostic.code, diagnostic.severity) == ("BXM001", "error")
    assert diagnostic.line == line and error.line == line
    assert isinstance(diagnostic.column, int) and diagnostic.column >= 1
    assert error.column == diagnostic.column
    assert f":{line}:{diagnostic.column}:" in str(error)


# -- root other than <Response>: BXM002 with line and column ----------------------------------------

ROOTS = [
    ("gather-root", "<Gather/>", 1, 1),
    ("lowercase-response", "<response><Say>Hi</Say></response>", 1, 1),
    ("bxml-root", '<?xml version="1.0"?>\n<Bxml><SpeakSentence>Hi</SpeakSentence></Bxml>', 2, 1),
    ("after-comment-indented", "<!-- generated -->\n\n    <Say>Hi</Say>", 3, 5),
    ("namespaced-response", '<Response xmlns="urn:example:voice"/>', 1, 1),
    ("prefixed-response", '<t:Response xmlns:t="urn:twilio"/>', 1, 1),
    ("multi-line-start-tag", '<Gather\n  action="/a"\n  numDigits="1"/>', 1, 1),
]


@pytest.mark.parametrize(("source", "line", "column"), [r[1:] for r in ROOTS], ids=[r[0] for r in ROOTS])
def test_root_other_than_response_raises_with_line_and_column(source, line, column):
    error = refused(source)
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "BXM002"
    assert (diagnostic.line, diagnostic.column) == (line, column)


# -- DOCTYPE and entity declarations: BXM003, nothing resolved, refused fast -------------------------

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<Response><Say>&lol9;</Say></Response>
"""
PASSWD = """<?xml version="1.0"?>
<!DOCTYPE Response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<Response><Say>&xxe;</Say></Response>
"""

DOCTYPES = [
    ("doctype-plain", "<!DOCTYPE Response>\n<Response/>", 1, 1),
    ("doctype-lowercase", "<!doctype Response>\n<Response/>", 1, 1),
    ("internal-entity", '<?xml version="1.0"?>\n<!DOCTYPE r [<!ENTITY name "Acme">]>\n<Response/>', 2, 1),
    ("billion-laughs", BILLION_LAUGHS, 2, 1),
    ("external-entity-etc-passwd", PASSWD, 2, 1),
    ("doctype-after-comments", "<!-- a -->\n<!-- b -->\n  <!DOCTYPE Response SYSTEM \"http://example.com/x.dtd\">"
     "\n<Response/>", 3, 3),
]


@pytest.mark.parametrize(("source", "line", "column"), [d[1:] for d in DOCTYPES], ids=[d[0] for d in DOCTYPES])
def test_doctype_and_entities_are_refused_fast(source, line, column):
    started = time.perf_counter()
    error = refused(source)
    assert time.perf_counter() - started < 0.5
    (diagnostic,) = error.diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("BXM003", line, column)
    assert "root:" not in str(error)  # nothing of /etc/passwd


def _xxe(target: str) -> str:
    return (f'<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE Response [<!ENTITY x SYSTEM "{target}">]>\n'
            "<Response><Say>&x;</Say></Response>")


def test_external_entity_file_is_never_read(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET-MARKER-4242", encoding="utf-8")
    for source in (_xxe(secret.as_uri()).replace(' encoding="UTF-16"', ""),  # caught before parsing
                   _xxe(secret.as_uri()).encode("utf-16")):  # UTF-16: decoded and scanned before parsing
        started = time.perf_counter()
        error = refused(source)
        assert time.perf_counter() - started < 0.5
        assert [d.code for d in error.diagnostics] == ["BXM003"]
        assert "SECRET-MARKER" not in str(error)
        assert all("SECRET-MARKER" not in d.message for d in error.diagnostics)


WIDE_ENCODINGS = [
    # (id, codec, declared encoding or None, prepend a byte-order mark): "utf-16"/"utf-32" write their own mark
    ("utf-16-bom", "utf-16", "UTF-16", False),
    ("utf-16-bom-undeclared", "utf-16", None, False),
    ("utf-16le-declared-no-bom", "utf-16-le", "UTF-16", False),
    ("utf-16be-declared-no-bom", "utf-16-be", "UTF-16", False),
    ("utf-16be-bom", "utf-16-be", "UTF-16", True),
    ("utf-32-bom", "utf-32", "UTF-32", False),
    ("utf-32le-declared-no-bom", "utf-32-le", "UTF-32", False),
    ("utf-32be-declared-no-bom", "utf-32-be", "UTF-32", False),
    ("utf-32be-bom-undeclared", "utf-32-be", None, True),
]


def _wide(text: str, codec: str, declared: str | None, bom: bool) -> bytes:
    declaration = f'<?xml version="1.0" encoding="{declared}"?>' if declared else '<?xml version="1.0"?>'
    data = text.replace('<?xml version="1.0"?>', declaration).encode(codec)
    return ("\ufeff".encode(codec) if bom else b"") + data


@pytest.mark.parametrize(("codec", "declared", "bom"), [w[1:] for w in WIDE_ENCODINGS],
                         ids=[w[0] for w in WIDE_ENCODINGS])
def test_billion_laughs_in_utf16_and_utf32_is_refused_as_doctype_with_position(codec, declared, bom):
    source = _wide(BILLION_LAUGHS, codec, declared, bom)
    assert b"<!DOCTYPE" not in source
    started = time.perf_counter()
    error = refused(source)
    assert time.perf_counter() - started < 0.5
    (diagnostic,) = error.diagnostics  # refused before parsing, not by libxml2's amplification guard (BXM001)
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("BXM003", 2, 1)
    assert "lollol" not in str(error)


@pytest.mark.parametrize("codec", ["utf-16", "utf-16-be", "utf-32", "utf-32-le"])
def test_wide_encoding_entity_declaration_position_counts_characters(codec):
    source = '<?xml version="1.0" encoding="UTF-16"?>\n<!-- Café -->  <!ENTITY x "y">\n<Response/>'
    if codec.startswith("utf-32"):
        source = source.replace("UTF-16", "UTF-32")
    (diagnostic,) = refused(source.encode(codec)).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("BXM003", 2, 16)


@pytest.mark.parametrize("codec", ["utf-16", "utf-32"])
def test_utf16_and_utf32_documents_without_doctype_still_translate(codec):
    source = (f'<?xml version="1.0" encoding="{codec.upper()}"?>\n<Response><Say>Café</Say></Response>').encode(codec)
    assert_xml_equal(twiml_to_bxml(source).bxml, SPOKEN_CAFE.replace("Café crème", "Café"))


def test_utf7_doctype_written_with_encoded_angle_brackets_is_refused():
    # "+ADw-" is "<" in UTF-7: the bytes never contain "<!DOCTYPE", libxml2 decodes it as a DOCTYPE.
    source = (b'<?xml version="1.0" encoding="UTF-7"?>\n  +ADw-!DOCTYPE r +AFs-+ADw-!ENTITY x '
              b"+ACI-y+ACI-+AD4-+AF0-+AD4-\n<Response><Say>&x;</Say></Response>")
    (diagnostic,) = refused(source).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("BXM003", 2, 3)


@pytest.mark.parametrize("label", ["JAVA", "base64", "x-klingon"])
def test_a_declared_encoding_that_cannot_be_scanned_is_refused(label):
    # libxml2 (with iconv) decodes "JAVA" escapes: "\u003c!DOCTYPE" would be a DOCTYPE the scan cannot see.
    source = f'<?xml version="1.0" encoding="{label}"?>\\u003c!DOCTYPE r><Response/>'.encode("ascii")
    (diagnostic,) = refused(source).diagnostics
    assert (diagnostic.code, diagnostic.line, diagnostic.column) == ("BXM001", 1, 31)
    assert label in diagnostic.message


def test_parsing_never_touches_the_network():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(5)
        listener.settimeout(0.2)
        url = f"http://127.0.0.1:{listener.getsockname()[1]}/evil.dtd"
        sources = [
            _xxe(url).replace(' encoding="UTF-16"', ""),
            _xxe(url).encode("utf-16"),
            f'<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE Response SYSTEM "{url}">\n<Response/>'
            .encode("utf-16"),
            f'<?xml version="1.0" encoding="UTF-16"?>\n<!DOCTYPE r [<!ENTITY % p SYSTEM "{url}"> %p;]>\n<Response/>'
            .encode("utf-16"),
        ]
        for source in sources:
            assert [d.code for d in refused(source).diagnostics] == ["BXM003"]
        xinclude = (f'<Response><xi:include href="{url}" xmlns:xi="http://www.w3.org/2001/XInclude"/>'
                    "<Say>Hi</Say></Response>")
        assert codes(twiml_to_bxml(xinclude)) == ["BXM009"]  # not a TwiML verb; never fetched
        with pytest.raises(TimeoutError):
            listener.accept()


# -- size limits -------------------------------------------------------------------------------------


def _padded(total: int) -> bytes:
    head, tail = b"<Response>\n<Say>Hi</Say>\n", b"</Response>"
    return head + b" " * (total - len(head) - len(tail)) + tail


def test_input_of_exactly_one_mebibyte_is_accepted():
    source = _padded(MAX_INPUT_BYTES)
    assert len(source) == 1024 * 1024
    assert_xml_equal(twiml_to_bxml(source).bxml, '<Response><SpeakSentence gender="male">Hi</SpeakSentence></Response>')


@pytest.mark.parametrize("kind", ["bytes", "str"])
def test_input_over_one_mebibyte_is_refused_with_line_and_column(kind):
    source: str | bytes = _padded(MAX_INPUT_BYTES + 1)
    if kind == "str":  # 1 MiB counts encoded bytes: 300,000 CJK characters are 900,000 UTF-8 bytes
        source = "<Response><Say>" + "語" * 350_000 + "</Say></Response>"
        assert len(source) < MAX_INPUT_BYTES < len(source.encode("utf-8"))
    started = time.perf_counter()
    error = refused(source)
    assert time.perf_counter() - started < 0.5
    (diagnostic,) = error.diagnostics
    assert diagnostic.code == "BXM004"
    assert diagnostic.line is not None and diagnostic.column is not None


def _long_prompt(copies: int) -> str:
    words = "Thank you for calling. Your call is important to us. " * 12
    return f'<Response><Say loop="{copies}">{words}</Say></Response>'


def test_output_over_64_kb_is_an_error_diagnostic_with_the_document():
    translation = twiml_to_bxml(_long_prompt(100))
    assert len(translation.bxml.encode("utf-8")) > MAX_BXML_BYTES
    assert codes(translation) == ["BXM005"]
    assert translation.has_errors
    root = etree.fromstring(translation.bxml.encode("utf-8"))
    assert root.tag == "Response" and len(root) == 100
    with pytest.raises(TranslationError) as info:
        twiml_to_bxml(_long_prompt(100), strict=True)
    assert [d.code for d in info.value.diagnostics] == ["BXM005"]


def test_output_under_64_kb_is_fine():
    translation = twiml_to_bxml(_long_prompt(60))
    assert len(translation.bxml.encode("utf-8")) < MAX_BXML_BYTES
    assert codes(translation) == []


def test_output_size_counts_utf8_bytes():
    # ~30,000 characters of 3-byte text: under 64 K characters, over 64 KB.
    translation = twiml_to_bxml(f'<Response><Say loop="20">{"電話" * 750}</Say></Response>')
    assert len(translation.bxml) < MAX_BXML_BYTES < len(translation.bxml.encode("utf-8"))
    assert codes(translation) == ["BXM005"]


# -- strict mode -------------------------------------------------------------------------------------

WARNED = """<Response>
  <Gather numDigits="64" timeout="0" bargeIn="false">
    <Say voice="robot">Enter your code.</Say>
  </Gather>
  <Enqueue>support</Enqueue>
</Response>"""


def test_strict_raises_with_every_diagnostic():
    relaxed = twiml_to_bxml(WARNED)
    assert codes(relaxed) == ["BXM010", "BXM013", "BXM014", "BXM015", "BXM101", "BXM206"]
    with pytest.raises(TranslationError) as info:
        twiml_to_bxml(WARNED, strict=True)
    assert info.value.diagnostics == relaxed.diagnostics
    assert "BXM010" in str(info.value)  # the first error leads the message


def test_strict_raises_on_warnings_alone():
    source = '<Response><Say loop="0">Hold.</Say></Response>'
    assert {d.severity for d in twiml_to_bxml(source).diagnostics} == {"warning"}
    with pytest.raises(TranslationError):
        twiml_to_bxml(source, strict=True)


def test_strict_accepts_info_diagnostics():
    source = '<Response><Say voice="Polly.Salli">Hi</Say><Redirect>/next</Redirect></Response>'
    translation = twiml_to_bxml(source, strict=True)
    assert codes(translation) == ["BXM007", "BXM205"]
    assert {d.severity for d in translation.diagnostics} == {"info"}


def test_strict_clean_document():
    translation = twiml_to_bxml('<Response><Say voice="Polly.Joanna">Hi</Say><Hangup/></Response>', strict=True)
    assert translation.diagnostics == []
    assert_xml_equal(translation.bxml, '<Response><SpeakSentence voice="julie">Hi</SpeakSentence><Hangup/></Response>')


def test_strict_does_not_change_parse_errors():
    assert [d.code for d in refused("<Response>", strict=True).diagnostics] == ["BXM001"]


# -- encodings and input types -----------------------------------------------------------------------

SPOKEN_CAFE = '<Response><SpeakSentence gender="male">Café crème</SpeakSentence></Response>'
CAFE = "<Response><Say>Café crème</Say></Response>"

ENCODINGS = [
    ("str", CAFE),
    ("str-with-latin1-declaration", '<?xml version="1.0" encoding="ISO-8859-1"?>' + CAFE),
    ("str-with-bom", "\ufeff" + CAFE),
    ("utf8-bytes-no-declaration", CAFE.encode("utf-8")),
    ("utf8-bytes-bom", b"\xef\xbb\xbf" + CAFE.encode("utf-8")),
    ("iso-8859-1-bytes", ('<?xml version="1.0" encoding="ISO-8859-1"?>\n' + CAFE).encode("iso-8859-1")),
    ("windows-1252-bytes", ('<?xml version="1.0" encoding="windows-1252"?>' + CAFE).encode("cp1252")),
    ("utf16-bytes-bom", ('<?xml version="1.0" encoding="UTF-16"?>' + CAFE).encode("utf-16")),
    ("utf16be-declared-no-bom", ('<?xml version="1.0" encoding="UTF-16"?>' + CAFE).encode("utf-16-be")),
    ("bytearray", bytearray(CAFE.encode("utf-8"))),
    ("memoryview", memoryview(CAFE.encode("utf-8"))),
]


@pytest.mark.parametrize("source", [e[1] for e in ENCODINGS], ids=[e[0] for e in ENCODINGS])
def test_input_encodings(source):
    translation = twiml_to_bxml(source)
    assert_xml_equal(translation.bxml, SPOKEN_CAFE)
    assert translation.diagnostics == []
    assert translation.bxml.startswith('<?xml version="1.0" encoding="UTF-8"?>\n<Response')
    assert isinstance(translation.bxml, str)


def test_latin1_bytes_keep_every_character():
    text = "Señor Núñez, ¿qué tal? Ça coûte 5 £"
    source = f'<?xml version="1.0" encoding="ISO-8859-1"?><Response><Say>{text}</Say></Response>'.encode("latin-1")
    sentence = etree.fromstring(twiml_to_bxml(source).bxml.encode("utf-8")).find("SpeakSentence")
    assert sentence.text == text


def test_non_text_input_is_a_type_error():
    with pytest.raises(TypeError):
        twiml_to_bxml(42)  # type: ignore[arg-type]


def test_crlf_line_numbers():
    source = '<Response>\r\n  <Say>Hi</Say>\r\n  <Gather numDigits="99"/>\r\n</Response>\r\n'
    assert [(d.code, d.line) for d in twiml_to_bxml(source).diagnostics] == [("BXM015", 3), ("BXM101", 3)]


def test_diagnostic_lines_point_at_the_start_of_a_multi_line_tag():
    source = '<Response>\n  <Gather\n     action="/a"\n     numDigits="64"/>\n  <Hangup/>\n</Response>'
    assert {d.line for d in twiml_to_bxml(source).diagnostics} == {2}


# -- document structure -------------------------------------------------------------------------------


def test_empty_response_stays_empty():
    translation = twiml_to_bxml("<Response/>")
    assert translation.diagnostics == []
    assert translation.bxml == '<?xml version="1.0" encoding="UTF-8"?>\n<Response/>\n'


def test_response_attributes_and_stray_text_are_reported():
    translation = twiml_to_bxml('<Response version="2">Welcome<Hangup/>bye</Response>')
    assert codes(translation) == ["BXM006", "BXM012"]
    assert_xml_equal(translation.bxml, "<Response><Hangup/></Response>")


def test_comments_keep_their_place_and_processing_instructions_go():
    source = ("<!-- outside --><Response><!-- one --><Say>Hi</Say><?php echo 1; ?><!-- two --><Hangup/>"
              "<Say><![CDATA[a < b & c]]></Say></Response>")
    assert_xml_equal(twiml_to_bxml(source).bxml,
                     '<Response><!-- one --><SpeakSentence gender="male">Hi</SpeakSentence><!-- two --><Hangup/>'
                     '<SpeakSentence gender="male">a &lt; b &amp; c</SpeakSentence></Response>')


def test_document_url_changes_only_missing_actions():
    source = '<Response><Gather action="/x"/><Gather/><Record action="https://r.example/r"/><Record/></Response>'
    root = etree.fromstring(twiml_to_bxml(source, document_url="https://app.example/a.xml").bxml.encode())
    assert [g.get("gatherUrl") for g in root.iter("Gather")] == ["/x", "https://app.example/a.xml"]
    assert [r.get("recordCompleteUrl") for r in root.iter("Record")] == ["https://r.example/r",
                                                                         "https://app.example/a.xml"]


def test_translation_flags():
    assert twiml_to_bxml("<Response><Pay/></Response>").has_errors
    warned = twiml_to_bxml('<Response><Say loop="0">x</Say></Response>')
    assert warned.has_warnings and not warned.has_errors


# -- every registered diagnostic code is triggered by a document ----------------------------------------

PAD = "<Response>" + " " * (MAX_INPUT_BYTES) + "</Response>"
TRIGGERS: dict[str, str] = {
    "BXM001": "<Response><Say>Hi</Response>",
    "BXM002": "<Gather/>",
    "BXM003": '<!DOCTYPE r [<!ENTITY x "y">]><Response/>',
    "BXM004": PAD,
    "BXM005": _long_prompt(100),
    "BXM006": "<Response>Hello<Hangup/></Response>",
    "BXM007": '<Response><Gather action="/menu"/></Response>',
    "BXM009": "<Response><Speak>Hi</Speak></Response>",
    "BXM010": "<Response><Enqueue>support</Enqueue></Response>",
    "BXM011": '<Response><Reject reason="busy"/></Response>',
    "BXM012": '<Response><Gather numdigits="4"/></Response>',
    "BXM013": '<Response><Gather enhanced="true"/></Response>',
    "BXM014": '<Response><Gather finishOnKey="ab"/></Response>',
    "BXM015": '<Response><Gather numDigits="64"/></Response>',
    "BXM016": '<Response><Gather numDigits="-1"/></Response>',
    "BXM017": '<Response><Record playBeep="false"/></Response>',
    "BXM101": '<Response><Gather numDigits="1"><Say>Press a key</Say></Gather></Response>',
    "BXM102": '<Response><Gather action="/a"/><Say>No input</Say></Response>',
    "BXM103": '<Response><Gather action="/a"/></Response>',
    "BXM104": '<Response><Gather><Say loop="30">Hi</Say></Gather></Response>',
    "BXM105": "<Response><Gather><Dial>+15551234567</Dial></Gather></Response>",
    "BXM106": '<Response><Gather input="speech"/></Response>',
    "BXM107": '<Response><Gather input="speech" speechTimeout="auto"/></Response>',
    "BXM108": '<Response><Gather input="speech" speechModel="experimental_conversations"/></Response>',
    "BXM109": '<Response><Gather hints="yes,no"/></Response>',
    "BXM202": '<Response><Play loop="0">https://example.com/hold.mp3</Play></Response>',
    "BXM203": '<Response><Play loop="500">https://example.com/a.mp3</Play></Response>',
    "BXM204": '<Response><Say><amazon:effect name="whispered">psst</amazon:effect></Say></Response>',
    "BXM205": '<Response><Say voice="Polly.Salli">Hi</Say></Response>',
    "BXM206": '<Response><Say voice="robot">Hi</Say></Response>',
    "BXM207": '<Response><Say language="sv-SE">Hej</Say></Response>',
    "BXM208": '<Response><Gather><Pause length="2"/></Gather></Response>',
    "BXM209": '<Response><Gather><Play digits="1234"/></Gather></Response>',
    "BXM210": "<Response><Say/></Response>",
    "BXM301": "<Response><Dial>" + "<Number>+15550000000</Number>" * 9 + "</Dial></Response>",
    "BXM302": "<Response><Dial><Conference>a</Conference><Number>+15550000000</Number></Dial></Response>",
    "BXM303": "<Response><Redirect/></Response>",
    "BXM304": "<Response><Dial><Conference>Sales Team #1</Conference></Dial></Response>",
    "BXM305": "<Response><Dial><Client>alice</Client></Dial></Response>",
    "BXM306": "<Response><Record/></Response>",
    "BXM307": "<Response><Stop><Stream/></Stop></Response>",
    "BXM308": '<Response><Start><Stream url="wss://s.example/a">' + '<Parameter name="p" value="v"/>' * 13
              + "</Stream></Start></Response>",
    "BXM309": "<Response><Dial><Number></Number></Dial></Response>",
}


def test_every_registered_twiml_and_document_code_has_a_trigger():
    registered = {rule.code for rule in (*codes_document.RULES, *codes_twiml.RULES)}
    assert set(TRIGGERS) == registered


@pytest.mark.parametrize("code", sorted(TRIGGERS))
def test_code_is_triggered(code):
    try:
        diagnostics = twiml_to_bxml(TRIGGERS[code]).diagnostics
    except TranslationError as exc:
        diagnostics = exc.diagnostics
    found = [d for d in diagnostics if d.code == code]
    assert found, [d.code for d in diagnostics]
    assert all(d.severity == RULES[code].severity.value for d in found)


def _example_document(example: str) -> str:
    return example if example.startswith(("<Response", "<Gather/>", "<!DOCTYPE")) else f"<Response>{example}</Response>"


# The registry's example snippets (shown in docs/diagnostics.md), except abbreviated ones ("+1...").
EXAMPLES = sorted(code for code, rule in RULES.items()
                  if code in TRIGGERS and rule.example and "..." not in rule.example)


@pytest.mark.parametrize("code", EXAMPLES)
def test_documented_example_triggers_its_code(code):
    try:
        diagnostics = twiml_to_bxml(_example_document(RULES[code].example)).diagnostics
    except TranslationError as exc:
        diagnostics = exc.diagnostics
    assert code in [d.code for d in diagnostics]


def test_output_elements_keep_attribute_order_for_any_mapping():
    from types import MappingProxyType

    from translators.bxml_writer import element

    for attributes in ({"z": "1", "a": "2"}, MappingProxyType({"z": "1", "a": "2"})):
        assert etree.tostring(element("A", attributes, "t")) == b'<A z="1" a="2">t</A>'
    assert etree.tostring(element("A", {})) == etree.tostring(element("A")) == b"<A/>"
