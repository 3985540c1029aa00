"""Which proxy a request takes: the environment's for remote hosts, none for loopback."""

from __future__ import annotations

import pytest

from ofevents_cli.core.proxies import is_loopback, proxy_for

PROXY = "http://proxy.corp:3128"


@pytest.mark.parametrize("url", [
    "http://127.0.0.1:3000/x", "https://localhost/x", "ws://[::1]:8765/v1/events",
    "wss://127.1.2.3/v1/events", "http://api.localhost:8080/", "http://LOCALHOST./x",
])
def test_loopback_is_never_proxied(url: str) -> None:
    """Every proxy variable set, no NO_PROXY: a loopback URL goes direct."""
    env = {"HTTP_PROXY": PROXY, "HTTPS_PROXY": PROXY, "ALL_PROXY": PROXY}
    assert proxy_for(url, env) is None


@pytest.mark.parametrize(("url", "env", "expected"), [
    ("https://hooks.example.com/x", {"HTTPS_PROXY": PROXY}, PROXY),
    ("wss://bus.example.com/v1/events", {"HTTPS_PROXY": PROXY}, PROXY),
    ("ws://bus.example.com/v1/events", {"HTTPS_PROXY": PROXY}, None),
    ("ws://bus.example.com/v1/events", {"HTTP_PROXY": PROXY}, PROXY),
    ("https://hooks.example.com/x", {"HTTP_PROXY": PROXY}, None),
    ("https://hooks.example.com/x", {"ALL_PROXY": PROXY}, PROXY),
    ("https://hooks.example.com/x", {"https_proxy": "http://lower:1", "HTTPS_PROXY": PROXY},
     "http://lower:1"),
    ("https://hooks.example.com/x", {"HTTPS_PROXY": "proxy.corp:3128"}, PROXY),
    ("https://hooks.example.com/x", {}, None),
])
def test_the_scheme_picks_the_variable(url: str, env: dict[str, str],
                                       expected: str | None) -> None:
    """https/wss read HTTPS_PROXY, http/ws HTTP_PROXY, both fall back to ALL_PROXY; the
    lower-case name wins; a bare host:port is an http:// proxy."""
    assert proxy_for(url, env) == expected


@pytest.mark.parametrize(("no_proxy", "host", "bypassed"), [
    ("*", "hooks.example.com", True),
    ("example.com", "hooks.example.com", True),
    (".example.com", "hooks.example.com", True),
    ("example.com", "example.com", True),
    ("example.com", "badexample.com", False),
    ("other.org, example.com:443", "hooks.example.com", True),
    ("example.com:8443", "hooks.example.com", False),
    ("10.0.0.0/8", "10.1.2.3", True),
    ("10.0.0.0/8", "11.1.2.3", False),
    ("", "hooks.example.com", False),
])
def test_no_proxy(no_proxy: str, host: str, bypassed: bool) -> None:
    """NO_PROXY: `*`, domains with or without a leading dot, ports, CIDR blocks."""
    env = {"HTTPS_PROXY": PROXY, "NO_PROXY": no_proxy}
    assert (proxy_for(f"https://{host}/x", env) is None) is bypassed


def test_is_loopback_knows_its_names() -> None:
    """127/8, ::1 and localhost are loopback; a name that merely contains them is not."""
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.255.0.9", "::1", "[::1]",
                                        "localhost"))
    assert not any(is_loopback(h) for h in ("localhost.example.com", "128.0.0.1", "10.0.0.1",
                                            "example.com", ""))
