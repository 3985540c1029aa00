"""`doctor`'s judgements: facts about the machine in, one `Check` per line out, in plain words.

Pure: the shell gathers the facts (env, files, sockets, clocks) and hands them in; nothing here
reads them. Secrets only ever leave masked.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timezone
from email.utils import parsedate_to_datetime
from enum import Enum
from urllib.parse import urlsplit

from ofevents_cli.core import providers as registry
from ofevents_cli.core.masking import mask
from ofevents_cli.core.signing import DEFAULT_TOLERANCE, scheme_key
from ofevents_cli.errors import ExitCode

__all__ = [
    "PROXY_VARIABLES",
    "Check",
    "FileFacts",
    "Status",
    "agent_check",
    "authtoken_check",
    "clock_check",
    "clock_skew",
    "config_check",
    "eventbus_check",
    "exit_code",
    "proxy_check",
    "python_check",
    "secret_check",
    "target_check",
    "token_in_ngrok_config",
]

PROXY_VARIABLES = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY")
SKEW_OK = 10.0  # an HTTP Date has 1 s resolution, plus the round trip: below this is noise


class Status(str, Enum):
    """A check's outcome (the values are part of the JSON contract)."""

    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    SKIP = "skip"


@dataclass(frozen=True)
class Check:
    """One line of the report: what was checked, how it went, what it found, what to do."""

    name: str
    status: Status
    detail: str
    hint: str | None = None


@dataclass(frozen=True)
class FileFacts:
    """What the shell found at a path: missing, a mode, or why it cannot be read."""

    exists: bool
    mode: int | None = None
    problem: str | None = None


def python_check(version: tuple[int, int, int], executable: str) -> Check:
    """The interpreter ofevents runs on (3.10 or newer)."""
    shown = ".".join(str(n) for n in version)
    if version < (3, 10):
        return Check("python", Status.FAIL, f"Python {shown} at {executable}: ofevents needs "
                     "3.10 or newer", "install a newer Python and reinstall ofevents")
    return Check("python", Status.OK, f"Python {shown} at {executable}")


def config_check(path: str, facts: FileFacts) -> Check:
    """The config file: absent is fine, unreadable fails, readable by others warns."""
    if not facts.exists:
        return Check("config", Status.OK, f"no config file at {path} (defaults, env vars)")
    if facts.problem is not None:
        return Check("config", Status.FAIL, facts.problem,
                     "fix or delete it; `ofevents config path` names it")
    mode = facts.mode or 0
    if mode & 0o077:
        return Check("config", Status.WARN,
                     f"{path} is readable by other users (mode {mode & 0o777:04o}), and it can "
                     "hold secrets", f"chmod 600 {path}")
    return Check("config", Status.OK, f"{path} (mode {mode & 0o777:04o})")


def secret_check(provider: str, source: str | None, secret: str | None,
                 problem: str | None = None) -> Check:
    """A provider's webhook secret: set or not (masked), and usable by its default scheme;
    `problem` when it could not be read at all."""
    name = f"secrets.{provider}"
    if problem is not None:
        return Check(name, Status.FAIL, problem, f"`ofevents config set {name} SECRET`")
    if source is None or secret is None:
        return Check(name, Status.SKIP, "not set (trigger, verify and check need --secret)")
    where = f"{mask(secret)} from {source}"
    if secret != secret.strip():
        return Check(name, Status.FAIL, f"{where} has spaces or a newline at its ends",
                     "copy it again exactly as the dashboard shows it")
    schemes = registry.provider(provider).schemes
    usable, why = [], ""
    for scheme in schemes:
        try:
            scheme_key(scheme, secret)
        except ValueError as exc:
            why = str(exc)
        else:
            usable.append(scheme)
    if schemes[0] not in usable:
        rest = f"; only {', '.join(usable)} can use it" if usable else ""
        return Check(name, Status.FAIL, f"{where} does not fit {schemes[0]}, {provider}'s "
                     f"scheme: {why}{rest}",
                     "copy the signing secret from the provider's dashboard (whsec_…)")
    decoded = scheme_key(schemes[0], secret) != secret.encode()
    if decoded and not secret.startswith("whsec_"):
        return Check(name, Status.WARN, f"{where} has no `whsec_` prefix, yet {schemes[0]} "
                     "base64-decodes it: the dashboard shows `whsec_…`",
                     "check it was copied whole (a hex string also decodes as base64)")
    return Check(name, Status.OK, f"{where}: fits {', '.join(usable)}")


def clock_skew(sent_at: float, received_at: float, date_header: str | None) -> float | None:
    """Local clock minus the source's (seconds; positive = ahead), from an HTTP `Date` header
    read between `sent_at` and `received_at`; None when it holds no date."""
    if not date_header:
        return None
    try:
        when = parsedate_to_datetime(date_header)
        server = (when if when.tzinfo else when.replace(tzinfo=timezone.utc)).timestamp()
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    # Date is truncated to the second: the source's clock was half a second later on average
    return (sent_at + received_at) / 2 - (server + 0.5)


