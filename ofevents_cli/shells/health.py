"""Is anything listening on the target? Checked with a bare TCP connect, no request sent."""

from __future__ import annotations

import asyncio
import contextlib
from urllib.parse import urlsplit

__all__ = ["listening", "target_address"]


def target_address(url: str) -> tuple[str, int]:
    """The host and port a target URL connects to."""
    parsed = urlsplit(url)
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    return parsed.hostname or "", port


async def listening(host: str, port: int, timeout: float = 1.0) -> bool:
    """True when a TCP connection to host:port opens within `timeout`."""
    try:
        _, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, asyncio.TimeoutError):
        return False
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
    return True
