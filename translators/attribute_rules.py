"""Declarative attribute mapping: one row per source attribute, one engine for all tables.

A table is a tuple of ``AttributeRule`` rows.  Each row says which source attribute
maps to which target attribute(s), the default on each side, the valid range in the
source, the range the target accepts, and what to do when a value is invalid or out
of range.  ``apply_rules`` runs a table over one element's attributes; the README's
compatibility tables are generated from the same rows (``translators.docs``).

The rule for defaults ("state the source's effective value"): a target attribute is
written when the source stated the attribute, or when the source's default differs
from the target's default.  So a TwiML ``<Gather>`` without ``finishOnKey`` still
gets ``terminatingDigits="#"`` (Twilio's default) because BXML's default is none.

Every attribute is accounted for: an unknown one is BXM012; a known one BXML lacks is BXM013
when its value changes the call and BXM017 (info) when it is what BXML does anyway.

Speed: each table is compiled once (``plan_for``) into a ``TablePlan`` holding what follows
from its rows alone: per row a ``_Step`` (parsed literal default and the targets it writes,
the BXM013 wording of a lost default, the bound parse/format functions, the valid and target
ranges merged into one pre-check), the known names, the rows an absent attribute leaves idle
(visited only when stated), and the result of an element stating nothing the engine acts on.
``run_plan`` executes the plan; the result is exactly that of reading the rows one after
the other (tests/test_twiml_rule_plans.py checks it on every table).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from typing import Any

from translators.diagnostics import Diagnostics


class Action(StrEnum):
    """What to do with a value the source rejects or the target cannot hold."""

    CLAMP = "clamp"  # use the nearest bound of the target range (BXM015)
    DEFAULT = "default"  # use the source default, as the source platform does (BXM014)
    OMIT = "omit"  # leave the attribute out (BXM016)
    REJECT = "reject"  # raise ``RuleViolation`` (Catapult requests answer 400)


class Status(StrEnum):
    SUPPORTED = "supported"
    PARTIAL = "partial"
    UNSUPPORTED = "unsupported"


class RuleViolation(ValueError):
    """Raised for ``Action.REJECT`` rows; ``field`` names the offending source field."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(f"{field_name}: {message}")
        self.field = field_name
        self.reason = message


@dataclass(frozen=True)
class ContextValue:
    """A default that depends on the translation (e.g. Twilio's ``action`` = the document URL)."""

    key: str

    def __str__(self) -> str:
        return f"({self.key.replace('_', ' ')})"


Raw = str | int | float | bool | None


# -- value kinds ---------------------------------------------------------------


class Kind:
    """How a value is parsed and written.  ``parse`` raises ``ValueError`` with a reason."""

    label = "text"

    def parse(self, raw: Raw) -> Any:
        if type(raw) is str:  # the common case (XML attributes): the text itself
            return raw
        if isinstance(raw, bool) or raw is None or not isinstance(raw, str | int | float):
            raise ValueError("expected text")  # JSON objects and arrays are never a scalar value
        return str(raw)

    def format(self, value: Any) -> str:
        return str(value)


class Text(Kind):
    def __init__(self, max_length: int | None = None) -> None:
        self.max_length = max_length
        self.label = f"text (≤ {max_length})" if max_length else "text"

    def parse(self, raw: Raw) -> str:
        value = super().parse(raw)
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"longer than {self.max_length} characters")
        return value


_WHITESPACE = re.compile(r"\s")  # the characters str.isspace() accepts
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)")


class Url(Kind):
    label = "URL"

    def parse(self, raw: Raw) -> str:
        value = super().parse(raw).strip()
        if not value:
            raise ValueError("empty URL")
        if _WHITESPACE.search(value):
            raise ValueError("URL contains white space")
        return value


