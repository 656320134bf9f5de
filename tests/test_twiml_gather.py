"""TwiML ``<Gather>`` -> BXML ``<Gather>``: one parametrized row per line of issue 2's Gather table.

Each row: the TwiML ``<Gather>`` attributes, the BXML ``<Gather>`` attributes expected
(all of them: an attribute not listed must be absent) and the diagnostic codes expected
(sorted, with repeats).  Nested-verb rows compare the Gather's children as parsed XML.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from lxml import etree
from xml_compare import canonical

from translators import twiml_to_bxml

PROMPT = "<Say>Enter your code.</Say>"
SPOKEN = '<SpeakSentence gender="male">Enter your code.</SpeakSentence>'
# A Gather with an action as the last verb: BXM007 (callback URL) and BXM103 (empty input calls the action).
LAST = ["BXM007", "BXM103"]
BASE = {"gatherUrl": "/next", "firstDigitTimeout": "5", "interDigitTimeout": "5", "terminatingDigits": "#",
        "maxDigits": "50"}
SPEECH = {"input": "speech", "speechTimeout": "5", "language": "en-US"}


def expect(*layers: dict[str, str | None], **changes: str | None) -> dict[str, str]:
    """BASE with changes; ``None`` removes an attribute."""
    merged: dict[str, str | None] = dict(BASE)
    for layer in (*layers, changes):
        merged.update(layer)
    return {k: v for k, v in merged.items() if v is not None}


@dataclass(frozen=True)
class Row:
    id: str
    attributes: str  # TwiML <Gather> attributes, as written
    expected: dict[str, str]
    codes: list[str]
    document_url: str | None = None
    after: str = ""  # verbs after the Gather
    body: str = PROMPT
    fields: tuple[str, ...] = field(default=())  # attributes the diagnostics must name (Diagnostic.field)


def translate_gather(row: Row) -> tuple[etree._Element, list[str], list]:
    source = f"<Response><Gather {row.attributes}>{row.body}</Gather>{row.after}</Response>"
    translation = twiml_to_bxml(source, document_url=row.document_url)
    root = etree.fromstring(translation.bxml.encode())
    gathers = root.findall("Gather")
    assert len(gathers) == 1, translation.bxml
    return gathers[0], sorted(d.code for d in translation.diagnostics), translation.diagnostics


def check(row: Row) -> None:
    gather, codes, diagnostics = translate_gather(row)
    assert dict(gather.attrib) == row.expected
    assert codes == sorted(row.codes)
    named = {d.field for d in diagnostics}
    for name in row.fields:
        assert name in named, f"no diagnostic names {name}: {diagnostics}"


ACTION_ROWS = [
    Row("action-relative", 'action="/next"', expect(), LAST),
    Row("action-relative-no-slash", 'action="next.php?step=2"', expect(gatherUrl="next.php?step=2"), LAST),
    Row("action-absolute", 'action="https://ivr.example.com/menu"', expect(gatherUrl="https://ivr.example.com/menu"),
        LAST),
    Row("action-relative-kept-with-document-url", 'action="/next"', expect(), LAST,
        document_url="https://app.example.com/voice/answer"),
    Row("action-absolute-kept-with-document-url", 'action="https://other.example/x"',
        expect(gatherUrl="https://other.example/x"), LAST, document_url="https://app.example.com/voice/answer"),
    Row("action-surrounding-space-trimmed", 'action="  /next  "', expect(), LAST),
    Row("no-action-document-url", "", expect(gatherUrl="https://app.example.com/voice/answer.xml"), LAST,
        document_url="https://app.example.com/voice/answer.xml"),
    Row("no-action-no-document-url", "", expect(gatherUrl=None), ["BXM101"], fields=("action",)),
    Row("no-action-no-document-url-followed", "", expect(gatherUrl=None), ["BXM101"], after="<Hangup/>"),
    Row("action-empty-uses-document-url", 'action=""', expect(gatherUrl="https://app.example.com/a.xml"),
        [*LAST, "BXM014"], document_url="https://app.example.com/a.xml"),
    Row("action-empty-no-document-url", 'action=""', expect(gatherUrl=None), ["BXM016", "BXM101"]),
]

METHOD_ROWS = [
    Row("method-absent", 'action="/next"', expect(), LAST),
    Row("method-get", 'action="/next" method="GET"', expect(gatherMethod="GET"), LAST),
    Row("method-post", 'action="/next" method="POST"', expect(gatherMethod="POST"), LAST),
    Row("method-get-lowercase", 'action="/next" method="get"', expect(gatherMethod="GET"), LAST),
    Row("method-invalid-put", 'action="/next" method="PUT"', expect(gatherMethod="POST"), [*LAST, "BXM014"],
        fields=("method",)),
    Row("method-invalid-empty", 'action="/next" method=""', expect(gatherMethod="POST"), [*LAST, "BXM014"]),
]

FINISH_ON_KEY_ROWS = [
    Row("finishOnKey-absent-is-pound", 'action="/next"', expect(terminatingDigits="#"), LAST),
    Row("finishOnKey-empty-no-terminator", 'action="/next" finishOnKey=""', expect(terminatingDigits=None), LAST),
    *[Row(f"finishOnKey-key-{key}", f'action="/next" finishOnKey="{key}"', expect(terminatingDigits=key), LAST)
      for key in "0123456789#*"],
    *[Row(f"finishOnKey-invalid-{label}", f'action="/next" finishOnKey="{value}"', expect(terminatingDigits="#"),
          [*LAST, "BXM014"], fields=("finishOnKey",))
      for label, value in [("letters", "ab"), ("two-keys", "#*"), ("double-pound", "##"), ("space", " "),
                           ("letter-A", "A"), ("key-and-space", "1 ")]],
]

NUM_DIGITS_ROWS = [
    Row("numDigits-absent-is-50", 'action="/next"', expect(maxDigits="50"), LAST),
    Row("numDigits-1", 'action="/next" numDigits="1"', expect(maxDigits="1"), LAST),
    Row("numDigits-16", 'action="/next" numDigits="16"', expect(maxDigits="16"), LAST),
    Row("numDigits-50", 'action="/next" numDigits="50"', expect(maxDigits="50"), LAST),
    Row("numDigits-51-clamped", 'action="/next" numDigits="51"', expect(maxDigits="50"), [*LAST, "BXM015"],
        fields=("numDigits",)),
    Row("numDigits-64-clamped", 'action="/next" numDigits="64"', expect(maxDigits="50"), [*LAST, "BXM015"]),
    Row("numDigits-0-omitted", 'action="/next" numDigits="0"', expect(maxDigits=None), [*LAST, "BXM016"],
        fields=("numDigits",)),
    Row("numDigits-negative-omitted", 'action="/next" numDigits="-3"', expect(maxDigits=None), [*LAST, "BXM016"]),
    Row("numDigits-abc-omitted", 'action="/next" numDigits="abc"', expect(maxDigits=None), [*LAST, "BXM016"]),
    Row("numDigits-fraction-omitted", 'action="/next" numDigits="2.5"', expect(maxDigits=None), [*LAST, "BXM016"]),
    Row("numDigits-empty-omitted", 'action="/next" numDigits=""', expect(maxDigits=None), [*LAST, "BXM016"]),
]


def timers(value: str) -> dict[str, str]:
    return {"firstDigitTimeout": value, "interDigitTimeout": value}


TIMEOUT_ROWS = [
    Row("timeout-absent-is-5-both", 'action="/next"', expect(timers("5")), LAST),
    Row("timeout-1-both", 'action="/next" timeout="1"', expect(timers("1")), LAST),
    Row("timeout-10-both", 'action="/next" timeout="10"', expect(timers("10")), LAST),
    Row("timeout-60-both", 'action="/next" timeout="60"', expect(timers("60")), LAST),
    Row("timeout-61-clamped", 'action="/next" timeout="61"', expect(timers("60")), [*LAST, "BXM015"],
        fields=("timeout",)),
    Row("timeout-90-clamped", 'action="/next" timeout="90"', expect(timers("60")), [*LAST, "BXM015"]),
    # Twilio: timeout is a positive integer; anything else is debugger warning 13313 and the default 5.
    Row("timeout-0-invalid-default-5", 'action="/next" timeout="0"', expect(timers("5")), [*LAST, "BXM014"],
        fields=("timeout",)),
    Row("timeout-negative-invalid", 'action="/next" timeout="-2"', expect(timers("5")), [*LAST, "BXM014"]),
    Row("timeout-abc-invalid", 'action="/next" timeout="abc"', expect(timers("5")), [*LAST, "BXM014"]),
    Row("timeout-fraction-invalid", 'action="/next" timeout="2.5"', expect(timers("5")), [*LAST, "BXM014"]),
]

INPUT_ROWS = [
    Row("input-dtmf-omitted", 'action="/next" input="dtmf"', expect(), LAST),
    Row("input-speech", 'action="/next" input="speech"', expect(SPEECH), [*LAST, "BXM106"]),
    Row("input-dtmf-speech", 'action="/next" input="dtmf speech"', expect(SPEECH, input="dtmf_speech"),
        [*LAST, "BXM106"]),
    Row("input-speech-dtmf", 'action="/next" input="speech dtmf"', expect(SPEECH, input="dtmf_speech"),
        [*LAST, "BXM106"]),
    Row("input-invalid-is-dtmf", 'action="/next" input="voice"', expect(), [*LAST, "BXM014"], fields=("input",)),
]

S = 'action="/next" input="speech"'
SPEECH_ROWS = [
    Row("speechTimeout-defaults-to-timeout", f'{S} timeout="8"', expect(SPEECH, timers("8"), speechTimeout="8"),
        [*LAST, "BXM106"]),
    Row("speechTimeout-defaults-to-clamped-timeout", f'{S} timeout="75"',
        expect(SPEECH, timers("60"), speechTimeout="60"), [*LAST, "BXM015", "BXM106"]),
    Row("speechTimeout-3", f'{S} speechTimeout="3"', expect(SPEECH, speechTimeout="3"), [*LAST, "BXM106"]),
    Row("speechTimeout-auto-warns-uses-timeout", f'{S} timeout="7" speechTimeout="auto"',
        expect(SPEECH, timers("7"), speechTimeout="7"), [*LAST, "BXM106", "BXM107"], fields=("speechTimeout",)),
    Row("speechTimeout-90-clamped", f'{S} speechTimeout="90"', expect(SPEECH, speechTimeout="60"),
        [*LAST, "BXM015", "BXM106"]),
    Row("speechTimeout-invalid-uses-timeout", f'{S} timeout="4" speechTimeout="soon"',
        expect(SPEECH, timers("4"), speechTimeout="4"), [*LAST, "BXM014", "BXM106"]),
    Row("hints", f'{S} hints="billing, sales, $OOV_CLASS_DIGIT_SEQUENCE"',
        expect(SPEECH, hints="billing, sales, $OOV_CLASS_DIGIT_SEQUENCE"), [*LAST, "BXM106"]),
    Row("language-en-GB", f'{S} language="en-GB"', expect(SPEECH, language="en-GB"), [*LAST, "BXM106"]),
    Row("language-es-MX", f'{S} language="es-MX"', expect(SPEECH, language="es-MX"), [*LAST, "BXM106"]),
    Row("profanityFilter-false", f'{S} profanityFilter="false"', expect(SPEECH, profanityFilter="false"),
        [*LAST, "BXM106"]),
    Row("profanityFilter-true", f'{S} profanityFilter="true"', expect(SPEECH, profanityFilter="true"),
        [*LAST, "BXM106"]),
    Row("profanityFilter-invalid-default-true", f'{S} profanityFilter="maybe"',
        expect(SPEECH, profanityFilter="true"), [*LAST, "BXM014", "BXM106"]),
    Row("speechModel-default-left-to-bandwidth", f'{S} speechModel="default"', expect(SPEECH), [*LAST, "BXM106"]),
    *[Row(f"speechModel-{model}-twilio-only", f'{S} speechModel="{model}"', expect(SPEECH),
          [*LAST, "BXM106", "BXM108"], fields=("speechModel",))
      for model in ("phone_call", "numbers_and_commands", "experimental_conversations",
                    "experimental_utterances", "googlev2_telephony")],
    Row("partialResultCallback", f'{S} partialResultCallback="/partial" partialResultCallbackMethod="GET"',
        expect(SPEECH, partialResultCallback="/partial", partialResultCallbackMethod="GET"), [*LAST, "BXM106"]),
    Row("partialResultCallbackMethod-invalid", f'{S} partialResultCallback="/p" partialResultCallbackMethod="PUT"',
        expect(SPEECH, partialResultCallback="/p", partialResultCallbackMethod="POST"), [*LAST, "BXM014", "BXM106"]),
    *[Row(f"{name}-without-speech-ignored", f'action="/next" {name}="{value}"', expect(), [*LAST, "BXM109"],
          fields=(name,))
      for name, value in [("speechTimeout", "3"), ("hints", "yes,no"), ("language", "fr-FR"),
                          ("profanityFilter", "false"), ("speechModel", "phone_call"),
                          ("partialResultCallback", "/p"), ("partialResultCallbackMethod", "GET")]],
]

DROPPED_ROWS = [
    Row("enhanced-true-dropped", 'action="/next" enhanced="true"', expect(), [*LAST, "BXM013"], fields=("enhanced",)),
    Row("enhanced-false-dropped-no-effect", 'action="/next" enhanced="false"', expect(), [*LAST, "BXM017"],
        fields=("enhanced",)),
    Row("debug-dropped", 'action="/next" debug="true"', expect(), [*LAST, "BXM013"], fields=("debug",)),
    Row("bargeIn-false-dropped", 'action="/next" bargeIn="false"', expect(), [*LAST, "BXM013"], fields=("bargeIn",)),
    Row("bargeIn-true-dropped-no-effect", 'action="/next" bargeIn="true"', expect(), [*LAST, "BXM017"],
        fields=("bargeIn",)),
    Row("maxSpeechTime-dropped", 'action="/next" maxSpeechTime="30"', expect(), [*LAST, "BXM013"],
        fields=("maxSpeechTime",)),
    Row("unknown-attribute-dropped", 'action="/next" foo="bar"', expect(), [*LAST, "BXM012"], fields=("foo",)),
    Row("wrong-case-attribute-dropped", 'action="/next" numdigits="4"', expect(), [*LAST, "BXM012"],
        fields=("numdigits",)),
    Row("all-dropped-each-named", 'action="/next" enhanced="true" debug="1" bargeIn="false" maxSpeechTime="9" x="1"',
        expect(), [*LAST, "BXM012", "BXM013", "BXM013", "BXM013", "BXM013"],
        fields=("enhanced", "debug", "bargeIn", "maxSpeechTime", "x")),
]

EMPTY_RESULT_ROWS = [
    Row("actionOnEmptyResult-default-last-verb", 'action="/next"', expect(), ["BXM007", "BXM103"]),
    Row("actionOnEmptyResult-default-verbs-after", 'action="/next"', expect(), ["BXM007", "BXM102"],
        after="<Say>No input.</Say>", fields=("actionOnEmptyResult",)),
    Row("actionOnEmptyResult-false-verbs-after", 'action="/next" actionOnEmptyResult="false"', expect(),
        ["BXM007", "BXM102"], after="<Redirect>/again</Redirect>"),
    Row("actionOnEmptyResult-true-verbs-after", 'action="/next" actionOnEmptyResult="true"', expect(),
        ["BXM007"], after="<Say>No input.</Say>"),
    Row("actionOnEmptyResult-true-last-verb", 'action="/next" actionOnEmptyResult="true"', expect(), ["BXM007"]),
    Row("actionOnEmptyResult-invalid-is-false", 'action="/next" actionOnEmptyResult="yes"', expect(),
        ["BXM007", "BXM014", "BXM102"], after="<Hangup/>", fields=("actionOnEmptyResult",)),
    Row("actionOnEmptyResult-invalid-reported-without-gatherUrl", 'actionOnEmptyResult="yes"',
        expect(gatherUrl=None), ["BXM014", "BXM101"]),
    Row("actionOnEmptyResult-only-comments-after", 'action="/next"', expect(), ["BXM007", "BXM103"],
        after="<!-- end -->"),
    Row("actionOnEmptyResult-document-url-verbs-after", "", expect(gatherUrl="https://a.example/x.xml"),
        ["BXM007", "BXM102"], document_url="https://a.example/x.xml", after="<Hangup/>"),
]

ALL_ROWS = (ACTION_ROWS + METHOD_ROWS + FINISH_ON_KEY_ROWS + NUM_DIGITS_ROWS + TIMEOUT_ROWS + INPUT_ROWS
            + SPEECH_ROWS + DROPPED_ROWS + EMPTY_RESULT_ROWS)


@pytest.mark.parametrize("row", ALL_ROWS, ids=[r.id for r in ALL_ROWS])
def test_gather_attribute_row(row: Row):
    check(row)


def test_row_ids_are_unique():
    ids = [r.id for r in ALL_ROWS]
    assert len(ids) == len(set(ids))


def test_every_gather_table_attribute_has_a_row():
    from translators.twiml.tables import GATHER

    covered = " ".join(r.attributes for r in ALL_ROWS)
    for rule in GATHER:
        assert f"{rule.source}=" in covered, rule.source


# -- nested verbs ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Nested:
    id: str
    body: str  # TwiML inside <Gather action="/next">
    expected: str  # BXML inside <Gather>
    codes: list[str]


def _repeat(text: str, times: int) -> str:
    return text * times


SAY_JULIE = '<SpeakSentence voice="julie">Menu.</SpeakSentence>'
AUDIO = "<PlayAudio>https://a.example/m.mp3</PlayAudio>"

NESTED_ROWS = [
    Nested("say-to-speaksentence", "<Say>Enter your code.</Say>", SPOKEN, LAST),
    Nested("say-voice-and-language", '<Say voice="woman" language="en-GB">Hello.</Say>',
           '<SpeakSentence gender="female" locale="en_UK">Hello.</SpeakSentence>', LAST),
    Nested("say-supported-ssml-kept", '<Say voice="Polly.Joanna">Press <emphasis level="strong">1</emphasis> now'
           '<break time="1s"/> or <say-as interpret-as="characters">AB</say-as>.</Say>',
           '<SpeakSentence voice="julie">Press <emphasis level="strong">1</emphasis> now<break time="1s"/> or '
           '<say-as interpret-as="characters">AB</say-as>.</SpeakSentence>', LAST),
    Nested("say-unsupported-ssml-unwrapped", '<Say voice="Polly.Joanna"><amazon:effect name="whispered">Psst'
           "</amazon:effect>, press 1.</Say>", '<SpeakSentence voice="julie">Psst, press 1.</SpeakSentence>',
           [*LAST, "BXM204"]),
    Nested("say-loop-3-repeated", '<Say voice="Polly.Joanna" loop="3">Menu.</Say>', _repeat(SAY_JULIE, 3), LAST),
    Nested("say-loop-1", '<Say voice="Polly.Joanna" loop="1">Menu.</Say>', SAY_JULIE, LAST),
    Nested("say-loop-invalid-once", '<Say voice="Polly.Joanna" loop="twice">Menu.</Say>', SAY_JULIE,
           [*LAST, "BXM014"]),
    Nested("say-loop-negative-once", '<Say voice="Polly.Joanna" loop="-1">Menu.</Say>', SAY_JULIE,
           [*LAST, "BXM014"]),
    Nested("say-loop-0-fills-20", '<Say voice="Polly.Joanna" loop="0">Menu.</Say>', _repeat(SAY_JULIE, 20),
           [*LAST, "BXM202"]),
    Nested("say-loop-0-fills-what-is-left", '<Play loop="2">https://a.example/m.mp3</Play>'
           '<Say voice="Polly.Joanna" loop="0">Menu.</Say>', _repeat(AUDIO, 2) + _repeat(SAY_JULIE, 18),
           [*LAST, "BXM202"]),
    Nested("two-loop-0-share", '<Say voice="Polly.Joanna" loop="0">Menu.</Say><Play loop="0">'
           "https://a.example/m.mp3</Play>", _repeat(SAY_JULIE, 10) + _repeat(AUDIO, 10),
           [*LAST, "BXM202", "BXM202"]),
    Nested("loop-0-after-20-fixed-cut", '<Say voice="Polly.Joanna" loop="20">Menu.</Say>'
           '<Play loop="0">https://a.example/m.mp3</Play>', _repeat(SAY_JULIE, 20), [*LAST, "BXM104", "BXM202"]),
    Nested("exactly-20-no-warning", '<Say voice="Polly.Joanna" loop="10">Menu.</Say>'
           '<Play loop="10">https://a.example/m.mp3</Play>', _repeat(SAY_JULIE, 10) + _repeat(AUDIO, 10), LAST),
    Nested("21-cut-to-20", '<Say voice="Polly.Joanna" loop="11">Menu.</Say><Play loop="10">https://a.example/m.mp3'
           "</Play>", _repeat(SAY_JULIE, 11) + _repeat(AUDIO, 9), [*LAST, "BXM104"]),
    Nested("loop-huge-cut-to-20-fast", '<Say voice="Polly.Joanna" loop="1000000000">Menu.</Say>',
           _repeat(SAY_JULIE, 20), [*LAST, "BXM104"]),
    Nested("play-to-playaudio", "<Play>https://a.example/m.mp3</Play>", AUDIO, LAST),
    Nested("play-url-trimmed", "<Play>\n   https://a.example/m.mp3\n</Play>", AUDIO, LAST),
    Nested("play-loop-2", '<Play loop="2">https://a.example/m.mp3</Play>', _repeat(AUDIO, 2), LAST),
    Nested("play-digits-error", '<Play digits="1234"/><Say voice="Polly.Joanna">Menu.</Say>', SAY_JULIE,
           [*LAST, "BXM209"]),
    Nested("play-digits-with-url-keeps-audio", '<Play digits="9">https://a.example/m.mp3</Play>', AUDIO,
           [*LAST, "BXM209"]),
    Nested("pause-default-1s", "<Pause/>", '<SpeakSentence><break time="1s"/></SpeakSentence>', [*LAST, "BXM208"]),
    Nested("pause-2s", '<Pause length="2"/>', '<SpeakSentence><break time="2s"/></SpeakSentence>',
           [*LAST, "BXM208"]),
    Nested("pause-10s-one-break", '<Pause length="10"/>', '<SpeakSentence><break time="10s"/></SpeakSentence>',
           [*LAST, "BXM208"]),
    Nested("pause-11s-chained", '<Pause length="11"/>',
           '<SpeakSentence><break time="10s"/><break time="1s"/></SpeakSentence>', [*LAST, "BXM208"]),
    Nested("pause-25s-chained", '<Pause length="25"/>',
           '<SpeakSentence><break time="10s"/><break time="10s"/><break time="5s"/></SpeakSentence>',
           [*LAST, "BXM208"]),
    Nested("pause-invalid-1s", '<Pause length="long"/>', '<SpeakSentence><break time="1s"/></SpeakSentence>',
           [*LAST, "BXM014", "BXM208"]),
    Nested("order-kept", '<Say voice="Polly.Joanna">Menu.</Say><Pause length="1"/><Play>https://a.example/m.mp3'
           "</Play>", SAY_JULIE + '<SpeakSentence><break time="1s"/></SpeakSentence>' + AUDIO, [*LAST, "BXM208"]),
    Nested("dial-not-nestable", "<Dial>+15551234567</Dial>" + PROMPT, SPOKEN, [*LAST, "BXM105"]),
    Nested("redirect-not-nestable", "<Redirect>/x</Redirect>" + PROMPT, SPOKEN, [*LAST, "BXM105"]),
    Nested("gather-not-nestable", "<Gather/>" + PROMPT, SPOKEN, [*LAST, "BXM105"]),
    Nested("stray-text-reported", "Press one" + PROMPT, SPOKEN, [*LAST, "BXM006"]),
    Nested("comment-not-nested", "<!-- prompt -->" + PROMPT, SPOKEN, LAST),
    Nested("empty-say-left-out", "<Say>  </Say>" + PROMPT, SPOKEN, [*LAST, "BXM210"]),
    Nested("empty-play-left-out", "<Play/>" + PROMPT, SPOKEN, [*LAST, "BXM210"]),
    Nested("no-prompt", "", "", LAST),
]


@pytest.mark.parametrize("row", NESTED_ROWS, ids=[r.id for r in NESTED_ROWS])
def test_gather_nested_verb_row(row: Nested):
    translation = twiml_to_bxml(f'<Response><Gather action="/next">{row.body}</Gather></Response>')
    gather = etree.fromstring(translation.bxml.encode()).find("Gather")
    assert canonical(gather)[2] == canonical(f"<Gather>{row.expected}</Gather>")[2]
    assert sorted(d.code for d in translation.diagnostics) == sorted(row.codes)
    assert all(child.tag in ("SpeakSentence", "PlayAudio") for child in gather)
    assert len(gather) <= 20


def test_play_digits_in_gather_is_an_error_naming_digits():
    translation = twiml_to_bxml('<Response><Gather action="/n"><Play digits="12"/></Gather></Response>')
    (error,) = [d for d in translation.diagnostics if d.severity == "error"]
    assert (error.code, error.field) == ("BXM209", "digits")
    assert translation.has_errors


def test_gather_line_numbers_point_at_the_gather():
    source = '<Response>\n  <Say>Hi</Say>\n  <Gather numDigits="64"\n   timeout="0"/>\n</Response>'
    translation = twiml_to_bxml(source)
    assert {d.code: d.line for d in translation.diagnostics} == {"BXM015": 3, "BXM014": 3, "BXM101": 3}
