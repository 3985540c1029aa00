"""The HTTP client of `ofevents worker`, behind one small class, so that it moves to the
project's shared client factory (issue 10) by changing this module only.

aiohttp, not httpx: a worker is nothing but a client loop, and on a 2-core machine aiohttp's
client sends ~6,000-7,000 requests/s where httpx's sends ~700-850 (bench/harness.py's bare
client loops against bench/target.py, 10 at a time). It sends exactly what it is given: no
proxy from the environment, no redirect followed, no cookie kept, none of its default headers
(but Host and Content-Length, which the next hop needs).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from typing import Any

from ofevents_cli.shells.sender import Sent

__all__ = ["Poster"]

_NOT_ADDED = ("User-Agent", "Accept", "Accept-Encoding", "Content-Type")


class Poster:
    """Send requests over kept-alive connections (at most `connections` at once)."""

    def __init__(self, timeout: float, connections: int) -> None:
        self.timeout = timeout
        self.connections = connections
        self._session: Any = None

    def _open(self) -> Any:
        import aiohttp

        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self.connections),
                cookie_jar=aiohttp.DummyCookieJar(), trust_env=False,
                timeout=aiohttp.ClientTimeout(total=self.timeout),
                skip_auto_headers=_NOT_ADDED, auto_decompress=False)
        return self._session

    async def send(self, method: str, url: str, headers: Sequence[tuple[str, str]],
                   body: bytes) -> Sent:
        """One request; network trouble comes back as a `Sent` with `error` (`unreachable`
        when nothing accepted the connection). ValueError when the request cannot be built
        (a header with a line break, a bad URL or method): another attempt cannot help."""
        import aiohttp

        session = self._open()
        start = time.perf_counter()
        try:
            async with session.request(method, url, headers=list(headers), data=body,
                                       allow_redirects=False) as response:
                answer = await response.read()
                return Sent(response.status, (time.perf_counter() - start) * 1000, answer)
        except (aiohttp.InvalidURL, aiohttp.InvalidUrlClientError) as exc:
            raise ValueError(f"not a URL a request can go to: {exc}") from None
        except asyncio.TimeoutError:
            return Sent(None, (time.perf_counter() - start) * 1000, error="timed out")
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, ConnectionRefusedError)
            return Sent(None, (time.perf_counter() - start) * 1000,
                        error="connection refused" if refused else f"cannot connect ({exc})",
                        unreachable=True)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientPayloadError,
                aiohttp.ClientOSError) as exc:
            return Sent(None, (time.perf_counter() - start) * 1000,
                        error=f"the target closed the connection mid-answer ({exc})")
        except aiohttp.ClientResponseError as exc:
            return Sent(None, (time.perf_counter() - start) * 1000,
                        error=f"unreadable answer: {exc.message}")

    async def aclose(self) -> None:
        """Close the connections."""
        if self._session is not None:
            await self._session.close()