class Choice(Kind):
    """One of a fixed set of source values, each mapped to a target value (``""`` = leave out)."""

    def __init__(self, mapping: Mapping[str, str], *, case_sensitive: bool = True,
                 pattern: str | None = None) -> None:
        self.mapping = dict(mapping)
        self.case_sensitive = case_sensitive
        self.pattern = re.compile(pattern) if pattern else None
        self.label = " / ".join(f"`{k}`" for k in self.mapping) or "text"
        # The first key that matches wins; case-insensitively an exact match is also a lower-case match.
        self._lookup: dict[str, str] = {}
        for key, target in self.mapping.items():
            self._lookup.setdefault(key if case_sensitive else key.lower(), target)

    def parse(self, raw: Raw) -> str:
        value = " ".join(super().parse(raw).split())
        target = self._lookup.get(value if self.case_sensitive else value.lower())
        if target is not None:
            return target
        if self.pattern is not None and self.pattern.fullmatch(value):
            return value
        raise ValueError("expected " + ", ".join(repr(k) for k in self.mapping))


class Method(Choice):
    def __init__(self) -> None:
        super().__init__({"GET": "GET", "POST": "POST"}, case_sensitive=False)


class Number(Kind):
    """A number, optionally integer-only.  Accepts JSON numbers and numeric strings."""

    def __init__(self, *, integer: bool = False, unit: str = "") -> None:
        self.integer = integer
        self.unit = unit
        self.label = ("integer" if integer else "number") + (f" ({unit})" if unit else "")

    def parse(self, raw: Raw) -> float | int:
        if type(raw) is str:  # the common case: a short plain integer ("5", " 10 ")
            text = raw.strip()
            if 0 < len(text) <= 15 and text.isdigit() and text.isascii():
                return int(text)  # exactly int(float(text)): 15 digits are exact in a float
        if isinstance(raw, bool) or raw is None or not isinstance(raw, str | int | float):
            raise ValueError(f"expected {'an integer' if self.integer else 'a number'}")
        if isinstance(raw, int | float):
            number = float(raw)
        else:
            text = str(raw).strip()
            if not _NUMBER.fullmatch(text):
                raise ValueError(f"{text!r} is not {'an integer' if self.integer else 'a number'}")
            number = float(text)
        if not math.isfinite(number):
            raise ValueError("not a finite number")
        if self.integer:
            if number != int(number):
                raise ValueError(f"{raw!r} is not an integer")
            return int(number)
        return int(number) if number == int(number) else number

    def format(self, value: Any) -> str:
        if isinstance(value, float) and value == int(value):
            value = int(value)
        return str(value)


class Boolean(Kind):
    label = "`true` / `false`"

    def parse(self, raw: Raw) -> bool:
        if isinstance(raw, bool):
            return raw
        if not isinstance(raw, str):
            raise ValueError(f"{_show(raw)} is not true or false")
        text = raw.strip().lower()
        if text in ("true", "false"):
            return text == "true"
        raise ValueError(f"{raw!r} is not true or false")

    def format(self, value: Any) -> str:
        return "true" if value else "false"


class Keys(Kind):
    """DTMF keys: a string over ``alphabet`` of at most ``max_length`` characters."""

    def __init__(self, alphabet: str = "0123456789#*", *, max_length: int | None = None,
                 allow_empty: bool = True) -> None:
        self.alphabet = alphabet
        self.max_length = max_length
        self.allow_empty = allow_empty
        one = "one key" if max_length == 1 else "keys"
        self.label = f"{one} of `{alphabet}`" + (" or empty" if allow_empty else "")

    def parse(self, raw: Raw) -> str:
        value = super().parse(raw)
        if not value and not self.allow_empty:
            raise ValueError("must not be empty")
        if value.strip(self.alphabet):  # what is left has a key outside the alphabet
            bad = sorted({c for c in value if c not in self.alphabet})
            raise ValueError(f"{value!r} has keys outside {self.alphabet}: {''.join(bad)}")
        if self.max_length is not None and len(value) > self.max_length:
            raise ValueError(f"{value!r} is more than {self.max_length} key(s)")
        return value


