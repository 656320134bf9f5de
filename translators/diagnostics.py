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

from translators import codes_callbacks, codes_catapult, codes_document, codes_twiml
from translators.diagnostic_rule import Rule, Severity


@dataclass(frozen=True, init=False)
class Diagnostic:
    """One finding of a translation.  ``line`` is the 1-based source line, if known."""

    code: str
    severity: str
    message: str
    line: int | None = None
    column: int | None = None
    field: str | None = None

    def __init__(self, code: str, severity: str, message: str, line: int | None = None,
                 column: int | None = None, field: str | None = None) -> None:
        # Frozen: fields are set once, here, straight into the instance dict (the generated __init__
        # goes through object.__setattr__ per field; a keyword dict for update() costs as much again).
        fields = self.__dict__
        fields["code"] = code
        fields["severity"] = severity
        fields["message"] = message
        fields["line"] = line
        fields["column"] = column
        fields["field"] = field

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


# The registry: one data module per code range.  Add a range by adding its module here.
RULES: dict[str, Rule] = _rules(*codes_document.RULES, *codes_twiml.RULES, *codes_catapult.RULES,
                                *codes_callbacks.RULES)

__all__ = ["RULES", "Diagnostic", "Diagnostics", "Rule", "Severity", "has_severity", "lookup", "rule"]



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


_SEVERITY: dict[str, str] = {code: entry.severity.value for code, entry in RULES.items()}


class Diagnostics:
    """Collects the diagnostics of one translation (a per-call object, never module state)."""

    def __init__(self) -> None:
        self.items: list[Diagnostic] = []

    def add(self, code: str, message: str, line: int | None = None, *,
            column: int | None = None, field: str | None = None) -> Diagnostic:
        severity = _SEVERITY.get(code)
        if severity is None:
            severity = rule(code).severity.value  # raises for an unregistered code
        diagnostic = Diagnostic(code, severity, message, line, column, field)
        self.items.append(diagnostic)
        return diagnostic

    def extend(self, items: Iterable[Diagnostic]) -> None:
        self.items.extend(items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)


def has_severity(diagnostics: Iterable[Diagnostic], *severities: str) -> bool:
    return any(d.severity in severities for d in diagnostics)
