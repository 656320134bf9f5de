"""``bxml-migrate v1-gather`` and ``bxml-migrate callback`` (issue 3).

Most cases call ``bxml_migrate.cli.main`` in-process; the stdin and end-to-end cases run the
real entry point (``python -m bxml_migrate``) in a subprocess.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import parse_qsl

import pytest
from deepdiff import DeepDiff
from xml_compare import assert_xml_equal

from bxml_migrate.cli import main

ROOT = Path(__file__).resolve().parent.parent
CATAPULT = ROOT / "fixtures" / "catapult"
CALLBACKS = ROOT / "fixtures" / "callbacks"
GATHER_URL = "https://proxy.example.com/catapult/gather-events"
USER_ID = "u-xa2n3oxk6it4efbglisna6a"
ACCOUNT_SID = "AC0123456789abcdef0123456789abcdef"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def entry_point(*argv: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run([sys.executable, "-m", "bxml_migrate", *argv], input=stdin, capture_output=True,
                          cwd=ROOT, timeout=60, check=False)


def _expected(case: str) -> dict:
    return json.loads((CATAPULT / f"{case}.expected.json").read_text(encoding="utf-8"))


def _v2(case: str, name: str) -> Path:
    return CALLBACKS / "v2" / case / name


def _json(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


# -- v1-gather ------------------------------------------------------------------------------------


@pytest.mark.parametrize("case", ["howto-strings", "numbers", "ruby-sentence", "java-builder-file", "csharp-minimal",
                                  "voice-locale-fr"])
def test_v1_gather_prints_the_bxml(capsys, case):
    code, out, err = run(capsys, "v1-gather", CATAPULT / f"{case}.request.json", "--gather-url", GATHER_URL)
    assert (code, err) == (0, "")
    assert_xml_equal(out, (CATAPULT / f"{case}.expected.bxml").read_text(encoding="utf-8"))


def test_v1_gather_options_root_write_tag_gather_id_and_context_out(capsys, tmp_path):
    context_file = tmp_path / "context.json"
    code, out, err = run(capsys, "v1-gather", CATAPULT / "response-root-write-tag.request.json", "--gather-url",
                         GATHER_URL, "--root", "Response", "--write-tag", "--gather-id", "gtr-kj4xloaq5vbpfxyeypndgxa",
                         "--context-out", context_file)
    assert code == 0
    assert_xml_equal(out, (CATAPULT / "response-root-write-tag.expected.bxml").read_text(encoding="utf-8"))
    path = CATAPULT / "response-root-write-tag.request.json"
    assert err == (f"{path}: info BXM406 [v1-tag-written] the gather tag is written as the BXML tag, which stays "
                   "on every later callback of the call\n")
    assert DeepDiff(_json(context_file), _expected("response-root-write-tag")["context"]) == {}


def test_v1_gather_warnings_go_to_stderr_with_the_file_name(capsys):
    path = CATAPULT / "no-gather-url.request.json"
    code, out, err = run(capsys, "v1-gather", path)
    assert code == 0
    assert_xml_equal(out, (CATAPULT / "no-gather-url.expected.bxml").read_text(encoding="utf-8"))
    assert err.startswith(f"{path}: warning BXM402 [v1-gather-no-url] no gather_url")


def test_v1_gather_strict_fails_on_a_warning_and_prints_nothing(capsys):
    path = CATAPULT / "bargeable-false.request.json"
    code, out, err = run(capsys, "v1-gather", path, "--gather-url", GATHER_URL, "--strict")
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}: warning BXM404 [v1-prompt-not-bargeable]")


def test_v1_gather_invalid_request_exits_1_naming_file_and_field(capsys):
    path = CATAPULT / "invalid-max-digits.request.json"
    code, out, err = run(capsys, "v1-gather", path, "--gather-url", GATHER_URL)
    assert (code, out) == (1, "")
    assert err == f'{path}: error BXM401 [v1-request-invalid] maxDigits="31": outside 1–30\n'


def test_v1_gather_not_json_exits_1_with_line_and_column(capsys):
    path = CATAPULT / "invalid-not-json.request.json"
    code, out, err = run(capsys, "v1-gather", path)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}:3:1: error BXM411 [v1-request-not-json] not valid JSON: ")


@pytest.mark.parametrize("argv, message", [
    (["v1-gather", "no/such/file.json"], "bxml-migrate v1-gather: error: cannot read no/such/file.json"),
    (["v1-gather", "x.json", "--root", "Speak"], "invalid choice: 'Speak'"),
    (["v1-gather", "x.json", "--gather-url", "https://a.example/x y"], "URL contains white space"),
    (["v1-gather", "x.json", "--gather-id", "a/b"], "not an id of letters, digits and '-'"),
    (["v1-gather"], "the following arguments are required: FILE"),
])
def test_v1_gather_usage_errors_exit_2(capsys, argv, message):
    code, out, err = run(capsys, *argv)
    assert (code, out) == (2, "")
    assert message in err


def test_v1_gather_reads_stdin_through_the_entry_point():
    body = (CATAPULT / "howto-strings.request.json").read_bytes()
    result = entry_point("v1-gather", "-", "--gather-url", GATHER_URL, stdin=body)
    assert (result.returncode, result.stderr) == (0, b"")
    assert_xml_equal(result.stdout, (CATAPULT / "howto-strings.expected.bxml").read_bytes())


def test_v1_gather_stdin_errors_name_stdin():
    result = entry_point("v1-gather", "-", stdin=b'{"maxDigits": 5, "prompt": {"voice": "Bob"}}')
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode().startswith('<stdin>: error BXM401 [v1-request-invalid] prompt.voice="Bob": ')


# -- callback --------------------------------------------------------------------------------------

V1_CASES = ["seed-gather-max-digits", "seed-dtmf", "initiate-diverted", "answer-outbound-tag", "spec-disconnect-busy"]


@pytest.mark.parametrize("case", V1_CASES)
def test_callback_to_v1_prints_the_v1_event(capsys, case):
    argv = ["callback", "--to", "v1", _v2(case, "event.json"), "--user-id", USER_ID]
    if _v2(case, "context.json").exists():
        argv += ["--context", _v2(case, "context.json")]
    code, out, err = run(capsys, *argv)
    assert (code, err) == (0, "")
    (expected,) = _json(_v2(case, "v1.json"))["events"]
    assert DeepDiff(json.loads(out), expected) == {}


def test_callback_several_v1_events_are_a_json_array_in_delivery_order(capsys):
    case = "disconnect-during-gather"
    code, out, err = run(capsys, "callback", "--to", "v1", _v2(case, "event.json"), "--user-id", USER_ID,
                         "--context", _v2(case, "context.json"))
    assert (code, err) == (0, "")
    assert DeepDiff(json.loads(out), _json(_v2(case, "v1.json"))["events"]) == {}


def test_callback_to_v1_as_query_string_of_a_get_callback(capsys):
    case = "initiate-diverted"
    code, out, _ = run(capsys, "callback", "--to", "v1", _v2(case, "event.json"), "--user-id", USER_ID,
                       "--format", "form")
    assert code == 0
    (expected,) = _json(_v2(case, "v1.json"))["events"]
    line = out.rstrip("\n")
    assert "\n" not in line
    fields = dict(parse_qsl(line, keep_blank_values=True))
    assert json.loads(fields.pop("diversion")) == expected.pop("diversion")  # nested objects as JSON text
    assert fields == expected
    assert line.startswith("eventType=incomingcall&")


def test_callback_to_v1_without_context_warns(capsys):
    path = _v2("seed-gather-enqueued-no-context", "event.json")
    code, out, err = run(capsys, "callback", "--to", "v1", path, "--user-id", USER_ID)
    assert code == 0
    assert "gatherId" not in json.loads(out)
    assert err.startswith(f"{path}: warning BXM503 [callback-gather-context-incomplete] no gather context")


def test_callback_api_base_changes_call_uri(capsys):
    code, out, _ = run(capsys, "callback", "--to", "v1", _v2("seed-dtmf", "event.json"), "--user-id", USER_ID,
                       "--api-base", "https://legacy.example.com")
    assert code == 0
    assert json.loads(out)["callUri"].startswith(f"https://legacy.example.com/v1/users/{USER_ID}/calls/c-")


@pytest.mark.parametrize("case", ["seed-gather-terminating-digit", "initiate-diverted", "answer-outbound-tag",
                                  "disconnect-hangup-answered", "gather-speech"])
def test_callback_to_twilio_is_form_encoded_by_default(capsys, case):
    code, out, err = run(capsys, "callback", "--to", "twilio", _v2(case, "event.json"), "--account-sid", ACCOUNT_SID)
    assert (code, err) == (0, "")
    line = out.rstrip("\n")
    expected = _json(_v2(case, "twilio.json"))["params"]
    assert dict(parse_qsl(line, keep_blank_values=True)) == expected
    assert [name for name, _ in parse_qsl(line, keep_blank_values=True)] == sorted(expected)
    assert "%2B1555" in line  # "+" in E.164 is encoded, as Twilio sends it


def test_callback_to_twilio_as_json(capsys):
    case = "seed-gather-max-digits"
    code, out, _ = run(capsys, "callback", "--to", "twilio", _v2(case, "event.json"), "--account-sid", ACCOUNT_SID,
                       "--format", "json")
    assert code == 0
    assert DeepDiff(json.loads(out), _json(_v2(case, "twilio.json"))["params"]) == {}


def test_callback_gather_context_from_v1_gather_context_out(capsys, tmp_path):
    """End to end: the context v1-gather writes is what callback --context reads."""
    context_file = tmp_path / "ctx.json"
    code, _, _ = run(capsys, "v1-gather", CATAPULT / "numbers.request.json", "--gather-url", GATHER_URL,
                     "--gather-id", "gtr-abc", "--context-out", context_file)
    assert code == 0
    event = _json(_v2("gather-partial-digits", "event.json"))
    event_file = tmp_path / "gather.json"
    event_file.write_text(json.dumps({**event, "digits": "12345"}), encoding="utf-8")
    code, out, err = run(capsys, "callback", "--to", "v1", event_file, "--user-id", USER_ID, "--context", context_file)
    assert (code, err) == (0, "")
    v1_event = json.loads(out)
    assert (v1_event["reason"], v1_event["tag"], v1_event["gatherId"]) == ("max-digits", "menu-1", "gtr-abc")


def test_callback_to_v2_replays_a_v1_event(capsys):
    case = CALLBACKS / "v1" / "spec-dtmf"
    code, out, err = run(capsys, "callback", "--to", "v2", case / "event.json", "--call", case / "call.json")
    assert (code, err) == (0, "")
    assert DeepDiff(json.loads(out), _json(case / "v2.json")["event"]) == {}


def test_callback_schema_error_exits_1_naming_file_and_fields(capsys, tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"eventType": "gather", "digits": "12"}), encoding="utf-8")
    code, out, err = run(capsys, "callback", "--to", "v1", path, "--user-id", USER_ID)
    assert (code, out) == (1, "")
    assert err == (f"{path}: error BXM501 [callback-schema-invalid] v2 gather → v1 gather: missing required "
                   "field(s) callId, eventTime\n")


def test_callback_unmapped_event_exits_1(capsys):
    path = _v2("seed-dtmf", "event.json")
    code, out, err = run(capsys, "callback", "--to", "twilio", path, "--account-sid", ACCOUNT_SID)
    assert (code, out) == (1, "")
    assert err.startswith(f"{path}: error BXM502 [callback-event-unmapped] a 'dtmf' event has no Twilio counterpart")


def test_callback_invalid_context_names_the_context_file(capsys, tmp_path):
    context = tmp_path / "ctx.json"
    context.write_text('{"maxDigits": "five"}', encoding="utf-8")
    code, out, err = run(capsys, "callback", "--to", "v1", _v2("seed-dtmf", "event.json"), "--user-id", USER_ID,
                         "--context", context)
    assert (code, out) == (1, "")
    assert err.startswith(f"{context}: error BXM505 [callback-context-invalid] gather context: maxDigits: ")


def test_callback_bad_call_file_names_it(capsys, tmp_path):
    call = tmp_path / "call.json"
    call.write_text('{"account": "5"}', encoding="utf-8")
    case = CALLBACKS / "v1" / "spec-dtmf"
    code, out, err = run(capsys, "callback", "--to", "v2", case / "event.json", "--call", call)
    assert (code, out) == (1, "")
    assert err.startswith(f"{call}: error BXM501 [callback-schema-invalid] call: not v2 call fields: account")


def test_callback_missing_call_id_names_the_event_file_not_the_call_file(capsys, tmp_path):
    event = tmp_path / "dtmf.json"
    event.write_text('{"eventType": "dtmf", "dtmfDigit": "5", "time": "2012-11-14T15:56:09.276Z"}', encoding="utf-8")
    case = CALLBACKS / "v1" / "spec-dtmf"
    code, out, err = run(capsys, "callback", "--to", "v2", event, "--call", case / "call.json")
    assert (code, out) == (1, "")
    assert err == (f"{event}: error BXM501 [callback-schema-invalid] v1 dtmf → v2 dtmf: missing required field(s) "
                   "callId\n")


def test_callback_not_json_through_the_entry_point():
    result = entry_point("callback", "--to", "v1", "-", "--user-id", USER_ID, stdin=b'{"eventType": "gather",')
    assert (result.returncode, result.stdout) == (1, b"")
    assert result.stderr.decode().startswith("<stdin>:1:24: error BXM506 [callback-not-json] not valid JSON: ")


def test_callback_reads_stdin_through_the_entry_point():
    result = entry_point("callback", "--to", "twilio", "-", "--account-sid", ACCOUNT_SID,
                         stdin=_v2("spec-disconnect-busy", "event.json").read_bytes())
    assert (result.returncode, result.stderr) == (0, b"")
    expected = _json(_v2("spec-disconnect-busy", "twilio.json"))["params"]
    assert dict(parse_qsl(result.stdout.decode().strip(), keep_blank_values=True)) == expected


@pytest.mark.parametrize("argv, message", [
    (["--to", "v1", "EVENT"], "--to v1 needs --user-id"),
    (["--to", "v1", "EVENT", "--user-id", "u/x"], "user_id: not a v1 user id"),
    (["--to", "v1", "EVENT", "--user-id", USER_ID, "--api-base", "api.example.com"], "api_base: expected"),
    (["--to", "twilio", "EVENT"], "--to twilio needs --account-sid"),
    (["--to", "twilio", "EVENT", "--account-sid", "AC1"], "account_sid: expected AC followed by 32 hex digits"),
    (["--to", "twilio", "EVENT", "--account-sid", ACCOUNT_SID, "--context", "EVENT"],
     "--context applies to --to v1 and --to v2 only"),
    (["--to", "v1", "EVENT", "--user-id", USER_ID, "--call", "EVENT"], "--call applies to --to v2 only"),
    (["--to", "v2", "EVENT", "--format", "form"], "--to v2 prints JSON"),
    (["--to", "v3", "EVENT"], "invalid choice: 'v3'"),
    (["EVENT"], "the following arguments are required: --to"),
    (["--to", "v1", "missing.json", "--user-id", USER_ID], "cannot read missing.json"),
])
def test_callback_usage_errors_exit_2(capsys, argv, message):
    event = str(_v2("seed-dtmf", "event.json"))
    code, out, err = run(capsys, "callback", *[event if a == "EVENT" else a for a in argv])
    assert (code, out) == (2, "")
    assert message in err


@pytest.mark.parametrize("command, options", [("v1-gather", ["--gather-url", "--root", "--write-tag", "--context-out",
                                                             "--strict"]),
                                              ("callback", ["--to", "--context", "--format", "--user-id",
                                                            "--account-sid"])])
def test_help(capsys, command, options):
    code, out, _ = run(capsys, command, "--help")
    assert code == 0
    for option in options:
        assert option in out
