"""A cookie jar that keeps nothing, for httpx clients that must send exactly what they are given.

Its own module: `http.cookiejar` (and `urllib.request` with it) is imported only by the few
commands that make an httpx client, not by every sender.
"""

from __future__ import annotations

import http.cookiejar


class _KeepNothing(http.cookiejar.DefaultCookiePolicy):
    """Refuses every cookie: a Set-Cookie from one answer must not ride on the next request."""

    def set_ok(self, cookie: http.cookiejar.Cookie, request: object) -> bool:
        return False


def cookieless() -> http.cookiejar.CookieJar:
    """A cookie jar that stores nothing (for clients that must send exactly what they're given)."""
    return http.cookiejar.CookieJar(policy=_KeepNothing())