# -- rows ------------------------------------------------------------------------


@dataclass(frozen=True)
class Range:
    low: float | None = None
    high: float | None = None

    def contains(self, value: float) -> bool:
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def clamp(self, value: float) -> float:
        if self.low is not None and value < self.low:
            return self.low
        if self.high is not None and value > self.high:
            return self.high
        return value

    def __str__(self) -> str:
        def fmt(x: float | None) -> str:
            return "" if x is None else (str(int(x)) if x == int(x) else str(x))

        if self.low is not None and self.high is not None:
            return f"{fmt(self.low)}–{fmt(self.high)}"
        if self.low is not None:
            return f"≥ {fmt(self.low)}"
        return f"≤ {fmt(self.high)}"


@dataclass(frozen=True)
class AttributeRule:
    """One source attribute and how it becomes target attributes."""

    source: str
    targets: tuple[str, ...]
    kind: Kind = field(default_factory=Kind)
    source_default: str | ContextValue | None = None  # effective value when absent
    target_default: str | None = None  # target's value when the target attribute is absent
    valid: Range | None = None  # what the source accepts; outside -> on_invalid
    target_range: Range | None = None  # what the target accepts; outside -> on_out_of_range
    on_invalid: Action = Action.DEFAULT
    on_out_of_range: Action = Action.CLAMP
    requires: str | None = None  # a condition (e.g. "speech") without which the attribute is ignored
    state_explicit: bool = True  # write an explicit value even when it equals the target default
    always_state: bool = False  # write the effective value even when it equals the target default
    write_empty: bool = False  # write "" (e.g. Record terminatingDigits="" = off; BXML default is "#")
    custom: bool = False  # the verb's translator handles this attribute itself; the row documents it
    context_only: bool = False  # parsed, validated and defaulted into ``values``, never written (no targets)
    status: Status = Status.SUPPORTED
    note: str = ""

    def __post_init__(self) -> None:
        if self.status is Status.UNSUPPORTED and self.targets:
            raise ValueError(f"{self.source}: unsupported rows have no targets")
        if self.context_only and self.targets:
            raise ValueError(f"{self.source}: context-only rows have no targets")
        if self.status is not Status.UNSUPPORTED and not self.targets and not (self.custom or self.context_only):
            raise ValueError(f"{self.source}: supported rows need a target")
        if self.context_only and not self.note:
            raise ValueError(f"{self.source}: a context-only row needs a note (where the value goes)")
        if self.status is not Status.SUPPORTED and not self.note:
            raise ValueError(f"{self.source}: a {self.status} row needs a note")

    # What an absent attribute contributes depends on the row alone when its default is a literal:
    # worked out on first use and kept (rows are immutable; ``apply_rules`` is the hot path).
    @cached_property
    def _literal_default(self) -> tuple[Any, str, bool]:
        """A literal ``source_default``: its parsed value, its written form, and whether it is written."""
        value = self.kind.parse(self.source_default)
        written = self.kind.format(value)
        return value, written, _writes_default(self, written)

    @cached_property
    def _absent_unsupported(self) -> str | None:
        """An unsupported row's BXM013 wording when the attribute is absent (None: nothing is lost)."""
        return _unsupported_what(self, _ABSENT)


def validate_table(rules: Iterable[AttributeRule]) -> tuple[AttributeRule, ...]:
    """Check a table on load: unique sources, coherent defaults."""
    rows = tuple(rules)
    seen: set[str] = set()
    for row in rows:
        if row.source in seen:
            raise ValueError(f"attribute {row.source} appears twice")
        seen.add(row.source)
        if isinstance(row.source_default, str) and row.status is Status.SUPPORTED:
            try:
                row.kind.parse(row.source_default)
            except ValueError as exc:
                raise ValueError(f"{row.source}: default {row.source_default!r}: {exc}") from None
    return rows


