"""Every test runs with its own config dir and history dir, and no provider secrets from the
real environment.

Tests that need Redis ask for `redis_server` (one real server for the whole session, started
on first use) or `redis_client` (a redis-py client on it, with an empty database).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ofevents_cli.core.catalogue import use_fixture_dirs
from tests.redis_server import RedisServer

_ENV = (
    "OFAPI_WEBHOOK_SECRET", "ONLYFANSAPI_WEBHOOK_SECRET", "OFAUTH_WEBHOOK_SECRET",
    "BFL_API_KEY", "BFL_WS_TOKEN", "OFEVENTS_EVENTBUS_URL", "NGROK_AUTHTOKEN",
    "PYNGROK_NGROK_PATH", "FORCE_COLOR",
)


@pytest.fixture(autouse=True)
def isolated_env(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
                 ) -> Iterator[Path]:
    """Point the config and history dirs at temp dirs so no test reads or writes the real ones."""
    config = tmp_path_factory.mktemp("config")
    monkeypatch.setenv("OFEVENTS_CONFIG_DIR", str(config))
    monkeypatch.setenv("OFEVENTS_HISTORY_DIR", str(tmp_path_factory.mktemp("history")))
    monkeypatch.setenv("NO_COLOR", "1")
    for name in _ENV:
        monkeypatch.delenv(name, raising=False)
    yield config
    use_fixture_dirs(())  # user fixture folders are per command: none leaks into the next test


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    """A real redis-server on 127.0.0.1 (no persistence), shared by the session's tests."""
    from tests.redis_server import redis_server as start

    with start(tmp_path_factory.mktemp("redis")) as server:
        yield server


@pytest.fixture
def redis_client(redis_server: RedisServer) -> Iterator[Any]:
    """A redis-py client on the shared server, its database emptied first."""
    import redis

    client = redis.Redis(host=redis_server.host, port=redis_server.port, socket_timeout=5)
    client.flushdb()
    try:
        yield client
    finally:
        client.close()
