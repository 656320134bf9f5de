"""Shared pytest fixtures."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.redis_server import RedisServer


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
