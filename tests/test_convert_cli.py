"""``bxml-migrate convert`` end to end: the real CLI on real trees, no mocks.

The translator itself is tested elsewhere; here it is the oracle for what each output file
and its diagnostics must be, and the tests check what the command adds: finding files,
mirroring the tree, document URLs, refusing unsafe runs, atomic writes, failures that do not
stop the rest, exit codes, the report, stdin/stdout and ``--jobs``.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from bxml_migrate.cli import main
from tests.xml_compare import assert_xml_equal, canonical
from translators import RULES, TranslationError, twiml_to_bxml

ROOT = Path(__file__).resolve().parent.parent
BASE_URL = "https://ivr.example.com/app"

CLEAN = b"<Response><Say>Goodbye.</Say><Hangup/></Response>\n"
REDIRECT = b'<Response><Say voice="alice">Welcome</Say><Redirect method="GET">/ivr/menu.xml</Redirect></Response>\n'
MENU_NO_ACTION = b"""<?xml version="1.0" encoding="UTF-8"?>
<Response>
  <Gather numDigits="1">
    <Say>Press 1 for sales.</Say>
  </Gather>
</Response>
"""
MENU_WITH_ACTION = (b'<Response><Gather action="/ivr/choice" actionOnEmptyResult="true" numDigits="1">'
                    b"<Say>Press 1.</Say></Gather></Response>\n")
ENQUEUE = b"<Response><Say>Hold on</Say><Enqueue>support</Enqueue></Response>\n"  # error diagnostic, converted
LATIN1 = '<?xml version="1.0" encoding="ISO-8859-1"?>\n<Response><Say>Café crème</Say></Response>\n'.encode("latin-1")
MALFORMED = b"<Response>\n  <Say>unclosed\n</Response>\n"
DOCTYPE = b'<?xml version="1.0"?>\n<!DOCTYPE Response [<!ENTITY x "boom">]>\n<Response><Say>&x;</Say></Response>\n'


# -- helpers ----------------------------------------------------------------------------


def run_cli(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """``python -m bxml_migrate convert ARGS`` in ``cwd``, stdin from ``stdin``."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bxml_migrate", "convert", *args], cwd=cwd, input=stdin,
                          capture_output=True, env=env, timeout=120, check=False)


