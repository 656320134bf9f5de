"""Documentation rendered from the mapping tables and the diagnostic registry.

Pure functions returning Markdown.  ``scripts/generate_docs.py`` writes them into
README.md (between ``<!-- BEGIN generated:NAME -->`` / ``<!-- END generated:NAME -->``
markers) and ``docs/diagnostics.md``; ``tests/test_docs.py`` fails when either is stale,
so the docs cannot drift from the code.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable

from translators.attribute_rules import AttributeRule, table_rows
from translators.diagnostics import RULES


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _code(text: str) -> str:
    if text in ("", "—"):
        return text or ""
    return f"`{text}`"


def attribute_table(rows: Iterable[AttributeRule], source_label: str, target_label: str) -> str:
    lines = [
        f"| {source_label} | {target_label} | values | {source_label} default | {target_label} default "
        "| BXML range | invalid | out of range | status | notes |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for row in table_rows(rows):
        targets = ", ".join(_code(t) for t in row["target"].split(", ")) if row["target"] != "—" else "—"
        lines.append("| " + " | ".join(_cell(c) for c in (
            _code(row["source"]), targets, row["kind"], _code(row["source_default"])
            if row["source_default"] != "—" else "—",
            _code(row["target_default"]) if row["target_default"] != "—" else "—",
            row["range"], row["on_invalid"] if row["status"] != "unsupported" else "",
            row["on_out_of_range"], row["status"], row["note"])) + " |")
    return "\n".join(lines)


def twiml_verb_table() -> str:
    from translators.twiml.tables import VERBS

    lines = ["| TwiML | BXML | status | notes |", "|---|---|---|---|"]
    for verb in VERBS:
        lines.append(f"| `<{verb.twiml}>` | {_cell(verb.bxml if verb.bxml == '—' else f'`<{verb.bxml}>`')} "
                     f"| {verb.status.value} | {_cell(verb.note)} |")
    return "\n".join(lines)


def twiml_attribute_tables() -> str:
    from translators.twiml.tables import VERBS

    parts = []
    for verb in VERBS:
        if not verb.attributes:
            continue
        parts.append(f"#### `<{verb.twiml}>` → `{verb.bxml}`\n\n"
                     + attribute_table(verb.attributes, "TwiML", "BXML"))
    return "\n\n".join(parts)


def diagnostics_table() -> str:
    lines = ["| code | name | severity | what it detects |", "|---|---|---|---|"]
    for rule in RULES.values():
        lines.append(f"| [{rule.code}](docs/diagnostics.md#{rule.code.lower()}) | `{rule.name}` "
                     f"| {rule.severity.value} | {_cell(rule.summary)} |")
    return "\n".join(lines)


def diagnostics_page() -> str:
    parts = [
        "# Diagnostics",
        "",
        "Generated from `translators/diagnostics.py` by `python scripts/generate_docs.py`; do not edit by hand.",
        "",
        "Every diagnostic has a stable code (never reused), a name, a severity and the source line. "
        "`--strict` (or `strict=True`) turns every warning and error into a failure.",
        "",
    ]
    for rule in RULES.values():
        parts += [
            f"## {rule.code}",
            "",
            f"**{rule.name}** · {rule.severity.value}",
            "",
            f"**What it detects.** {rule.summary}",
            "",
            f"**Why the call changes.** {rule.why}",
            "",
        ]
        if rule.example:
            parts += ["**Example.**", "", "```xml" if rule.example.lstrip().startswith("<") else "```",
                      rule.example, "```", ""]
        parts += [f"**What we emit.** {rule.emitted}", "", f"**How to fix.** {rule.fix}", ""]
    return "\n".join(parts)




def _catapult_tables() -> str:
    from translators.catapult import documentation_table

    return documentation_table()


def _callback_tables() -> str:
    from translators.callbacks.tables import documentation_table

    return documentation_table()


# Sections of README.md that are generated: marker name -> renderer.
README_SECTIONS: dict[str, Callable[[], str]] = {
    "twiml-verbs": twiml_verb_table,
    "twiml-attributes": twiml_attribute_tables,
    "diagnostics": diagnostics_table,
    "catapult-gather": _catapult_tables,
    "callback-tables": _callback_tables,
}


def render_readme(readme: str) -> str:
    """``readme`` with every generated section replaced by a fresh rendering."""
    for name, render in README_SECTIONS.items():
        pattern = re.compile(rf"(<!-- BEGIN generated:{re.escape(name)} -->\n)(?:.*?\n)?(<!-- END generated:"
                             rf"{re.escape(name)} -->)", re.DOTALL)
        if not pattern.search(readme):
            continue
        readme = pattern.sub(lambda m, r=render: m.group(1) + r() + "\n" + m.group(2), readme)
    return readme
