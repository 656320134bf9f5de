"""The TwiML -> BXML mapping, as data.

One attribute table per verb (or noun) and one verb table.  The translator reads
these rows; the README's compatibility tables are generated from them
(``python -m translators.docs``).  Change behaviour by changing a row.
"""

from __future__ import annotations

from dataclasses import dataclass

from translators.attribute_rules import (
    Action,
    AttributeRule,
    Boolean,
    Choice,
    ContextValue,
    Keys,
    Method,
    Number,
    Range,
    Status,
    Text,
    Url,
    validate_table,
)

S, P, U = Status.SUPPORTED, Status.PARTIAL, Status.UNSUPPORTED
DOCUMENT_URL = ContextValue("document_url")

INPUT_KIND = Choice({"dtmf": "dtmf", "speech": "speech", "dtmf speech": "dtmf_speech",
                     "speech dtmf": "dtmf_speech"})

GATHER = validate_table((
    AttributeRule("action", ("gatherUrl",), Url(), DOCUMENT_URL, None,
                  note="absent: Twilio posts to the current document URL, so `gatherUrl` = the document URL "
                       "(`document_url` / `--base-url`); unknown: BXM101"),
    AttributeRule("method", ("gatherMethod",), Method(), "POST", "POST"),
    AttributeRule("timeout", ("firstDigitTimeout", "interDigitTimeout"), Number(integer=True, unit="s"), "5", "5",
                  valid=Range(1, None), target_range=Range(1, 60), always_state=True,
                  note="Twilio waits `timeout` before the first key and between keys: both BXML timers"),
    AttributeRule("finishOnKey", ("terminatingDigits",), Keys(max_length=1), "#", "", always_state=True,
                  note='absent: Twilio\'s default `#` is stated (BXML\'s default is none); `""`: no terminator'),
    AttributeRule("numDigits", ("maxDigits",), Number(integer=True), "50", "50", valid=Range(1, None),
                  target_range=Range(1, 50), on_invalid=Action.OMIT, always_state=True,
                  note="absent: unlimited in TwiML; 50 is BXML's maximum"),
    AttributeRule("input", ("input",), INPUT_KIND, "dtmf", "dtmf", state_explicit=False),
    AttributeRule("speechTimeout", ("speechTimeout",), Number(integer=True, unit="s"), ContextValue("timeout"),
                  "5", valid=Range(1, None), target_range=Range(1, 60), requires="speech", always_state=True,
                  status=P, note="Twilio defaults it to `timeout`, Bandwidth to 5 s: always stated; "
                                 "`auto` has no equivalent (BXM107)"),
    AttributeRule("hints", ("hints",), Text(), requires="speech"),
    AttributeRule("language", ("language",), Text(), "en-US", None, requires="speech",
                  note="speech recognition language"),
    AttributeRule("profanityFilter", ("profanityFilter",), Boolean(), "true", "true", requires="speech"),
    AttributeRule("speechModel", ("speechModel",), Text(), requires="speech", custom=True, status=P,
                  note="`default` is left to Bandwidth's default; Twilio's model names have no Bandwidth "
                       "equivalent (BXM108)"),
    AttributeRule("partialResultCallback", ("partialResultCallback",), Url(), requires="speech"),
    AttributeRule("partialResultCallbackMethod", ("partialResultCallbackMethod",), Method(), "POST", "POST",
                  requires="speech"),
    AttributeRule("actionOnEmptyResult", (), Boolean(), "false", None, custom=True, status=P,
                  note="no BXML attribute: Bandwidth always posts the gather event, empty or not "
                       "(BXM102, BXM103); the proxy emulates Twilio"),
    AttributeRule("enhanced", (), Boolean(), "false", "false", status=U,
                  note="Bandwidth has no premium speech model switch"),
    AttributeRule("debug", (), Text(), status=U, note="undocumented Twilio attribute"),
    AttributeRule("bargeIn", (), Boolean(), "true", "true", status=U,
                  note="BXML prompts always stop at the first key"),
    AttributeRule("maxSpeechTime", (), Number(), status=U, note="no BXML equivalent"),
))

# Say: voice and language are resolved together (voices.choose_voice); loop by repetition.
LOOP = AttributeRule("loop", (), Number(integer=True), "1", None, valid=Range(0, None), custom=True, status=P,
                     note="repeated back to back (`repeatCount` is not equivalent); `0` is capped (BXM202)")