# -- the engine ------------------------------------------------------------------


@dataclass(slots=True)
class RuleContext:
    """What one application of a table needs: where findings go, and context values.

    ``locate``: computes ``line`` when a diagnostic needs it (finding a start tag's line costs
    more than a typical table run); when given, it is used instead of ``line``.
    """

    diagnostics: Diagnostics
    verb: str
    line: int | None = None
    values: Mapping[str, Any] = field(default_factory=dict)
    conditions: frozenset[str] = frozenset()
    field_prefix: str = ""
    unknown_code: str | None = "BXM012"  # None: unknown attributes raise RuleViolation
    locate: Callable[[], int | None] | None = None


def _at(ctx: RuleContext) -> int | None:
    """The source line of ``ctx``'s element, for a diagnostic."""
    return ctx.line if ctx.locate is None else ctx.locate()


@dataclass
class RuleResult:
    attributes: dict[str, str]
    values: dict[str, Any]  # parsed effective source values, by source attribute (absent -> default)
    explicit: set[str]


_ABSENT = object()
_NUMBERS = (int, float)

# What a row contributes when its attribute is absent (a compiled plan's opcodes).
_NOTHING = 0  # custom rows, and rows without a default: nothing
_LITERAL = 1  # a literal default: its parsed value, and its targets when written
_UNSUPPORTED = 2  # BXM013 when the source default behaves differently from the target
_CONTEXT = 3  # a default from the translation context or an earlier attribute: resolved per call
_BROKEN = 4  # a literal default that does not parse: raises on use, as the row does

# What a row does with a stated attribute.
_CHECK = 0  # parse, check, write
_SKIP = 1  # custom: the verb's translator handles it
_DROP = 2  # unsupported: BXM013 or BXM017


class _Step:
    """One row compiled: what its attribute contributes when absent, and how a stated value is handled.

    ``low``/``high`` bound both the source's valid range and the target's range: a number
    inside both needs no further check; anything else goes through ``_checked``.
    """

    __slots__ = ("absent", "bounded", "default", "format", "high", "low", "parse", "present", "requires",
                 "row", "skip", "source", "targets", "write_empty", "written")

    def __init__(self, row: AttributeRule) -> None:
        self.row = row
        self.source = row.source
        self.requires = row.requires or None
        self.default: Any = None  # absent: the parsed literal default, or the BXM013 wording of a lost one
        self.written: dict[str, str] | None = None  # absent: the targets a literal default writes
        if row.custom:
            self.absent = _NOTHING
        elif row.status is Status.UNSUPPORTED:
            self.absent, self.default = _UNSUPPORTED, row._absent_unsupported
        elif isinstance(row.source_default, str):
            try:
                self.default, text, writes = row._literal_default
            except ValueError:
                self.absent = _BROKEN
            else:
                self.absent = _LITERAL
                self.written = {target: text for target in row.targets} if writes else None
        elif row.source_default is None:
            self.absent = _NOTHING
        else:
            self.absent = _CONTEXT
        self.present = _SKIP if row.custom else _DROP if row.status is Status.UNSUPPORTED else _CHECK
        self.parse = row.kind.parse
        self.format = row.kind.format
        self.bounded = row.valid is not None or row.target_range is not None
        self.low, self.high = -math.inf, math.inf
        for bounds in (row.valid, row.target_range):
            if bounds is not None and bounds.low is not None:
                self.low = max(self.low, bounds.low)
            if bounds is not None and bounds.high is not None:
                self.high = min(self.high, bounds.high)
        self.targets = row.targets
        self.write_empty = row.write_empty
        self.skip = None if row.state_explicit else row.target_default  # an explicit value left unwritten


