"""Diagnostics: what a translation changed, dropped or could not express.

Every diagnostic has a stable code (``BXM`` + three digits, never reused), a
readable name, a severity, a message and the source line.  The registry below
is the single source of truth: the translators look codes up here, the docs
page ``docs/diagnostics.md`` is generated from it, and a test fails when the
page is stale or a code is emitted that is not registered.

Code ranges:
    BXM0xx  document and generic attribute/verb problems (any source dialect)
    BXM1xx  TwiML ``<Gather>``
    BXM2xx  TwiML ``<Say>``, ``<Play>``, ``<Pause>``
    BXM3xx  other TwiML verbs (Dial, Record, Reject, streams ...)
    BXM4xx  Catapult v1 gather requests
    BXM5xx  callback payload rewriting
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from enum import StrEnum


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


@dataclass(frozen=True)
class Rule:
    """A registered diagnostic: the documentation of one code."""

    code: str
    name: str
    severity: Severity
    summary: str  # what it detects
    why: str  # why the call behaves differently
    emitted: str  # what the translator emits instead
    fix: str  # how to fix the source
    example: str = ""  # a small source snippet that triggers it


@dataclass(frozen=True)
class Diagnostic:
    """One finding of a translation.  ``line`` is the 1-based source line, if known."""

    code: str
    severity: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    @property
    def name(self) -> str:
        return RULES[self.code].name

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        return {k: v for k, v in data.items() if v is not None or k in ("line",)}

    def format(self, path: str | None = None) -> str:
        where = path or "<input>"
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        return f"{where}: {self.severity} {self.code} [{self.name}] {self.message}"


def _rules(*rules: Rule) -> dict[str, Rule]:
    table: dict[str, Rule] = {}
    names: set[str] = set()
    for rule in rules:
        if rule.code in table or rule.name in names:
            raise ValueError(f"duplicate diagnostic {rule.code} / {rule.name}")
        table[rule.code] = rule
        names.add(rule.name)
    return table


E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO

RULES: dict[str, Rule] = _rules(
    # -- document and generic ------------------------------------------------
    Rule("BXM001", "xml-malformed", E,
         "The input is not well-formed XML.",
         "Neither platform can execute a document it cannot parse.",
         "Nothing: translation stops with `TranslationError`.",
         "Fix the XML at the reported line and column.",
         "<Response><Say>Hi</Response>"),
    Rule("BXM002", "root-not-response", E,
         "The document root is not `<Response>`.",
         "TwiML documents must have a `<Response>` root; anything else is not a voice document.",
         "Nothing: translation stops with `TranslationError`.",
         "Wrap the verbs in `<Response>`, or exclude the file from conversion.",
         "<Gather/>"),
    Rule("BXM003", "doctype-forbidden", E,
         "The document contains a DOCTYPE or entity declaration.",
         "Entity expansion is how XML bombs and external-entity attacks work; no voice document needs it.",
         "Nothing: translation stops with `TranslationError`.",
         "Remove the DOCTYPE; write characters directly (UTF-8) or as numeric references.",
         '<!DOCTYPE r [<!ENTITY x "y">]><Response/>'),
    Rule("BXM004", "input-too-large", E,
         "The input is larger than the 1 MB limit.",
         "Voice documents are small; a huge input is a mistake or an attack.",
         "Nothing: translation stops with `TranslationError`.",
         "Split the document; check that the file really is TwiML."),
    Rule("BXM005", "output-too-large", E,
         "The BXML produced is larger than Bandwidth's 64 KB document limit.",
         "Bandwidth rejects documents over 64 KB and the call fails.",
         "The document, which Bandwidth will refuse.",
         "Reduce `loop` counts or split prompts across documents with `<Redirect>`."),
    Rule("BXM006", "stray-text", W,
         "Text appears directly inside `<Response>` or a verb that takes no text.",
         "Twilio ignores it; so does the BXML output.",
         "The document without that text.",
         "Remove the text or put it in a `<Say>`.",
         "<Response>Hello<Hangup/></Response>"),
    Rule("BXM007", "callback-payload-changes", I,
         "The document has callback URLs (Gather action, Redirect, Dial action ...).",
         "Bandwidth calls them with v2 JSON events (`digits`, `terminatingDigit` ...), not Twilio's form "
         "parameters (`Digits`, `CallSid` ...), and expects BXML back.",
         "The same URLs.",
         "Serve the app through `bxml-migrate serve` (which translates the requests), or update the handlers.",
         '<Gather action="/menu"/>'),
    Rule("BXM009", "verb-unknown", E,
         "An element that is not a TwiML voice verb.",
         "Twilio would reject the document (error 12100); there is nothing to translate.",
         "The document without that element.",
         "Fix the element name (names are case-sensitive) or remove it.",
         "<Response><Speak>Hi</Speak></Response>"),
    Rule("BXM010", "verb-unsupported", E,
         "A TwiML verb or noun that Bandwidth BXML cannot express.",
         "The caller would not get that behaviour at all (queues, payments, in-call SMS, client legs ...).",
         "The document without that verb.",
         "Rebuild that step with Bandwidth features (see the compatibility table) or keep it on Twilio.",
         "<Response><Enqueue>support</Enqueue></Response>"),
    Rule("BXM011", "verb-approximated", W,
         "A verb is translated to the closest BXML form, which behaves differently in a stated way.",
         "The message says exactly what the caller will notice.",
         "The closest BXML verb.",
         "Check the step by ear; change the source if the difference matters.",
         '<Response><Reject reason="busy"/></Response>'),
    Rule("BXM012", "attribute-unknown", W,
         "An attribute that the verb does not have in TwiML.",
         "Twilio ignores unknown attributes; it may also be a typo (names are case-sensitive) that "
         "silently changed the call on Twilio too.",
         "The verb without that attribute.",
         "Fix the spelling or remove the attribute.",
         '<Gather numdigits="4"/>'),
    Rule("BXM013", "attribute-unsupported", W,
         "A known TwiML attribute that has no BXML equivalent.",
         "The behaviour it controlled is lost; the message names the attribute and its value.",
         "The verb without that attribute.",
         "Decide whether the behaviour matters; if it does, rebuild it another way.",
         '<Gather enhanced="true"/>'),
    Rule("BXM014", "value-invalid", W,
         "An attribute value that is not valid for TwiML.",
         "Twilio ignores the value and uses its default (debugger warning 133xx); the output states that default.",
         "The source platform's default value.",
         "Fix the value.",
         '<Gather finishOnKey="ab"/>'),
    Rule("BXM015", "value-clamped", W,
         "A value that is valid in the source but outside BXML's range.",
         "Bandwidth cannot wait that long / collect that many digits; the nearest allowed value is used.",
         "The value clamped into BXML's range.",
         "Accept the new limit or restructure the step.",
         '<Gather numDigits="64"/>'),
    Rule("BXM016", "value-omitted", W,
         "An attribute value that cannot be used at all, so the attribute is left out.",
         "The BXML default applies instead; the message says which.",
         "The verb without that attribute.",
         "Fix the value.",
         '<Gather numDigits="-1"/>'),
    # -- Gather ---------------------------------------------------------------
    Rule("BXM101", "gather-no-action", W,
         "A `<Gather>` without `action`, translated without a document URL.",
         "Twilio posts the digits to the current document's URL; a BXML `<Gather>` without `gatherUrl` "
         "discards them and continues with the next verb.",
         "`<Gather>` without `gatherUrl`.",
         "Pass `document_url` / `--base-url`, or give the Gather an explicit `action`.",
         "<Gather numDigits=\"1\"><Say>Press a key</Say></Gather>"),
    Rule("BXM102", "gather-empty-input-skips-following", W,
         "`<Gather>` with `actionOnEmptyResult` false (the default) followed by more verbs.",
         "On no input Twilio skips the action and runs the verbs after `<Gather>`; Bandwidth sends empty "
         "`digits` to `gatherUrl` and never runs them. `bxml-migrate serve` emulates Twilio; a static "
         "document cannot.",
         "`<Gather>` followed by the same verbs (reached only when `gatherUrl` is absent).",
         "Handle empty digits in the action handler, or serve the app through the proxy.",
         "<Gather action=\"/a\"/><Say>No input</Say>"),
    Rule("BXM103", "gather-empty-input-calls-action", W,
         "`<Gather>` with `actionOnEmptyResult` false (the default) as the last verb.",
         "On no input Twilio ends the call; Bandwidth calls `gatherUrl` with empty `digits`.",
         "`<Gather>` as written.",
         "Make the action handler hang up on empty digits, or serve the app through the proxy.",
         "<Gather action=\"/a\"/>"),
    Rule("BXM104", "gather-nested-limit", W,
         "More than 20 prompt verbs inside one `<Gather>` (after `loop` expansion).",
         "BXML allows at most 20 nested verbs; the prompt is cut after the 20th.",
         "The first 20 nested verbs.",
         "Shorten the prompt or lower `loop`.",
         "<Gather><Say loop=\"30\">Hi</Say></Gather>"),
    Rule("BXM105", "gather-nested-invalid", E,
         "A verb nested in `<Gather>` that Gather cannot contain.",
         "TwiML allows only Say, Play and Pause in Gather; BXML only SpeakSentence and PlayAudio.",
         "The Gather without that verb.",
         "Move the verb before or after the `<Gather>`.",
         "<Gather><Dial>+15551234567</Dial></Gather>"),
    Rule("BXM106", "speech-needs-account", I,
         "Speech recognition attributes were emitted.",
         "Bandwidth's Gather speech options are present only in the released SDK and must be enabled on the "
         "account; without them the Gather collects DTMF only.",
         "The same-named BXML speech attributes.",
         "Confirm speech recognition is enabled for the Bandwidth account before migrating.",
         "<Gather input=\"speech\"/>"),
    Rule("BXM107", "speech-timeout-auto", W,
         "`speechTimeout=\"auto\"`.",
         "BXML has no automatic end-of-speech detection; a fixed silence timeout is used.",
         "`speechTimeout` set to the Gather's `timeout`.",
         "Choose a fixed `speechTimeout`.",
         "<Gather input=\"speech\" speechTimeout=\"auto\"/>"),
    Rule("BXM108", "speech-model-unsupported", W,
         "A `speechModel` value that only Twilio has.",
         "Bandwidth has no such recognition model.",
         "The Gather without `speechModel`.",
         "Remove `speechModel` or pick a model Bandwidth supports.",
         "<Gather input=\"speech\" speechModel=\"experimental_conversations\"/>"),
    Rule("BXM109", "speech-attribute-without-speech", I,
         "A speech attribute on a Gather whose `input` does not include speech.",
         "Twilio ignores it; so does the output.",
         "The Gather without that attribute.",
         "Remove the attribute.",
         "<Gather hints=\"yes,no\"/>"),
    # -- Say / Play / Pause ---------------------------------------------------
    Rule("BXM202", "loop-infinite-capped", W,
         "`loop=\"0\"` (repeat until the caller hangs up or presses a key).",
         "BXML has no endless repeat; the verb is repeated a fixed number of times (up to the 20-verb "
         "limit inside `<Gather>`, 20 copies elsewhere) and then the document goes on.",
         "The verb repeated as often as allowed.",
         "Set a finite `loop`, or loop with `<Redirect>` to the same document.",
         "<Play loop=\"0\">https://example.com/hold.mp3</Play>"),
    Rule("BXM203", "loop-capped", W,
         "A `loop` count larger than the repeat cap (100 copies outside `<Gather>`).",
         "Only the first copies are emitted, keeping the document under Bandwidth's size limit.",
         "The verb repeated up to the cap.",
         "Lower `loop`, or loop with `<Redirect>`.",
         "<Play loop=\"500\">https://example.com/a.mp3</Play>"),
    Rule("BXM204", "ssml-tag-unwrapped", W,
         "An SSML tag in `<Say>` that Bandwidth does not support.",
         "The words are kept but the tag's effect (e.g. Polly effects, `<w>` roles) is lost.",
         "The tag's text content without the tag.",
         "Use only the SSML tags Bandwidth supports (see the compatibility table).",
         "<Say><amazon:effect name=\"whispered\">psst</amazon:effect></Say>"),
    Rule("BXM205", "voice-approximated", I,
         "A Twilio voice with no Bandwidth voice of that name.",
         "A Bandwidth voice of the same gender and locale speaks instead; it sounds different.",
         "`gender` and `locale` of the source voice.",
         "Pick a Bandwidth `voice` explicitly if the exact sound matters.",
         "<Say voice=\"Polly.Salli\">Hi</Say>"),
    Rule("BXM206", "voice-unknown", W,
         "A `voice` value that is not a known Twilio voice.",
         "Neither gender nor locale can be derived; Bandwidth's default speaker (female, en_US) is used.",
         "`<SpeakSentence>` without voice or gender.",
         "Fix the voice name.",
         "<Say voice=\"robot\">Hi</Say>"),
    Rule("BXM207", "language-unsupported", W,
         "A `language` that has no Bandwidth `locale`.",
         "Bandwidth documents no voice for that language; the text is spoken with its default locale.",
         "`<SpeakSentence>` without `locale`.",
         "Check the prompt by ear, or record it and use `<Play>`.",
         "<Say language=\"sv-SE\">Hej</Say>"),
    Rule("BXM208", "pause-in-gather-as-break", I,
         "`<Pause>` nested in `<Gather>`.",
         "BXML `<Gather>` cannot nest `<Pause>`; an SSML break gives the same silence. Whether Bandwidth "
         "accepts a `<SpeakSentence>` holding only a break is not documented.",
         "`<SpeakSentence>` holding only `<break time=\"Ns\"/>` (10 s per break, chained for longer).",
         "Test the prompt once on a live call.",
         "<Gather><Pause length=\"2\"/></Gather>"),
    Rule("BXM209", "play-digits-in-gather", E,
         "`<Play digits>` nested in `<Gather>`.",
         "BXML `<Gather>` can nest only SpeakSentence and PlayAudio; DTMF tones cannot be played inside it.",
         "The Gather without those tones.",
         "Move the `<Play digits>` before the `<Gather>`.",
         "<Gather><Play digits=\"1234\"/></Gather>"),
    Rule("BXM210", "say-empty", W,
         "A `<Say>` or `<Play>` with no text.",
         "Twilio plays nothing; BXML requires text, so the verb is left out.",
         "Nothing for that verb.",
         "Remove the empty verb.",
         "<Say/>"),
    # -- other verbs ----------------------------------------------------------
    Rule("BXM301", "dial-too-many-targets", W,
         "`<Dial>` with more than 8 numbers/SIP URIs.",
         "BXML `<Transfer>` rings at most 8 targets at once; Twilio rings up to 10.",
         "The first 8 targets.",
         "Reduce the targets to 8.",
         "<Dial><Number>+1...</Number> x 9</Dial>"),
    Rule("BXM302", "dial-mixed-nouns", E,
         "`<Dial>` mixing `<Conference>` with other nouns, or more than one `<Conference>`.",
         "Twilio allows one Conference noun alone; BXML `<Conference>` is a separate verb.",
         "Only the first Conference.",
         "Keep one noun kind per `<Dial>`.",
         "<Dial><Conference>a</Conference><Number>+1...</Number></Dial>"),
)


def rule(code: str) -> Rule:
    try:
        return RULES[code]
    except KeyError:
        raise KeyError(f"unregistered diagnostic code {code}") from None


def lookup(code_or_name: str) -> Rule:
    """Find a rule by code (``BXM101``) or name (``gather-no-action``)."""
    if code_or_name in RULES:
        return RULES[code_or_name]
    for candidate in RULES.values():
        if candidate.name == code_or_name:
            return candidate
    raise KeyError(f"no diagnostic {code_or_name!r}")


class Diagnostics:
    """Collects the diagnostics of one translation (a per-call object, never module state)."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, line: int | None = None, *,
            column: int | None = None, field: str | None = None) -> Diagnostic:
        diagnostic = Diagnostic(code, rule(code).severity.value, message, line, column, field)
        self.items.append(diagnostic)
        return diagnostic

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self.items.extend(items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):  # noqa: ANN204
        return iter(self.items)


def has_severity(diagnostics: Iterable[Diagnostic], *severities: str) -> bool:
    return any(d.severity in severities for d in diagnostics)
