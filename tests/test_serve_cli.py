"""``bxml-migrate serve`` as a real process under gunicorn: start-up, config errors, readiness, shutdown."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest
import requests


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("BXML_MIGRATE_")}
    env.update(extra)
    return env


def start(args, cwd, env):
    return subprocess.Popen([sys.executable, "-m", "bxml_migrate", "serve", *args], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"serve exited early: {process.stderr.read()}")
        try:
            if requests.get(url + "/healthz", timeout=5).status_code == 200:
                return
        except requests.RequestException:  # not listening yet, or a worker still booting
            pass
        time.sleep(0.1)
    raise AssertionError("serve did not become healthy")


def stop(process: subprocess.Popen) -> tuple[int, str]:
    process.send_signal(signal.SIGTERM)
    try:
        _, err = process.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        _, err = process.communicate()
    return process.returncode, err


def test_config_errors_exit_2_one_line_each_without_secrets(tmp_path):
    config = tmp_path / "proxy.toml"
    config.write_text('[server]\npublic_url = "ftp://nope"\n[bandwidth]\npassword = "s3cr3t-value"\n'
                      'callback_usernme = "x"\n[catapult]\nuser_id = "not-a-user"\n')
    result = subprocess.run([sys.executable, "-m", "bxml_migrate", "serve", "--config", str(config)],
                            capture_output=True, text=True, env=clean_env(), timeout=60)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.startswith("bxml-migrate serve:")]
    assert len(lines) >= 3
    assert any("server.public_url" in line for line in lines)
    assert any("callback_usernme" in line for line in lines)
    assert any("catapult.user_id" in line for line in lines)
    assert "s3cr3t-value" not in result.stderr + result.stdout


def test_missing_config_file_is_a_clear_error(tmp_path):
    result = subprocess.run([sys.executable, "-m", "bxml_migrate", "serve", "--config", str(tmp_path / "no.toml")],
                            capture_output=True, text=True, env=clean_env(), timeout=60)
    assert result.returncode == 2 and "no.toml" in result.stderr


def test_no_config_starts_with_embedded_sqlite_and_says_what_is_unconfigured(tmp_path):
    port = free_port()
    process = start(["--port", str(port), "--workers", "1"], tmp_path, clean_env())
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        ready = requests.get(url + "/readyz", timeout=5)
        assert ready.status_code == 503 and "no mode is configured" in ready.json()["problems"]
        assert (tmp_path / "bxml-migrate.db").exists()
    finally:
        code, err = stop(process)
    assert "catapult mode: not configured" in err and "twiml mode: not configured" in err
    assert code == 0


@pytest.mark.parametrize("worker_class", ["gevent", "gthread"])
def test_configured_from_environment_under_gunicorn_is_ready_and_shuts_down_cleanly(tmp_path, worker_class):
    port = free_port()
    env = clean_env(
        BXML_MIGRATE_SERVER_PUBLIC_URL="https://proxy.example.com",
        BXML_MIGRATE_BANDWIDTH_ACCOUNT_ID="5555",
        BXML_MIGRATE_BANDWIDTH_USERNAME="bw",
        BXML_MIGRATE_BANDWIDTH_PASSWORD="pw-do-not-log",
        BXML_MIGRATE_CATAPULT_USER_ID="u-abc",
        BXML_MIGRATE_CATAPULT_API_TOKEN="t-abc",
        BXML_MIGRATE_CATAPULT_API_SECRET="secret-do-not-log",
        BXML_MIGRATE_CATAPULT_CALLBACK_URL="https://legacy.example.com/events",
        BXML_MIGRATE_STATE_URL=f"sqlite:///{tmp_path}/state.db",
    )
    process = start(["--port", str(port), "--workers", "2", "--worker-class", worker_class, "--threads", "4"],
                    tmp_path, env)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(url, process)
        ready = requests.get(url + "/readyz", timeout=5)
        assert ready.status_code == 200 and ready.json()["modes"] == ["catapult"]
        unauthorized = requests.get(url + "/v1/users/u-abc/calls/c-1", timeout=5)
        assert unauthorized.status_code == 401
        missing = requests.get(url + "/v1/users/u-abc/calls/c-1", auth=("t-abc", "secret-do-not-log"), timeout=5)
        assert missing.status_code == 404 and missing.json()["code"] == "call-not-found"
        for _ in range(20):  # spread over both workers; /metrics must add them all up
            requests.get(url + "/healthz", timeout=5)
        samples = {}
        for _ in range(4):
            text = requests.get(url + "/metrics", timeout=5).text
            for line in text.splitlines():
                if line.startswith('bxml_migrate_requests_total{') and 'route="/healthz"' in line:
                    samples[line.split(" ")[0]] = float(line.split(" ")[1])
        assert sum(samples.values()) >= 20, samples
        assert "bxml_migrate_outbox_depth 0.0" in text
    finally:
        code, err = stop(process)
    assert code == 0
    assert "pw-do-not-log" not in err and "secret-do-not-log" not in err
    events = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert len(events) == len([line for line in err.splitlines() if line.strip()]), "every log line is JSON"
    assert any("catapult mode: configured" in e["message"] for e in events)
    request_lines = [e for e in events if e.get("route") == "/v1/users/<user_id>/calls/<call_id>"]
    assert request_lines and request_lines[-1]["callId"] == "c-1" and request_lines[-1]["status"] == 404


@pytest.mark.parametrize(("args", "message"), [
    (["--connections", "0"], "argument --connections: must be 1 or more"),
    (["--threads", "many"], "argument --threads: 'many' is not a whole number"),
    (["--worker-class", "sync"], "argument --worker-class: invalid choice: 'sync'"),
])
def test_bad_worker_options_are_usage_errors_naming_the_option(tmp_path, args, message):
    result = subprocess.run([sys.executable, "-m", "bxml_migrate", "serve", *args], cwd=tmp_path, env=clean_env(),
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2 and message in result.stderr, result.stderr
