"""Shared pytest fixtures."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

import pytest

from adapter.simulator import BandwidthSimulator
from tests.redis_server import RedisServer

_prefixes = itertools.count()


@pytest.fixture(scope="session")
def redis_server() -> Iterator[RedisServer]:
    """A real redis-server on a free loopback port for the whole session.

    Not installed -> the tests using it fail (CI installs redis-server); see tests/redis_server.py.
    """
    server = RedisServer().start()
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def sim() -> Iterator[BandwidthSimulator]:
    """The Bandwidth v2 simulator, 100x faster than real time."""
    with BandwidthSimulator(time_scale=0.01) as simulator:
        yield simulator


@pytest.fixture(params=["sqlite", "redis"])
def state_url(request: pytest.FixtureRequest, tmp_path: Any) -> tuple[str, dict[str, str]]:
    """Each end-to-end test on a file SQLite store and on the session's real Redis (own key prefix)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/proxy.db", {}
    server = request.getfixturevalue("redis_server")
    return server.url, {"state.key_prefix": f"test-e2e{next(_prefixes)}:"}