SAY = validate_table((
    AttributeRule("voice", ("voice", "gender"), Text(), "man", None, custom=True, status=P,
                  note="`man` -> gender male, `woman`/`alice` -> female; Polly voices Bandwidth has -> that "
                       "voice, others -> their gender and locale (BXM205)"),
    AttributeRule("language", ("locale",), Text(), "en-US", "en_US", custom=True, status=P,
                  note="BCP-47 -> Bandwidth locale (`en-GB` -> `en_UK`); no Bandwidth locale: BXM207"),
    LOOP,
))
PLAY_DIGITS = AttributeRule("digits", (), Keys("0123456789*#wW"), custom=True, status=P,
                            note="-> `<SendDtmf>` outside `<Gather>`; inside `<Gather>` BXML cannot play tones "
                                 "(BXM209)")
PLAY = validate_table((LOOP, PLAY_DIGITS))
PAUSE = validate_table((
    AttributeRule("length", ("duration",), Number(integer=True, unit="s"), "1", "1", valid=Range(1, None),
                  target_range=Range(0.1, 86400), always_state=True,
                  note="inside `<Gather>`: a `<SpeakSentence>` of SSML breaks (BXM208)"),
))
REDIRECT = validate_table((
    AttributeRule("method", ("redirectMethod",), Method(), "POST", "POST"),
))
REJECT_REASON = Choice({"rejected": "rejected", "busy": "busy"})
REJECT = validate_table((
    AttributeRule("reason", (), REJECT_REASON, "rejected", None, status=U, custom=True,
                  note="`<Hangup>` on an unanswered call rejects it without a tone choice; the reason is named "
                       "in the BXM011 diagnostic every `<Reject>` gets"),
))
HANGUP: tuple[AttributeRule, ...] = ()

