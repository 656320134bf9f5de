"""The outcome of a ``convert`` run: counts, exit code, the stderr summary and the JSON report.

Report (``--report FILE``)::

    {"files": [{"path": str, "output": str | null, "status": "converted" | "failed",
                "diagnostics": [{"code", "severity", "message", "line", ("column", "field")}],
                ("error": str)}],
     "skipped": [{"path": str, "reason": str}],
     "summary": {"files", "converted", "with_warnings", "with_errors", "failed",
                 "by_code": {"BXM102": {"name": str, "severity": str, "count": int}}}}

``output`` is null for a failed file (nothing was written).  ``error`` appears only on
failed files whose failure is not a translation finding: the input could not be read or the
output could not be written.  ``with_warnings`` and ``with_errors`` count converted files.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from bxml_migrate.convert_job import FileResult
from bxml_migrate.convert_plan import Skipped
from translators import RULES


@dataclass(frozen=True)
class Summary:
    files: int
    converted: int
    with_warnings: int
    with_errors: int
    failed: int
    by_code: dict[str, int] = field(default_factory=dict)  # sorted by code
    skipped_failures: int = 0  # directories that could not be listed

    @property
    def exit_code(self) -> int:
        """0 when every file converted without an error diagnostic, else 1."""
        return 1 if self.failed or self.with_errors or self.skipped_failures else 0


def summarize(results: Sequence[FileResult], skipped: Iterable[Skipped] = ()) -> Summary:
    converted = [r for r in results if r.status == "converted"]
    codes = Counter(d.code for r in results for d in r.diagnostics)
    return Summary(
        files=len(results),
        converted=len(converted),
        with_warnings=sum(1 for r in converted if r.has_severity("warning")),
        with_errors=sum(1 for r in converted if r.has_severity("error")),
        failed=len(results) - len(converted),
        by_code=dict(sorted(codes.items())),
        skipped_failures=sum(1 for s in skipped if s.failed),
    )


def file_entry(result: FileResult) -> dict[str, object]:
    entry: dict[str, object] = {
        "path": result.path,
        "output": result.output,
        "status": result.status,
        "diagnostics": [d.to_dict() for d in result.diagnostics],
    }
    if result.error is not None:
        entry["error"] = result.error
    return entry


def report_document(results: Sequence[FileResult], summary: Summary,
                    skipped: Sequence[Skipped] = ()) -> dict[str, object]:
    return {
        "files": [file_entry(r) for r in results],
        "skipped": [{"path": s.path, "reason": s.reason} for s in skipped],
        "summary": {
            "files": summary.files,
            "converted": summary.converted,
            "with_warnings": summary.with_warnings,
            "with_errors": summary.with_errors,
            "failed": summary.failed,
            "by_code": {code: {"name": RULES[code].name, "severity": RULES[code].severity.value, "count": count}
                        for code, count in summary.by_code.items()},
        },
    }


def report_bytes(document: dict[str, object]) -> bytes:
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def diagnostic_lines(results: Iterable[FileResult], skipped: Iterable[Skipped] = ()) -> list[str]:
    """One line per finding, ``path:line: severity CODE [name] message``, in file order."""
    lines: list[str] = []
    for skip in skipped:
        lines.append(f"{skip.path}: {'error' if skip.failed else 'note'}: skipped: {skip.reason}")
    for result in results:
        lines.extend(d.format(result.path) for d in result.diagnostics)
        if result.error is not None:
            lines.append(f"{result.path}: error: {result.error}")
    return lines


def summary_lines(summary: Summary) -> list[str]:
    lines = [f"{summary.files} file(s): {summary.converted} converted ({summary.with_warnings} with warnings, "
             f"{summary.with_errors} with errors), {summary.failed} failed"]
    if summary.by_code:
        width = max(len(RULES[code].name) for code in summary.by_code)
        for code, count in summary.by_code.items():
            rule = RULES[code]
            lines.append(f"  {code} {rule.name:<{width}}  {rule.severity.value:<7}  {count}")
    return lines
