"""The scripted person on the phone: key presses and hang-up on the call's simulated timeline.

A script is a list of steps, run in order against the call's *simulated* clock (seconds of call
time, which ``time_scale`` turns into real time):

- ``("wait", seconds)``: let this much call time pass;
- ``("press", "12#")``: press the keys, one by one, ``key_gap`` apart (a single key: at once);
- ``("await", "Gather")``: wait until a ``<Gather>`` the script has not awaited before is running
  (the one running now counts), then go on at the moment it started; any verb name works,
  case-insensitive;
- ``("hangup",)``: the caller hangs up.

Because every step is placed on the call's own clock, and the clock does not move while a webhook
is in flight, the order of key presses, prompts and timeouts is the same on every run however busy
the machine is.  ``press_keys`` and ``gather_input`` build common scripts.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Literal

DTMF_KEYS = frozenset("0123456789*#ABCDabcd")


@dataclass(frozen=True)
class Wait:
    seconds: float | None = None  # None = the simulator's key_gap


@dataclass(frozen=True)
class Press:
    keys: str
    gap: float | None = None  # between keys; None = the simulator's key_gap


@dataclass(frozen=True)
class Await:
    verb: str


@dataclass(frozen=True)
class HangUp:
    pass


Step = Wait | Press | Await | HangUp
StepLike = Step | tuple[object, ...]
ScriptLike = str | Sequence[StepLike]


def press_keys(keys: str, *, gap: float | None = None, start_after: float | None = None) -> list[Step]:
    """``keys`` pressed one by one: ``start_after`` (default ``gap``) of call time before the first key,
    ``gap`` between keys.  ``gap=None`` uses the simulator's ``key_gap``."""
    return [Wait(start_after if start_after is not None else gap), Press(keys, gap)]


def gather_input(*entries: str, gap: float | None = None, hangup: bool = False) -> list[Step]:
    """One entry per ``<Gather>``: wait for the next Gather, then press the entry's keys
    (``gap`` before the first and between keys).  An empty entry presses nothing in that Gather."""
    steps: list[Step] = []
    for entry in entries:
        steps.append(Await("Gather"))
        if entry:
            steps.extend(press_keys(entry, gap=gap))
    if hangup:
        steps.append(HangUp())
    return steps


def _step(item: StepLike) -> Step:
    if isinstance(item, Wait | Press | Await | HangUp):
        return item
    if not isinstance(item, tuple) or not item or not isinstance(item[0], str):
        raise ValueError(f"not a script step: {item!r}")
    kind, args = item[0].lower(), item[1:]
    if kind == "wait" and len(args) == 1 and isinstance(args[0], int | float) and args[0] >= 0:
        return Wait(float(args[0]))
    if kind == "press" and len(args) == 1 and isinstance(args[0], str):
        return Press(args[0])
    if kind == "await" and len(args) == 1 and isinstance(args[0], str) and args[0]:
        return Await(args[0])
    if kind == "hangup" and not args:
        return HangUp()
    raise ValueError(f"not a script step: {item!r}")


def normalize_script(script: ScriptLike | None, *, key_gap: float) -> list[Step]:
    """Turn a script (key string, tuples or step objects) into steps with every gap resolved."""
    if script is None:
        return []
    items: Iterable[StepLike] = press_keys(script) if isinstance(script, str) else script
    steps: list[Step] = []
    for item in items:
        step = _step(item)
        if isinstance(step, Wait):
            step = Wait(key_gap if step.seconds is None else step.seconds)
        if isinstance(step, Press):
            bad = set(step.keys) - DTMF_KEYS
            if bad or not step.keys:
                raise ValueError(f"not DTMF keys: {step.keys!r}")
            step = Press(step.keys, key_gap if step.gap is None else step.gap)
        steps.append(step)
    return steps


@dataclass(frozen=True)
class ScriptAction:
    """The next thing the caller does, at call time ``time``."""

    time: float
    kind: Literal["press", "await", "hangup"]
    value: str = ""


class CallerScript:
    """Runtime state of one call's script.  Used only by that call's engine thread."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self._queue: deque[Wait | Await | HangUp | tuple[str, str]] = deque()
        for step in steps:
            if isinstance(step, Press):
                for index, key in enumerate(step.keys):
                    if index:
                        self._queue.append(Wait(step.gap or 0.0))
                    self._queue.append(("press", key))
            else:
                self._queue.append(step)
        self._base = 0.0
        self._blocked_on: str | None = None
        self._awaited_seq = 0

    def peek(self) -> ScriptAction | None:
        """The next action and its call time, or None when the script is done or awaiting a verb."""
        if self._blocked_on is not None:
            return None
        while self._queue and isinstance(self._queue[0], Wait):
            wait = self._queue.popleft()
            assert isinstance(wait, Wait)
            self._base += wait.seconds or 0.0
        if not self._queue:
            return None
        head = self._queue[0]
        if isinstance(head, Await):
            return ScriptAction(self._base, "await", head.verb)
        if isinstance(head, HangUp):
            return ScriptAction(self._base, "hangup")
        return ScriptAction(self._base, "press", head[1])

    def consume(self, now: float, current_verb: tuple[str, int] | None) -> None:
        """Take the action ``peek`` returned, at call time ``now``; an await checks ``current_verb``
        (name and instance number of the verb running now)."""
        head = self._queue.popleft()
        self._base = max(self._base, now)
        if isinstance(head, Await):
            name, seq = current_verb or ("", 0)
            if name.lower() == head.verb.lower() and seq > self._awaited_seq:
                self._awaited_seq = seq
            else:
                self._blocked_on = head.verb.lower()

    def verb_started(self, name: str, seq: int, now: float) -> None:
        if self._blocked_on is not None and self._blocked_on == name.lower():
            self._blocked_on = None
            self._awaited_seq = seq
            self._base = max(self._base, now)

    @property
    def awaiting(self) -> str | None:
        return self._blocked_on

    def clear(self) -> None:
        self._queue.clear()
        self._blocked_on = None
