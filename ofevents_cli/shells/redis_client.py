"""Talking to Redis (redis-py's asyncio client), shared by the Redis sink and the worker.

redis-py is imported only here and only when a Redis URL is used: `--help` and a plain
`listen` never load it. Its own hidden retries are off (the sink and the worker retry with
their own backoff and say so), and every failure is one short reason.
"""

from __future__ import annotations

import errno
import socket
from typing import Any

from ofevents_cli.core.sink_urls import RedisSpec
from ofevents_cli.errors import CredentialsError, UnreachableError

__all__ = ["connect", "problem", "reachable", "transient"]

CONNECT_TIMEOUT = 3.0
SOCKET_TIMEOUT = 10.0


def transient() -> tuple[type[BaseException], ...]:
    """The exceptions after which waiting and trying again can help."""
    import redis

    return (redis.ConnectionError, redis.TimeoutError, OSError)


def connect(spec: RedisSpec) -> Any:
    """A redis-py asyncio client for `spec` (no connection is made yet). Typed Any: redis-py
    types each command as `X | Awaitable[X]` for both its clients."""
    from redis.asyncio import Redis
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    return Redis(host=spec.host, port=spec.port, db=spec.db, username=spec.username,
                 password=spec.password, ssl=spec.tls, socket_timeout=SOCKET_TIMEOUT,
                 socket_connect_timeout=CONNECT_TIMEOUT, retry=Retry(NoBackoff(), 0),
                 client_name="ofevents")


def problem(exc: BaseException) -> str:
    """One line for a Redis failure: refused, timed out, or what the server said."""
    import redis

    if isinstance(exc, redis.TimeoutError):
        return "timed out"
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "host not found (DNS)"
        cause = cause.__cause__ or cause.__context__
    text = str(exc).strip() or type(exc).__name__
    if text.startswith(f"Error {errno.ECONNREFUSED} "):
        return "connection refused"
    return text.splitlines()[0][:200]


async def reachable(spec: RedisSpec, client: Any, flag: str) -> None:
    """PING once: CredentialsError (exit 4) for a refused password, UnreachableError (exit 3)
    when nothing answers."""
    import redis

    try:
        await client.ping()
    except redis.AuthenticationError as exc:
        raise CredentialsError(f"{spec.label}: Redis refused the credentials ({problem(exc)})",
                               f"check the password in {flag} (redis://:PASSWORD@host:port/0)"
                               ) from None
    except redis.ResponseError as exc:
        if "NOAUTH" in str(exc) or "WRONGPASS" in str(exc):
            raise CredentialsError(f"{spec.label}: {problem(exc)}",
                                   f"add the password to {flag} (redis://:PASSWORD@host:port/0)"
                                   ) from None
        raise UnreachableError(f"{spec.label}: {problem(exc)}", f"check {flag}") from None
    except transient() as exc:
        raise UnreachableError(f"{spec.label} is unreachable: {problem(exc)}",
                               f"is Redis running? (check {flag})") from None