class TablePlan:
    """A table compiled once: known names, and per row what an absent or stated attribute does.

    ``apply_rules`` runs the plan instead of re-deriving the same facts from the rows on every
    call.  The rows stay the single source of truth (and render the documentation); a plan holds
    only what follows from them.  Steps keep the table's order, so attributes and diagnostics
    come out in the same order as row-by-row interpretation.
    """

    __slots__ = ("active", "fixed", "idle", "inert", "known", "quiet", "rules", "steps", "visiting")

    def __init__(self, rules: tuple[AttributeRule, ...]) -> None:
        self.rules = rules
        self.known = frozenset(row.source for row in rules)
        # Attributes that do nothing here when stated: the verb's translator handles them (custom rows).
        self.inert = frozenset(row.source for row in rules if row.custom and not row.requires)
        self.fixed: dict[frozenset[str], tuple[dict[str, str], dict[str, Any]] | None] = {}
        self.steps = tuple(_Step(row) for row in rules)
        # Rows that do nothing when their attribute is absent need a visit only when it is stated.
        self.idle = frozenset(step.source for step in self.steps
                              if step.absent == _NOTHING or (step.absent == _UNSUPPORTED and step.default is None))
        self.active = tuple(step for step in self.steps if step.source not in self.idle)
        self.visiting: dict[frozenset[str], tuple[_Step, ...]] = {}  # per set of stated idle rows
        # Without conditions, an element stating only these names gets nothing from the table (``is_silent``).
        self.quiet = self.inert if self._silent((), frozenset()) else None

    def visits(self, attributes: Mapping[str, Raw]) -> tuple[_Step, ...]:
        """The steps an element stating ``attributes`` needs, in row order: the active ones and its idle ones."""
        if self.idle.isdisjoint(attributes):
            return self.active
        wanted = self.idle.intersection(attributes)  # names of this table's rows: a bounded set of keys
        steps = self.visiting.get(wanted)
        if steps is None:
            if len(self.visiting) >= _MAX_VISITS:
                self.visiting.clear()
            steps = self.visiting[wanted] = tuple(step for step in self.steps
                                                   if step.source in wanted or step.source not in self.idle)
        return steps

    def fixed_result(self, attributes: Mapping[str, Raw],
                     conditions: frozenset[str] = frozenset()) -> RuleResult | None:
        """``absent_result`` when every stated attribute is inert (the engine would do nothing with it)."""
        if attributes and not attributes.keys() <= self.inert:
            return None
        return self.absent_result(conditions)

    def is_silent(self, names: Iterable[str], conditions: frozenset[str] = frozenset()) -> bool:
        """Whether an element stating only ``names`` gets no attribute, value or diagnostic from this table."""
        if not conditions:
            return self.quiet is not None and self.quiet.issuperset(names)
        return self._silent(names, conditions)

    def _silent(self, names: Iterable[str], conditions: frozenset[str]) -> bool:
        if not self.inert.issuperset(names):
            return False
        fixed = self.fixed.get(conditions, _ABSENT)
        if fixed is _ABSENT:
            fixed = self.fixed[conditions] = self._absent(conditions)
        return fixed is not None and not fixed[0] and not fixed[1]  # type: ignore[index]

    def absent_result(self, conditions: frozenset[str] = frozenset()) -> RuleResult | None:
        """The result for an element that states no attribute, when it is the same on every call.

        None when the table has per-call work even then (a default from the context, a BXM013 for
        a lost default).  The result is a fresh copy: callers may change it.
        """
        fixed = self.fixed.get(conditions, _ABSENT)
        if fixed is _ABSENT:
            fixed = self.fixed[conditions] = self._absent(conditions)
        if fixed is None:
            return None
        return RuleResult(dict(fixed[0]), dict(fixed[1]), set())  # type: ignore[index]

    def _absent(self, conditions: frozenset[str]) -> tuple[dict[str, str], dict[str, Any]] | None:
        out: dict[str, str] = {}
        values: dict[str, Any] = {}
        for step in self.steps:  # apply_rules' absent branch, on no attribute
            if step.absent == _LITERAL:
                values[step.source] = step.default
                if step.written and not (step.requires and step.requires not in conditions):
                    out.update(step.written)
            elif step.absent == _UNSUPPORTED:
                if step.default is not None:
                    return None
            elif step.absent != _NOTHING:
                return None
        return out, values


