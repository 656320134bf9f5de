"""JSON log lines: one object per line, request context, secrets and Authorization values masked."""

import io
import json
import logging

import pytest

from adapter.json_logs import REQUEST_CONTEXT, JsonFormatter, Redactor, configure


@pytest.fixture(autouse=True)
def _restore_root_logger():
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)


def test_secrets_and_authorization_headers_are_masked():
    redact = Redactor(["hunter2-secret", None, "", "abc"])  # too-short values are not treated as secrets
    line = redact("password=hunter2-secret Authorization: Basic dXNlcjpwYXNzd29yZA== token Bearer abc.def.ghi")
    assert "hunter2-secret" not in line and "dXNlcjpwYXNzd29yZA==" not in line and "abc.def.ghi" not in line
    assert line.count("***") == 3


def test_log_lines_are_json_with_request_context_and_exceptions_redacted():
    stream = io.StringIO()
    configure(["s3cret-value"], stream=stream)
    log = logging.getLogger("bxml_migrate.test")
    token = REQUEST_CONTEXT.set({"route": "/catapult/callbacks", "callId": "c-1", "gatherId": ""})
    try:
        log.info("hello %s", "s3cret-value", extra={"status": 200})
        try:
            raise ValueError("bad s3cret-value")
        except ValueError:
            log.exception("failed")
    finally:
        REQUEST_CONTEXT.reset(token)
    log.warning("outside a request")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert lines[0]["message"] == "hello ***" and lines[0]["callId"] == "c-1" and lines[0]["status"] == 200
    assert lines[0]["route"] == "/catapult/callbacks" and "gatherId" not in lines[0]
    assert "s3cret-value" not in lines[1]["error"] and lines[1]["level"] == "error"
    assert "callId" not in lines[2] and lines[2]["level"] == "warning"
    assert isinstance(JsonFormatter(Redactor(())).format(logging.makeLogRecord({"msg": "x"})), str)


def _reference_redact(secrets, text):
    """The redaction as first written: both regex passes on every text."""
    import re

    from adapter.json_logs import _AUTH, MASK
    text = _AUTH.sub(lambda m: f"{m.group(1)} {MASK}", text)
    values = sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True)
    return re.compile("|".join(re.escape(v) for v in values)).sub(MASK, text) if values else text


@pytest.mark.parametrize("text", [
    "plain text", "Authorization: BASIC dXNlcjpwYXNzd29yZA==", "bEaReR abcdefgh", "basic short",
    "baſic dXNlcjpwYXNzd29yZA==",  # U+017F matches "s" when case is ignored
    "\u0131 Basic dXNlcjpwYXNzd29yZA== caf\xe9", "xbasic abcdefgh", "basicbearer", "",
    "B\u0130asic abcdefgh", "bear\u0131r abcdefgh", "Bearer\tabc.def.ghi secret-1",
])
def test_redaction_is_the_same_as_both_passes_everywhere(text):
    secrets = ["secret-1", "abc.def"]
    assert Redactor(secrets)(text) == _reference_redact(secrets, text)


def test_timestamps_follow_the_clock_across_seconds():
    import time

    formatter = JsonFormatter(Redactor(()))
    for created in (1700000000.5, 1700000000.999, 1700000001.0, 1700000001.25, 1699999999.75, 0.5, 1700000061.5):
        record = logging.makeLogRecord({"msg": "x", "created": created, "msecs": (created % 1) * 1000})
        expected = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(created)) + f".{int(record.msecs):03d}Z"
        assert json.loads(formatter.format(record))["ts"] == expected


def test_the_line_is_what_json_dumps_writes():
    record = logging.makeLogRecord({"msg": "caf\xe9 \u2603 %s", "args": (object,), "status": 200,
                                    "duration_ms": 1.5, "method": "POST", "route": b"bytes"})
    line = JsonFormatter(Redactor(())).format(record)
    event = json.loads(line)
    assert line == json.dumps(event, ensure_ascii=False, default=str) and "\u2603" in line
    assert event["route"] == "b'bytes'"
