"""Converting one planned file: read, translate, write atomically, and say what happened.

Everything here is picklable and free of global state, so ``--jobs N`` can run the same
functions in worker processes and get results identical to an in-process run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from bxml_migrate.atomic_write import atomic_write
from translators import Diagnostic, TranslationError, twiml_to_bxml

Status = Literal["converted", "failed"]


@dataclass(frozen=True)
class ConvertJob:
    """One input file and where its translation goes."""

    path: str  # the input, as the user's PATH argument spells it plus the relative path
    output: str  # the output file under --out
    document_url: str | None  # where the output will be served (--base-url + relative path)
    strict: bool = False


@dataclass(frozen=True)
class FileResult:
    """What happened to one file.

    ``status`` is ``"converted"`` when an output file was written (even with error
    diagnostics) and ``"failed"`` when none was.  ``error`` explains failures that are not
    translation findings (the input could not be read, the output could not be written).
    """

    path: str
    output: str | None
    status: Status
    diagnostics: tuple[Diagnostic, ...] = ()
    error: str | None = None

    def has_severity(self, severity: str) -> bool:
        return any(d.severity == severity for d in self.diagnostics)


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def convert_one(job: ConvertJob) -> FileResult:
    """Convert one file.  Never raises for a bad input: the result says what went wrong."""
    try:
        with open(job.path, "rb") as handle:
            source = handle.read()
        translation = twiml_to_bxml(source, document_url=job.document_url, strict=job.strict)
    except TranslationError as exc:
        return FileResult(job.path, None, "failed", tuple(exc.diagnostics))
    except OSError as exc:
        return FileResult(job.path, None, "failed", error=f"cannot read input: {_reason(exc)}")
    except Exception as exc:  # a translator bug must not stop the other files
        return FileResult(job.path, None, "failed", error=f"internal error: {type(exc).__name__}: {exc}")
    diagnostics = tuple(translation.diagnostics)
    try:
        atomic_write(job.output, translation.bxml.encode("utf-8"))
    except OSError as exc:
        return FileResult(job.path, None, "failed", diagnostics, error=f"cannot write {job.output}: {_reason(exc)}")
    return FileResult(job.path, job.output, "converted", diagnostics)


def convert_batch(jobs: Sequence[ConvertJob]) -> list[FileResult]:
    """Convert several files in order (one unit of work for a worker process)."""
    return [convert_one(job) for job in jobs]
