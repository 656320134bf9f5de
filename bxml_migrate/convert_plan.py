"""Planning a ``convert`` run: which files, where their output goes, and what must be refused.

Nothing is written while planning.  Problems that make the whole run unsafe or ambiguous
(``--out`` inside an input directory, an output that would replace an input, two inputs
with the same output) raise ``PlanError``, which the command reports as a usage error.
"""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass, field
from pathlib import PurePath
from urllib.parse import quote, urlsplit

from bxml_migrate.convert_job import ConvertJob

INPUT_SUFFIXES = (".xml", ".twiml")  # matched case-insensitively
TWIML_SUFFIX = ".twiml"
OUTPUT_SUFFIX = ".xml"


class PlanError(Exception):
    """The run cannot go ahead as asked (exit code 2)."""


@dataclass(frozen=True)
class Skipped:
    """A path met while walking the inputs and not converted.

    ``failed`` marks paths the user would expect converted but that could not be looked at
    (a directory that cannot be listed); these make the run exit 1.
    """

    path: str
    reason: str
    failed: bool = False


@dataclass
class Plan:
    jobs: list[ConvertJob] = field(default_factory=list)
    skipped: list[Skipped] = field(default_factory=list)


@dataclass(frozen=True)
class _Found:
    path: str  # as the user spells it: the PATH argument joined with the relative path
    relative: PurePath  # relative to the PATH argument (a file argument: its name)


def parse_base_url(value: str) -> str:
    """Check ``--base-url``: an absolute http(s) URL without query or fragment."""
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise ValueError(f"{value!r} is not an absolute http(s) URL")
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} has a query or fragment; give the URL of the directory the files are served from")
    return value


def document_url(base_url: str | None, relative_output: PurePath) -> str | None:
    """Where a converted file will be served: ``base_url`` (a directory) + its relative path."""
    if base_url is None:
        return None
    base = base_url if base_url.endswith("/") else base_url + "/"
    return base + quote(relative_output.as_posix(), safe="/")


def output_relative(relative: PurePath) -> PurePath:
    """The output's path relative to ``--out``: the same, with ``.twiml`` becoming ``.xml``."""
    if relative.suffix.lower() == TWIML_SUFFIX:
        return relative.with_suffix(OUTPUT_SUFFIX)
    return relative


def _inside(path: str, directory: str) -> bool:
    """Whether real path ``path`` is ``directory`` or below it (both already resolved)."""
    try:
        return os.path.commonpath([path, directory]) == directory
    except ValueError:  # different drives
        return False


def _entry(path: str) -> str:
    """The directory entry ``path`` names, with its parent resolved (the entry itself not followed)."""
    absolute = os.path.abspath(path)
    return os.path.join(os.path.realpath(os.path.dirname(absolute)), os.path.basename(absolute))


def _is_input(name: str) -> bool:
    return not name.startswith(".") and name.lower().endswith(INPUT_SUFFIXES)


def _walk(argument: str, skipped: list[Skipped]) -> list[_Found]:
    """Files under directory ``argument``: sorted, hidden entries skipped, links kept inside the tree."""
    root = os.path.realpath(argument)
    found: list[_Found] = []
    passed: list[Skipped] = []

    def unreadable(exc: OSError) -> None:
        passed.append(Skipped(exc.filename or argument, f"cannot list directory: {exc.strerror or exc}", True))

    for directory, subdirectories, files in os.walk(argument, onerror=unreadable, followlinks=False):
        kept: list[str] = []
        for name in sorted(subdirectories):
            if name.startswith("."):
                continue
            full = os.path.join(directory, name)
            if os.path.islink(full):
                passed.append(Skipped(full, "symbolic link to a directory; not followed"))
                continue
            kept.append(name)
        subdirectories[:] = kept
        for name in sorted(files):
            if not _is_input(name):
                continue
            full = os.path.join(directory, name)
            if os.path.islink(full) and not _inside(os.path.realpath(full), root):
                passed.append(Skipped(full, "symbolic link out of the input tree; not followed"))
                continue
            try:
                mode = os.stat(full).st_mode
            except OSError:
                mode = None  # e.g. a dangling link: reading it fails and the file is reported as failed
            if mode is not None and not stat.S_ISREG(mode):
                passed.append(Skipped(full, "not a regular file"))
                continue
            found.append(_Found(full, PurePath(os.path.relpath(full, argument))))
    found.sort(key=lambda item: item.relative.parts)
    skipped.extend(sorted(passed, key=lambda item: PurePath(item.path).parts))
    return found


def _discover(argument: str, skipped: list[Skipped]) -> list[_Found]:
    if os.path.isdir(argument):
        return _walk(argument, skipped)
    if os.path.lexists(argument):
        return [_Found(argument, PurePath(os.path.basename(os.path.normpath(argument))))]
    raise PlanError(f"{argument}: no such file or directory")


def make_plan(paths: list[str], out: str, *, base_url: str | None = None, strict: bool = False,
              report: str | None = None) -> Plan:
    """Find the inputs under ``paths`` and map each to its output under ``out``."""
    if os.path.exists(out) and not os.path.isdir(out):
        raise PlanError(f"--out {out} exists and is not a directory")
    out_real = os.path.realpath(out)
    plan = Plan()
    found: list[_Found] = []
    for argument in paths:
        if os.path.isdir(argument) and _inside(out_real, os.path.realpath(argument)):
            raise PlanError(f"--out {out} is the input directory {argument} or inside it; "
                            "choose an output directory outside the inputs")
        found.extend(_discover(argument, plan.skipped))

    inputs = {_entry(item.path) for item in found} | {os.path.realpath(item.path) for item in found}
    claimed: dict[str, str] = {}  # output entry -> input that writes it
    seen: set[tuple[str, str]] = set()
    for item in found:
        relative = output_relative(item.relative)
        output = os.path.join(out, *relative.parts)
        output_entry = _entry(output)
        key = (_entry(item.path), output_entry)
        if key in seen:  # the same file named twice (a directory and a file in it)
            continue
        seen.add(key)
        if output_entry in inputs or os.path.realpath(output) in inputs:
            raise PlanError(f"{item.path}: its output {output} would overwrite an input file")
        if output_entry in claimed:
            raise PlanError(f"{claimed[output_entry]} and {item.path} would both be written to {output}")
        claimed[output_entry] = item.path
        plan.jobs.append(ConvertJob(item.path, output, document_url(base_url, relative), strict))

    if report is not None:
        report_entry = _entry(report)
        if report_entry in inputs or os.path.realpath(report) in inputs:
            raise PlanError(f"--report {report} would overwrite an input file")
        if report_entry in claimed:
            raise PlanError(f"--report {report} is also the output of {claimed[report_entry]}")
    return plan
