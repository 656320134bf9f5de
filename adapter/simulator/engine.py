"""Running one call: the BXML execution engine (one thread per call).

The call has its own simulated clock (``call.call_time``).  Verbs move it forward (a prompt's
length, a timeout, a pause) and the engine sleeps ``duration x time_scale`` of real time meanwhile,
so outside requests (update call, PUT bxml) can interrupt.  Scripted key presses sit on the same
clock, so whether a key lands inside a prompt, before a timeout or after it is decided by the
script alone.  The clock stands still while a webhook is in flight.

Verb behaviour follows spec §2; ``adapter/simulator/README.md`` lists what is simplified.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from adapter.simulator.bxml import WEBHOOK_ROOT, Document, InvalidBxml, Verb, parse_document
from adapter.simulator.call import Interrupt, SimulatedCall
from adapter.simulator.caller import CallerScript
from adapter.simulator.config import SimulatorConfig
from adapter.simulator.delivery import Credentials, Target, WebhookSender, credentials
from adapter.simulator.events import build_event
from adapter.simulator.ids import iso_duration, iso_ms, new_error_id, new_recording_id, utc_now
from adapter.simulator.journal import Journal
from adapter.simulator.records import DocumentRecord, VerbRecord, WebhookRecord

# Verbs that do not answer an unanswered inbound call when they run.
_NOT_ANSWERING = frozenset({"Tag", "Redirect", "Hangup", "Forward", "StopGather"})
_ERROR_MESSAGES = {"busy": "Callee is busy", "timeout": "Call was not answered",
                   "rejected": "Call was rejected"}


class _Unwind(Exception):
    """An interrupt stops the current verb and the rest of the document."""

    def __init__(self, interrupt: Interrupt) -> None:
        super().__init__(interrupt.kind)
        self.interrupt = interrupt


class _CallOver(Exception):
    """The call has ended; stop executing."""


def _any_key(_key: str) -> bool:
    return True


class CallEngine:
    def __init__(self, call: SimulatedCall, script: CallerScript, config: SimulatorConfig, journal: Journal,
                 app_credentials: Credentials | None) -> None:
        self.call = call
        self.script = script
        self.config = config
        self.journal = journal
        self.app_credentials = app_credentials
        self._sender = WebhookSender(call.callback_timeout)
        self._verb_seq = 0
        self._current: tuple[str, int] | None = None
        self._dtmf_target: Target | None = None     # set by <StartGather>
        self._thread = threading.Thread(target=self._run, name=f"bw-sim-{call.call_id[:10]}", daemon=True)

    # --- life cycle ------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def join(self, timeout: float) -> None:
        self._thread.join(timeout)

    def _run(self) -> None:
        work: Callable[[], Document | None] = self._begin
        try:
            while True:
                try:
                    document = work()
                    if document is None:
                        self._check_interrupt()  # a change that came while the last verbs ran wins
                except _Unwind as unwind:
                    work = self._after_interrupt(unwind.interrupt)
                    continue
                if document is None:
                    self._log("end of document: implicit <Hangup>")
                    self._end("hangup")
                    break

                def run(doc: Document = document) -> Document | None:
                    return self._run_document(doc)
                work = run
        except _CallOver:
            pass
        except Exception as exc:  # a simulator bug must not leave the call hanging
            self._log(f"simulator error: {exc!r}")
            self._end("error", f"simulator error: {exc}")
        finally:
            self._sender.close()
            self._settled()
            self.journal.update(self.call._finished.set)

    def _begin(self) -> Document:
        call = self.call
        if call.direction == "inbound":
            return self._sync_webhook("initiate", call.first_target, call.initiate_fields)
        self.journal.update(lambda: setattr(call, "state", "initiated"))
        callee = call.callee
        self._log(f"ringing {call.to} ({callee.outcome} after {callee.ring_seconds:g}s)")
        if callee.outcome == "no-answer":
            self._wait(call.call_timeout)
            self._end("timeout", _ERROR_MESSAGES["timeout"])
            raise _CallOver
        self._wait(min(callee.ring_seconds, call.call_timeout))
        if callee.outcome == "answer" and callee.ring_seconds <= call.call_timeout:
            self._answer()
            return self._sync_webhook("answer", call.first_target)
        cause = {"busy": "busy", "reject": "rejected"}.get(callee.outcome, "timeout")
        self._end(cause, _ERROR_MESSAGES[cause])
        raise _CallOver

    def _after_interrupt(self, interrupt: Interrupt) -> Callable[[], Document | None]:
        kind = interrupt.kind
        if kind == "shutdown":
            self._end("hangup", quiet=True)
            raise _CallOver
        if kind in ("hangup", "caller-hangup"):
            who = "update call state=completed" if kind == "hangup" else "the caller hung up"
            self._log(who)
            unanswered_outbound = self.call.direction == "outbound" and self.call.answer_time is None
            self._end("cancel" if kind == "hangup" and unanswered_outbound else "hangup")
            raise _CallOver
        if kind == "invalid":
            self._end("invalid-bxml", interrupt.reason)
            raise _CallOver
        if interrupt.set_tag:
            self._set_tag(interrupt.tag)
        if kind == "bxml" and interrupt.document is not None:
            self._log("PUT bxml: running the new document")
            document = interrupt.document
            return lambda: document
        target = interrupt.target
        assert target is not None
        self._log(f"update call: redirect to {target.url}")
        return lambda: self._sync_webhook("redirect", target)

    def _end(self, cause: str, message: str | None = None, *, quiet: bool = False) -> None:
        call = self.call
        if call.state == "disconnected":
            return
        self._settled()

        def mark() -> None:
            call.state = "disconnected"
            call.end_time = call.last_update = utc_now()
            call.disconnect_cause = cause
            if message is not None:
                call.error_message = message
                call.error_id = new_error_id()
        self.journal.update(mark)
        self.script.clear()
        self._log(f"disconnected: cause={cause}" + (f" ({message})" if message else ""))
        if quiet or call.disconnect_target is None:
            return
        fields: dict[str, Any] = {"cause": cause}
        if message is not None:
            fields.update(errorMessage=message, errorId=call.error_id)
        self._async_webhook("disconnect", call.disconnect_target, fields)

    def _answer(self) -> None:
        call = self.call
        if call.answer_time is not None:
            return

        def mark() -> None:
            call.state = "answered"
            call.answer_time = call.last_update = utc_now()
        self.journal.update(mark)
        self._log("answered")

    # --- time and keys ---------------------------------------------------------------------

    def _settled(self) -> None:
        """The call is at rest (waiting in a verb, or over): REST changes held by
        ``SimulatedCall.settle`` may be judged now."""
        with self.call._signal:
            self.call._settling = False
            self.call._signal.notify_all()

    def _check_interrupt(self) -> None:
        with self.call._signal:
            interrupt, self.call._interrupt = self.call._interrupt, None
        if interrupt is not None:
            raise _Unwind(interrupt)

    def _sleep_until(self, target: float) -> str | bool:
        """Sleep until call time ``target``.  True when reached; False when an interrupt came first;
        a key when the test pressed one live (``SimulatedCall.press``)."""
        call = self.call
        scale = self.config.time_scale
        start_real = time.monotonic()
        deadline = start_real + max(0.0, target - call.call_time) * scale
        early: str | bool = True
        with call._signal:
            if call._settling:
                call._settling = False
                call._signal.notify_all()
            while True:
                if call._interrupt is not None:
                    early = False
                    break
                if call._live_keys:
                    early = call._live_keys.popleft()
                    break
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                call._signal.wait(remaining)
        if early is True:
            call.call_time = max(call.call_time, target)
        elif scale > 0:
            call.call_time = min(target, call.call_time + (time.monotonic() - start_real) / scale)
        return early

    def _wait(self, duration: float, stop_on: Callable[[str], bool] | None = None) -> str | None:
        """Let ``duration`` of call time pass.  A key for which ``stop_on`` is true ends the wait and is
        returned; other keys go to ``<StartGather>`` (a dtmf event) or are dropped."""
        end = self.call.call_time + max(0.0, duration)
        while True:
            self._check_interrupt()
            action = self.script.peek()
            if action is not None and action.time > end:
                action = None
            outcome = self._sleep_until(end if action is None else max(action.time, self.call.call_time))
            if outcome is False:
                continue
            if isinstance(outcome, str):
                if self._key(outcome, stop_on):
                    return outcome
                continue
            if action is not None:
                self.script.consume(self.call.call_time, self._current)
                if action.kind == "hangup":
                    self._log("the caller hung up")
                    self._end("hangup")
                    raise _CallOver
                if action.kind == "await":
                    self._log(f"caller awaits <{action.value}>" + (" (waiting)" if self.script.awaiting else ""))
                elif self._key(action.value, stop_on):
                    return action.value
                continue
            if self.call.call_time >= end:
                return None

    def _key(self, key: str, stop_on: Callable[[str], bool] | None) -> bool:
        if stop_on is not None and stop_on(key):
            self._log(f"key {key}")
            return True
        if self._dtmf_target is not None and self.call.answer_time is not None:
            self._log(f"key {key} -> dtmf event")
            self._async_webhook("dtmf", self._dtmf_target, {"digit": key})
        else:
            self._log(f"key {key} dropped (nothing is listening)")
        return False

    # --- webhooks ---------------------------------------------------------------------------

    def _new_webhook(self, event_type: str, target: Target, fields: dict[str, Any] | None) -> WebhookRecord:
        payload = build_event(self.call.facts(), event_type, fields)
        record = WebhookRecord(self.journal.next_seq(), self.call.call_id, event_type, target.url, target.method,
                               payload, self.call.call_time)
        self.journal.add(record)
        return record

    def _async_webhook(self, event_type: str, target: Target, fields: dict[str, Any] | None = None) -> None:
        record = self._new_webhook(event_type, target, fields)
        self._sender.deliver(record, target, sync=False)
        self.journal.changed()
        self._log(f"{event_type} -> {target.method} {target.url}: {record.status or record.attempts[-1].error}")

    def _sync_webhook(self, event_type: str, target: Target, fields: dict[str, Any] | None = None) -> Document:
        """Send an event whose reply is BXML; return the parsed reply (or end the call).

        A change (update call, PUT bxml) that is already waiting wins: the event is not sent.  One
        that arrives while the event is in flight takes effect at the reply's first verb that takes
        time (verbs such as <StartGather> or <Tag> run first), as when the reply reaches Bandwidth
        before the change does."""
        self._check_interrupt()
        with self.call._signal:
            self.call._settling = True
        record = self._new_webhook(event_type, target, fields)
        self._sender.deliver(record, target, sync=True)
        self.journal.changed()
        outcome = record.status if record.status is not None else record.attempts[-1].error
        self._log(f"{event_type} -> {target.method} {target.url}: {outcome}")
        if not record.delivered or record.reply is None or record.reply_bytes is None:
            self._end("callback-error", f"{event_type} callback to {target.url} failed: {outcome}")
            raise _CallOver
        try:
            document = parse_document(record.reply_bytes, root=WEBHOOK_ROOT, base_url=record.reply_url)
        except InvalidBxml as exc:
            self.record_document("webhook", record.reply_url, record.reply, None, exc.reason)
            self._end("invalid-bxml", exc.reason)
            raise _CallOver from None
        self.record_document("webhook", record.reply_url, record.reply, document, None)
        return document

    def record_document(self, source: str, url: str | None, body: str, document: Document | None,
                        error: str | None) -> None:
        verbs = tuple(v.name for v in document.verbs) if document is not None else ()
        self.journal.add(DocumentRecord(self.journal.next_seq(), self.call.call_id, source, url, body, verbs, error,
                                        self.call.call_time))
        if error:
            self._log(f"invalid BXML from {url or 'PUT'}: {error}")

    def _target(self, verb: Verb, prefix: str) -> Target | None:
        """The callback a verb names with ``{prefix}Url`` (and method, fallback, credentials)."""
        url = verb.get(f"{prefix}Url")
        if url is None:
            return None
        creds = credentials(verb.get("username"), verb.get("password"))
        fallback_creds = credentials(verb.get("fallbackUsername"), verb.get("fallbackPassword"))
        if self.config.app_credentials_for_all_callbacks:
            creds = creds or self.app_credentials
            fallback_creds = fallback_creds or self.app_credentials
        return Target(url, verb.get(f"{prefix}Method") or "POST", creds, verb.get(f"{prefix}FallbackUrl"),
                      verb.get(f"{prefix}FallbackMethod") or "POST", fallback_creds)

    # --- documents and verbs ---------------------------------------------------------------

    def _run_document(self, document: Document) -> Document | None:
        for verb in document.verbs:
            following = self._execute(verb)
            if following is not None:
                return following
        return None

    def _set_tag(self, tag: str | None) -> None:
        value = tag if tag else None
        self.journal.update(lambda: setattr(self.call, "tag", value))

    def _start_verb(self, verb: Verb, parent: str | None) -> VerbRecord:
        record = VerbRecord(self.journal.next_seq(), self.call.call_id, verb.name, dict(verb.attributes), verb.text,
                            self.call.call_time, parent=parent)
        self.journal.add(record)
        return record

    def _finish_verb(self, record: VerbRecord, outcome: str) -> None:
        def mark() -> None:
            record.ended = self.call.call_time
            record.outcome = outcome
        self.journal.update(mark)

    def _execute(self, verb: Verb) -> Document | None:
        self._verb_seq += 1
        self._current = (verb.name, self._verb_seq)
        record = self._start_verb(verb, None)
        self.script.verb_started(verb.name, self._verb_seq, self.call.call_time)
        outcome = "interrupted"
        try:
            if "tag" in verb.attributes:
                self._set_tag(verb.get("tag"))
            if verb.name not in _NOT_ANSWERING and not (verb.name == "Ring" and not verb.flag("answerCall", True)):
                self._answer()
            handler = getattr(self, f"_verb_{verb.name}", None)
            if handler is None:
                self._log(f"<{verb.name}> is recognised but not simulated; continuing")
                outcome, following = "skipped", None
            else:
                outcome, following = handler(verb)
            return following
        except _CallOver:
            outcome = "call ended" if outcome == "interrupted" else outcome
            raise
        finally:
            self._current = None
            self._finish_verb(record, outcome)

    def _play(self, verb: Verb, stop_on: Callable[[str], bool] | None, parent: str | None) -> str | None:
        """Play a nested prompt; return the key that interrupted it, if any."""
        record = self._start_verb(verb, parent)
        outcome = "interrupted"
        try:
            key = self._wait(self.config.prompt_seconds(verb), stop_on)
            outcome = "completed" if key is None else "interrupted by key"
            return key
        finally:
            self._finish_verb(record, outcome)

    def _verb_Gather(self, verb: Verb) -> tuple[str, Document | None]:
        terminators = verb.get("terminatingDigits") or ""
        max_digits = int(verb.number("maxDigits", 50))
        inter_digit = verb.number("interDigitTimeout", 5)
        first_digit = verb.number("firstDigitTimeout", 5)
        repeat = int(verb.number("repeatCount", 1))
        if (verb.get("input") or "dtmf") != "dtmf":
            self._log("<Gather input> includes speech: not simulated, collecting DTMF only")

        key: str | None = None
        rounds = repeat if verb.children else 1
        for round_number in range(rounds):
            for prompt in verb.children:
                key = self._play(prompt, _any_key, "Gather")
                if key is not None:
                    break
            if key is not None or round_number == rounds - 1:
                break
            key = self._wait(first_digit, _any_key)  # the gap between plays equals firstDigitTimeout
            if key is not None:
                break
        if key is None:
            key = self._wait(first_digit, _any_key)

        digits, terminator, reason = "", "", "first-digit timeout"
        while key is not None:
            if key in terminators:
                terminator, reason = key, "terminating digit"
                break
            digits += key
            if len(digits) >= max_digits:
                reason = "max digits"
                break
            key = self._wait(inter_digit, _any_key)
            if key is None:
                reason = "inter-digit timeout"
        self._log(f"gather ended ({reason}): digits={digits!r} terminatingDigit={terminator!r}")
        target = self._target(verb, "gather")
        if target is None:
            self._log("no gatherUrl: digits dropped, continuing")
            return reason, None
        return reason, self._sync_webhook("gather", target, {"digits": digits, "terminatingDigit": terminator})

    def _verb_StartGather(self, verb: Verb) -> tuple[str, None]:
        self._dtmf_target = self._target(verb, "dtmf")
        return "started", None

    def _verb_StopGather(self, _verb: Verb) -> tuple[str, None]:
        self._dtmf_target = None
        return "stopped", None

    def _verb_SpeakSentence(self, verb: Verb) -> tuple[str, None]:
        self._wait(self.config.prompt_seconds(verb))
        return "completed", None

    _verb_PlayAudio = _verb_SpeakSentence

    def _verb_Pause(self, verb: Verb) -> tuple[str, None]:
        self._wait(verb.number("duration", 1))
        return "completed", None

    def _verb_Ring(self, verb: Verb) -> tuple[str, None]:
        self._wait(verb.number("duration", 5))
        return "completed", None

    def _verb_SendDtmf(self, verb: Verb) -> tuple[str, None]:
        tone, gap = verb.number("toneDuration", 200) / 1000, verb.number("toneInterval", 400) / 1000
        pauses = {",": 0.5, "w": 0.5, "W": 1.0}
        self._wait(sum(pauses.get(char, tone + gap) for char in verb.text))
        return "completed", None

    def _verb_Redirect(self, verb: Verb) -> tuple[str, Document]:
        target = self._target(verb, "redirect")
        assert target is not None  # redirectUrl is required
        return "redirected", self._sync_webhook("redirect", target)

    def _verb_Hangup(self, _verb: Verb) -> tuple[str, None]:
        self._end("hangup")
        raise _CallOver

    def _verb_Tag(self, verb: Verb) -> tuple[str, None]:
        self._set_tag(verb.text.strip())
        return "completed", None

    def _verb_Forward(self, verb: Verb) -> tuple[str, None]:
        self._log(f"<Forward to={verb.get('to')}>: the application loses control; simulated as the call ending")
        self._end("hangup")
        raise _CallOver

    def _verb_Transfer(self, verb: Verb) -> tuple[str, Document | None]:
        destinations = [child.text for child in verb.children]
        self._log(f"<Transfer> to {', '.join(destinations)}: simulated B-leg for {self.config.transfer_seconds:g}s")
        self._wait(self.config.transfer_seconds)
        target = self._target(verb, "transferComplete")
        if target is None:
            return "completed", None
        fields = {"transferCallerId": verb.get("transferCallerId") or self.call.from_,
                  "transferTo": destinations[0], "cause": self.config.transfer_cause}
        return "completed", self._sync_webhook("transferComplete", target, fields)

    def _verb_Record(self, verb: Verb) -> tuple[str, Document | None]:
        terminators = verb.get("terminatingDigits", "#") or ""
        started_at, started = utc_now(), self.call.call_time
        key = self._wait(min(self.config.record_seconds, verb.number("maxDuration", 60)), lambda k: k in terminators)
        duration = self.call.call_time - started
        self._log(f"recorded {duration:g}s" + (f", ended by {key}" if key else ""))
        if verb.get("recordingAvailableUrl") or verb.get("transcriptionAvailableUrl"):
            self._log("recordingAvailable / transcriptionAvailable events are not simulated")
        target = self._target(verb, "recordComplete")
        if target is None:
            return "completed", None
        recording_id = new_recording_id()
        fields = {"recordingId": recording_id, "mediaUrl": f"{self.call.call_url}/recordings/{recording_id}/media",
                  "duration": iso_duration(duration), "channels": 1, "fileFormat": verb.get("fileFormat") or "wav",
                  "startTime": iso_ms(started_at), "endTime": iso_ms(utc_now())}
        return "completed", self._sync_webhook("recordComplete", target, fields)

    def _log(self, message: str) -> None:
        self.journal.log(self.call.call_id, self.call.call_time, message)
