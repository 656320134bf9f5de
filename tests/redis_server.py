"""A real ``redis-server`` on a free loopback port, for tests.

    server = RedisServer().start()      # waits until it answers PING
    store = open_store(server.url)
    server.restart()                     # same port, empty data (no persistence)
    server.stop()

    RedisServer(persistent=True)         # AOF: restart() keeps the data

By default the server runs without persistence (``--save '' --appendonly no``) in a private
temporary directory; its log is kept there for failure messages.  With ``persistent=True`` it
writes an append-only file, fsynced on every write (``--appendonly yes --appendfsync always``),
into that same directory, which ``restart()`` keeps: the restarted server loads every write
acknowledged before it stopped (``close()`` removes the directory).  A missing ``redis-server``
is an error, not a skip: CI installs it (set ``REDIS_SERVER`` to use another binary).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import redis

DEFAULT_BINARY = "/usr/bin/redis-server"
START_TIMEOUT = 15.0


class RedisServerError(RuntimeError):
    pass


def find_redis_server() -> str:
    candidate = os.environ.get("REDIS_SERVER") or DEFAULT_BINARY
    if os.path.exists(candidate):
        return candidate
    found = shutil.which("redis-server")
    if found:
        return found
    raise RedisServerError(
        f"redis-server not found (looked for {candidate} and on PATH); install it "
        "(apt-get install redis-server) - the Redis tests must not be skipped"
    )


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    def __init__(self, port: int | None = None, *, persistent: bool = False) -> None:
        self.binary = find_redis_server()
        self.port = port or free_port()
        self.persistent = persistent
        self.directory = Path(tempfile.mkdtemp(prefix="bxml-migrate-redis-"))
        self.log_path = self.directory / "redis.log"
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        command = [
            self.binary,
            "--port", str(self.port),
            "--bind", "127.0.0.1",
            "--save", "",
            *(["--appendonly", "yes", "--appendfsync", "always"] if self.persistent else ["--appendonly", "no"]),
            "--dir", str(self.directory),
            "--logfile", str(self.log_path),
        ]
        self._process = subprocess.Popen(command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                         stderr=subprocess.STDOUT)
        self._wait_until_ready()
        return self

    def _wait_until_ready(self) -> None:
        client = redis.Redis(host="127.0.0.1", port=self.port, socket_connect_timeout=0.5, socket_timeout=0.5)
        deadline = time.monotonic() + START_TIMEOUT
        try:
            while time.monotonic() < deadline:
                assert self._process is not None
                if self._process.poll() is not None:
                    raise RedisServerError(f"redis-server exited with {self._process.returncode}: {self.log()}")
                try:
                    if client.ping():
                        return
                except redis.RedisError:
                    time.sleep(0.05)
            raise RedisServerError(f"redis-server did not answer within {START_TIMEOUT} s: {self.log()}")
        finally:
            client.close()

    def log(self) -> str:
        try:
            return self.log_path.read_text(errors="replace")[-2000:]
        except FileNotFoundError:
            return "(no log)"

    def stop(self) -> None:
        process, self._process = self._process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def restart(self) -> None:
        """Stop and start again on the same port and directory: the data is gone without persistence,
        reloaded from the append-only file with ``persistent=True``."""
        self.stop()
        self.start()

    def close(self) -> None:
        self.stop()
        shutil.rmtree(self.directory, ignore_errors=True)

    def __enter__(self) -> RedisServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()