def clock_check(source: str | None, skew: float | None, problem: str | None) -> Check:
    """Clock skew against the time source, or why it could not be checked."""
    if source is None:
        return Check("clock", Status.SKIP, "not checked: no time source without network",
                     "pass --online, or --time-source URL (any HTTP server's Date header)")
    if skew is None:
        return Check("clock", Status.WARN, f"could not check against {source}: "
                     f"{problem or 'no usable Date header'}")
    size = f"{abs(skew):.0f} s {'ahead of' if skew > 0 else 'behind'} {source}"
    if abs(skew) > DEFAULT_TOLERANCE:
        return Check("clock", Status.FAIL, f"{size}: signed timestamps fall outside the "
                     f"{DEFAULT_TOLERANCE} s tolerance", "turn on time sync (NTP)")
    if abs(skew) > SKEW_OK:
        return Check("clock", Status.WARN, f"{size}: within the {DEFAULT_TOLERANCE} s "
                     "tolerance, but drifting", "turn on time sync (NTP)")
    return Check("clock", Status.OK, f"within {SKEW_OK:g} s of {source}")


def _hide_password(url: str) -> str:
    """`http://user:pass@proxy:3128` -> `http://user:…@proxy:3128`."""
    try:
        parts = urlsplit(url if "://" in url else f"http://{url}")
    except ValueError:
        return "(unparsable)"
    if parts.password is None:
        return url
    return url.replace(f":{parts.password}@", ":…@", 1)


def proxy_check(env: Mapping[str, str]) -> Check:
    """The proxy variables ofevents honours (either case), passwords hidden. Loopback targets
    never go through a proxy (core/proxies.py), so there is nothing to warn about."""
    seen: dict[str, str] = {}
    for name in PROXY_VARIABLES:
        value = env.get(name.lower()) or env.get(name)
        if value:
            seen[name] = value
    if not seen:
        return Check("proxy", Status.OK, "no proxy variables set")
    shown = ", ".join(f"{k}={_hide_password(v) if k != 'NO_PROXY' else v}"
                      for k, v in seen.items())
    return Check("proxy", Status.OK, f"{shown}: used for remote hosts (a remote EventBus or "
                 "https:// target); localhost and 127.0.0.1 are always reached direct")


def agent_check(path: str, chosen: bool, facts: FileFacts, version: str | None) -> Check:
    """The ngrok agent `forward` would run (`chosen`: named by PYNGROK_NGROK_PATH)."""
    if not facts.exists:
        if chosen:
            return Check("ngrok.agent", Status.FAIL, f"no ngrok agent at {path} "
                         "(PYNGROK_NGROK_PATH)", "point PYNGROK_NGROK_PATH at the agent, or "
                         "unset it to let forward download one")
        return Check("ngrok.agent", Status.WARN, f"not installed at {path}: forward downloads "
                     "it on first use (needs the network)",
                     "forward --tunnel none works without it")
    if facts.problem is not None:
        return Check("ngrok.agent", Status.FAIL, f"{path}: {facts.problem}",
                     f"chmod +x {path}, or point PYNGROK_NGROK_PATH at an agent")
    if version is None:
        return Check("ngrok.agent", Status.WARN, f"{path} does not answer `version`",
                     "reinstall it (delete it and forward downloads a fresh one)")
    return Check("ngrok.agent", Status.OK, f"{version} at {path}")


def authtoken_check(source: str | None, token: str | None) -> Check:
    """Where `forward` would find an ngrok authtoken (masked)."""
    if source is None or not token:
        return Check("ngrok.authtoken", Status.WARN,
                     "none found: forward --tunnel ngrok will stop with ERR_NGROK_4018 (exit 4)",
                     "get one at https://dashboard.ngrok.com/get-started/your-authtoken and "
                     "set NGROK_AUTHTOKEN (or `ngrok config add-authtoken TOKEN`)")
    return Check("ngrok.authtoken", Status.OK, f"{mask(token)} from {source}")


def eventbus_check(url: str | None, credentials: Sequence[str], problem: str | None,
                   refused: bool, session: str | None) -> Check:
    """EventBus reachability and credentials, when any of them is configured."""
    if url is None:
        return Check("eventbus", Status.SKIP, "not configured (listen --demo needs nothing)")
    if len(credentials) < 2:
        return Check("eventbus", Status.WARN, f"{url}: the API key or the WS token is not set",
                     "set BFL_API_KEY and BFL_WS_TOKEN (or eventbus.api_key/ws_token)")
    shown = f"{url} with {' / '.join(mask(c) for c in credentials)}"
    if refused:
        return Check("eventbus", Status.FAIL, f"{shown}: credentials refused ({problem})",
                     "check BFL_API_KEY / BFL_WS_TOKEN")
    if problem is not None:
        return Check("eventbus", Status.FAIL, f"{url}: {problem}",
                     "is the EventBus (or `ofevents emulator`) running? check "
                     "OFEVENTS_EVENTBUS_URL")
    return Check("eventbus", Status.OK, f"{shown}: connected (session {session})")


def target_check(url: str, listening: bool) -> Check:
    """Whether anything accepts connections where `trigger`/`forward` send by default."""
    if listening:
        return Check("target", Status.OK, f"something listens at {url} (nothing was sent)")
    return Check("target", Status.WARN, f"nothing listens at {url}",
                 "start your app, or pass --to to trigger/forward/check")


def exit_code(checks: Sequence[Check]) -> ExitCode:
    """1 when any check fails; warnings and skips are 0."""
    return ExitCode.FAILURES if any(c.status is Status.FAIL for c in checks) else ExitCode.OK


_TOKEN_LINE = re.compile(r"^\s*authtoken:\s*[\"']?([^\"'\s#]+)", re.MULTILINE)


def token_in_ngrok_config(text: str) -> str | None:
    """The `authtoken:` of an ngrok config file (v2 at the top, v3 under `agent:`)."""
    match = _TOKEN_LINE.search(text)
    return match.group(1) if match else None
