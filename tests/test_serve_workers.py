"""``bxml-migrate serve``'s two worker classes (issue 6): gevent (the default) and gthread.

Real processes only: ``bxml-migrate serve`` with one worker, the Bandwidth simulator, a real TwiML
app (``tests.fake_twiml_app``) and SQLite files.  Each test runs on both worker classes:

* one worker serves other calls while a webhook waits on a slow legacy app (under gevent that wait
  must yield: a blocking call would hold up every call of the worker);
* a webhook in flight when the proxy is told to stop is answered before it exits;
* a stopping worker still answers a request on a kept-alive connection (``Connection: close``),
  then closes the idle ones and exits within seconds, not after its whole ``graceful_timeout``
  (gunicorn's own gevent worker waited 20 s for any idle connection);
* SQLite's checkpoint runs on its own operating-system thread, also in a gevent-patched process.
"""

from __future__ import annotations

import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from flask import Response

from adapter.simulator import BandwidthSimulator
from tests.fake_twiml_app import Seen, TwimlApp
from tests.loopback import serve
from tests.proxy_process import ProxyProcess, twiml_mode_settings
from tests.redis_server import free_port

WORKER_CLASSES = ["gevent", "gthread"]
SLOW_CALLER, QUICK_CALLER, TO = "+15550000001", "+15550000002", "+15553334444"
APP_DELAY = 3.0  # seconds the app takes to answer the slow caller


@pytest.fixture
def app():
    twiml_app = TwimlApp()

    def voice(seen: Seen) -> Response:
        if seen.params.get("From") == SLOW_CALLER:
            time.sleep(APP_DELAY)
        text = f"<Response><Say>Hello {seen.params.get('From')}.</Say><Hangup/></Response>"
        return Response(text, status=200, content_type="text/xml")

    twiml_app.route("/ivr/voice", voice)
    with serve(twiml_app.flask) as server:
        twiml_app.url = server.url
        yield twiml_app


@contextlib.contextmanager
def simulated_proxy(app: TwimlApp, tmp_path: Path, worker_class: str) -> Iterator[tuple[Any, ProxyProcess]]:
    """The Bandwidth simulator and a one-worker ``serve`` in TwiML mode for ``app``, on SQLite."""
    port = free_port()
    with BandwidthSimulator() as sim:
        settings = twiml_mode_settings(sim, app.url + "/ivr/voice", f"sqlite:///{tmp_path}/state.db",
                                       f"http://127.0.0.1:{port}", twiml={"timeout": 10.0})
        with ProxyProcess(settings, tmp_path / "proxy", port=port, worker_class=worker_class) as proxy:
            yield sim, proxy


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_one_worker_serves_other_calls_while_a_webhook_waits_on_a_slow_app(app: TwimlApp, tmp_path: Path,
                                                                           worker_class: str) -> None:
    with simulated_proxy(app, tmp_path, worker_class) as (sim, proxy):
        def call(caller: str) -> Any:
            return sim.inbound_call(caller, TO, initiate_url=proxy.url + "/twiml/callbacks",
                                    disconnect_url=proxy.url + "/twiml/callbacks")

        slow = call(SLOW_CALLER)
        time.sleep(0.3)  # the slow caller's webhook is now waiting on the app
        started = time.monotonic()
        quick = call(QUICK_CALLER)
        heard = quick.wait_for_verb("SpeakSentence", timeout=APP_DELAY)
        waited = time.monotonic() - started
        assert heard.text == f"Hello {QUICK_CALLER}."
        assert not slow.verbs("SpeakSentence"), "the slow caller was answered first"
        assert waited < APP_DELAY - 1, waited
        # and the slow caller is answered too, once the app is
        assert slow.wait_for_verb("SpeakSentence", timeout=APP_DELAY + 5).text == f"Hello {SLOW_CALLER}."
        for each in (slow, quick):
            assert each.wait_until_ended(timeout=10) == "hangup"


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_a_webhook_in_flight_at_sigterm_is_answered_before_the_proxy_exits(app: TwimlApp, tmp_path: Path,
                                                                            worker_class: str) -> None:
    with simulated_proxy(app, tmp_path, worker_class) as (sim, proxy):
        call = sim.inbound_call(SLOW_CALLER, TO, initiate_url=proxy.url + "/twiml/callbacks")
        time.sleep(0.5)  # its initiate webhook now waits on the app (3 s)
        assert proxy.process is not None
        proxy.process.send_signal(signal.SIGTERM)
        assert call.wait_for_verb("SpeakSentence", timeout=APP_DELAY + 5).text == f"Hello {SLOW_CALLER}."
        assert proxy.process.wait(timeout=15) == 0, proxy.log()


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_a_stopping_worker_answers_a_kept_alive_connection_then_exits_without_waiting_for_idle_ones(
        tmp_path: Path, worker_class: str) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = subprocess.Popen([sys.executable, "-m", "bxml_migrate", "serve", "--port", str(port), "--workers", "1",
                                "--worker-class", worker_class], cwd=tmp_path,
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        busy, idle = requests.Session(), requests.Session()
        deadline = time.monotonic() + 30
        while True:
            try:
                assert busy.get(url + "/healthz", timeout=5).status_code == 200
                break
            except requests.ConnectionError:
                assert time.monotonic() < deadline and process.poll() is None, "serve did not start"
                time.sleep(0.1)
        assert idle.get(url + "/healthz", timeout=5).headers.get("Connection", "").lower() != "close"
        stopping = time.monotonic()
        process.send_signal(signal.SIGTERM)
        time.sleep(0.5)  # the worker has been told to stop; kept-alive connections linger 2 s
        last = busy.get(url + "/healthz", timeout=5)
        assert last.status_code == 200 and last.headers.get("Connection", "").lower() == "close"
        code = process.wait(timeout=30)
        took = time.monotonic() - stopping
    finally:
        if process.poll() is None:
            process.kill()
        _, err = process.communicate()
    assert code == 0, err[-2000:]
    assert took < 10, f"{took:.1f} s to stop with an idle kept-alive connection (graceful_timeout is 20 s)"


_CHECKPOINT_THREAD = """
import sys, tempfile, threading, time
if sys.argv[1] == "gevent":
    from gevent import monkey
    monkey.patch_all()
from adapter.store.sqlite import SqliteStore
store = SqliteStore(tempfile.mktemp(suffix=".db"))
store.put_call("c-1", {"n": 1})  # a commit: the first checkpoint is due at once
checkpointer = store._checkpointer
deadline = time.monotonic() + 20
while checkpointer.runs == 0 and time.monotonic() < deadline:
    time.sleep(0.01)
store.close()
print(checkpointer.runs, checkpointer.last_thread_id, threading.get_native_id())
"""


@pytest.mark.parametrize("worker_class", WORKER_CLASSES)
def test_sqlite_checkpoints_run_on_their_own_os_thread(worker_class: str) -> None:
    result = subprocess.run([sys.executable, "-c", _CHECKPOINT_THREAD, worker_class],
                            cwd=Path(__file__).parent.parent, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr[-2000:]
    runs, checkpoint_thread, main_thread = result.stdout.split()
    assert int(runs) >= 1
    assert checkpoint_thread != main_thread  # a greenlet would run it on the main thread, stalling the worker
