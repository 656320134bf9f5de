"""The compiled table plans give exactly what row-by-row interpretation of the table gives.

``apply_rules`` runs a plan compiled once per table (precomputed defaults, a fixed result for
elements that state nothing the engine acts on).  ``interpret`` below is the engine's plain
reading of the rows, one row after the other; for every TwiML and Catapult table, on random
attributes, values, conditions and unknown-attribute handling, both must give the same
attributes (in the same order), values, explicit set, diagnostics (in the same order) and the
same refusal.  ``Number.parse``'s fast path is checked against the general parser the same way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from translators import attribute_rules as engine
from translators.attribute_rules import (
    _ABSENT,
    _NUMBER,
    AttributeRule,
    Number,
    RuleContext,
    RuleResult,
    RuleViolation,
    Status,
    apply_rules,
    plan_for,
)
from translators.catapult import tables as catapult_tables
from translators.catapult.audio import AUDIO_REQUEST
from translators.diagnostics import Diagnostics
from translators.twiml import tables as twiml_tables

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def interpret(rules: tuple[AttributeRule, ...], attributes: Mapping[str, Any], ctx: RuleContext,
              extra_known: tuple[str, ...] = ()) -> RuleResult:
    """The rows read one after the other (the engine before plans were compiled)."""
    out: dict[str, str] = {}
    values: dict[str, Any] = {}
    explicit: set[str] = set()
    known = {row.source for row in rules} | set(extra_known)
    for name in attributes:
        if name not in known:
            engine._unknown(name, attributes[name], ctx)
    for row in rules:
        raw = attributes.get(row.source, _ABSENT)
        if raw is None:
            raw = _ABSENT
        if raw is not _ABSENT and row.requires and row.requires not in ctx.conditions:
            ctx.diagnostics.add("BXM109", f"<{ctx.verb}> {row.source}={engine._show(raw)} is ignored: "
                                f"it applies only to {row.requires} input", engine._at(ctx),
                                field=ctx.field_prefix + row.source)
            continue
        if row.custom:
            continue
        if row.status is Status.UNSUPPORTED:
            engine._unsupported(row, raw, ctx)
            continue
        if raw is _ABSENT:
            default = engine._resolve(row.source_default, ctx, values)
            if default is None:
                continue
            value = row.kind.parse(default) if isinstance(default, str) else default
            values[row.source] = value
            if row.requires and row.requires not in ctx.conditions:
                continue
            written = row.kind.format(value)
            if engine._writes_default(row, written):
                for target in row.targets:
                    out[target] = written
            continue
        explicit.add(row.source)
        value = engine._checked(row, raw, ctx, values)
        if value is _ABSENT:
            continue
        values[row.source] = value
        written = row.kind.format(value)
        if written == "" and not row.write_empty:
            continue
        if not row.state_explicit and written == row.target_default:
            continue
        for target in row.targets:
            out[target] = written
    return RuleResult(out, values, explicit)


TWIML_TABLES = {f"twiml-{verb.twiml}": verb.attributes for verb in twiml_tables.VERBS if verb.attributes}
TWIML_TABLES |= {"twiml-DialConference": twiml_tables.DIAL_CONFERENCE,
                 "twiml-StopStream": twiml_tables.STOP_STREAM}
CATAPULT_TABLES = {"v1-gather": catapult_tables.GATHER_REQUEST, "v1-prompt": catapult_tables.PROMPT,
                   "v1-audio": AUDIO_REQUEST}


def _interesting(rows: tuple[AttributeRule, ...]) -> list[str]:
    """Each row's defaults (both sides) and values near its ranges: where the branches are."""
    found = {"", " ", "0", "1", "5", "50", "60", "61", "-1", "2.5", "x", "true", "false", "TRUE", "POST", "get",
             "#", "*#", "ab", "auto", "speech", "dtmf speech", "/next", "a b", "wss://s.example/a"}
    for row in rows:
        for value in (row.source_default, row.target_default):
            if isinstance(value, str):
                found.add(value)
    return sorted(found)


def _twiml_attributes(rows: tuple[AttributeRule, ...]) -> st.SearchStrategy[dict[str, str]]:
    names = [row.source for row in rows] + ["foo", "numdigits"]
    values = st.sampled_from(_interesting(rows)) | st.text(max_size=6)
    return st.dictionaries(st.sampled_from(names), values, max_size=len(names))


json_scalars = (st.none() | st.booleans() | st.integers(-100, 100) | st.floats(allow_nan=True)
                | st.sampled_from(["", "5", "31", "#", "true", "false", "Susan", "female", "fr_FR", "x"])
                | st.text(max_size=6))
json_values = json_scalars | st.lists(json_scalars, max_size=2) | st.dictionaries(st.text(max_size=3), json_scalars,
                                                                                  max_size=2)