_MAX_VISITS = 1024  # per table: subsets of its idle rows' names (a table with many could have more)
_PLANS: dict[int, TablePlan] = {}
_MAX_PLANS = 256  # tables are module constants; a caller building tables per call must not grow this forever


def plan_for(rules: Iterable[AttributeRule]) -> TablePlan:
    """The compiled plan of a table: tuples (every table) are compiled once and kept."""
    if type(rules) is tuple:
        plan = _PLANS.get(id(rules))
        if plan is None or plan.rules is not rules:  # a plan keeps its table alive, so ids are not reused
            if len(_PLANS) >= _MAX_PLANS:
                _PLANS.clear()
            plan = _PLANS[id(rules)] = TablePlan(rules)
        return plan
    return TablePlan(tuple(rules))


def apply_rules(rules: Iterable[AttributeRule], attributes: Mapping[str, Raw], ctx: RuleContext,
                *, extra_known: Iterable[str] = ()) -> RuleResult:
    """Map one element's source attributes through ``rules``."""
    return run_plan(plan_for(rules), attributes, ctx, frozenset(extra_known))


def run_plan(plan: TablePlan, attributes: Mapping[str, Raw], ctx: RuleContext,
             extra_known: frozenset[str] = frozenset()) -> RuleResult:
    """``apply_rules`` with the table's plan at hand."""
    if not attributes:
        fixed = plan.absent_result(ctx.conditions)
        if fixed is not None:
            return fixed
    known = plan.known | extra_known if extra_known else plan.known
    if not known.issuperset(attributes):
        for name in attributes:
            if name not in known:
                _unknown(name, attributes[name], ctx)
    out: dict[str, str] = {}
    values: dict[str, Any] = {}
    explicit: set[str] = set()
    conditions = ctx.conditions
    get = attributes.get
    for step in plan.visits(attributes):
        source = step.source
        raw = get(source)  # absent, or JSON null ("unset" in every client we accept)
        if raw is None:
            absent = step.absent
            if absent == _LITERAL:
                values[source] = step.default
                written = step.written
                if written is not None and (step.requires is None or step.requires in conditions):
                    out.update(written)
            elif absent == _CONTEXT:
                _absent_from_context(step.row, ctx, values, out, conditions)
            elif absent == _UNSUPPORTED:
                if step.default is not None:
                    ctx.diagnostics.add("BXM013", f"<{ctx.verb}> {step.default} dropped: {step.row.note}", _at(ctx),
                                        field=ctx.field_prefix + source)
            elif absent == _BROKEN:
                step.row._literal_default  # noqa: B018 - raises the row's ValueError, as interpretation does
            continue
        requires = step.requires
        if requires is not None and requires not in conditions:
            ctx.diagnostics.add("BXM109", f"<{ctx.verb}> {source}={_show(raw)} is ignored: "
                                f"it applies only to {requires} input", _at(ctx), field=ctx.field_prefix + source)
            continue
        present = step.present
        if present == _SKIP:
            continue
        if present == _DROP:
            _unsupported(step.row, raw, ctx)
            continue
        explicit.add(source)
        try:
            value = step.parse(raw)
        except ValueError:
            value = _checked(step.row, raw, ctx, values)
        else:
            if step.bounded and isinstance(value, _NUMBERS) and not step.low <= value <= step.high:
                value = _checked(step.row, raw, ctx, values)  # out of a range: the general path reports it
        if value is _ABSENT:
            continue
        values[source] = value
        text = step.format(value)
        if (text == "" and not step.write_empty) or text == step.skip:
            continue
        for target in step.targets:
            out[target] = text
    return RuleResult(out, values, explicit)


