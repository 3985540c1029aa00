"""Where a user asked ofevents to send: one parser for every `--to` / `--forward-to`.

`3000`, `3000/webhooks`, `localhost:3000`, `host:port/path` and full http(s) URLs all mean what
a developer means by them. A port with a path (`3000/webhooks`) is `localhost`, never a host
named "3000" that a resolver would turn into 0.0.11.184 and send a signed webhook to; a host
made only of digits is refused for the same reason.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit, urlunsplit

from ofevents_cli.errors import InputError

__all__ = ["DEFAULT_TARGET", "parse_target"]

DEFAULT_TARGET = "http://localhost:3000/webhooks"

_PORT_FIRST = re.compile(r"(\d+)(/.*)?", re.DOTALL)  # `3000` or `3000/path?query`
_HINT = ("use a port (3000), a port and path (3000/webhooks), host:port (localhost:3000) or an "
         "http(s) URL")


def parse_target(text: str | None, *, flag: str = "--to", default_path: str = "/webhooks",
                 default: str | None = DEFAULT_TARGET) -> str:
    """A full http(s) URL for `text`; `default_path` fills in a missing path; InputError names
    `flag` when `text` cannot be a target."""
    text = (text or "").strip()
    if not text:
        if default is None:
            raise InputError(f"{flag} is empty", _HINT)
        return default
    given = text
    port_first = _PORT_FIRST.fullmatch(text)
    if port_first:
        text = f"http://localhost:{port_first.group(1)}{port_first.group(2) or ''}"
    elif "://" not in text:
        text = f"http://{text}"
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise InputError(f"{flag} {given!r} is not a valid target", _HINT) from None
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not host:
        raise InputError(f"{flag} {given!r} is not an http(s) target", _HINT)
    if host.isdigit():
        raise InputError(f"{flag} {given!r}: a host made only of digits is not a host",
                         f"did you mean localhost:{host}? " + _HINT)
    if port is not None and not 0 < port < 65536:
        raise InputError(f"{flag} {given!r}: port {port} is out of range", _HINT)
    if any(ord(c) < 0x21 or ord(c) == 0x7F for c in text):
        raise InputError(f"{flag} {given!r} holds spaces or control characters", _HINT)
    path = default_path if parts.path in ("", "/") and default_path else parts.path
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
