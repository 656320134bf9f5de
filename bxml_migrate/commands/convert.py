"""``bxml-migrate convert``: translate TwiML files and trees into BXML files.

    bxml-migrate convert PATH... --out DIR [--base-url URL] [--strict] [--report FILE] [--jobs N]
    bxml-migrate convert - [--base-url URL] [--strict] [--report FILE]   (stdin -> stdout)

Exit codes: 0 every file converted and none has an error diagnostic; 1 a file failed (no
output), a converted file has an error diagnostic, or (``--strict``) a file has a warning;
2 usage errors (bad arguments, no inputs, ``--out`` inside an input, an input that would be
overwritten).  See ``bxml_migrate.convert_report`` for the report format.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, as_completed

from bxml_migrate.arg_types import whole_number
from bxml_migrate.atomic_write import atomic_write
from bxml_migrate.convert_job import ConvertJob, FileResult, convert_batch, convert_one
from bxml_migrate.convert_plan import PlanError, Skipped, make_plan, parse_base_url
from bxml_migrate.convert_report import (
    diagnostic_lines,
    report_bytes,
    report_document,
    summarize,
    summary_lines,
)
from bxml_migrate.json_input import write_stdout
from translators import TranslationError, twiml_to_bxml

PROG = "bxml-migrate convert"
STDIN = "-"
STDIN_NAME = "<stdin>"  # the path shown in diagnostics and the report
MAX_BATCH = 256  # files per unit of work sent to a worker process

Advance = Callable[[int], None]


_jobs_count = whole_number(0, "must be 0 (one per CPU) or more")


def _base_url(value: str) -> str:
    try:
        return parse_base_url(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "convert",
        help="convert TwiML files and directories to BXML",
        description="Translate TwiML documents (*.xml, *.twiml; directories recursively) into BXML, mirroring "
                    "the tree under --out.  '-' converts stdin to stdout.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="files and directories to convert, or '-'")
    parser.add_argument("--out", metavar="DIR", help="directory the converted tree is written to")
    parser.add_argument("--base-url", metavar="URL", type=_base_url,
                        help="URL the converted tree will be served from; a <Gather> or <Record> without "
                             "action posts to URL + the file's relative path")
    parser.add_argument("--strict", action="store_true",
                        help="a file with any warning or error fails and gets no output")
    parser.add_argument("--report", metavar="FILE", help="write a JSON report of every file and diagnostic")
    parser.add_argument("--jobs", metavar="N", type=_jobs_count, default=1,
                        help="convert in N processes (0: one per CPU; default 1)")
    parser.set_defaults(func=run)


def _usage_error(message: str) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return 2


def run(args: argparse.Namespace) -> int:
    paths: list[str] = args.paths
    if STDIN in paths:
        if len(paths) != 1:
            return _usage_error("'-' (stdin) cannot be combined with other paths")
        if args.out is not None:
            return _usage_error("'-' writes to stdout; --out does not apply")
        return _run_stdin(args)
    if args.out is None:
        return _usage_error("--out DIR is required (or give '-' to convert stdin to stdout)")
    try:
        plan = make_plan(paths, args.out, base_url=args.base_url, strict=args.strict, report=args.report)
    except PlanError as exc:
        return _usage_error(str(exc))
    if not plan.jobs:
        _print_lines(diagnostic_lines((), plan.skipped))
        return _usage_error("no *.xml or *.twiml files found in " + ", ".join(paths))
    workers = args.jobs or os.cpu_count() or 1
    results = _convert_all(plan.jobs, workers)
    return _finish(results, plan.skipped, args.report, show_summary=True)


def _run_stdin(args: argparse.Namespace) -> int:
    """Convert stdin to stdout; the document URL is ``--base-url`` itself."""
    source = sys.stdin.buffer.read()
    try:
        translation = twiml_to_bxml(source, document_url=args.base_url, strict=args.strict)
    except TranslationError as exc:
        result = FileResult(STDIN_NAME, None, "failed", tuple(exc.diagnostics))
    else:
        write_stdout(translation.bxml)
        result = FileResult(STDIN_NAME, "<stdout>", "converted", tuple(translation.diagnostics))
    return _finish([result], [], args.report, show_summary=False)


def _finish(results: Sequence[FileResult], skipped: Sequence[Skipped], report: str | None, *,
            show_summary: bool) -> int:
    summary = summarize(results, skipped)
    lines = diagnostic_lines(results, skipped)
    if show_summary:
        lines += summary_lines(summary)
    _print_lines(lines)
    if report is not None:
        try:
            atomic_write(report, report_bytes(report_document(results, summary, skipped)))
        except OSError as exc:
            print(f"{PROG}: error: cannot write the report {report}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    return summary.exit_code


def _print_lines(lines: Sequence[str]) -> None:
    if lines:
        sys.stderr.write("\n".join(lines) + "\n")
        sys.stderr.flush()


# -- running the jobs -----------------------------------------------------------------


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Advance]:
    """A progress bar on stderr when it is a terminal; otherwise nothing."""
    if not sys.stderr.isatty():
        yield lambda _count: None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (TextColumn("converting"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task("convert", total=total)
        yield lambda count: progress.advance(task, count)


def _batches(jobs: Sequence[ConvertJob], workers: int) -> list[list[ConvertJob]]:
    """Contiguous slices (about four per worker, for balance) so results keep the input order."""
    size = max(1, min(MAX_BATCH, math.ceil(len(jobs) / (workers * 4))))
    return [list(jobs[start:start + size]) for start in range(0, len(jobs), size)]


def _convert_all(jobs: Sequence[ConvertJob], workers: int) -> list[FileResult]:
    """Convert every job; results are in job order whatever ``workers`` is."""
    if workers <= 1 or len(jobs) <= 1:
        results: list[FileResult] = []
        with _progress(len(jobs)) as advance:
            for job in jobs:
                results.append(convert_one(job))
                advance(1)
        return results

    batches = _batches(jobs, workers)
    done: dict[int, list[FileResult]] = {}
    # Submit before the progress bar starts its refresh thread: workers are forked at submission.
    with ProcessPoolExecutor(max_workers=min(workers, len(batches))) as pool:
        futures: dict[Future[list[FileResult]], int] = {
            pool.submit(convert_batch, batch): index for index, batch in enumerate(batches)}
        with _progress(len(jobs)) as advance:
            for future in as_completed(futures):
                index = futures[future]
                try:
                    done[index] = future.result()
                except Exception as exc:  # a worker died (killed, out of memory): fail its files, keep the rest
                    reason = f"worker process failed: {type(exc).__name__}: {exc}"
                    done[index] = [FileResult(job.path, None, "failed", error=reason) for job in batches[index]]
                advance(len(batches[index]))
    return [result for index in range(len(batches)) for result in done[index]]
