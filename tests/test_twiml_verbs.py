"""TwiML verbs outside ``<Gather>``: one parametrized row per mapping (issue 2, "The other verbs").

Each row: TwiML inside ``<Response>``, the BXML expected inside ``<Response>`` (compared as
parsed trees), and the diagnostic codes expected (sorted, with repeats).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from lxml import etree
from xml_compare import assert_xml_equal

from translators import twiml_to_bxml
from translators.twiml.tables import VERBS
from translators.twiml.voices import bandwidth_locale


@dataclass(frozen=True)
class Case:
    id: str
    twiml: str
    bxml: str
    codes: list[str]
    document_url: str | None = None


def run(case: Case) -> None:
    translation = twiml_to_bxml(f"<Response>{case.twiml}</Response>", document_url=case.document_url)
    assert_xml_equal(translation.bxml, f"<Response>{case.bxml}</Response>")
    assert sorted(d.code for d in translation.diagnostics) == sorted(case.codes)


def rows(cases: list[Case]) -> pytest.MarkDecorator:
    ids = [c.id for c in cases]
    assert len(ids) == len(set(ids)), "duplicate row id"
    return pytest.mark.parametrize("case", cases, ids=ids)


MALE = 'gender="male"'
# A Conference's beep="false" waitUrl="" or a Record's playBeep="false" trim="do-not-trim": stated attributes
# BXML lacks, whose values are what BXML does anyway: each is named (BXM017, info), none changes the call.
NO_EFFECT = ["BXM017", "BXM017"]

SAY = [
    Case("say-default-voice-man", "<Say>Hello.</Say>", f"<SpeakSentence {MALE}>Hello.</SpeakSentence>", []),
    Case("say-text-trimmed", "<Say>\n   Hello there.\n  </Say>", f"<SpeakSentence {MALE}>Hello there.</SpeakSentence>",
         []),
    Case("say-escaped-text", "<Say>Tom &amp; Jerry &lt;3</Say>",
         f"<SpeakSentence {MALE}>Tom &amp; Jerry &lt;3</SpeakSentence>", []),
    Case("say-loop-3", '<Say loop="3">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>" * 3, []),
    Case("say-loop-100-not-capped", '<Say loop="100">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>" * 100,
         []),
    Case("say-loop-101-capped-100", '<Say loop="101">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>" * 100,
         ["BXM203"]),
    Case("say-loop-0-20-copies", '<Say loop="0">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>" * 20,
         ["BXM202"]),
    Case("say-loop-invalid-once", '<Say loop="x">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>",
         ["BXM014"]),
    Case("say-empty-left-out", "<Say/><Hangup/>", "<Hangup/>", ["BXM210"]),
    Case("say-unknown-attribute", '<Say rate="fast">Hi.</Say>', f"<SpeakSentence {MALE}>Hi.</SpeakSentence>",
         ["BXM012"]),
    Case("say-comment-inside-not-spoken", "<Say>Hello <!-- name --> Sam.</Say>",
         f"<SpeakSentence {MALE}>Hello Sam.</SpeakSentence>", []),
]

# SSML tags Bandwidth supports (bxml-v2.md §2.3) are kept as markup.
SSML_KEPT = [
    ("break", '<break time="500ms"/>'),
    ("break-strength", '<break strength="x-strong"/>'),
    ("emphasis", '<emphasis level="moderate">now</emphasis>'),
    ("lang", '<lang xml:lang="fr-FR">merci</lang>'),
    ("p", "<p>One paragraph.</p>"),
    ("phoneme", '<phoneme ph="pɪˈkɑːn">pecan</phoneme>'),
    ("prosody", '<prosody pitch="+5%" rate="slow" volume="loud">slowly</prosody>'),
    ("s", "<s>One sentence.</s>"),
    ("say-as", '<say-as interpret-as="date" format="dmy">01/02/2025</say-as>'),
    ("sub", '<sub alias="World Wide Web">WWW</sub>'),
    ("nested", '<p><s>Call <say-as interpret-as="telephone">5551234</say-as></s></p>'),
]
SSML_UNWRAPPED = [
    ("w", '<w role="amazon:NN">read</w>', "read", 1),
    ("amazon-effect", '<amazon:effect name="drc">loud</amazon:effect>', "loud", 1),
    ("amazon-domain", '<amazon:domain name="conversational">hey</amazon:domain>', "hey", 1),
    ("amazon-auto-breaths", "<amazon:auto-breaths>breathe</amazon:auto-breaths>", "breathe", 1),
    ("speak-wrapper", "<speak>wrapped</speak>", "wrapped", 1),
    ("unsupported-around-supported", '<amazon:effect name="whispered">a <break time="1s"/> b</amazon:effect>',
     'a <break time="1s"/> b', 1),
    ("unsupported-inside-supported", '<prosody rate="fast"><w role="x">go</w></prosody>',
     '<prosody rate="fast">go</prosody>', 1),
    ("two-unsupported", "<w>a</w> <w>b</w>", "a b", 2),
]
SSML = [
    *[Case(f"ssml-kept-{name}", f"<Say>Say {markup} please.</Say>",
           f"<SpeakSentence {MALE}>Say {markup} please.</SpeakSentence>", []) for name, markup in SSML_KEPT],
    *[Case(f"ssml-unwrapped-{name}", f"<Say>Say {markup} please.</Say>",
           f"<SpeakSentence {MALE}>Say {out} please.</SpeakSentence>", ["BXM204"] * n)
      for name, markup, out, n in SSML_UNWRAPPED],
    Case("ssml-vendor-attribute-dropped", '<Say>Say <prosody amazon:max-duration="2s" rate="slow">it</prosody>.</Say>',
         f'<SpeakSentence {MALE}>Say <prosody rate="slow">it</prosody>.</SpeakSentence>', ["BXM013"]),
    Case("ssml-break-only", '<Say><break time="2s"/></Say>',
         f'<SpeakSentence {MALE}><break time="2s"/></SpeakSentence>', []),
]

PLAY = [
    Case("play-url", "<Play>https://cdn.example.com/a.mp3</Play>", "<PlayAudio>https://cdn.example.com/a.mp3</PlayAudio>",
         []),
    Case("play-relative-url", "<Play> /audio/a.wav </Play>", "<PlayAudio>/audio/a.wav</PlayAudio>", []),
    Case("play-loop-2", '<Play loop="2">/a.wav</Play>', "<PlayAudio>/a.wav</PlayAudio>" * 2, []),
    Case("play-loop-0-20-copies", '<Play loop="0">/hold.mp3</Play>', "<PlayAudio>/hold.mp3</PlayAudio>" * 20,
         ["BXM202"]),
    Case("play-loop-500-capped", '<Play loop="500">/a.wav</Play>', "<PlayAudio>/a.wav</PlayAudio>" * 100, ["BXM203"]),
    Case("play-digits-senddtmf", '<Play digits="ww1234#"/>', "<SendDtmf>ww1234#</SendDtmf>", []),
    Case("play-digits-W-star", '<Play digits="W*9"/>', "<SendDtmf>W*9</SendDtmf>", []),
    Case("play-digits-over-50-split", f'<Play digits="{"1234567890" * 6}"/>',
         f"<SendDtmf>{'1234567890' * 5}</SendDtmf><SendDtmf>1234567890</SendDtmf>", []),
    Case("play-digits-invalid-left-out", '<Play digits="12x"/>', "", ["BXM016"]),
    Case("play-digits-and-url", '<Play digits="1">/a.wav</Play>', "<SendDtmf>1</SendDtmf><PlayAudio>/a.wav</PlayAudio>",
         []),
    Case("play-digits-loop-2", '<Play digits="5" loop="2"/>', "<SendDtmf>5</SendDtmf>" * 2, []),
    Case("play-empty-left-out", "<Play/>", "", ["BXM210"]),
    Case("play-with-child-element", "<Play>/a.wav<Say>x</Say></Play>", "<PlayAudio>/a.wav</PlayAudio>", ["BXM006"]),
]

PAUSE = [
    Case("pause-length", '<Pause length="3"/>', '<Pause duration="3"/>', []),
    Case("pause-default-1", "<Pause/>", '<Pause duration="1"/>', []),
    Case("pause-invalid-1", '<Pause length="abc"/>', '<Pause duration="1"/>', ["BXM014"]),
    Case("pause-zero-invalid-1", '<Pause length="0"/>', '<Pause duration="1"/>', ["BXM014"]),
    Case("pause-over-a-day-clamped", '<Pause length="100000"/>', '<Pause duration="86400"/>', ["BXM015"]),
    Case("pause-stray-text", '<Pause length="2">wait</Pause>', '<Pause duration="2"/>', ["BXM006"]),
]

REDIRECT = [
    Case("redirect-url", "<Redirect>/next</Redirect>", '<Redirect redirectUrl="/next"/>', ["BXM007"]),
    Case("redirect-absolute-trimmed", "<Redirect>\n  https://a.example/x?y=1&amp;z=2\n</Redirect>",
         '<Redirect redirectUrl="https://a.example/x?y=1&amp;z=2"/>', ["BXM007"]),
    Case("redirect-method-get", '<Redirect method="GET">/next</Redirect>',
         '<Redirect redirectUrl="/next" redirectMethod="GET"/>', ["BXM007"]),
    Case("redirect-method-post", '<Redirect method="POST">/next</Redirect>',
         '<Redirect redirectUrl="/next" redirectMethod="POST"/>', ["BXM007"]),
    Case("redirect-method-invalid", '<Redirect method="PUT">/next</Redirect>',
         '<Redirect redirectUrl="/next" redirectMethod="POST"/>', ["BXM007", "BXM014"]),
    Case("redirect-without-url", "<Redirect/>", "", ["BXM303"]),
]

HANGUP_REJECT = [
    Case("hangup", "<Hangup/>", "<Hangup/>", []),
    Case("hangup-attribute", '<Hangup reason="done"/>', "<Hangup/>", ["BXM012"]),
    Case("hangup-stray-text", "<Hangup>bye</Hangup>", "<Hangup/>", ["BXM006"]),
    Case("reject-first", "<Reject/>", "<Hangup/>", ["BXM011"]),
    Case("reject-first-busy", '<Reject reason="busy"/>', "<Hangup/>", ["BXM011"]),
    Case("reject-first-rejected", '<Reject reason="rejected"/>', "<Hangup/>", ["BXM011"]),
    Case("reject-invalid-reason", '<Reject reason="closed"/>', "<Hangup/>", ["BXM011", "BXM014"]),
    Case("reject-later", '<Say>Closed.</Say><Reject reason="busy"/>',
         f"<SpeakSentence {MALE}>Closed.</SpeakSentence><Hangup/>", ["BXM011"]),
]

DIAL = [
    Case("dial-number-text", "<Dial>+15551234567</Dial>",
         "<Transfer><PhoneNumber>+15551234567</PhoneNumber></Transfer>", []),
    Case("dial-attributes",
         '<Dial action="/done" method="GET" timeout="20" callerId="+15550000000">+15551234567</Dial>',
         '<Transfer transferCompleteUrl="/done" transferCompleteMethod="GET" callTimeout="20" '
         'transferCallerId="+15550000000"><PhoneNumber>+15551234567</PhoneNumber></Transfer>', ["BXM007"]),
    Case("dial-timeout-clamped", '<Dial timeout="400">+1555</Dial>',
         '<Transfer callTimeout="300"><PhoneNumber>+1555</PhoneNumber></Transfer>', ["BXM015"]),
    Case("dial-timeout-invalid", '<Dial timeout="abc">+1555</Dial>',
         '<Transfer callTimeout="30"><PhoneNumber>+1555</PhoneNumber></Transfer>', ["BXM014"]),
    Case("dial-number-noun", '<Dial><Number url="/whisper" method="GET" statusCallback="/st" '
         'statusCallbackMethod="GET">+15551112222</Number></Dial>',
         '<Transfer><PhoneNumber transferAnswerUrl="/whisper" transferAnswerMethod="GET" transferDisconnectUrl="/st" '
         'transferDisconnectMethod="GET">+15551112222</PhoneNumber></Transfer>', ["BXM007"]),
    Case("dial-sip-noun", "<Dial><Sip>sip:alice@pbx.example.com</Sip></Dial>",
         "<Transfer><SipUri>sip:alice@pbx.example.com</SipUri></Transfer>", []),
    Case("dial-sip-credentials-dropped", '<Dial><Sip username="u" password="p">sip:a@b.example</Sip></Dial>',
         "<Transfer><SipUri>sip:a@b.example</SipUri></Transfer>", ["BXM013", "BXM013"]),
    Case("dial-mixed-number-sip", "<Dial><Number>+1555</Number><Sip>sip:a@b.example</Sip></Dial>",
         "<Transfer><PhoneNumber>+1555</PhoneNumber><SipUri>sip:a@b.example</SipUri></Transfer>", []),
    Case("dial-8-numbers", "<Dial>" + "".join(f"<Number>+155500000{i}</Number>" for i in range(8)) + "</Dial>",
         "<Transfer>" + "".join(f"<PhoneNumber>+155500000{i}</PhoneNumber>" for i in range(8)) + "</Transfer>", []),
    Case("dial-9-numbers-first-8", "<Dial>" + "".join(f"<Number>+155500000{i}</Number>" for i in range(9)) + "</Dial>",
         "<Transfer>" + "".join(f"<PhoneNumber>+155500000{i}</PhoneNumber>" for i in range(8)) + "</Transfer>",
         ["BXM301"]),
    Case("dial-client-error", "<Dial><Client>alice</Client></Dial>", "", ["BXM010", "BXM305"]),
    Case("dial-queue-error", "<Dial><Queue>support</Queue></Dial>", "", ["BXM010", "BXM305"]),
    Case("dial-client-with-number", "<Dial><Client>alice</Client><Number>+1555</Number></Dial>",
         "<Transfer><PhoneNumber>+1555</PhoneNumber></Transfer>", ["BXM010"]),
    Case("dial-unknown-noun", "<Dial><Phone>+1555</Phone></Dial>", "", ["BXM009", "BXM305"]),
    Case("dial-empty", "<Dial/>", "", ["BXM305"]),
    Case("dial-empty-number", "<Dial><Number/><Number>+1555</Number></Dial>",
         "<Transfer><PhoneNumber>+1555</PhoneNumber></Transfer>", ["BXM309"]),
    Case("dial-text-between-nouns", "<Dial><Number>+1</Number> or <Number>+2</Number></Dial>",
         "<Transfer><PhoneNumber>+1</PhoneNumber><PhoneNumber>+2</PhoneNumber></Transfer>", ["BXM006"]),
    Case("dial-conference", "<Dial><Conference>room-1</Conference></Dial>", "<Conference>room-1</Conference>",
         ["BXM013", "BXM013"]),  # Twilio's default entry beep and hold music are lost
    Case("dial-conference-attributes", '<Dial><Conference muted="true" beep="false" waitUrl="" statusCallback="/ev" '
         'statusCallbackMethod="GET">room.2</Conference></Dial>',
         '<Conference mute="true" conferenceEventUrl="/ev" conferenceEventMethod="GET">room.2</Conference>',
         ["BXM007", *NO_EFFECT]),
    Case("dial-conference-odd-name", '<Dial><Conference beep="false" waitUrl="">Sales Team #1</Conference></Dial>',
         "<Conference>Sales_Team__1</Conference>", ["BXM304", *NO_EFFECT]),
    Case("dial-conference-long-name", f'<Dial><Conference beep="false" waitUrl="">{"a" * 101}</Conference></Dial>',
         f"<Conference>{'a' * 100}</Conference>", ["BXM304", *NO_EFFECT]),
    Case("dial-conference-dial-attributes-named", '<Dial action="/left" method="GET" timeout="10" callerId="+1">'
         '<Conference beep="false" waitUrl="">r</Conference></Dial>', "<Conference>r</Conference>",
         ["BXM013"] * 4 + NO_EFFECT),
    Case("dial-conference-and-number", '<Dial><Conference beep="false" waitUrl="">r</Conference>'
         "<Number>+1</Number></Dial>", "<Conference>r</Conference>", ["BXM302", *NO_EFFECT]),
    Case("dial-two-conferences", '<Dial><Conference beep="false" waitUrl="">a</Conference>'
         '<Conference beep="false" waitUrl="">b</Conference></Dial>', "<Conference>a</Conference>",
         ["BXM302", *NO_EFFECT]),  # only the first conference is translated, so only its attributes are named
]

# Every Dial attribute BXML cannot express, stated with a value that changes the call.
DIAL_DROPPED = [
    ("hangupOnStar", "true"), ("timeLimit", "600"), ("record", "record-from-answer"), ("trim", "trim-silence"),
    ("recordingStatusCallback", "/rec"), ("recordingStatusCallbackMethod", "GET"),
    ("recordingStatusCallbackEvent", "completed"), ("recordingTrack", "inbound"), ("answerOnBridge", "true"),
    ("ringTone", "uk"), ("sequential", "true"), ("referUrl", "/refer"), ("referMethod", "GET"),
    ("events", "call-progress-events"), ("callReason", "Your order"),
]
DIAL += [Case(f"dial-{name}-dropped", f'<Dial {name}="{value}">+1555</Dial>',
              "<Transfer><PhoneNumber>+1555</PhoneNumber></Transfer>", ["BXM013"]) for name, value in DIAL_DROPPED]

VM = "https://vm.example.com/voicemail.xml"
RECORD_DEFAULTS = 'silenceTimeout="5" terminatingDigits="1234567890*#" maxDuration="3600"'
BEEP_TRIM = ["BXM013", "BXM013"]  # Twilio's default beep and silence trimming are lost
RECORD = [
    Case("record-defaults-document-url", "<Record/>", f'<Record recordCompleteUrl="{VM}" {RECORD_DEFAULTS}/>',
         ["BXM007", *BEEP_TRIM], document_url=VM),
    Case("record-defaults-no-document-url", "<Record/>", f"<Record {RECORD_DEFAULTS}/>", ["BXM306", *BEEP_TRIM]),
    Case("record-full", '<Record action="/done" method="GET" timeout="3" finishOnKey="*#" maxLength="120" '
         'playBeep="false" trim="do-not-trim" transcribe="true" transcribeCallback="/tx" '
         'recordingStatusCallback="/rec" recordingStatusCallbackMethod="GET"/>',
         '<Record recordCompleteUrl="/done" recordCompleteMethod="GET" silenceTimeout="3" terminatingDigits="*#" '
         'maxDuration="120" transcribe="true" transcriptionAvailableUrl="/tx" recordingAvailableUrl="/rec" '
         'recordingAvailableMethod="GET"/>', ["BXM007", *NO_EFFECT]),
    Case("record-finishOnKey-empty-disables",
         '<Record action="/d" finishOnKey="" playBeep="false" trim="do-not-trim"/>',
         '<Record recordCompleteUrl="/d" silenceTimeout="5" terminatingDigits="" maxDuration="3600"/>',
         ["BXM007", *NO_EFFECT]),
    Case("record-finishOnKey-invalid", '<Record action="/d" finishOnKey="x" playBeep="false" trim="do-not-trim"/>',
         f'<Record recordCompleteUrl="/d" {RECORD_DEFAULTS}/>', ["BXM007", "BXM014", *NO_EFFECT]),
    Case("record-maxLength-clamped", '<Record action="/d" maxLength="20000" playBeep="false" trim="do-not-trim"/>',
         '<Record recordCompleteUrl="/d" silenceTimeout="5" terminatingDigits="1234567890*#" maxDuration="10800"/>',
         ["BXM007", "BXM015", *NO_EFFECT]),
    Case("record-timeout-0-no-silence-limit", '<Record action="/d" timeout="0" playBeep="false" trim="do-not-trim"/>',
         '<Record recordCompleteUrl="/d" silenceTimeout="0" terminatingDigits="1234567890*#" maxDuration="3600"/>',
         ["BXM007", *NO_EFFECT]),
    Case("record-beep-stated-true", '<Record action="/d" playBeep="true" trim="do-not-trim"/>',
         f'<Record recordCompleteUrl="/d" {RECORD_DEFAULTS}/>', ["BXM007", "BXM013", "BXM017"]),
    Case("record-status-event-dropped", '<Record action="/d" playBeep="false" trim="do-not-trim" '
         'recordingStatusCallbackEvent="in-progress completed"/>',
         f'<Record recordCompleteUrl="/d" {RECORD_DEFAULTS}/>', ["BXM007", "BXM013", *NO_EFFECT]),
]

STREAM = [
    Case("start-stream", '<Start><Stream url="wss://s.example/a" name="s1" track="inbound_track" '
         'statusCallback="/st" statusCallbackMethod="GET"/></Start>',
         '<StartStream destination="wss://s.example/a" name="s1" tracks="inbound" streamEventUrl="/st" '
         'streamEventMethod="GET"/>', ["BXM007"]),
    Case("start-stream-outbound", '<Start><Stream url="wss://s.example/a" track="outbound_track"/></Start>',
         '<StartStream destination="wss://s.example/a" tracks="outbound"/>', []),
    Case("start-stream-both", '<Start><Stream url="wss://s.example/a" track="both_tracks"/></Start>',
         '<StartStream destination="wss://s.example/a" tracks="both"/>', []),
    Case("start-stream-track-invalid", '<Start><Stream url="wss://s.example/a" track="left"/></Start>',
         '<StartStream destination="wss://s.example/a" tracks="inbound"/>', ["BXM014"]),
    Case("start-stream-parameters", '<Start><Stream url="wss://s.example/a"><Parameter name="a" value="1"/>'
         '<Parameter name="b" value="two words"/></Stream></Start>',
         '<StartStream destination="wss://s.example/a"><StreamParam name="a" value="1"/>'
         '<StreamParam name="b" value="two words"/></StartStream>', []),
    Case("start-stream-13-parameters", '<Start><Stream url="wss://s.example/a">'
         + "".join(f'<Parameter name="p{i}" value="{i}"/>' for i in range(13)) + "</Stream></Start>",
         '<StartStream destination="wss://s.example/a">'
         + "".join(f'<StreamParam name="p{i}" value="{i}"/>' for i in range(12)) + "</StartStream>", ["BXM308"]),
    Case("start-stream-parameter-without-name", '<Start><Stream url="wss://s.example/a"><Parameter value="1"/>'
         "</Stream></Start>", '<StartStream destination="wss://s.example/a"/>', ["BXM016"]),
    Case("start-stream-without-url", '<Start><Stream name="s"/></Start>', "", ["BXM307"]),
    Case("start-stream-not-wss-left-out", '<Start><Stream url="https://s.example/a"/></Start><Hangup/>',
         "<Hangup/>", ["BXM307"]),
    Case("start-stream-ws-left-out", '<Start><Stream url="ws://s.example/a" name="s"/></Start>', "", ["BXM307"]),
    Case("start-stream-relative-url-left-out", '<Start><Stream url="/media"/></Start>', "", ["BXM307"]),
    Case("start-stream-not-wss-callback-not-counted", '<Start><Stream url="https://s.example/a" statusCallback="/st"/>'
         '<Stream url="wss://s.example/b"/></Start>', '<StartStream destination="wss://s.example/b"/>', ["BXM307"]),
    Case("start-stream-wss-scheme-any-case", '<Start><Stream url="WSS://s.example/a"/></Start>',
         '<StartStream destination="WSS://s.example/a"/>', []),
    Case("start-action-dropped", '<Start action="/x"><Stream url="wss://s.example/a"/></Start>',
         '<StartStream destination="wss://s.example/a"/>', ["BXM013"]),
    Case("start-siprec-unsupported", '<Start><Siprec connectorName="c"/></Start>', "", ["BXM010"]),
    Case("start-transcription-unsupported", "<Start><Transcription/></Start>", "", ["BXM010"]),
    Case("stop-stream", '<Stop><Stream name="s1"/></Stop>', '<StopStream name="s1"/>', []),
    Case("stop-stream-without-name", "<Stop><Stream/></Stop>", "", ["BXM307"]),
    Case("stop-attribute-unknown", '<Stop now="1"><Stream name="s1"/></Stop>', '<StopStream name="s1"/>', ["BXM012"]),
    Case("stop-siprec-unsupported", '<Stop><Siprec name="r"/></Stop>', "", ["BXM010"]),
]

UNSUPPORTED = [
    Case("enqueue", '<Enqueue waitUrl="/wait">support</Enqueue>', "", ["BXM010"]),
    Case("enqueue-task", '<Enqueue workflowSid="WW1"><Task>{"skill":"billing"}</Task></Enqueue>', "", ["BXM010"]),
    Case("leave", "<Leave/>", "", ["BXM010"]),
    Case("pay", '<Pay chargeAmount="10.00"><Prompt for="payment-card-number"><Say>Card?</Say></Prompt></Pay>', "",
         ["BXM010"]),
    Case("sms", '<Sms to="+1555">Hi</Sms>', "", ["BXM010"]),
    Case("connect-stream", '<Connect><Stream url="wss://a.example/s"/></Connect>', "", ["BXM010"]),
    Case("connect-room", "<Connect><Room>r</Room></Connect>", "", ["BXM010"]),
    Case("refer", "<Refer><Sip>sip:a@b</Sip></Refer>", "", ["BXM010"]),
    Case("unknown-verb", "<Speak>Hi</Speak>", "", ["BXM009"]),
    Case("unknown-verb-wrong-case", "<say>Hi</say>", "", ["BXM009"]),
    Case("unknown-verb-bandwidth-name", "<SpeakSentence>Hi</SpeakSentence>", "", ["BXM009"]),
    Case("noun-number-outside-dial", "<Number>+15551234567</Number>", "", ["BXM009"]),
    Case("noun-conference-outside-dial", "<Conference>room</Conference>", "", ["BXM009"]),
    Case("noun-stream-outside-start", '<Stream url="wss://a.example/s"/>', "", ["BXM009"]),
    Case("unsupported-between-verbs-keeps-order", "<Say>a</Say><Pay/><Say>b</Say>",
         f"<SpeakSentence {MALE}>a</SpeakSentence><SpeakSentence {MALE}>b</SpeakSentence>", ["BXM010"]),
]

ALL = SAY + SSML + PLAY + PAUSE + REDIRECT + HANGUP_REJECT + DIAL + RECORD + STREAM + UNSUPPORTED


@rows(ALL)
def test_verb_row(case: Case):
    run(case)


def test_every_twiml_verb_of_the_table_has_a_row():
    covered = " ".join(c.twiml for c in ALL)
    for verb in VERBS:
        if verb.twiml == "Gather":
            continue  # tests/test_twiml_gather.py
        assert f"<{verb.twiml}" in covered, verb.twiml


# -- voices and languages ---------------------------------------------------------------------------

VOICES = [
    # (id, voice, language, SpeakSentence attributes, codes)
    ("no-voice-is-man", None, None, {"gender": "male"}, []),
    ("man", "man", None, {"gender": "male"}, []),
    ("woman", "woman", None, {"gender": "female"}, []),
    ("alice", "alice", None, {"gender": "female"}, []),
    ("man-en-US", "man", "en-US", {"gender": "male", "locale": "en_US"}, []),
    ("man-en-GB", "man", "en-GB", {"gender": "male", "locale": "en_UK"}, []),
    ("man-legacy-en-gb", "man", "en-gb", {"gender": "male", "locale": "en_UK"}, []),
    ("woman-fr-FR", "woman", "fr-FR", {"gender": "female", "locale": "fr"}, []),
    ("alice-es-MX", "alice", "es-MX", {"gender": "female", "locale": "es_MX"}, []),
    ("alice-sv-SE-no-locale", "alice", "sv-SE", {"gender": "female"}, ["BXM207"]),
    ("language-only-de-DE", None, "de-DE", {"gender": "male", "locale": "de"}, []),
    ("Polly.Joanna", "Polly.Joanna", None, {"voice": "julie"}, []),
    ("Polly.Joanna-with-language", "Polly.Joanna", "en-US", {"voice": "julie"}, []),
    ("Polly.Joanna-Neural", "Polly.Joanna-Neural", None, {"voice": "julie"}, ["BXM205"]),
    ("Polly.Joanna-Generative", "Polly.Joanna-Generative", None, {"voice": "julie"}, ["BXM205"]),
    ("Polly.Matthew", "Polly.Matthew", None, {"voice": "dave"}, []),
    ("Polly.Amy", "Polly.Amy", None, {"voice": "bridget"}, []),
    ("Polly.Brian", "Polly.Brian", None, {"voice": "simon"}, []),
    ("Polly.Mia", "Polly.Mia", None, {"voice": "rosa"}, []),
    ("Polly.Hans", "Polly.Hans", None, {"voice": "stefan"}, []),
    ("Polly.Salli", "Polly.Salli", None, {"gender": "female", "locale": "en_US"}, ["BXM205"]),
    ("Polly.Joey", "Polly.Joey", None, {"gender": "male", "locale": "en_US"}, ["BXM205"]),
    ("Polly.Ruth-Neural", "Polly.Ruth-Neural", None, {"voice": "ruth"}, []),
    ("Polly.Stephen-Neural", "Polly.Stephen-Neural", None, {"voice": "stephen"}, []),
    ("Polly.Lupe-Neural", "Polly.Lupe-Neural", None, {"voice": "lupe"}, []),
    ("Polly.Lupe-standard-approximated", "Polly.Lupe", None, {"gender": "female", "locale": "es_US"}, ["BXM205"]),
    ("Polly.Astrid-no-locale", "Polly.Astrid", None, {"gender": "female"}, ["BXM205", "BXM207"]),
    ("Polly.Kajal-Neural-no-locale", "Polly.Kajal-Neural", None, {"gender": "female"}, ["BXM205", "BXM207"]),
    ("Google.en-GB-Standard-A", "Google.en-GB-Standard-A", None, {"locale": "en_UK"}, ["BXM205"]),
    ("Google.fr-FR-Wavenet-B", "Google.fr-FR-Wavenet-B", None, {"locale": "fr"}, ["BXM205"]),
    ("Google.en-US-Chirp3-HD-Aoede", "Google.en-US-Chirp3-HD-Aoede", None, {"locale": "en_US"}, ["BXM205"]),
    ("Google.sv-SE-no-locale", "Google.sv-SE-Standard-A", None, {}, ["BXM205", "BXM207"]),
    ("Google-malformed", "Google.nonsense", None, {}, ["BXM206"]),
    ("Polly-unknown-name", "Polly.Nobody", None, {}, ["BXM206"]),
    ("Polly-unknown-engine", "Polly.Joanna-Turbo", None, {}, ["BXM206"]),
    ("unknown-voice", "robot", None, {}, ["BXM206"]),
    ("unknown-voice-keeps-language", "robot", "fr-FR", {"locale": "fr"}, ["BXM206"]),
    ("unknown-voice-unsupported-language", "robot", "sv-SE", {}, ["BXM206", "BXM207"]),
]


@pytest.mark.parametrize(("voice", "language", "attributes", "codes"), [v[1:] for v in VOICES],
                         ids=[v[0] for v in VOICES])
def test_say_voice_row(voice, language, attributes, codes):
    stated = "".join(f' {k}="{v}"' for k, v in (("voice", voice), ("language", language)) if v is not None)
    for where in ("top", "gather"):
        say = f"<Say{stated}>Hello.</Say>"
        source = f"<Response>{say}</Response>" if where == "top" else \
            f'<Response><Gather action="/n" actionOnEmptyResult="true">{say}</Gather></Response>'
        translation = twiml_to_bxml(source)
        sentence = etree.fromstring(translation.bxml.encode()).find(".//SpeakSentence")
        assert dict(sentence.attrib) == attributes, where
        assert sorted(d.code for d in translation.diagnostics if d.code != "BXM007") == sorted(codes), where


LOCALES = [
    ("en-US", "en_US"), ("en-GB", "en_UK"), ("en-gb", "en_UK"), ("en", "en_US"), ("es-ES", "es"), ("es", "es"),
    ("es-MX", "es_MX"), ("es-US", "es_US"), ("fr-FR", "fr"), ("fr", "fr"), ("fr-CA", "fr_CA"), ("de-DE", "de"),
    ("it-IT", "it"), ("ja-JP", "ja"), ("ru-RU", "ru"), ("ar-AE", "arb"), ("arb", "arb"), ("zh-CN", "cmn-CN"),
    ("cmn-CN", "cmn-CN"), ("sv-SE", None), ("pt-BR", None), ("en-AU", None), ("nl-NL", None),
]


@pytest.mark.parametrize(("language", "locale"), LOCALES, ids=[lang for lang, _ in LOCALES])
def test_language_to_bandwidth_locale(language, locale):
    assert bandwidth_locale(language) == locale
    translation = twiml_to_bxml(f'<Response><Say voice="alice" language="{language}">Hi</Say></Response>')
    sentence = etree.fromstring(translation.bxml.encode()).find("SpeakSentence")
    assert sentence.get("locale") == locale
    assert ("BXM207" in [d.code for d in translation.diagnostics]) == (locale is None)


# -- messages that must say the right thing ----------------------------------------------------------


def test_reject_first_and_later_are_told_apart():
    first = twiml_to_bxml('<Response><!-- blocked --><Reject reason="busy"/></Response>').diagnostics
    later = twiml_to_bxml("<Response><Pause/><Reject/></Response>").diagnostics
    assert "first verb" in first[0].message and "busy" in first[0].message
    assert "already answered" in later[0].message and "not-in-service" in later[0].message


def test_sip_password_is_not_repeated_in_diagnostics():
    translation = twiml_to_bxml('<Response><Dial><Sip username="u" password="hunter2">sip:a@b.example</Sip>'
                                "</Dial></Response>")
    assert translation.diagnostics
    assert all("hunter2" not in d.message for d in translation.diagnostics)


def test_unsupported_verbs_are_errors_naming_the_verb():
    for verb in ("Enqueue", "Leave", "Pay", "Sms", "Connect"):
        (diagnostic,) = twiml_to_bxml(f"<Response><{verb}/></Response>").diagnostics
        assert diagnostic.severity == "error" and f"<{verb}>" in diagnostic.message


def test_callback_info_lists_the_callback_attributes():
    translation = twiml_to_bxml('<Response><Record action="/r" playBeep="false" trim="do-not-trim"/>'
                                "<Redirect>/x</Redirect></Response>")
    (info,) = [d for d in translation.diagnostics if d.code == "BXM007"]
    assert "recordCompleteUrl" in info.message and "redirectUrl" in info.message and info.severity == "info"


# -- no stated attribute disappears unreported --------------------------------------------------------

# Where each table's element sits in a document: "{a}" is replaced by the stated attribute.
TABLE_PLACES = {
    "Gather": '<Gather action="/a" actionOnEmptyResult="true" {a}/>',
    "Dial": "<Dial {a}>+15551234567</Dial>",
    "Dial-Conference": "<Dial {a}><Conference>room</Conference></Dial>",  # tables.DIAL_CONFERENCE
    "Number": "<Dial><Number {a}>+15551234567</Number></Dial>",
    "Sip": "<Dial><Sip {a}>sip:a@b.example</Sip></Dial>",
    "Conference": "<Dial><Conference {a}>room</Conference></Dial>",
    "Record": '<Record action="/a" {a}/>',
    "Start": '<Start {a}><Stream url="wss://s.example/a"/></Start>',
}


def _unsupported_rows() -> list[tuple[str, str, str | None]]:
    from translators.attribute_rules import Status
    from translators.twiml.tables import DIAL_CONFERENCE

    tables = [(verb.twiml, verb.attributes) for verb in VERBS if verb.twiml in TABLE_PLACES]
    tables.append(("Dial-Conference", DIAL_CONFERENCE))
    return [(name, row.source, row.target_default) for name, rows in tables for row in rows
            if row.status is Status.UNSUPPORTED and not row.custom]


UNSUPPORTED_ROWS = _unsupported_rows()


def _diagnostics_naming(place: str, attribute: str, value: str) -> list:
    twiml = TABLE_PLACES[place].format(a=f'{attribute}="{value}"')
    return [d for d in twiml_to_bxml(f"<Response>{twiml}</Response>").diagnostics if d.field == attribute]


@pytest.mark.parametrize(("place", "attribute", "target_default"), UNSUPPORTED_ROWS,
                         ids=[f"{p}-{a}" for p, a, _ in UNSUPPORTED_ROWS])
def test_every_stated_unsupported_attribute_is_named_once(place, attribute, target_default):
    if target_default is not None:  # the value BXML behaves like: named, info only (strict still passes)
        (same,) = _diagnostics_naming(place, attribute, target_default)
        assert (same.code, same.severity) == ("BXM017", "info")
        assert f'{attribute}="{target_default}" dropped without effect' in same.message
    (other,) = _diagnostics_naming(place, attribute, "something-else")
    assert (other.code, other.severity) == ("BXM013", "warning")


def test_attribute_without_effect_does_not_fail_strict():
    source = '<Response><Record action="/a" playBeep="false" trim="do-not-trim"/><Dial answerOnBridge="false">' \
             "+15551234567</Dial></Response>"
    translation = twiml_to_bxml(source, strict=True)
    assert sorted(d.code for d in translation.diagnostics) == ["BXM007", "BXM017", "BXM017", "BXM017"]


def test_stream_that_is_not_wss_says_why_it_is_left_out():
    (diagnostic,) = twiml_to_bxml('<Response><Start><Stream url="https://s.example/a"/></Start></Response>').diagnostics
    assert (diagnostic.code, diagnostic.severity, diagnostic.field) == ("BXM307", "error", "url")
    assert "https://s.example/a" in diagnostic.message and "wss://" in diagnostic.message