def _json_attributes(rows: tuple[AttributeRule, ...]) -> st.SearchStrategy[dict[str, Any]]:
    names = [row.source for row in rows] + ["bogus"]
    return st.dictionaries(st.sampled_from(names), json_values, max_size=len(names))


def _run(how: Any, rules: tuple[AttributeRule, ...], attributes: Mapping[str, Any], **context: Any) -> tuple:
    diagnostics = Diagnostics()
    ctx = RuleContext(diagnostics, verb="V", **context)
    try:
        result = how(rules, attributes, ctx)
    except RuleViolation as exc:
        return ("refused", exc.field, exc.reason, diagnostics.items)
    except ValueError as exc:  # a table whose default does not parse fails the same way
        return ("error", str(exc), diagnostics.items)
    return (list(result.attributes.items()), result.values, result.explicit, diagnostics.items)


contexts = st.fixed_dictionaries({
    "values": st.fixed_dictionaries({"document_url": st.none() | st.just("https://a.example/x.xml")},
                                    optional={"v1_default_voice": st.just("Susan"), "timeout": st.integers(1, 90)}),
    "conditions": st.sampled_from([frozenset(), frozenset({"speech"})]),
    "unknown_code": st.sampled_from(["BXM012", None]),
    "line": st.none() | st.integers(1, 9),
    "field_prefix": st.sampled_from(["", "prompt."]),
})


@pytest.mark.parametrize("name", sorted(TWIML_TABLES))
@SETTINGS
@given(data=st.data())
def test_twiml_tables_plan_equals_interpretation(name, data):
    rules = TWIML_TABLES[name]
    attributes = data.draw(_twiml_attributes(rules))
    context = data.draw(contexts)
    assert _run(apply_rules, rules, attributes, **context) == _run(interpret, rules, attributes, **context)


@pytest.mark.parametrize("name", sorted(CATAPULT_TABLES))
@SETTINGS
@given(data=st.data())
def test_catapult_tables_plan_equals_interpretation(name, data):
    rules = CATAPULT_TABLES[name]
    attributes = data.draw(_json_attributes(rules))
    context = data.draw(contexts)
    assert _run(apply_rules, rules, attributes, **context) == _run(interpret, rules, attributes, **context)


@pytest.mark.parametrize("name", sorted(TWIML_TABLES | CATAPULT_TABLES))
def test_absent_attributes_plan_equals_interpretation(name):
    rules = (TWIML_TABLES | CATAPULT_TABLES)[name]
    for conditions in (frozenset(), frozenset({"speech"})):
        context = {"conditions": conditions, "values": {"document_url": "https://a.example/x.xml"}}
        assert _run(apply_rules, rules, {}, **context) == _run(interpret, rules, {}, **context)


def test_a_fixed_result_is_a_fresh_copy():
    first = plan_for(twiml_tables.PAUSE).absent_result()
    assert first is not None and first.attributes == {"duration": "1"}
    first.attributes["duration"] = "9"
    first.values.clear()
    again = plan_for(twiml_tables.PAUSE).absent_result()
    assert again is not None and again.attributes == {"duration": "1"} and again.values == {"length": 1}


def test_plans_are_compiled_once_per_table_and_lists_still_work():
    assert plan_for(twiml_tables.GATHER) is plan_for(twiml_tables.GATHER)
    rows = list(twiml_tables.PAUSE)
    ctx = RuleContext(Diagnostics(), verb="Pause")
    assert apply_rules(rows, {"length": "3"}, ctx).attributes == {"duration": "3"}


def _general_number(kind: Number, raw: Any) -> Any:
    """``Number.parse`` without its fast path."""
    if isinstance(raw, bool) or raw is None or not isinstance(raw, str | int | float):
        raise ValueError("type")
    if isinstance(raw, int | float):
        number = float(raw)
    else:
        text = str(raw).strip()
        if not _NUMBER.fullmatch(text):
            raise ValueError("text")
        number = float(text)
    if not math.isfinite(number):
        raise ValueError("finite")
    if kind.integer:
        if number != int(number):
            raise ValueError("integer")
        return int(number)
    return int(number) if number == int(number) else number


@SETTINGS
@given(raw=st.text(st.sampled_from("0123456789 +-.e\t٣"), max_size=20) | st.integers(0, 10**20).map(str),
       integer=st.booleans())
def test_number_fast_path_equals_general_parse(raw, integer):
    kind = Number(integer=integer)
    try:
        expected: Any = _general_number(kind, raw)
    except ValueError:
        expected = ValueError
    try:
        got: Any = kind.parse(raw)
    except ValueError:
        got = ValueError
    assert got == expected and type(got) is type(expected)
