"""Which HTTP requests the relay may forward: origin-form paths only, and no CONNECT.

Anyone on the internet can send the public URL anything. A target that is not a plain path
(`@host:port/x`, `http://evil/x`, `host:443` from CONNECT, `*`) would let the caller choose the
host the relay talks to, and a dot segment (`/../admin`, `/%2e%2e/admin`) would step out of the
`--to` path once the HTTP client, or a server that decodes `%2e`, normalises it. A backslash is
no path character: WHATWG URL parsers, Node's among them, read `/\\host/x` as `//host/x`. A
fragment (`/x#y`) is never part of a request: an HTTP client would drop it, so what reached the
target would not be what was captured. CONNECT, even with a path, asks for a tunnel, not a
delivery: a target that said yes would have the relay pipe the caller's bytes. Those are
refused (400), captured and reported.
"""

from __future__ import annotations

import re

__all__ = ["request_problem", "target_problem"]

# RFC 9112 3.2.1 origin-form: an absolute path (visible ASCII), then an optional ?query
_VISIBLE = re.compile(r"[!-~]*")
# `.`/`..` segments, written or percent-encoded (a server that decodes `%2e` steps out too)
_DOT_SEGMENT = re.compile(r"(^|/)(\.|%2e){1,2}(/|$)", re.IGNORECASE)


def target_problem(target: str) -> str | None:
    """Why `target` (the request line's target, query included) may not be relayed, or None."""
    if not target.startswith("/"):
        return "the request target is not a path (the relay accepts origin-form only: /path?query)"
    if not _VISIBLE.fullmatch(target):
        return "the request target holds spaces, control or non-ASCII characters"
    if "#" in target:
        return "the request target holds a fragment (#), which no request carries"
    if "\\" in target:  # no path character: URL parsers such as Node's read `/\h` as `//h`
        return "the request target holds a backslash"
    path = target.partition("?")[0]
    if _DOT_SEGMENT.search(path):
        return "the request path holds a dot segment (/./ or /../, `.` also as %2e)"
    return None


def request_problem(method: str, target: str) -> str | None:
    """Why a request (its method and target) may not be relayed, or None. The method is
    compared in upper case: the relay's client sends it so."""
    if method.upper() == "CONNECT":
        return "CONNECT asks for a tunnel; the relay forwards requests, it is not a proxy"
    return target_problem(target)