def _absent_from_context(row: AttributeRule, ctx: RuleContext, values: dict[str, Any], out: dict[str, str],
                         conditions: frozenset[str]) -> None:
    """An absent attribute whose default comes from the context or an earlier attribute."""
    default = _resolve(row.source_default, ctx, values)
    if default is None:
        return
    value = row.kind.parse(default) if isinstance(default, str) else default
    values[row.source] = value
    if row.requires and row.requires not in conditions:
        return
    written = row.kind.format(value)
    if _writes_default(row, written):
        for target in row.targets:
            out[target] = written


def _writes_default(row: AttributeRule, written: str) -> bool:
    """Whether an absent attribute's default is stated in the target (see the module docstring)."""
    return (written != row.target_default or row.always_state) and (written != "" or row.write_empty)


def _unsupported(row: AttributeRule, raw: Raw, ctx: RuleContext) -> None:
    """Name every unsupported attribute: BXM013 when its behaviour is lost, BXM017 when it had none.

    An absent attribute is reported only when its source default behaves differently from the target.
    A stated one is always reported: BXM013 (warning) when the value changes the call, BXM017 (info)
    when it is what the target does anyway (``playBeep="false"``), so nothing disappears unreported.
    A row whose invalid values the source refused (``Action.REJECT``) is still validated.
    """
    if raw is _ABSENT:
        what = row._absent_unsupported
        if what is not None:
            ctx.diagnostics.add("BXM013", f"<{ctx.verb}> {what} dropped: {row.note}", _at(ctx),
                                field=ctx.field_prefix + row.source)
        return
    if row.on_invalid is Action.REJECT:
        _reject_invalid(row, raw, ctx)
    what = _unsupported_what(row, raw)
    if what is None:
        ctx.diagnostics.add("BXM017", f"<{ctx.verb}> {row.source}={_show(raw)} dropped without effect (it is what "
                            f"BXML does anyway): {row.note}", _at(ctx), field=ctx.field_prefix + row.source)
    else:
        ctx.diagnostics.add("BXM013", f"<{ctx.verb}> {what} dropped: {row.note}", _at(ctx),
                            field=ctx.field_prefix + row.source)


def _reject_invalid(row: AttributeRule, raw: Raw, ctx: RuleContext) -> None:
    """Raise ``RuleViolation`` for a value the source refused, even on a row the target cannot express."""
    try:
        value = row.kind.parse(raw)
        if row.valid is not None and isinstance(value, int | float) and not row.valid.contains(value):
            raise ValueError(f"outside {row.valid}")
    except ValueError as exc:
        raise RuleViolation(ctx.field_prefix + row.source, str(exc)) from None


def _unsupported_what(row: AttributeRule, raw: Raw | object) -> str | None:
    """What BXM013 reports as dropped, or None when the target behaves the same without it.

    ``target_default`` of an unsupported row is the source value the target behaves like
    (e.g. Record ``playBeep``: BXML plays no beep, so ``"false"``).  An absent attribute whose
    source default differs from it is reported too: the default's behaviour is lost.
    """
    stated = raw is not _ABSENT
    effective = raw if stated else row.source_default
    if effective is None or isinstance(effective, ContextValue):
        return None
    shown = _show(effective)
    if row.target_default is not None and _same_value(row, effective, shown, row.target_default):
        return None
    return f"{row.source}={shown}" if stated else f"{row.source} (default {shown})"


def _same_value(row: AttributeRule, value: Raw, shown: str, target_default: str) -> bool:
    """Whether ``value`` is what the target does anyway: the same text (any case), or the same number."""
    if shown.strip('"').lower() == target_default.lower():
        return True
    if isinstance(row.kind, Number):  # 0.0 and "0" are the same volume
        try:
            return row.kind.parse(value) == row.kind.parse(target_default)
        except ValueError:
            return False
    return False