def write(path: Path, data: bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    return path


def snapshot(root: Path) -> dict[str, tuple[bytes | str, int]]:
    """Every entry under ``root`` (links not followed): content (or link target) and mtime."""
    entries: dict[str, tuple[bytes | str, int]] = {}
    for path in sorted(root.rglob("*")):
        info = path.lstat()
        if path.is_symlink():
            entries[str(path.relative_to(root))] = (os.readlink(path), info.st_mtime_ns)
        elif path.is_file():
            entries[str(path.relative_to(root))] = (path.read_bytes(), info.st_mtime_ns)
    return entries


def files_under(root: Path) -> set[str]:
    return {p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file()}


def leftovers(root: Path) -> list[str]:
    """Temporary files an interrupted or failed atomic write could leave behind."""
    return [p.name for p in root.rglob("*") if p.name.startswith(".") or p.name.endswith(".tmp")]


def expected_translation(source: bytes, url: str | None) -> tuple[str | None, list[dict[str, object]]]:
    """The library's answer: (BXML or None when it refuses the document, diagnostics as dicts)."""
    try:
        translation = twiml_to_bxml(source, document_url=url)
    except TranslationError as exc:
        return None, [d.to_dict() for d in exc.diagnostics]
    return translation.bxml, [d.to_dict() for d in translation.diagnostics]


def read_report(path: Path) -> dict[str, object]:
    return json.loads(path.read_text(encoding="utf-8"))


def report_files(report: dict[str, object]) -> dict[str, dict[str, object]]:
    return {entry["path"]: entry for entry in report["files"]}  # type: ignore[index]


def make_mixed_tree(root: Path) -> dict[str, bytes]:
    """A realistic app tree: good files, a malformed one, a DOCTYPE, .twiml, nesting, Latin-1, noise.

    Returns input path (relative to ``root``'s parent, as the CLI is run there) -> content.
    """
    files = {
        "menu.xml": MENU_NO_ACTION,
        "welcome.twiml": REDIRECT,
        "nested/deep/goodbye.xml": CLEAN,
        "nested/latin1.xml": LATIN1,
        "queue.xml": ENQUEUE,
        "broken.xml": MALFORMED,
        "doctype.xml": DOCTYPE,
    }
    for relative, data in files.items():
        write(root / relative, data)
    write(root / "notes.txt", b"not TwiML")
    write(root / ".git" / "hooks.xml", CLEAN)  # hidden directory: skipped
    write(root / ".swap.xml", CLEAN)  # hidden file: skipped
    return {f"{root.name}/{relative}": data for relative, data in files.items()}


def output_name(relative: str) -> str:
    return relative[: -len(".twiml")] + ".xml" if relative.endswith(".twiml") else relative


# -- the main run -------------------------------------------------------------------------


def test_converts_a_mixed_tree_mirrors_it_and_reports_every_file(tmp_path: Path) -> None:
    inputs = make_mixed_tree(tmp_path / "app")
    before = snapshot(tmp_path / "app")

    done = run_cli(tmp_path, "app", "--out", "out", "--base-url", BASE_URL, "--report", "report.json")

    assert done.returncode == 1, done.stderr  # two files failed, one has an error diagnostic
    assert snapshot(tmp_path / "app") == before  # inputs untouched, byte for byte
    assert files_under(tmp_path / "out") == {
        "menu.xml", "welcome.xml", "nested/deep/goodbye.xml", "nested/latin1.xml", "queue.xml"}
    assert leftovers(tmp_path / "out") == []

    report = read_report(tmp_path / "report.json")
    assert [entry["path"] for entry in report["files"]] == sorted(inputs)  # deterministic, sorted order
    assert report["skipped"] == []
    expected_summary_codes: dict[str, int] = {}
    for path, source in inputs.items():
        relative = path.removeprefix("app/")
        url = f"{BASE_URL}/{output_name(relative)}"
        bxml, diagnostics = expected_translation(source, url)
        entry = report_files(report)[path]
        assert entry["diagnostics"] == diagnostics, path
        for diagnostic in diagnostics:
            expected_summary_codes[diagnostic["code"]] = expected_summary_codes.get(diagnostic["code"], 0) + 1
        if bxml is None:
            assert entry["status"] == "failed" and entry["output"] is None and "error" not in entry
            assert not (tmp_path / "out" / relative).exists()
        else:
            assert entry["status"] == "converted"
            assert entry["output"] == f"out/{output_name(relative)}"
            written = (tmp_path / entry["output"]).read_bytes()
            assert written.startswith(b'<?xml version="1.0" encoding="UTF-8"?>')
            assert_xml_equal(written, bxml.encode("utf-8"))

    entries = report_files(report)
    assert entries["app/broken.xml"]["diagnostics"][0]["code"] == "BXM001"
    assert entries["app/broken.xml"]["diagnostics"][0]["line"] is not None
    assert entries["app/doctype.xml"]["diagnostics"][0]["code"] == "BXM003"
    assert "BXM010" in {d["code"] for d in entries["app/queue.xml"]["diagnostics"]}

    # A Gather without action posts to the document itself: base URL + the file's relative output path.
    menu = canonical((tmp_path / "out" / "menu.xml").read_bytes())
    assert menu[2][0][0] == "Gather" and dict(menu[2][0][1])["gatherUrl"] == f"{BASE_URL}/menu.xml"
    # A Latin-1 document comes out as UTF-8 with the same text.
    latin = (tmp_path / "out" / "nested" / "latin1.xml").read_bytes().decode("utf-8")
    assert "Café crème" in latin

    summary = report["summary"]
    assert summary == {
        "files": 7, "converted": 5, "failed": 2, "with_errors": 1,
        "with_warnings": 1,  # menu.xml (empty input ends the call on Twilio)
        "by_code": {code: {"name": RULES[code].name, "severity": RULES[code].severity.value, "count": count}
                    for code, count in sorted(expected_summary_codes.items())},
    }

    stderr = done.stderr.decode("utf-8")
    assert "\x1b[" not in stderr  # no progress bar or colour when stderr is not a terminal
    for path, source in inputs.items():
        for diagnostic in _diagnostics(source, f"{BASE_URL}/{output_name(path.removeprefix('app/'))}"):
            assert diagnostic.format(path) in stderr.splitlines()
    assert "7 file(s): 5 converted (1 with warnings, 1 with errors), 2 failed" in stderr
    assert any(line.split()[:2] == ["BXM001", "xml-malformed"] for line in stderr.splitlines())


def _diagnostics(source: bytes, url: str) -> list:
    try:
        return twiml_to_bxml(source, document_url=url).diagnostics
    except TranslationError as exc:
        return exc.diagnostics


def test_clean_tree_exits_0_and_warnings_alone_do_not_fail(tmp_path: Path) -> None:
    write(tmp_path / "app" / "goodbye.xml", CLEAN)
    write(tmp_path / "app" / "menu" / "main.xml", MENU_WITH_ACTION)
    write(tmp_path / "app" / "menu" / "no_action.xml", MENU_NO_ACTION)  # a warning, no error

    done = run_cli(tmp_path, "app", "--out", "out", "--report", "r.json")

    assert done.returncode == 0, done.stderr
    assert files_under(tmp_path / "out") == {"goodbye.xml", "menu/main.xml", "menu/no_action.xml"}
    summary = read_report(tmp_path / "r.json")["summary"]
    assert (summary["converted"], summary["with_warnings"], summary["with_errors"], summary["failed"]) == (3, 1, 0, 0)


def test_file_arguments_map_to_their_names_and_several_paths_combine(tmp_path: Path) -> None:
    write(tmp_path / "a" / "one.twiml", CLEAN)
    write(tmp_path / "b" / "sub" / "two.xml", REDIRECT)
    write(tmp_path / "c.xml", MENU_WITH_ACTION)

    done = run_cli(tmp_path, "a/one.twiml", "b", "c.xml", "--out", "out", "--report", "r.json")

    assert done.returncode == 0, done.stderr
    assert files_under(tmp_path / "out") == {"one.xml", "sub/two.xml", "c.xml"}
    assert [e["path"] for e in read_report(tmp_path / "r.json")["files"]] == ["a/one.twiml", "b/sub/two.xml", "c.xml"]


# -- document URLs ------------------------------------------------------------------------


@pytest.mark.parametrize("base", [BASE_URL, BASE_URL + "/"])
def test_base_url_gives_each_file_its_own_document_url(tmp_path: Path, base: str) -> None:
    write(tmp_path / "app" / "menu.xml", MENU_NO_ACTION)
    write(tmp_path / "app" / "sales dept" / "main menu.twiml", MENU_NO_ACTION)

    done = run_cli(tmp_path, "app", "--out", "out", "--base-url", base)

    assert done.returncode == 0, done.stderr
    for relative, url in (("menu.xml", f"{BASE_URL}/menu.xml"),
                          ("sales dept/main menu.xml", f"{BASE_URL}/sales%20dept/main%20menu.xml")):
        written = (tmp_path / "out" / relative).read_bytes()
        expected = twiml_to_bxml(MENU_NO_ACTION, document_url=url).bxml
        assert_xml_equal(written, expected.encode("utf-8"))
        gather = canonical(written)[2][0]
        assert dict(gather[1])["gatherUrl"] == url


def test_without_base_url_a_gather_without_action_keeps_no_gather_url(tmp_path: Path) -> None:
    write(tmp_path / "app" / "menu.xml", MENU_NO_ACTION)

    done = run_cli(tmp_path, "app", "--out", "out")

    assert done.returncode == 0
    gather = canonical((tmp_path / "out" / "menu.xml").read_bytes())[2][0]
    assert "gatherUrl" not in dict(gather[1])
    assert "warning BXM101 [gather-no-action]" in done.stderr.decode()


# -- strict -------------------------------------------------------------------------------


def test_strict_fails_files_with_warnings_and_writes_nothing_for_them(tmp_path: Path) -> None:
    write(tmp_path / "app" / "clean.xml", CLEAN)
    write(tmp_path / "app" / "info_only.xml", REDIRECT)  # an info diagnostic is not a finding for strict
    write(tmp_path / "app" / "warns.xml", MENU_NO_ACTION)

    done = run_cli(tmp_path, "app", "--out", "out", "--strict", "--report", "r.json")

    assert done.returncode == 1
    assert files_under(tmp_path / "out") == {"clean.xml", "info_only.xml"}
    entry = report_files(read_report(tmp_path / "r.json"))["app/warns.xml"]
    assert entry["status"] == "failed" and entry["output"] is None
    assert [d["code"] for d in entry["diagnostics"]] == ["BXM101"]

    relaxed = run_cli(tmp_path, "app", "--out", "out2")
    assert relaxed.returncode == 0
    assert files_under(tmp_path / "out2") == {"clean.xml", "info_only.xml", "warns.xml"}


# -- failures that must not stop the rest -------------------------------------------------


def _chmod_blocks_reads(path: Path) -> bool:
    path.chmod(0)
    try:
        path.read_bytes()
    except PermissionError:
        return True
    return False  # root reads anything


def test_unreadable_inputs_fail_alone(tmp_path: Path) -> None:
    write(tmp_path / "app" / "a_good.xml", CLEAN)
    (tmp_path / "app" / "dangling.xml").symlink_to("missing.xml")  # inside the tree, target gone
    locked = write(tmp_path / "app" / "locked.xml", CLEAN)
    can_lock = _chmod_blocks_reads(locked)
    if not can_lock:
        locked.chmod(0o644)
    write(tmp_path / "app" / "z_good.xml", REDIRECT)

    done = run_cli(tmp_path, "app", "--out", "out", "--report", "r.json")

    assert done.returncode == 1
    entries = report_files(read_report(tmp_path / "r.json"))
    assert entries["app/dangling.xml"] == {"path": "app/dangling.xml", "output": None, "status": "failed",
                                           "diagnostics": [], "error": "cannot read input: No such file or directory"}
    if can_lock:
        assert entries["app/locked.xml"]["error"] == "cannot read input: Permission denied"
    assert entries["app/a_good.xml"]["status"] == entries["app/z_good.xml"]["status"] == "converted"
    assert {"a_good.xml", "z_good.xml"} <= files_under(tmp_path / "out")
    assert "app/dangling.xml: error: cannot read input: No such file or directory" in done.stderr.decode()


def test_unwritable_outputs_fail_alone_and_leave_no_temporary_files(tmp_path: Path) -> None:
    write(tmp_path / "app" / "blocked.xml", CLEAN)
    write(tmp_path / "app" / "locked" / "menu.xml", MENU_WITH_ACTION)
    write(tmp_path / "app" / "ok.xml", REDIRECT)
    out = tmp_path / "out"
    (out / "blocked.xml").mkdir(parents=True)  # an existing directory where the output file goes
    (out / "locked").mkdir()
    (out / "locked").chmod(0o555)
    if os.access(out / "locked", os.W_OK):  # root ignores the mode: put a file where the directory goes
        (out / "locked").chmod(0o755)
        (out / "locked").rmdir()
        (out / "locked").write_bytes(b"in the way")

    try:
        done = run_cli(tmp_path, "app", "--out", "out", "--report", "r.json")
    finally:
        if (out / "locked").is_dir():
            (out / "locked").chmod(0o755)

    assert done.returncode == 1
    entries = report_files(read_report(tmp_path / "r.json"))
    for failed in ("app/blocked.xml", "app/locked/menu.xml"):
        assert entries[failed]["status"] == "failed" and entries[failed]["output"] is None
        assert entries[failed]["error"].startswith("cannot write out/")
        assert entries[failed]["diagnostics"] == expected_translation(
            (tmp_path / failed).read_bytes(), None)[1]  # the findings are kept
    assert entries["app/ok.xml"]["status"] == "converted"
    assert (out / "ok.xml").is_file()
    assert leftovers(out) == []


# -- refusals and usage errors ------------------------------------------------------------


@pytest.mark.parametrize("out", ["app", "app/converted", "app/./sub/../converted"])
def test_refuses_an_out_inside_or_equal_to_an_input_directory(tmp_path: Path, out: str) -> None:
    make_mixed_tree(tmp_path / "app")
    before = snapshot(tmp_path / "app")

    done = run_cli(tmp_path, "app", "--out", out)

    assert done.returncode == 2
    assert "inside it" in done.stderr.decode()
    assert snapshot(tmp_path / "app") == before
    assert not (tmp_path / "app" / "converted").exists()


def test_refuses_an_out_reached_through_a_symlink_into_the_input(tmp_path: Path) -> None:
    write(tmp_path / "app" / "menu.xml", CLEAN)
    (tmp_path / "alias").symlink_to(tmp_path / "app", target_is_directory=True)

    done = run_cli(tmp_path, "app", "--out", "alias/out")

    assert done.returncode == 2
    assert not (tmp_path / "app" / "out").exists()


def test_refuses_to_overwrite_an_input_file(tmp_path: Path) -> None:
    write(tmp_path / "out" / "menu.xml", CLEAN)

    done = run_cli(tmp_path, "out/menu.xml", "--out", "out")

    assert done.returncode == 2
    assert "would overwrite an input" in done.stderr.decode()
    assert (tmp_path / "out" / "menu.xml").read_bytes() == CLEAN

    write(tmp_path / "app" / "menu.xml", CLEAN)
    report_over_input = run_cli(tmp_path, "app", "--out", "converted", "--report", "app/menu.xml")
    assert report_over_input.returncode == 2
    assert (tmp_path / "app" / "menu.xml").read_bytes() == CLEAN
    assert not (tmp_path / "converted").exists()


def test_refuses_two_inputs_with_the_same_output(tmp_path: Path) -> None:
    write(tmp_path / "app" / "menu.xml", CLEAN)
    write(tmp_path / "app" / "menu.twiml", REDIRECT)

    done = run_cli(tmp_path, "app", "--out", "out")

    assert done.returncode == 2
    assert "would both be written to out/menu.xml" in done.stderr.decode()
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("args", [
    ["empty", "--out", "out"],  # no *.xml / *.twiml found
    ["missing", "--out", "out"],
    ["app"],  # --out required
    ["app", "--out", "out", "--jobs", "-1"],
    ["app", "--out", "out", "--jobs", "two"],
    ["app", "--out", "out", "--base-url", "ftp://example.com/"],
    ["app", "--out", "out", "--base-url", "/relative/path"],
    ["-", "app", "--out", "out"],
    ["-", "--out", "out"],
    ["--out", "out"],
    ["app", "--out", "app/menu.xml"],  # --out is an existing file
])
def test_usage_errors_exit_2(tmp_path: Path, args: list[str], monkeypatch: pytest.MonkeyPatch,
                             capsys: pytest.CaptureFixture[str]) -> None:
    write(tmp_path / "empty" / "readme.txt", b"nothing to convert")
    write(tmp_path / "app" / "menu.xml", CLEAN)
    monkeypatch.chdir(tmp_path)

    assert main(["convert", *args]) == 2
    assert "error" in capsys.readouterr().err
    done = run_cli(tmp_path, *args)

    assert done.returncode == 2, done.stderr
    assert done.stderr and not done.stdout
    assert not (tmp_path / "out").exists()


# -- links and hidden files ---------------------------------------------------------------


def test_symlinks_are_not_followed_out_of_the_tree(tmp_path: Path) -> None:
    write(tmp_path / "outside" / "secret.xml", CLEAN)
    write(tmp_path / "app" / "real.xml", CLEAN)
    (tmp_path / "app" / "alias.xml").symlink_to("real.xml")  # inside the tree: converted
    (tmp_path / "app" / "escape.xml").symlink_to(tmp_path / "outside" / "secret.xml")
    (tmp_path / "app" / "linked_dir").symlink_to(tmp_path / "outside", target_is_directory=True)

    done = run_cli(tmp_path, "app", "--out", "out", "--report", "r.json")

    assert done.returncode == 0, done.stderr
    assert files_under(tmp_path / "out") == {"alias.xml", "real.xml"}
    report = read_report(tmp_path / "r.json")
    assert report["skipped"] == [
        {"path": "app/escape.xml", "reason": "symbolic link out of the input tree; not followed"},
        {"path": "app/linked_dir", "reason": "symbolic link to a directory; not followed"},
    ]


# -- stdin / stdout -------------------------------------------------------------------------


def test_stdin_to_stdout(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "-", "--base-url", f"{BASE_URL}/menu.xml", stdin=MENU_NO_ACTION)

    assert done.returncode == 0, done.stderr
    expected = twiml_to_bxml(MENU_NO_ACTION, document_url=f"{BASE_URL}/menu.xml")
    assert done.stdout.decode("utf-8") == expected.bxml
    assert_xml_equal(done.stdout, expected.bxml.encode("utf-8"))
    assert done.stderr.decode().splitlines() == [d.format("<stdin>") for d in expected.diagnostics]
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_stdin_errors_and_strict(tmp_path: Path) -> None:
    with_error = run_cli(tmp_path, "-", stdin=ENQUEUE)
    assert with_error.returncode == 1  # converted, but with an error diagnostic
    assert_xml_equal(with_error.stdout, twiml_to_bxml(ENQUEUE).bxml.encode("utf-8"))

    malformed = run_cli(tmp_path, "-", stdin=MALFORMED)
    assert malformed.returncode == 1 and malformed.stdout == b""
    assert "error BXM001 [xml-malformed]" in malformed.stderr.decode()

    strict = run_cli(tmp_path, "-", "--strict", "--report", "r.json", stdin=MENU_NO_ACTION)
    assert strict.returncode == 1 and strict.stdout == b""
    entry = read_report(tmp_path / "r.json")["files"][0]
    assert (entry["path"], entry["status"], entry["output"]) == ("<stdin>", "failed", None)
    assert [d["code"] for d in entry["diagnostics"]] == ["BXM101"]


# -- parallel runs are identical ------------------------------------------------------------


def test_jobs_2_gives_the_same_outputs_report_and_summary_as_jobs_1(tmp_path: Path) -> None:
    sources = [CLEAN, REDIRECT, MENU_NO_ACTION, MENU_WITH_ACTION, ENQUEUE, LATIN1, MALFORMED, DOCTYPE]
    for index in range(48):
        suffix = ".twiml" if index % 5 == 0 else ".xml"
        write(tmp_path / "app" / f"part{index % 4}" / f"doc{index:02d}{suffix}", sources[index % len(sources)])

    runs = []
    for jobs in ("1", "2"):
        done = run_cli(tmp_path, "app", "--out", "out", "--base-url", BASE_URL, "--report", "r.json",
                       "--jobs", jobs)
        report = (tmp_path / "r.json").read_bytes()
        runs.append((done.returncode, done.stderr, report, snapshot_files(tmp_path / "out")))
        (tmp_path / "out").rename(tmp_path / f"out-jobs{jobs}")

    assert runs[0][0] == runs[1][0] == 1
    assert runs[0][1] == runs[1][1]  # the stderr summary
    assert json.loads(runs[0][2]) == json.loads(runs[1][2])
    assert runs[0][2] == runs[1][2]
    assert runs[0][3].keys() == runs[1][3].keys() and len(runs[0][3]) == 36  # 48 files, 12 refused
    for name, data in runs[0][3].items():
        assert canonical(data) == canonical(runs[1][3][name]), name
        assert data == runs[1][3][name]


def snapshot_files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


# -- in process -----------------------------------------------------------------------------


def test_in_process_main(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write(tmp_path / "app" / "menu.xml", MENU_NO_ACTION)

    assert main(["convert", "app", "--out", "app/out"]) == 2
    assert "inside it" in capsys.readouterr().err

    assert main(["convert", "app", "--out", "out", "--base-url", BASE_URL, "--jobs", "0"]) == 0
    err = capsys.readouterr().err
    assert "1 file(s): 1 converted (1 with warnings, 0 with errors), 0 failed" in err
    assert_xml_equal((tmp_path / "out" / "menu.xml").read_bytes(),
                     twiml_to_bxml(MENU_NO_ACTION, document_url=f"{BASE_URL}/menu.xml").bxml.encode("utf-8"))


def test_progress_bar_only_on_a_terminal(tmp_path: Path) -> None:
    for index in range(5):
        write(tmp_path / "app" / f"doc{index}.xml", CLEAN)
    controller, terminal = pty.openpty()
    try:
        process = subprocess.run(
            [sys.executable, "-m", "bxml_migrate", "convert", "app", "--out", "out"], cwd=tmp_path,
            stdout=subprocess.PIPE, stderr=terminal, env={**os.environ, "PYTHONPATH": str(ROOT), "TERM": "xterm"},
            timeout=120, check=False)
        os.close(terminal)
        terminal = -1
        shown = b""
        while True:
            try:
                chunk = os.read(controller, 65536)
            except OSError:  # EIO: the terminal side is closed and drained
                break
            if not chunk:
                break
            shown += chunk
    finally:
        if terminal != -1:
            os.close(terminal)
        os.close(controller)
    assert process.returncode == 0
    assert b"converting" in shown  # the progress bar was drawn
    assert b"5 file(s): 5 converted" in shown


# -- the benchmark still runs -----------------------------------------------------------------


def test_benchmark_smoke(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_translate.py"), "--docs", "50",
                           "--repeat", "1", "--out-dir", str(tmp_path / "bench")], capture_output=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    output = done.stdout.decode("utf-8")
    assert "ratio (translate / floor)" in output
    assert "convert --jobs 2" in output
    assert "outputs and reports identical: yes" in output
    assert len(files_under(tmp_path / "bench" / "corpus")) == 50
