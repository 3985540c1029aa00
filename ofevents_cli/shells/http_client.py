"""The one place HTTP clients are made: timeouts, TLS (`--insecure`, `--cacert`), proxies,
cookies and the headers a client adds of its own.

Two libraries, chosen by measurement (bench/stacks.py): aiohttp where requests are many
(`trigger --count`, `listen --forward-to`, `replay`, the worker, and the relay's https:// and
proxied targets), since its client spends a fifth of httpx's CPU per request and does not slow
down with concurrency; httpx where a handful are sent and its API is what the code reads best
(`check`, `doctor`, `trigger --to ws://`). The relay's plain http:// targets get its own
client (shells/upstream.py; with it the relay's CPU per delivery went from ~0.29 to ~0.19 ms
in bench/relay.py's profile), which sends what aiohttp would. All get the same rules here:

- proxies: the environment's (`HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`, `NO_PROXY`) for a
  remote target, never for loopback (core/proxies.py);
- TLS: verified against the system's CAs, or `--cacert FILE`'s, or not at all (`--insecure`);
- no cookie is ever kept, and no header is added but `Host` and `Content-Length`.

aiohttp writes header values as UTF-8; HTTP/1.1 carries them as bytes, and ofevents keeps
them as latin-1 text (one character per byte), so `_latin1_headers` makes aiohttp write
them back as latin-1: the bytes a delivery came with are the bytes that go out.
"""

from __future__ import annotations

import io
import os
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ofevents_cli.core.proxies import proxy_for
from ofevents_cli.errors import InputError

if TYPE_CHECKING:
    import aiohttp
    import httpx

__all__ = ["HttpSettings", "body", "httpx_client", "proxy", "session", "tls"]

# what aiohttp adds by itself unless told not to; `Host` and `Content-Length` stay
SKIP_AUTO_HEADERS = ("Accept", "Accept-Encoding", "User-Agent", "Content-Type")
PROXY_SCHEMES = ("http", "https")
LARGE_BODY = 1 << 20  # aiohttp warns (ResourceWarning) when given more bytes than this at once


@dataclass(frozen=True)
class HttpSettings:
    """How a client talks to its targets: seconds per request (None: no limit), TLS."""

    timeout: float | None = 10.0
    insecure: bool = False
    cacert: str | None = None


def tls(settings: HttpSettings) -> ssl.SSLContext | bool:
    """False (no verification), a context trusting `--cacert`, or True (the system's CAs);
    InputError for a CA file that cannot be read or holds no certificate."""
    if settings.insecure:
        return False
    if settings.cacert is None:
        return True
    try:
        return ssl.create_default_context(cafile=settings.cacert)
    except (OSError, ssl.SSLError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError(f"cannot use --cacert {settings.cacert}: {reason}",
                         "give a PEM file of CA certificates") from None


def proxy(url: str) -> str | None:
    """The proxy for `url` from this process's environment (None: direct); InputError for a
    proxy these clients cannot speak to (socks)."""
    chosen = proxy_for(url, os.environ)
    if chosen is not None and chosen.split("://", 1)[0].lower() not in PROXY_SCHEMES:
        raise InputError(f"unsupported proxy {chosen.split('://', 1)[0]}:// for {url}",
                         "use an http:// proxy in HTTPS_PROXY / HTTP_PROXY / ALL_PROXY, or "
                         "list the host in NO_PROXY")
    return chosen


def session(settings: HttpSettings, *, limit: int = 100) -> aiohttp.ClientSession:
    """An aiohttp session: at most `limit` connections, no cookies, bodies as sent (no
    decompression), no redirects followed by default callers; pass `proxy=proxy(url)` per
    request."""
    import aiohttp

    _latin1_headers()
    timeout = aiohttp.ClientTimeout(total=settings.timeout)
    connector = aiohttp.TCPConnector(limit=limit, ssl=tls(settings))
    return aiohttp.ClientSession(connector=connector, cookie_jar=aiohttp.DummyCookieJar(),
                                 auto_decompress=False, timeout=timeout, trust_env=False,
                                 skip_auto_headers=SKIP_AUTO_HEADERS)


def body(data: bytes) -> bytes | io.BytesIO | None:
    """A request body as aiohttp takes it: None when empty, a stream past LARGE_BODY (same
    bytes, same Content-Length)."""
    if not data:
        return None
    return io.BytesIO(data) if len(data) > LARGE_BODY else data


def httpx_client(url: str, settings: HttpSettings) -> httpx.AsyncClient:
    """An httpx client for requests to `url`'s origin, under the same rules."""
    import httpx

    from ofevents_cli.shells.cookies import cookieless

    return httpx.AsyncClient(timeout=settings.timeout, verify=tls(settings), trust_env=False,
                             proxy=proxy(url), cookies=cookieless())


_patched = False


def _latin1_headers() -> None:
    """Make aiohttp write header values as latin-1 (see the module's docstring). A value
    that is not latin-1 text raises UnicodeEncodeError (a ValueError) when sent."""
    global _patched
    if _patched:
        return
    from aiohttp import http_writer

    utf8 = http_writer._serialize_headers  # aiohttp's own (compiled) writer

    def serialize(status_line: str, headers: Any) -> bytes:
        try:  # ASCII text is the same bytes in UTF-8 and latin-1: the common case, fast
            data: bytes | None = utf8(status_line, headers)
        except ValueError:  # a CR or LF: said below, in our words
            data = None
        if data is not None and data.isascii() and b"\x00" not in data:
            return data
        lines = [status_line, *(f"{k}: {v}" for k, v in headers.items())]
        for line in lines:  # a CR or LF would start a header (or a request) of its own
            if "\r" in line or "\n" in line or "\x00" in line:
                raise ValueError("a header holds a control character (CR, LF or NUL)")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    http_writer._serialize_headers = serialize
    _patched = True