DIAL = validate_table((
    AttributeRule("action", ("transferCompleteUrl",), Url(),
                  note="without it both platforms continue with the next verb"),
    AttributeRule("method", ("transferCompleteMethod",), Method(), "POST", "POST"),
    AttributeRule("timeout", ("callTimeout",), Number(integer=True, unit="s"), "30", "30", valid=Range(1, None),
                  target_range=Range(1, 300)),
    AttributeRule("callerId", ("transferCallerId",), Text()),
    AttributeRule("hangupOnStar", (), Boolean(), "false", "false", status=U, note="no BXML equivalent"),
    AttributeRule("timeLimit", (), Number(integer=True), status=U,
                  note="BXML `<Transfer>` has no call duration limit (Twilio's default is 4 h)"),
    AttributeRule("record", (), Text(), "do-not-record", "do-not-record", status=U,
                  note="record with `<StartRecording>` in BXML by hand"),
    AttributeRule("trim", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("recordingStatusCallback", (), Url(), status=U, note="no BXML equivalent on `<Transfer>`"),
    AttributeRule("recordingStatusCallbackMethod", (), Method(), status=U, note="no BXML equivalent"),
    AttributeRule("recordingStatusCallbackEvent", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("recordingTrack", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("answerOnBridge", (), Boolean(), "false", "false", status=U,
                  note="Bandwidth answers the inbound call before `<Transfer>`"),
    AttributeRule("ringTone", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("sequential", (), Boolean(), "false", "false", status=U,
                  note="BXML rings all targets at once"),
    AttributeRule("referUrl", (), Url(), status=U, note="no SIP REFER handling in BXML"),
    AttributeRule("referMethod", (), Method(), status=U, note="no SIP REFER handling in BXML"),
    AttributeRule("events", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("callReason", (), Text(), status=U, note="no BXML equivalent"),
))
# <Dial> around a <Conference> noun: the transfer attributes have nothing to apply to.
_DIAL_CONFERENCE_NOTES = {
    "action": "BXML has no event when a member's conference ends; the call continues with the next verb",
    "method": "it is the method of `action`, which BXML cannot express with `<Conference>`",
    "timeout": "nothing rings when the caller joins a conference",
    "callerId": "nothing is dialled when the caller joins a conference",
}
DIAL_CONFERENCE = validate_table(tuple(
    AttributeRule(row.source, (), row.kind, status=U, note=_DIAL_CONFERENCE_NOTES[row.source])
    if row.source in _DIAL_CONFERENCE_NOTES else row for row in DIAL))
_LEG_COMMON = (
    AttributeRule("url", ("transferAnswerUrl",), Url(),
                  note="whisper: BXML from this URL plays to the called party before bridging"),
    AttributeRule("method", ("transferAnswerMethod",), Method(), "POST", "POST"),
    AttributeRule("statusCallback", ("transferDisconnectUrl",), Url(), status=P,
                  note="only the end of the leg is reported (`transferDisconnect`)"),
    AttributeRule("statusCallbackMethod", ("transferDisconnectMethod",), Method(), "POST", "POST"),
    AttributeRule("statusCallbackEvent", (), Text(), status=U,
                  note="BXML reports only the leg's answer and disconnect"),
    AttributeRule("machineDetection", (), Text(), status=U, note="not available per `<Transfer>` target"),
    AttributeRule("amdStatusCallback", (), Url(), status=U, note="not available per `<Transfer>` target"),
    AttributeRule("amdStatusCallbackMethod", (), Method(), status=U, note="not available per `<Transfer>` target"),
)
NUMBER = validate_table((
    *_LEG_COMMON,
    AttributeRule("sendDigits", (), Keys("0123456789*#wW"), status=U,
                  note="send the tones from the `transferAnswerUrl` BXML with `<SendDtmf>`"),
    AttributeRule("byoc", (), Text(), status=U, note="no BXML equivalent"),
))
SIP = validate_table((
    *_LEG_COMMON,
    AttributeRule("username", (), Text(), status=U,
                  note="SIP digest credentials: BXML `username` means webhook credentials"),
    AttributeRule("password", (), Text(), status=U,
                  note="SIP digest credentials: BXML `password` means webhook credentials"),
))
CONFERENCE = validate_table((
    AttributeRule("muted", ("mute",), Boolean(), "false", "false"),
    AttributeRule("statusCallback", ("conferenceEventUrl",), Url(), status=P,
                  note="Bandwidth sends its own conference events (created, member join/exit, completed)"),
    AttributeRule("statusCallbackMethod", ("conferenceEventMethod",), Method(), "POST", "POST"),
    AttributeRule("beep", (), Text(), "true", "false", status=U, note="Bandwidth plays no entry/exit beep"),
    AttributeRule("startConferenceOnEnter", (), Boolean(), "true", "true", status=U,
                  note="a Bandwidth conference starts with its first member"),
    AttributeRule("endConferenceOnExit", (), Boolean(), "false", "false", status=U,
                  note="a Bandwidth conference ends when its last member leaves"),
    AttributeRule("waitUrl", (), Url(), "default hold music", "", status=U,
                  note="no hold music while waiting in BXML"),
    AttributeRule("waitMethod", (), Method(), status=U, note="no hold music in BXML"),
    AttributeRule("maxParticipants", (), Number(integer=True), status=U,
                  note="Bandwidth conferences hold at most 20 members"),
    AttributeRule("record", (), Text(), "do-not-record", "do-not-record", status=U, note="no BXML equivalent"),
    AttributeRule("region", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("coach", (), Text(), status=U, note="BXML `callIdsToCoach` takes Bandwidth call ids"),
    AttributeRule("trim", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("statusCallbackEvent", (), Text(), status=U, note="Bandwidth sends its own event set"),
    AttributeRule("recordingStatusCallback", (), Url(), status=U, note="no BXML equivalent"),
    AttributeRule("recordingStatusCallbackMethod", (), Method(), status=U, note="no BXML equivalent"),
    AttributeRule("recordingStatusCallbackEvent", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("eventCallbackUrl", (), Url(), status=U, note="no BXML equivalent"),
    AttributeRule("jitterBufferSize", (), Text(), status=U, note="no BXML equivalent"),
    AttributeRule("participantLabel", (), Text(), status=U, note="no BXML equivalent"),
))
RECORD = validate_table((
    AttributeRule("action", ("recordCompleteUrl",), Url(), DOCUMENT_URL, None,
                  note="absent: Twilio requests the current document URL"),
    AttributeRule("method", ("recordCompleteMethod",), Method(), "POST", "POST"),
    AttributeRule("timeout", ("silenceTimeout",), Number(integer=True, unit="s"), "5", "0", valid=Range(0, None),
                  note="Twilio stops after 5 s of silence by default; BXML never does unless told"),
    AttributeRule("finishOnKey", ("terminatingDigits",), Keys(), "1234567890*#", "#", write_empty=True,
                  note='Twilio\'s default is any key; `""` disables'),
    AttributeRule("maxLength", ("maxDuration",), Number(integer=True, unit="s"), "3600", "60",
                  valid=Range(1, None), target_range=Range(1, 10800)),
    AttributeRule("transcribe", ("transcribe",), Boolean(), "false", "false"),
    AttributeRule("transcribeCallback", ("transcriptionAvailableUrl",), Url()),
    AttributeRule("recordingStatusCallback", ("recordingAvailableUrl",), Url(), status=P,
                  note="only the recording-available event"),
    AttributeRule("recordingStatusCallbackMethod", ("recordingAvailableMethod",), Method(), "POST", "POST"),
    AttributeRule("recordingStatusCallbackEvent", (), Text(), status=U,
                  note="Bandwidth reports only the available recording"),
    AttributeRule("playBeep", (), Boolean(), "true", "false", status=U, note="BXML `<Record>` plays no beep"),
    AttributeRule("trim", (), Text(), "trim-silence", "do-not-trim", status=U,
                  note="Bandwidth does not trim silence from recordings (Twilio trims by default)"),
))
STREAM = validate_table((
    AttributeRule("url", ("destination",), Url(),
                  note="`wss://` only, as on Twilio; absent or another scheme: the stream is left out (BXM307)"),
    AttributeRule("name", ("name",), Text()),
    AttributeRule("track", ("tracks",), Choice({"inbound_track": "inbound", "outbound_track": "outbound",
                                                 "both_tracks": "both"}), "inbound_track", "inbound"),
    AttributeRule("statusCallback", ("streamEventUrl",), Url()),
    AttributeRule("statusCallbackMethod", ("streamEventMethod",), Method(), "POST", "POST"),
))
STOP_STREAM = validate_table((
    AttributeRule("name", ("name",), Text()),
))
STOP: tuple[AttributeRule, ...] = ()  # <Stop> itself has no attributes
START = validate_table((
    AttributeRule("action", (), Url(), status=U, note="no BXML equivalent"),
    AttributeRule("method", (), Method(), status=U, note="no BXML equivalent"),
))


@dataclass(frozen=True)
class VerbRow:
    """One TwiML verb or noun: its BXML form, status and the attribute table it uses."""

    twiml: str
    bxml: str
    status: Status
    attributes: tuple[AttributeRule, ...] = ()
    note: str = ""
    noun_of: str = ""  # a noun (Number, Stream ...): the verb it belongs in; on its own it is not a verb


VERBS: tuple[VerbRow, ...] = (
    VerbRow("Gather", "Gather", P, GATHER,
            "empty input: Bandwidth calls `gatherUrl`, Twilio continues (BXM102/BXM103)"),
    VerbRow("Say", "SpeakSentence", S, SAY, "`loop` by repetition; SSML tags Bandwidth lacks are unwrapped"),
    VerbRow("Play", "PlayAudio", S, PLAY, "`digits` -> `<SendDtmf>` (not inside `<Gather>`)"),
    VerbRow("Pause", "Pause", S, PAUSE, "inside `<Gather>`: `<SpeakSentence>` of SSML breaks"),
    VerbRow("Redirect", "Redirect", S, REDIRECT, "URL text -> `redirectUrl`"),
    VerbRow("Hangup", "Hangup", S, HANGUP),
    VerbRow("Reject", "Hangup", P, REJECT, "no busy / not-in-service tone choice (BXM011)"),
    VerbRow("Dial", "Transfer", P, DIAL, "up to 8 targets; `<Conference>` becomes its own verb"),
    VerbRow("Number", "PhoneNumber", S, NUMBER, noun_of="Dial"),
    VerbRow("Sip", "SipUri", S, SIP, noun_of="Dial"),
    VerbRow("Conference", "Conference", P, CONFERENCE, "names are limited to letters, digits, `-_.` (BXM304)",
            noun_of="Dial"),
    VerbRow("Client", "—", U, (), "no Twilio Client legs on Bandwidth", noun_of="Dial"),
    VerbRow("Queue", "—", U, (), "no queues in BXML", noun_of="Dial"),
    VerbRow("Record", "Record", P, RECORD, "no beep; action parameters differ"),
    VerbRow("Start", "StartStream", P, START, "only `<Stream>` (not Siprec, Transcription, Recording)"),
    VerbRow("Stop", "StopStream", P, STOP, "only `<Stream name>`"),
    VerbRow("Stream", "StartStream / StopStream", S, STREAM, "`<Parameter>` -> `<StreamParam>`",
            noun_of="Start"),
    VerbRow("Connect", "—", U, (), "`<StartStream>` does not block the call like `<Connect><Stream>`"),
    VerbRow("Enqueue", "—", U, (), "no queues in BXML"),
    VerbRow("Leave", "—", U, (), "no queues in BXML"),
    VerbRow("Pay", "—", U, (), "no payment capture in BXML"),
    VerbRow("Sms", "—", U, (), "send messages with Bandwidth's Messaging API"),
    VerbRow("Refer", "—", U, (), "no SIP REFER in BXML"),
)
VERB_ROWS: dict[str, VerbRow] = {row.twiml: row for row in VERBS}

# Verbs whose text content means something (words, a URL, a number, a queue name); text directly
# inside any other verb is stray (BXM006).
TEXT_VERBS = frozenset({"Say", "Play", "Redirect", "Dial", "Enqueue", "Sms"})

# Nested element names that are not verbs of their own.
NOUN_CHILDREN = frozenset({"Parameter", "Identity", "Task", "Prompt", "Siprec", "Transcription", "Recording",
                           "Room", "ConversationRelay", "VirtualAgent", "Conversation"})
