"""Diagnostic codes BXM5xx: rewriting callback payloads between v2, v1 and Twilio."""

from translators.diagnostic_rule import Rule, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

RULES: tuple[Rule, ...] = (
    Rule("BXM501", "callback-schema-invalid", E,
         "A callback payload that is not a JSON object, has the wrong `eventType`, lacks a required field or "
         "has a field of the wrong type.",
         "The target event cannot be built without guessing, and a guessed field breaks the receiving app.",
         "Nothing: `CallbackSchemaError` names every missing or malformed field.",
         "Check that the payload is the event the function expects (e.g. a v2 `gather` for `v2_gather_to_v1`).",
         '{"eventType": "gather", "digits": "12"}'),
    Rule("BXM502", "callback-event-unmapped", E,
         "An event that has no counterpart in the target platform (a v2 `redirect` for v1, a v2 `dtmf` for "
         "Twilio, a v1 gather that ended with `hung-up` for v2).",
         "The target platform never sends such an event, so its apps have no handler for it.",
         "Nothing: `CallbackSchemaError` names `eventType` (or `reason`).",
         "Do not forward that event; see the mapping tables for what each platform sends.",
         '{"eventType": "redirect", ...}'),
    Rule("BXM503", "callback-gather-context-incomplete", W,
         "A v2 gather (or a disconnect during a gather) rewritten for v1 without a gather context, or with one "
         "that has no `gatherId`.",
         "The v1 event then lacks `gatherId` and the gather's `tag`, and `reason` assumes BXML's default "
         "`maxDigits` of 50.",
         "The v1 gather event without those fields.",
         "Pass the context that `catapult_gather_to_bxml` returned (`--context`), with the `gatherId` the proxy "
         "minted.",
         '{"eventType": "gather", ...} without --context'),
    Rule("BXM504", "callback-fields-dropped", I,
         "Fields the source schema does not define were dropped because the target schema is closed (v1 events, "
         "Twilio parameters).",
         "Bandwidth adds webhook fields over time; v1 and Twilio apps do not expect them.",
         "The target event without those fields (rewrites to v2 keep them: v2 parsers ignore unknown keys).",
         "Nothing; check the list if a field the app needs is among them.",
         '{"eventType": "gather", "sipCallId": "..."}'),
    Rule("BXM505", "callback-context-invalid", E,
         "A gather context that is not a JSON object or has an unknown key or a malformed value.",
         "The gather's `maxDigits`, terminating digits and tag decide the v1 `reason` and `tag`; a wrong "
         "context gives the app a wrong reason.",
         "Nothing: the rewrite stops.",
         "Use the context `catapult_gather_to_bxml` returned (`bxml-migrate v1-gather --context-out`).",
         '{"maxDigits": "five"}'),
    Rule("BXM506", "callback-not-json", E,
         "A callback payload file that is not valid JSON.",
         "Nothing can be rewritten.",
         "Nothing.",
         "Fix the JSON at the reported line and column.",
         '{"eventType": "gather",'),
)
