"""Catapult v1 gather request -> BXML <Gather> / <StartGather> (issue 3).

Expected BXML is compared as parsed trees, contexts with deepdiff.  Fixtures live in
fixtures/catapult/: ``<case>.request.json`` (a body as a real v1 client sent it),
``<case>.expected.bxml`` and ``<case>.expected.json`` (options, context, diagnostic codes).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from deepdiff import DeepDiff
from lxml import etree
from xml_compare import assert_xml_equal

from translators.attribute_rules import AttributeRule, Boolean, Kind, Number, Text
from translators.bxml_writer import MAX_BXML_BYTES, byte_size, element, serialize
from translators.catapult import (
    GATHER_REQUEST,
    PROMPT,
    GatherContext,
    InvalidGatherContext,
    InvalidRequest,
    catapult_dtmf_listener,
    catapult_gather_to_bxml,
    documentation_table,
    mint_gather_id,
    stop_dtmf_listener,
)
from translators.diagnostics import RULES
from translators.errors import TranslationError

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "catapult"
GATHER_URL = "https://proxy.example.com/catapult/gather-events"
CASES = sorted(p.name.removesuffix(".expected.json") for p in FIXTURES.glob("*.expected.json"))


def _gather(request: Any, **options: Any) -> etree._Element:
    translation = catapult_gather_to_bxml(request, gather_url=GATHER_URL, **options)
    root = etree.fromstring(translation.bxml.encode("utf-8"))
    (gather,) = root
    assert gather.tag == "Gather"
    return gather


def _codes(translation: Any) -> list[str]:
    return [d.code for d in translation.diagnostics]


def _invalid(request: Any) -> InvalidRequest:
    with pytest.raises(InvalidRequest) as caught:
        catapult_gather_to_bxml(request, gather_url=GATHER_URL)
    return caught.value


# -- the fixtures: every client shape ---------------------------------------------------


def test_fixture_set_covers_the_client_shapes():
    expected = {"howto-strings", "numbers", "python-client-all-null", "python-client-prompt-loop",
                "bandwidth-sdk-old", "ruby-sentence", "java-sentence", "java-builder-file", "csharp-minimal"}
    assert expected <= set(CASES)


@pytest.mark.parametrize("case", CASES)
def test_fixture(case):
    request = json.loads((FIXTURES / f"{case}.request.json").read_text(encoding="utf-8"))
    expected = json.loads((FIXTURES / f"{case}.expected.json").read_text(encoding="utf-8"))
    translation = catapult_gather_to_bxml(request, **expected["options"])
    assert_xml_equal(translation.bxml, (FIXTURES / f"{case}.expected.bxml").read_text(encoding="utf-8"))
    assert DeepDiff(dict(translation.context), expected["context"]) == {}
    assert _codes(translation) == expected["diagnostics"]
    assert translation.bxml.startswith('<?xml version="1.0" encoding="UTF-8"?>')


# -- accepted forms: numbers or numeric strings, null, booleans as strings -------------------


@pytest.mark.parametrize("raw, written", [(5, "5"), ("5", "5"), ("5.0", "5"), (5.0, "5"), (" 7 ", "7"),
                                          (1, "1"), ("30", "30")])
def test_max_digits_accepts_numbers_and_numeric_strings(raw, written):
    assert _gather({"maxDigits": raw}).get("maxDigits") == written


@pytest.mark.parametrize("raw, written", [(7, "7"), ("7", "7"), (7.5, "7.5"), ("7.5", "7.5"), ("30", "30"),
                                          (30.0, "30"), ("1", "1")])
def test_inter_digit_timeout_sets_both_timers(raw, written):
    gather = _gather({"interDigitTimeout": raw})
    assert (gather.get("interDigitTimeout"), gather.get("firstDigitTimeout")) == (written, written)


def test_inter_digit_timeout_default_is_v1s_five_seconds_on_both_timers():
    gather = _gather({})
    assert (gather.get("interDigitTimeout"), gather.get("firstDigitTimeout")) == ("5", "5")


@pytest.mark.parametrize("raw", ["0.5", 0, 0.2])
def test_inter_digit_timeout_below_one_second_is_clamped_to_bxml_minimum(raw):
    translation = catapult_gather_to_bxml({"interDigitTimeout": raw}, gather_url=GATHER_URL)
    gather = etree.fromstring(translation.bxml.encode())[0]
    assert (gather.get("interDigitTimeout"), gather.get("firstDigitTimeout")) == ("1", "1")
    assert _codes(translation) == ["BXM015", "BXM410"]
    assert translation.diagnostics[0].field == "interDigitTimeout"
    assert translation.context["interDigitTimeout"] == 1


@pytest.mark.parametrize("field", ["maxDigits", "interDigitTimeout", "terminatingDigits", "tag", "suppressDtmf",
                                   "prompt"])
def test_null_is_the_same_as_absent(field):
    base = {"maxDigits": "4", "interDigitTimeout": "6", "terminatingDigits": "*", "tag": "t",
            "suppressDtmf": "true", "prompt": {"sentence": "Hi"}}
    with_null = catapult_gather_to_bxml({**base, field: None}, gather_url=GATHER_URL)
    without = catapult_gather_to_bxml({k: v for k, v in base.items() if k != field}, gather_url=GATHER_URL)
    assert with_null.bxml == without.bxml
    assert with_null.context == without.context
    assert _codes(with_null) == _codes(without)


@pytest.mark.parametrize("field", ["sentence", "gender", "locale", "voice", "fileUrl", "loopEnabled", "bargeable"])
def test_null_prompt_fields_are_absent(field):
    base = {"sentence": "Hi", "gender": "female", "locale": "en_US", "voice": "Julie",
            "fileUrl": "https://example.com/a.mp3", "loopEnabled": "false", "bargeable": "true"}
    with_null = catapult_gather_to_bxml({"prompt": {**base, field: None}}, gather_url=GATHER_URL)
    without = catapult_gather_to_bxml({"prompt": {k: v for k, v in base.items() if k != field}},
                                      gather_url=GATHER_URL)
    assert with_null.bxml == without.bxml


@pytest.mark.parametrize("raw, looped", [(True, True), ("true", True), ("TRUE", True), (" true ", True),
                                         (False, False), ("false", False), ("False", False)])
def test_booleans_or_boolean_strings(raw, looped):
    gather = _gather({"prompt": {"sentence": "Hi", "loopEnabled": raw}})
    assert len(gather) == (20 if looped else 1)


@pytest.mark.parametrize("raw", [True, "true"])
def test_suppress_dtmf_true_matches_bxml_without_a_warning(raw):
    translation = catapult_gather_to_bxml({"maxDigits": 1, "suppressDtmf": raw}, gather_url=GATHER_URL)
    assert _codes(translation) == []


@pytest.mark.parametrize("raw", [False, "false"])
def test_suppress_dtmf_false_warns_that_per_key_events_are_lost(raw):
    translation = catapult_gather_to_bxml({"maxDigits": 1, "suppressDtmf": raw}, gather_url=GATHER_URL)
    assert _codes(translation) == ["BXM405"]
    assert translation.diagnostics[0].severity == "warning"


# -- maxDigits, terminatingDigits ----------------------------------------------------------


def test_absent_max_digits_leaves_bxml_default_and_records_fifty():
    translation = catapult_gather_to_bxml({}, gather_url=GATHER_URL)
    assert etree.fromstring(translation.bxml.encode())[0].get("maxDigits") is None
    assert translation.context["maxDigits"] == 50
    assert _codes(translation) == ["BXM410"]
    assert RULES["BXM410"].severity.value == "info"


@pytest.mark.parametrize("request_body, expected", [
    ({}, "#"),
    ({"terminatingDigits": None}, "#"),
    ({"terminatingDigits": "*"}, "*"),
    ({"terminatingDigits": "0#*"}, "0#*"),
    ({"terminatingDigits": "#"}, "#"),
    ({"terminatingDigits": "9"}, "9"),
    ({"terminatingDigits": ""}, None),
])
def test_terminating_digits(request_body, expected):
    translation = catapult_gather_to_bxml({"maxDigits": 3, **request_body}, gather_url=GATHER_URL)
    assert etree.fromstring(translation.bxml.encode())[0].get("terminatingDigits") == expected
    assert translation.context["terminatingDigits"] == (expected or "")


# -- bad input: InvalidRequest naming the field ----------------------------------------------

BAD_REQUESTS = [
    # (id, request, field, message)
    ("maxDigits-31", {"maxDigits": 31}, "maxDigits", "maxDigits=31: outside 1–30"),
    ("maxDigits-0", {"maxDigits": "0"}, "maxDigits", 'maxDigits="0": outside 1–30'),
    ("maxDigits-negative", {"maxDigits": -1}, "maxDigits", "maxDigits=-1: outside 1–30"),
    ("maxDigits-fraction", {"maxDigits": "5.5"}, "maxDigits", "maxDigits=\"5.5\": '5.5' is not an integer"),
    ("maxDigits-text", {"maxDigits": "five"}, "maxDigits", "maxDigits=\"five\": 'five' is not an integer"),
    ("maxDigits-boolean", {"maxDigits": True}, "maxDigits", "maxDigits=true: expected an integer"),
    ("maxDigits-array", {"maxDigits": [5]}, "maxDigits", "maxDigits=[5]: expected an integer"),
    ("interDigitTimeout-31", {"interDigitTimeout": 31}, "interDigitTimeout", "interDigitTimeout=31: outside 0–30"),
    ("interDigitTimeout-30.5", {"interDigitTimeout": "30.5"}, "interDigitTimeout",
     'interDigitTimeout="30.5": outside 0–30'),
    ("interDigitTimeout-negative", {"interDigitTimeout": -2}, "interDigitTimeout",
     "interDigitTimeout=-2: outside 0–30"),
    ("interDigitTimeout-text", {"interDigitTimeout": "soon"}, "interDigitTimeout",
     "interDigitTimeout=\"soon\": 'soon' is not a number"),
    ("terminatingDigits-letter", {"terminatingDigits": "#a"}, "terminatingDigits",
     "terminatingDigits=\"#a\": '#a' has keys outside 0123456789#*: a"),
    ("terminatingDigits-letters-ABCD", {"terminatingDigits": "A"}, "terminatingDigits",
     "terminatingDigits=\"A\": 'A' has keys outside 0123456789#*: A"),
    ("terminatingDigits-space", {"terminatingDigits": "1 2"}, "terminatingDigits",
     "terminatingDigits=\"1 2\": '1 2' has keys outside 0123456789#*:  "),
    ("terminatingDigits-boolean", {"terminatingDigits": False}, "terminatingDigits",
     "terminatingDigits=false: expected text"),
    ("tag-object", {"tag": {"id": 1}}, "tag", 'tag={"id": 1}: expected text'),
    ("suppressDtmf-number", {"suppressDtmf": 1}, "suppressDtmf", "suppressDtmf=1: 1 is not true or false"),
    ("suppressDtmf-text", {"suppressDtmf": "yes"}, "suppressDtmf",
     "suppressDtmf=\"yes\": 'yes' is not true or false"),
    ("unknown-field", {"maxDigits": 5, "timeout": 5}, "timeout", "timeout=5: unknown field"),
    ("unknown-snake-case", {"max_digits": 5}, "max_digits", "max_digits=5: unknown field"),
    ("prompt-not-object", {"prompt": "Press 1"}, "prompt", 'prompt="Press 1": expected a JSON object'),
    ("prompt-array", {"prompt": ["Press 1"]}, "prompt", 'prompt=["Press 1"]: expected a JSON object'),
    ("prompt-unknown-field", {"prompt": {"sentence": "Hi", "loop_enabled": True}}, "prompt.loop_enabled",
     "prompt.loop_enabled=true: unknown field"),
    ("prompt-sentence-object", {"prompt": {"sentence": {"text": "Hi"}}}, "prompt.sentence",
     'prompt.sentence={"text": "Hi"}: expected text'),
    ("prompt-gender", {"prompt": {"sentence": "Hi", "gender": "robot"}}, "prompt.gender",
     "prompt.gender=\"robot\": expected 'male', 'female'"),
    ("prompt-locale", {"prompt": {"sentence": "Hi", "locale": "ja"}}, "prompt.locale",
     "prompt.locale=\"ja\": expected 'en_US', 'en_UK', 'es', 'es_MX', 'fr', 'fr_FR', 'de', 'de_DE', 'it', "
     "'it_IT'"),
    ("prompt-voice", {"prompt": {"sentence": "Hi", "voice": "Salli"}}, "prompt.voice",
     "prompt.voice=\"Salli\": expected 'Kate', 'Susan', 'Julie', 'Dave', 'Paul', 'Bridget', 'Simon', 'Esperanza', "
     "'Violeta', 'Jorge', 'Jolie', 'Bernard', 'Katrin', 'Stefan', 'Paola', 'Luca'"),
    ("prompt-fileUrl-empty", {"prompt": {"fileUrl": " "}}, "prompt.fileUrl", 'prompt.fileUrl=" ": empty URL'),
    ("prompt-fileUrl-space", {"prompt": {"fileUrl": "https://a.example/x y.mp3"}}, "prompt.fileUrl",
     'prompt.fileUrl="https://a.example/x y.mp3": URL contains white space'),
    ("prompt-loopEnabled", {"prompt": {"sentence": "Hi", "loopEnabled": "sometimes"}}, "prompt.loopEnabled",
     "prompt.loopEnabled=\"sometimes\": 'sometimes' is not true or false"),
    ("prompt-bargeable", {"prompt": {"sentence": "Hi", "bargeable": 0}}, "prompt.bargeable",
     "prompt.bargeable=0: 0 is not true or false"),
]


@pytest.mark.parametrize("request_body, field, message", [case[1:] for case in BAD_REQUESTS],
                         ids=[case[0] for case in BAD_REQUESTS])
def test_invalid_request_names_the_field(request_body, field, message):
    error = _invalid(request_body)
    assert isinstance(error, ValueError)
    assert error.field == field
    assert error.message == message
    assert str(error) == f"invalid v1 gather request: {message}"
    assert error.diagnostic.code == "BXM401"
    assert error.diagnostic.field == field
    assert error.diagnostic.message == message


@pytest.mark.parametrize("body", [[], "maxDigits=5", 5, None])
def test_a_body_that_is_not_an_object_is_invalid(body):
    error = _invalid(body)
    assert error.field == "(body)"
    assert str(error) == "invalid v1 gather request: (body): the request body must be a JSON object"


def test_invalid_request_keeps_the_value_sent():
    error = _invalid({"prompt": {"sentence": "Hi", "voice": "Bob"}})
    assert (error.field, error.value) == ("prompt.voice", "Bob")
    assert error.reason.startswith("expected 'Kate'")


def test_an_invalid_request_is_refused_even_when_not_strict():
    with pytest.raises(InvalidRequest):
        catapult_gather_to_bxml({"maxDigits": 31}, gather_url=GATHER_URL, strict=False)


# -- tag ------------------------------------------------------------------------------------


def test_tag_is_kept_for_the_v1_event_and_not_written_by_default():
    translation = catapult_gather_to_bxml({"maxDigits": 2, "tag": "menu-1"}, gather_url=GATHER_URL)
    assert etree.fromstring(translation.bxml.encode())[0].get("tag") is None
    assert (translation.context["tag"], translation.context["tagWritten"]) == ("menu-1", False)
    assert _codes(translation) == []


def test_write_tag_writes_the_sticky_bxml_tag_with_an_info():
    translation = catapult_gather_to_bxml({"maxDigits": 2, "tag": "menu-1"}, gather_url=GATHER_URL,
                                          write_tag=True)
    assert etree.fromstring(translation.bxml.encode())[0].get("tag") == "menu-1"
    assert translation.context["tagWritten"] is True
    assert _codes(translation) == ["BXM406"]
    assert translation.diagnostics[0].severity == "info"


def test_write_tag_with_a_tag_too_long_for_bxml_keeps_it_only_in_the_context():
    tag = "x" * 257
    translation = catapult_gather_to_bxml({"maxDigits": 2, "tag": tag}, gather_url=GATHER_URL, write_tag=True)
    assert etree.fromstring(translation.bxml.encode())[0].get("tag") is None
    assert (translation.context["tag"], translation.context["tagWritten"]) == (tag, False)
    assert _codes(translation) == ["BXM407"]


def test_write_tag_accepts_exactly_256_characters():
    translation = catapult_gather_to_bxml({"maxDigits": 2, "tag": "y" * 256}, gather_url=GATHER_URL,
                                          write_tag=True)
    assert etree.fromstring(translation.bxml.encode())[0].get("tag") == "y" * 256


def test_write_tag_without_a_tag_writes_nothing():
    translation = catapult_gather_to_bxml({"maxDigits": 2}, gather_url=GATHER_URL, write_tag=True)
    assert etree.fromstring(translation.bxml.encode())[0].get("tag") is None
    assert _codes(translation) == []


# -- prompt ---------------------------------------------------------------------------------

V1_VOICE_NAMES = ["Kate", "Susan", "Julie", "Dave", "Paul", "Bridget", "Esperanza", "Violeta", "Jorge", "Jolie",
                  "Bernard", "Katrin", "Stefan", "Paola", "Luca", "Simon"]


@pytest.mark.parametrize("name", [*V1_VOICE_NAMES, "kate", "SUSAN", "julie"])
def test_v1_voice_names_become_bandwidths_lower_case_names(name):
    (speak,) = _gather({"prompt": {"sentence": "Hi", "voice": name}})
    assert (speak.tag, speak.get("voice"), speak.text) == ("SpeakSentence", name.lower(), "Hi")


@pytest.mark.parametrize("locale, written", [("en_US", "en_US"), ("en_UK", "en_UK"), ("es", "es"),
                                             ("es_MX", "es_MX"), ("fr", "fr"), ("fr_FR", "fr"), ("de", "de"),
                                             ("de_DE", "de"), ("it", "it"), ("it_IT", "it"), ("fr_fr", "fr")])
def test_locales_and_the_v1_only_regional_forms(locale, written):
    (speak,) = _gather({"prompt": {"sentence": "Hi", "locale": locale, "voice": "Paola"}})
    assert speak.get("locale") == written


@pytest.mark.parametrize("prompt, attributes", [
    ({"sentence": "Hi"}, {"voice": "susan"}),
    ({"sentence": "Hi", "gender": "female"}, {"gender": "female", "voice": "susan"}),
    ({"sentence": "Hi", "locale": "en_US"}, {"locale": "en_US", "voice": "susan"}),
    ({"sentence": "Hi", "gender": "male"}, {"gender": "male"}),
    ({"sentence": "Hi", "gender": "MALE"}, {"gender": "male"}),
    ({"sentence": "Hi", "locale": "es"}, {"locale": "es"}),
    ({"sentence": "Hi", "locale": "de_DE", "gender": "male"}, {"locale": "de", "gender": "male"}),
    ({"sentence": "Hi", "voice": "Dave", "gender": "male"}, {"voice": "dave", "gender": "male"}),
])
def test_speak_sentence_attributes_and_v1s_default_voice(prompt, attributes):
    (speak,) = _gather({"prompt": prompt})
    assert dict(speak.attrib) == attributes


def test_file_prompt_is_a_nested_play_audio():
    (play,) = _gather({"prompt": {"fileUrl": "https://media.example.com/menu.wav"}})
    assert (play.tag, dict(play.attrib), play.text) == ("PlayAudio", {}, "https://media.example.com/menu.wav")


def test_sentence_text_is_spoken_as_written_not_parsed_as_markup():
    (speak,) = _gather({"prompt": {"sentence": "Press <1> & wait"}})
    assert speak.text == "Press <1> & wait"
    assert len(speak) == 0


@pytest.mark.parametrize("prompt, copies, per_round", [
    ({"sentence": "Hi", "loopEnabled": True}, 20, ["SpeakSentence"]),
    ({"fileUrl": "https://m.example.com/a.mp3", "loopEnabled": "true"}, 20, ["PlayAudio"]),
    ({"sentence": "Hi", "fileUrl": "https://m.example.com/a.mp3", "loopEnabled": True}, 10,
     ["SpeakSentence", "PlayAudio"]),
])
def test_loop_enabled_repeats_the_prompt_up_to_the_20_verb_limit(prompt, copies, per_round):
    translation = catapult_gather_to_bxml({"prompt": prompt}, gather_url=GATHER_URL)
    gather = etree.fromstring(translation.bxml.encode())[0]
    assert [verb.tag for verb in gather] == per_round * copies
    assert gather.get("repeatCount") is None
    loop = next(d for d in translation.diagnostics if d.code == "BXM403")
    assert loop.severity == "info"
    assert f"played {copies} time(s)" in loop.message


def test_loop_of_a_long_sentence_stops_at_the_64_kb_document_limit():
    sentence = "Please hold the line. " * 300  # 6.6 KB: 20 copies would exceed 64 KB
    translation = catapult_gather_to_bxml({"prompt": {"sentence": sentence, "loopEnabled": True}},
                                          gather_url=GATHER_URL)
    gather = etree.fromstring(translation.bxml.encode())[0]
    assert byte_size(translation.bxml) <= MAX_BXML_BYTES
    assert 1 < len(gather) < 20
    assert byte_size(translation.bxml) + len(sentence) > MAX_BXML_BYTES  # one more copy would not fit
    assert f"played {len(gather)} time(s)" in next(d for d in translation.diagnostics if d.code == "BXM403").message


def test_a_prompt_larger_than_64_kb_is_an_error_diagnostic():
    translation = catapult_gather_to_bxml({"prompt": {"sentence": "x" * (MAX_BXML_BYTES + 1)}},
                                          gather_url=GATHER_URL)
    assert _codes(translation)[-1] == "BXM005"
    assert translation.has_errors


def test_bargeable_false_is_a_warning_and_fails_strict():
    request = {"maxDigits": 1, "prompt": {"sentence": "Listen", "bargeable": "false"}}
    translation = catapult_gather_to_bxml(request, gather_url=GATHER_URL)
    assert _codes(translation) == ["BXM404"]
    assert translation.diagnostics[0].severity == "warning"
    assert translation.diagnostics[0].field == "prompt.bargeable"
    with pytest.raises(TranslationError) as caught:
        catapult_gather_to_bxml(request, gather_url=GATHER_URL, strict=True)
    assert [d.code for d in caught.value.diagnostics] == ["BXM404"]


def test_bargeable_true_is_what_bxml_does():
    translation = catapult_gather_to_bxml({"maxDigits": 1, "prompt": {"sentence": "Hi", "bargeable": True}},
                                          gather_url=GATHER_URL)
    assert _codes(translation) == []


@pytest.mark.parametrize("prompt", [{}, {"sentence": ""}, {"sentence": "   "}, {"gender": "male"}])
def test_a_prompt_with_nothing_to_play(prompt):
    translation = catapult_gather_to_bxml({"maxDigits": 1, "prompt": prompt}, gather_url=GATHER_URL)
    assert len(etree.fromstring(translation.bxml.encode())[0]) == 0
    assert _codes(translation) == ["BXM408"]


def test_sentence_and_file_are_both_played_sentence_first():
    translation = catapult_gather_to_bxml(
        {"maxDigits": 1, "prompt": {"fileUrl": "https://m.example.com/a.mp3", "sentence": "Hi"}},
        gather_url=GATHER_URL)
    assert [v.tag for v in etree.fromstring(translation.bxml.encode())[0]] == ["SpeakSentence", "PlayAudio"]
    assert _codes(translation) == ["BXM409"]


# -- options: root, gather_url, strict, gather_id ----------------------------------------------


@pytest.mark.parametrize("root", ["Bxml", "Response"])
def test_root(root):
    translation = catapult_gather_to_bxml({"maxDigits": 1}, gather_url=GATHER_URL, root=root)
    assert etree.fromstring(translation.bxml.encode()).tag == root


@pytest.mark.parametrize("root", ["bxml", "Gather", ""])
def test_other_roots_are_refused(root):
    with pytest.raises(ValueError, match="root must be one of Bxml, Response"):
        catapult_gather_to_bxml({"maxDigits": 1}, root=root)


def test_without_gather_url_the_digits_would_be_lost():
    translation = catapult_gather_to_bxml({"maxDigits": 1})
    assert etree.fromstring(translation.bxml.encode())[0].get("gatherUrl") is None
    assert _codes(translation) == ["BXM402"]
    with pytest.raises(TranslationError):
        catapult_gather_to_bxml({"maxDigits": 1}, strict=True)


def test_relative_gather_url_is_allowed():
    assert _gather({"maxDigits": 1}).get("gatherUrl") == GATHER_URL
    translation = catapult_gather_to_bxml({"maxDigits": 1}, gather_url="/catapult/gather")
    assert etree.fromstring(translation.bxml.encode())[0].get("gatherUrl") == "/catapult/gather"


@pytest.mark.parametrize("url", ["", "https://p.example.com/a b"])
def test_bad_gather_url_is_a_programming_error(url):
    with pytest.raises(ValueError, match="gather_url"):
        catapult_gather_to_bxml({"maxDigits": 1}, gather_url=url)


def test_strict_passes_with_info_only():
    translation = catapult_gather_to_bxml({"prompt": {"sentence": "Hi", "loopEnabled": True}},
                                          gather_url=GATHER_URL, strict=True)
    assert {d.severity for d in translation.diagnostics} == {"info"}


def test_gather_id_is_recorded_in_the_context():
    translation = catapult_gather_to_bxml({"maxDigits": 1}, gather_url=GATHER_URL,
                                          gather_id="gtr-kj4xloaq5vbpfxyeypndgxa")
    assert translation.context["gatherId"] == "gtr-kj4xloaq5vbpfxyeypndgxa"


@pytest.mark.parametrize("gather_id", ["", "gtr/../x", "g tr", "-gtr"])
def test_bad_gather_id_is_refused(gather_id):
    with pytest.raises(InvalidGatherContext):
        catapult_gather_to_bxml({"maxDigits": 1}, gather_id=gather_id)


def test_translate_front_door_reads_catapult_json_text():
    from translators.dialects import translate

    translation = translate('{"maxDigits": "5", "terminatingDigits": "*"}', read="catapult-v1",
                            gather_url=GATHER_URL)
    gather = etree.fromstring(translation.bxml.encode())[0]
    assert (gather.get("maxDigits"), gather.get("terminatingDigits")) == ("5", "*")


# -- the gather context -----------------------------------------------------------------------


def test_context_is_json_serialisable_and_reads_back():
    translation = catapult_gather_to_bxml({"maxDigits": "4", "interDigitTimeout": "2.5", "terminatingDigits": "*#",
                                           "tag": "menu-1"}, gather_url=GATHER_URL, gather_id="gtr-abc")
    text = json.dumps(translation.context)
    context = GatherContext.from_dict(json.loads(text))
    assert context == GatherContext(max_digits=4, terminating_digits="*#", inter_digit_timeout=2.5, tag="menu-1",
                                    tag_written=False, gather_id="gtr-abc")
    assert DeepDiff(context.to_dict(), dict(translation.context)) == {}


def test_context_defaults_for_missing_keys():
    assert GatherContext.from_dict({}) == GatherContext()
    assert GatherContext().to_dict() == {"maxDigits": 50, "terminatingDigits": "#", "interDigitTimeout": 5,
                                         "tag": None, "tagWritten": False, "gatherId": None}


@pytest.mark.parametrize("data, field", [
    ({"maxDigits": "5"}, "maxDigits"),
    ({"maxDigits": 0}, "maxDigits"),
    ({"maxDigits": 51}, "maxDigits"),
    ({"maxDigits": True}, "maxDigits"),
    ({"terminatingDigits": "a"}, "terminatingDigits"),
    ({"terminatingDigits": None}, "terminatingDigits"),
    ({"interDigitTimeout": "5"}, "interDigitTimeout"),
    ({"interDigitTimeout": 61}, "interDigitTimeout"),
    ({"tag": 5}, "tag"),
    ({"tagWritten": "true"}, "tagWritten"),
    ({"gatherId": "a/b"}, "gatherId"),
    ({"maxdigits": 5}, "maxdigits"),
    ([], "(context)"),
])
def test_malformed_context_names_the_key(data, field):
    with pytest.raises(InvalidGatherContext) as caught:
        GatherContext.from_dict(data)
    assert caught.value.field == field
    assert str(caught.value).startswith(f"{field}: ")


def test_minted_gather_ids_look_like_v1_ids_and_differ():
    ids = {mint_gather_id() for _ in range(50)}
    assert len(ids) == 50
    assert all(re.fullmatch(r"gtr-[a-z2-7]{23}", gather_id) for gather_id in ids)


# -- the mapping tables are data ---------------------------------------------------------------


def test_every_field_a_v1_client_sends_has_a_row():
    # catapult-v1.md §2.1 and §7 (suppressDtmf from the Java/old Python/old C# SDKs)
    assert {row.source for row in GATHER_REQUEST} == {"maxDigits", "interDigitTimeout", "terminatingDigits", "tag",
                                                     "prompt", "suppressDtmf"}
    assert {row.source for row in PROMPT} == {"sentence", "gender", "locale", "voice", "fileUrl", "loopEnabled",
                                             "bargeable"}


def test_rows_state_the_sheets_defaults_and_ranges():
    """catapult-v1.md §2.1 and bxml-v2.md §2.1: these feed the generated README, so pin them."""
    rows = {row.source: row for row in GATHER_REQUEST}
    facts = {name: (row.targets, row.source_default, row.target_default, str(row.valid or ""),
                    str(row.target_range or "")) for name, row in rows.items() if name in ("maxDigits",
                                                                                           "interDigitTimeout",
                                                                                           "terminatingDigits")}
    assert facts == {
        "maxDigits": (("maxDigits",), None, "50", "1–30", "1–50"),
        "interDigitTimeout": (("interDigitTimeout", "firstDigitTimeout"), "5", "5", "0–30", "1–60"),
        "terminatingDigits": (("terminatingDigits",), "#", "", "", ""),
    }
    prompt = {row.source: (row.source_default, row.target_default) for row in PROMPT}
    assert (prompt["gender"], prompt["locale"]) == (("female", "female"), ("en_US", "en_US"))


def test_documentation_table_lists_every_row():
    table = documentation_table()
    for row in (*GATHER_REQUEST, *PROMPT):
        assert f"| `{row.source}` |" in table


def test_readme_renderer_picks_up_the_catapult_table():
    from translators.docs import README_SECTIONS

    assert README_SECTIONS["catapult-gather"]() == documentation_table()


def test_catapult_codes_are_registered_and_documented():
    codes = [code for code in RULES if code.startswith("BXM4")]
    assert codes == [f"BXM4{n:02d}" for n in range(1, 15)]
    for code in codes:
        rule = RULES[code]
        assert all(text.strip() for text in (rule.summary, rule.why, rule.emitted, rule.fix, rule.example))
        assert rule.name.startswith("v1-")


# -- engine extension used by the tables ---------------------------------------------------------


def test_context_only_rows_have_no_targets_and_need_a_note():
    with pytest.raises(ValueError, match="context-only rows have no targets"):
        AttributeRule("tag", ("tag",), Text(), context_only=True, note="n")
    with pytest.raises(ValueError, match="needs a note"):
        AttributeRule("tag", (), Text(), context_only=True)
    with pytest.raises(ValueError, match="supported rows need a target"):
        AttributeRule("tag", (), Text())


@pytest.mark.parametrize("kind", [Kind(), Text(), Number(), Boolean()])
@pytest.mark.parametrize("raw", [{"a": 1}, [1], None])
def test_json_objects_and_arrays_are_never_scalar_values(kind, raw):
    with pytest.raises(ValueError):
        kind.parse(raw)


# -- <StartGather> / <StopGather> ----------------------------------------------------------------


@pytest.mark.parametrize("kwargs, attributes", [
    ({}, {"dtmfUrl": "https://proxy.example.com/catapult/dtmf"}),
    ({"method": "POST"}, {"dtmfUrl": "https://proxy.example.com/catapult/dtmf"}),
    ({"method": "get"}, {"dtmfUrl": "https://proxy.example.com/catapult/dtmf", "dtmfMethod": "GET"}),
    ({"username": "proxy", "password": "s3cret"},
     {"dtmfUrl": "https://proxy.example.com/catapult/dtmf", "username": "proxy", "password": "s3cret"}),
])
def test_dtmf_listener(kwargs, attributes):
    listener = catapult_dtmf_listener("https://proxy.example.com/catapult/dtmf", **kwargs)
    assert (listener.tag, dict(listener.attrib), listener.text, len(listener)) == ("StartGather", attributes,
                                                                                    None, 0)


@pytest.mark.parametrize("args, kwargs, message", [
    (("",), {}, "dtmf_url: empty URL"),
    (("https://p.example.com/a b",), {}, "dtmf_url: URL contains white space"),
    (("/dtmf",), {"method": "PUT"}, "method: expected 'GET', 'POST'"),
    (("/dtmf",), {"username": "u"}, "username and password go together"),
    (("/dtmf",), {"password": "p"}, "username and password go together"),
])
def test_dtmf_listener_refuses_bad_arguments(args, kwargs, message):
    with pytest.raises(ValueError) as caught:
        catapult_dtmf_listener(*args, **kwargs)
    assert str(caught.value) == message


def test_dtmf_listener_starts_a_call_document_and_stop_gather_ends_it():
    document = element("Response")
    document.append(catapult_dtmf_listener("/catapult/dtmf"))
    document.append(_gather({"maxDigits": 1}))
    document.append(stop_dtmf_listener())
    assert_xml_equal(serialize(document), f"""
        <Response>
          <StartGather dtmfUrl="/catapult/dtmf"/>
          <Gather gatherUrl="{GATHER_URL}" maxDigits="1" interDigitTimeout="5" firstDigitTimeout="5"
                  terminatingDigits="#"/>
          <StopGather/>
        </Response>""")
    assert dict(stop_dtmf_listener().attrib) == {}