def _checked(row: AttributeRule, raw: Raw, ctx: RuleContext, values: Mapping[str, Any]) -> Any:
    try:
        value = row.kind.parse(raw)
        if row.valid is not None and isinstance(value, int | float) and not row.valid.contains(value):
            raise ValueError(f"outside {row.valid}")
    except ValueError as exc:
        return _invalid(row, str(exc), raw, ctx, values)
    if row.target_range is not None and isinstance(value, int | float) and not row.target_range.contains(value):
        fld = ctx.field_prefix + row.source
        if row.on_out_of_range is Action.REJECT:
            raise RuleViolation(fld, f"{_show(raw)} is outside {row.target_range}")
        if row.on_out_of_range is Action.CLAMP:
            clamped = row.target_range.clamp(value)
            clamped = int(clamped) if clamped == int(clamped) else clamped
            targets = "/".join(row.targets)
            ctx.diagnostics.add("BXM015", f"<{ctx.verb}> {row.source}={_show(raw)} is outside BXML's {targets} "
                                f"range {row.target_range}; using {row.kind.format(clamped)}", _at(ctx), field=fld)
            return clamped
        return _invalid(row, f"outside {row.target_range}", raw, ctx, values, action=row.on_out_of_range)
    return value


def _invalid(row: AttributeRule, reason: str, raw: Raw, ctx: RuleContext,
             values: Mapping[str, Any], action: Action | None = None) -> Any:
    where = f"<{ctx.verb}> {row.source}={_show(raw)}"
    fld = ctx.field_prefix + row.source
    action = action or row.on_invalid
    if action is Action.REJECT:
        raise RuleViolation(fld, reason)
    if action is Action.DEFAULT:
        default = _resolve(row.source_default, ctx, values)
        if default is not None:
            value = row.kind.parse(default) if isinstance(default, str) else default
            shown = row.kind.format(value) or '""'
            ctx.diagnostics.add("BXM014", f"{where} is invalid ({reason}); using the default {shown} "
                                "as the source platform does", _at(ctx), field=fld)
            return value
    ctx.diagnostics.add("BXM016", f"{where} is invalid ({reason}); attribute left out"
                        + (f", so BXML's default {row.target_default} applies" if row.target_default else ""),
                        _at(ctx), field=fld)
    return _ABSENT


def _unknown(name: str, raw: Raw, ctx: RuleContext) -> None:
    if ctx.unknown_code is None:
        raise RuleViolation(ctx.field_prefix + name, "unknown field")
    ctx.diagnostics.add(ctx.unknown_code, f"<{ctx.verb}> has no attribute {name!r}; dropped "
                        f"({name}={_show(raw)})", _at(ctx), field=ctx.field_prefix + name)


def _resolve(default: str | ContextValue | None, ctx: RuleContext, values: Mapping[str, Any]) -> Any:
    """A default's value: literal, from the translation context, or an earlier attribute's value."""
    if isinstance(default, ContextValue):
        if default.key in ctx.values:
            return ctx.values[default.key]
        return values.get(default.key)
    return default


def _show(raw: Raw) -> str:
    if isinstance(raw, str):
        return '"' + raw + '"'
    if isinstance(raw, bool):
        return "true" if raw else "false"
    return str(raw)


def table_rows(rules: Iterable[AttributeRule]) -> list[dict[str, str]]:
    """Rows for the documentation table generated from a mapping table."""
    rows = []
    for row in rules:
        rows.append({
            "source": row.source,
            "target": ", ".join(row.targets) or "—",
            "kind": row.kind.label,
            "source_default": "—" if row.source_default is None else str(row.source_default) or '""',
            "target_default": "—" if row.target_default is None else row.target_default or '""',
            "range": str(row.target_range) if row.target_range else (str(row.valid) if row.valid else ""),
            "on_invalid": row.on_invalid.value,
            "on_out_of_range": row.on_out_of_range.value if row.target_range else "",
            "status": row.status.value,
            "note": row.note,
        })
    return rows

