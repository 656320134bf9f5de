"""Diagnostic codes BXM4xx: Catapult v1 gather requests (``POST .../calls/{callId}/gather``)."""

from translators.diagnostic_rule import Rule, Severity

E, W, I = Severity.ERROR, Severity.WARNING, Severity.INFO  # noqa: E741

RULES: tuple[Rule, ...] = (
    Rule("BXM401", "v1-request-invalid", E,
         "A v1 gather request that Catapult would have refused: an unknown field, a value of the wrong type, "
         "`maxDigits` outside 1–30, `interDigitTimeout` above 30 s, `terminatingDigits` with keys other than "
         "0-9 # *, an unknown prompt voice or locale.",
         "Catapult answered such a request with 400 `validation-error`; translating it anyway would start a "
         "gather that collects the wrong number of digits or ends on the wrong key.",
         "Nothing: `catapult_gather_to_bxml` raises `InvalidRequest` (its `field` names the field); the proxy "
         "answers the v1 client with a 400.",
         "Fix the named field in the client's request.",
         '{"maxDigits": 31}'),
    Rule("BXM402", "v1-gather-no-url", W,
         "A v1 gather translated without `gather_url`.",
         "A BXML `<Gather>` without `gatherUrl` drops the digits and sends no event, so the v1 application "
         "would never receive its `gather` event.",
         "`<Gather>` without `gatherUrl`.",
         "Pass `gather_url` (`--gather-url`): the proxy URL that turns the v2 gather event into the v1 one.",
         '{"maxDigits": "5"}'),
    Rule("BXM403", "v1-prompt-loop-repeated", I,
         "`prompt.loopEnabled` is true.",
         "v1 replayed the prompt until the caller pressed a key; BXML cannot loop a nested prompt, so the "
         "prompt is repeated as often as the 20-nested-verb limit (and the 64 KB document limit) allow, then "
         "the gather waits `firstDigitTimeout` and ends.",
         "The prompt verbs repeated back to back (not `repeatCount`, which pauses between rounds).",
         "Nothing, unless callers listen for minutes; then re-issue the gather from the app on a timeout.",
         '{"prompt": {"sentence": "Press 1", "loopEnabled": true}}'),
    Rule("BXM404", "v1-prompt-not-bargeable", W,
         "`prompt.bargeable` is false.",
         "BXML prompts always stop at the first key press; there is no way to play a prompt that ignores keys "
         "(v1 deprecated the flag for the same reason).",
         "The prompt, interruptible by the first key.",
         "Remove `bargeable`; play an uninterruptible message before the gather if it must be heard in full.",
         '{"prompt": {"sentence": "Legal notice ...", "bargeable": false}}'),
    Rule("BXM405", "v1-suppress-dtmf-false", W,
         "`suppressDtmf` is false.",
         "The v1 client asked for a `dtmf` event per key while the gather runs; Bandwidth pauses `<StartGather>` "
         "while a `<Gather>` runs, so those per-key events are not sent.",
         "The gather without per-key events; the keys arrive in the gather event.",
         "Read the keys from the gather event instead of the per-key `dtmf` events.",
         '{"maxDigits": "4", "suppressDtmf": "false"}'),
    Rule("BXM406", "v1-tag-written", I,
         "The gather's v1 `tag` is written as the BXML `tag` (`write_tag=True`).",
         "A v2 tag is sticky: every later callback of the call carries it until it is replaced, while a v1 "
         "gather tag was only on that gather's event.",
         "`<Gather tag=\"...\">`.",
         "Leave `write_tag` off unless the v2 side needs the tag; the proxy keeps it for the v1 event anyway.",
         '{"tag": "menu-1"}'),
    Rule("BXM407", "v1-tag-too-long", W,
         "`write_tag=True` with a tag longer than BXML's 256 characters.",
         "Bandwidth rejects a longer `tag` attribute and the call would fail.",
         "`<Gather>` without `tag`; the tag is still kept in the gather context for the v1 event.",
         "Shorten the tag, or leave `write_tag` off.",
         '{"tag": "<300 characters>"}'),
    Rule("BXM408", "v1-prompt-empty", I,
         "A `prompt` with no `sentence` and no `fileUrl` (or an empty sentence).",
         "There is nothing to play; the gather starts silently as it did on v1.",
         "`<Gather>` without nested verbs.",
         "Remove the empty prompt, or give it a sentence or a file.",
         '{"prompt": {"gender": "male"}}'),
    Rule("BXM409", "v1-prompt-sentence-and-file", W,
         "A prompt with both `sentence` and `fileUrl`.",
         "Which of the two v1 played is not documented; both are played, the sentence first.",
         "`<SpeakSentence>` followed by `<PlayAudio>` inside the `<Gather>`.",
         "Keep only the one the caller should hear.",
         '{"prompt": {"sentence": "Hi", "fileUrl": "https://example.com/a.mp3"}}'),
    Rule("BXM410", "v1-max-digits-default", I,
         "A v1 gather without `maxDigits`.",
         "v1 did not document its default (its BXML dialect said 128); BXML's default and maximum, 50, applies.",
         "`<Gather>` without `maxDigits`; the gather context records 50.",
         "Set `maxDigits` in the request if the limit matters.",
         '{"terminatingDigits": "#"}'),
    Rule("BXM411", "v1-request-not-json", E,
         "The v1 request body is not JSON, or not a JSON object.",
         "Catapult answered 400; there is no gather to translate.",
         "Nothing.",
         "Send a JSON object body (`Content-Type: application/json`).",
         '{"maxDigits": 5,'),
    Rule("BXM412", "v1-audio-fields-in-file-url", I,
         "A v1 audio request whose fields came inside `fileUrl` (the v1 Python client's "
         "`speak_sentence_to_call` / `play_audio_file_to_call` send them that way).",
         "Catapult accepted it; the fields are read from the nested object, so the call behaves the same.",
         "The audio as if the fields had been at the top level.",
         "Nothing; upgrade the client when convenient.",
         '{"fileUrl": {"sentence": "Hello", "voice": "susan"}}'),
    Rule("BXM413", "v1-audio-loop-repeated", I,
         "A v1 audio request with `loopEnabled` true.",
         "v1 repeated the audio until the app stopped it; BXML has no endless repeat, so it is repeated 20 times "
         "(the app can still stop it earlier with an empty sentence or fileUrl).",
         "The verb repeated 20 times, then the call goes back to waiting.",
         "Nothing, unless the loop must last longer than 20 rounds.",
         '{"fileUrl": "https://example.com/hold.mp3", "loopEnabled": true}'),
    Rule("BXM414", "v1-audio-no-events", I,
         "A v1 audio request that plays something.",
         "v1 sent `speak` / `playback` events (status started and done, with the request's `tag`); Bandwidth v2 "
         "has no such webhooks, so the app receives none.",
         "The audio, without events.",
         "Do not wait for `speak`/`playback` done events; continue from the app's own logic.",
         '{"sentence": "Hello", "tag": "greeting"}'),
)
