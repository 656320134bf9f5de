"""The configuration reference, generated from the schema rows (so the docs cannot drift)."""

from __future__ import annotations

from adapter.config import SCHEMA, Setting


def _default(row: Setting) -> str:
    if row.default is None:
        return ""
    if isinstance(row.default, tuple):
        return "`[]`" if not row.default else f"`{list(row.default)}`"
    if isinstance(row.default, bool):
        return f"`{str(row.default).lower()}`"
    if isinstance(row.default, float) and row.default.is_integer():
        return f"`{int(row.default)}`"
    if isinstance(row.default, str) and len(row.default) > 40:
        return "(see docs)"
    return f"`{row.default}`"


def markdown_table() -> str:
    """One row per key: key, default, required for, notes (secret keys marked)."""
    lines = ["| key | default | required for | meaning |", "|---|---|---|---|"]
    for row in SCHEMA:
        modes = ", ".join(sorted(mode.value for mode in row.required_for))
        secret = " (secret)" if row.secret else ""
        lines.append(f"| `{row.dotted}` | {_default(row)} | {modes} | {row.doc}{secret} |")
    return "\n".join(lines)

