"""Which proxy a request goes through: the environment's, except for loopback and NO_PROXY.

Corporate networks reach the internet through a proxy named in `HTTPS_PROXY` / `HTTP_PROXY`
/ `ALL_PROXY` (either case; the lower-case one wins, as in curl). A remote `wss://` EventBus
or an `https://` target must honour it; a loopback target (127.0.0.0/8, ::1, localhost) never
goes through one, whatever the variables say: the proxy cannot reach the developer's machine,
and a signed webhook for `localhost` must not leave it. Pure: the caller passes the
environment in.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from urllib.parse import urlsplit

__all__ = ["is_loopback", "proxy_for"]

# the scheme a request goes out as -> the variables that name its proxy, first wins
_VARIABLES = {"http": ("HTTP_PROXY", "ALL_PROXY"), "ws": ("HTTP_PROXY", "ALL_PROXY"),
              "https": ("HTTPS_PROXY", "ALL_PROXY"), "wss": ("HTTPS_PROXY", "ALL_PROXY")}


def is_loopback(host: str) -> bool:
    """localhost (and its subdomains), 127.0.0.0/8 and ::1 (with or without brackets)."""
    name = host.strip("[]").lower().rstrip(".")
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def _variable(env: Mapping[str, str], name: str) -> str:
    return (env.get(name.lower()) or env.get(name) or "").strip()


def _bypassed(host: str, port: int, no_proxy: str) -> bool:
    """NO_PROXY as curl and httpx read it: `*`, hosts, domains (`example.com` and
    `.example.com` both cover subdomains), IPs and CIDR blocks, each with an optional port."""
    host = host.strip("[]").lower().rstrip(".")
    for entry in (e.strip().lower() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return True
        name, _, wanted = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if wanted and (not wanted.isdigit() or int(wanted) != port):
            continue
        name = name.strip("[]").lstrip("*").rstrip(".")
        if "/" in name:
            try:
                if ipaddress.ip_address(host) in ipaddress.ip_network(name, strict=False):
                    return True
            except ValueError:
                pass
            continue
        domain = name.lstrip(".")
        if domain and (host == domain or host.endswith("." + domain)):
            return True
    return False


def proxy_for(url: str, env: Mapping[str, str]) -> str | None:
    """The proxy URL a request to `url` goes through, or None (direct)."""
    try:
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port
    except ValueError:
        return None
    names = _VARIABLES.get(parts.scheme.lower())
    if names is None or not host or is_loopback(host):
        return None
    port = port or (443 if parts.scheme.lower() in ("https", "wss") else 80)
    if _bypassed(host, port, _variable(env, "NO_PROXY")):
        return None
    for name in names:
        proxy = _variable(env, name)
        if proxy:
            return proxy if "://" in proxy else f"http://{proxy}"
    return None
