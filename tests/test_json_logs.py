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
