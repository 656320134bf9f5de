"""The proxy as a real process: ``python -m bxml_migrate serve`` (gunicorn, or ``--dev``), configured
only by ``BXML_MIGRATE_*`` environment variables, for crash/restart and scale-out tests.

    settings = catapult_settings(sim, v1_events_url, state_url, public_url)   # or twiml_mode_settings(...)
    with ProxyProcess(settings, tmp_path / "a") as proxy:    # waits until /readyz is 200
        ...
        proxy.kill()                                         # SIGKILL, the whole process group
        proxy.start()                                        # again, same port and settings

The process runs in its own session (process group), so ``kill()`` also takes gunicorn's worker
down at once, as a machine crash would; its output goes to a file (``log()``), never to a pipe that
could fill up and block it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import requests

from tests.proxy_harness import proxy_settings, twiml_settings
from tests.redis_server import free_port

START_TIMEOUT = 30.0


def catapult_settings(sim: Any, v1_events_url: str, state_url: str, public_url: str,
                      **overrides: Any) -> dict[str, Any]:
    """Catapult-mode settings (dotted keys) for a proxy in front of ``sim`` and a v1 app."""
    settings = proxy_settings(sim, state_url, public_url, v1_events_url=v1_events_url)
    settings.update(overrides)
    return settings


def twiml_mode_settings(sim: Any, app_url: str, state_url: str, public_url: str, *,
                        twiml: Mapping[str, Any] | None = None, **overrides: Any) -> dict[str, Any]:
    """TwiML-mode settings (dotted keys) for a proxy in front of ``sim`` and a TwiML app whose voice
    URL is ``app_url`` (``twiml``: other ``twiml.*`` keys without the section, as ``twiml_settings``)."""
    settings = proxy_settings(sim, state_url, public_url)
    settings.update(twiml_settings(app_url, **(twiml or {})))
    settings.update(overrides)
    return settings


def environment(settings: Mapping[str, Any]) -> dict[str, str]:
    """``{"state.url": ...}`` -> ``{"BXML_MIGRATE_STATE_URL": ...}`` on top of a clean environment."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BXML_MIGRATE_")}
    for dotted, value in settings.items():
        section, key = dotted.split(".", 1)
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, list | tuple):
            text = ",".join(str(v) for v in value)
        else:
            text = str(value)
        env[f"BXML_MIGRATE_{section.upper()}_{key.upper()}"] = text
    return env


class ProxyProcess:
    """``bxml-migrate serve`` on 127.0.0.1:``port`` (default: a free port, kept across restarts)."""

    def __init__(self, settings: Mapping[str, Any], workdir: Path, *, port: int | None = None,
                 dev: bool = False, threads: int = 8, worker_class: str | None = None) -> None:
        self.settings = dict(settings)
        self.workdir = Path(workdir)
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.dev = dev
        self.threads = threads
        self.worker_class = worker_class  # None: serve's default
        self.log_path = self.workdir / "serve.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def command(self) -> list[str]:
        command = [sys.executable, "-m", "bxml_migrate", "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.dev:
            return [*command, "--dev"]
        command = [*command, "--workers", "1", "--threads", str(self.threads)]
        return command if self.worker_class is None else [*command, "--worker-class", self.worker_class]

    def start(self, timeout: float = START_TIMEOUT) -> ProxyProcess:
        """Launch and wait until ``/readyz`` answers 200 (the process is killed if it does not)."""
        self.launch()
        try:
            self.wait_ready(timeout)
        except BaseException:
            self.kill()
            raise
        return self

    def launch(self) -> ProxyProcess:
        """Start the process without waiting (start several, then ``wait_ready`` each)."""
        if self.process is not None and self.process.poll() is None:
            raise RuntimeError("the proxy process is already running")
        env = environment(self.settings)
        metrics_dir = self.workdir / f"metrics-{self.starts}"
        metrics_dir.mkdir(exist_ok=True)
        env["PROMETHEUS_MULTIPROC_DIR"] = str(metrics_dir)
        self.starts += 1
        with open(self.log_path, "ab") as log:
            log.write(f"--- start #{self.starts}: {' '.join(self.command())}\n".encode())
            log.flush()
            self.process = subprocess.Popen(self.command(), cwd=self.workdir, env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def wait_ready(self, timeout: float = START_TIMEOUT, path: str = "/readyz") -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"serve exited with {self.process.returncode}:\n{self.log()}")
            with contextlib.suppress(requests.RequestException):
                if requests.get(self.url + path, timeout=1).status_code == 200:
                    return
            time.sleep(0.05)
        raise AssertionError(f"serve was not ready within {timeout} s:\n{self.log()}")

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL to the process group (gunicorn's master and worker): nothing gets to clean up."""
        process = self.process
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self, timeout: float = 20.0) -> int | None:
        """SIGTERM (graceful shutdown), SIGKILL after ``timeout``; the exit code."""
        process = self.process
        if process is None or process.poll() is not None:
            return None if process is None else process.returncode
        process.send_signal(signal.SIGTERM)
        try:
            return process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            return process.returncode

    def log(self, tail: int = 4000) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-tail:]
        except FileNotFoundError:
            return "(no log)"

    def __enter__(self) -> ProxyProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class Instances:
    """Several proxy processes on ``ports`` with the same settings; after the block, each one's
    exit code (``codes``, 0 for a clean SIGTERM shutdown) and log."""

    def __init__(self, proxies: list[ProxyProcess]) -> None:
        self.proxies = proxies
        self.codes: list[int | None] = []
        self.logs: list[str] = []


@contextlib.contextmanager
def running_instances(settings: Mapping[str, Any], directory: Path, ports: list[int]) -> Iterator[Instances]:
    """Launch one proxy process per port, wait until all are ready, stop them all at the end."""
    group = Instances([ProxyProcess(settings, directory / f"proxy-{i}", port=port) for i, port in enumerate(ports)])
    try:
        for proxy in group.proxies:
            proxy.launch()
        for proxy in group.proxies:
            proxy.wait_ready()
        yield group
    finally:
        group.codes = [proxy.stop() for proxy in group.proxies]
        group.logs = [proxy.log() for proxy in group.proxies]
