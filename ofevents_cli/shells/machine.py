"""`doctor`'s probes: read the environment, files and sockets and hand the facts to the pure
checks (core/doctor_checks.py). Only two probes may leave the machine: the EventBus, when one
is configured, and the time source, when the user names one (`--time-source`, `--online`)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ofevents_cli import __version__
from ofevents_cli.core import providers as registry
from ofevents_cli.core.doctor_checks import (
    Check,
    FileFacts,
    Status,
    agent_check,
    authtoken_check,
    clock_check,
    clock_skew,
    config_check,
    eventbus_check,
    proxy_check,
    python_check,
    secret_check,
    target_check,
    token_in_ngrok_config,
)
from ofevents_cli.errors import CredentialsError, OfeventsError
from ofevents_cli.shells.clock import now
from ofevents_cli.shells.config import config_file, config_value, load_config, resolve

__all__ = ["DEFAULT_TIME_SOURCE", "TIME_SOURCE_ENV", "DoctorSettings", "run_doctor"]

DEFAULT_TIME_SOURCE = "https://www.google.com/generate_204"  # with --online only
TIME_SOURCE_ENV = "OFEVENTS_TIME_SOURCE"
PROBE_TIMEOUT = 5.0


@dataclass(frozen=True)
class DoctorSettings:
    """Where `trigger` sends by default, and the time source (None: the clock is not checked)."""

    target: str
    time_source: str | None


def _file(path: Path) -> FileFacts:
    try:
        info = path.stat()
    except FileNotFoundError:
        return FileFacts(False)
    except OSError as exc:
        return FileFacts(True, None, f"cannot read {path}: {exc.strerror or exc}")
    return FileFacts(True, info.st_mode)


def _config() -> tuple[Check, bool]:
    """The config file's check, and whether its table can be read."""
    path = config_file()
    facts = _file(path)
    if facts.exists and facts.problem is None:
        try:
            load_config()
        except OfeventsError as exc:
            facts = FileFacts(True, facts.mode, exc.message)
    return config_check(str(path), facts), facts.problem is None


def _secrets(config_readable: bool) -> list[Check]:
    checks = []
    for entry in registry.providers():
        if not entry.secret_env or not entry.config_key:
            continue
        provider, env, key = entry.name, entry.secret_env, entry.config_key
        if os.environ.get(env):
            checks.append(secret_check(provider, f"env {env}", os.environ[env]))
        elif not config_readable:
            checks.append(Check(key, Status.SKIP, "not checked: the config file cannot be read"))
        else:
            value = config_value(key)
            if value is not None and not isinstance(value, str):
                checks.append(secret_check(provider, None, None,
                                           f"config key {key} is not a string"))
            else:
                checks.append(secret_check(provider, f"config {key}" if value else None,
                                           value or None))
    return checks


def _agent() -> Check:
    from ofevents_cli.shells.tunnel import TunnelSettings, agent_path

    path = agent_path(TunnelSettings())
    chosen = bool(os.environ.get("PYNGROK_NGROK_PATH"))
    facts = FileFacts(os.path.exists(path))
    if facts.exists and os.path.isdir(path):
        facts = FileFacts(True, None, "is a directory, not the agent")
    elif facts.exists and not os.access(path, os.X_OK):
        facts = FileFacts(True, None, "is not executable")
    version = None
    if facts.exists and facts.problem is None:
        try:  # `ngrok version` is local: no network, no account
            done = subprocess.run([path, "version"], capture_output=True, text=True,
                                  timeout=PROBE_TIMEOUT, check=False)
            lines = done.stdout.strip().splitlines()
            version = lines[0][:80] if done.returncode == 0 and lines else None
        except (OSError, subprocess.TimeoutExpired):
            version = None
    return agent_check(path, chosen, facts, version)


def ngrok_config_files(env: dict[str, str] | None = None) -> list[Path]:
    """Where the ngrok agent keeps its own config (v3 per platform, then v2's)."""
    env = dict(os.environ) if env is None else env
    home = Path(env.get("HOME") or Path.home())
    xdg = Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home / ".config"
    found = [xdg / "ngrok" / "ngrok.yml",
             home / "Library" / "Application Support" / "ngrok" / "ngrok.yml"]
    if env.get("LOCALAPPDATA"):
        found.append(Path(env["LOCALAPPDATA"]) / "ngrok" / "ngrok.yml")
    return [*found, home / ".ngrok2" / "ngrok.yml"]


def _authtoken(config_readable: bool) -> Check:
    """As `forward` finds it: NGROK_AUTHTOKEN, the config file, then ngrok's own config."""
    if os.environ.get("NGROK_AUTHTOKEN"):
        return authtoken_check("env NGROK_AUTHTOKEN", os.environ["NGROK_AUTHTOKEN"])
    saved = config_value("ngrok.authtoken") if config_readable else None
    if isinstance(saved, str) and saved:
        return authtoken_check("config ngrok.authtoken", saved)
    for path in ngrok_config_files():
        try:
            with path.open(encoding="utf-8", errors="replace") as handle:
                token = token_in_ngrok_config(handle.read(65536))
        except OSError:
            continue
        if token:
            return authtoken_check(str(path), token)
    return authtoken_check(None, None)


async def _clock(source: str | None) -> Check:
    if source is None:
        return clock_check(None, None, None)
    import httpx

    from ofevents_cli.shells.http_client import HttpSettings, httpx_client
    from ofevents_cli.shells.sender import describe

    try:
        async with httpx_client(source, HttpSettings(PROBE_TIMEOUT)) as client:
            sent_at = now()
            async with client.stream("GET", source) as response:  # the headers only
                received_at = now()
                date = response.headers.get("date")
    except httpx.TransportError as exc:
        return clock_check(source, None, describe(exc))
    except (httpx.HTTPError, ValueError) as exc:  # not a URL httpx can send to
        return clock_check(source, None, f"not a usable URL ({exc})")
    return clock_check(source, clock_skew(sent_at, received_at, date), None)


async def _handshake(url: str, key: str, token: str) -> tuple[str | None, bool, str | None]:
    """Connect once with the existing client: (problem, credentials refused, session)."""
    from ofevents_cli.shells import eventbus

    updates = eventbus.stream(eventbus.ClientSettings(url=url, api_key=key, ws_token=token,
                                                      max_retries=0,
                                                      open_timeout=PROBE_TIMEOUT))
    try:
        async for update in updates:
            if isinstance(update, eventbus.Connected):
                return None, False, update.session
    except CredentialsError as exc:
        return exc.message, True, None
    except OfeventsError as exc:
        return exc.message, False, None
    finally:
        await updates.aclose()
    return "the connection ended before the server answered the hello", False, None


async def _eventbus(config_readable: bool) -> Check:
    from ofevents_cli.shells.eventbus import DEFAULT_URL

    if not config_readable and not any(
            os.environ.get(n) for n in ("OFEVENTS_EVENTBUS_URL", "BFL_API_KEY", "BFL_WS_TOKEN")):
        return Check("eventbus", Status.SKIP, "not checked: the config file cannot be read")
    try:
        url = resolve(None, "OFEVENTS_EVENTBUS_URL", "eventbus.url")
        key = resolve(None, "BFL_API_KEY", "eventbus.api_key")
        token = resolve(None, "BFL_WS_TOKEN", "eventbus.ws_token")
    except OfeventsError as exc:
        return Check("eventbus", Status.FAIL, exc.message, exc.hint)
    if not (url or key or token):
        return eventbus_check(None, (), None, False, None)
    url = url or DEFAULT_URL
    credentials: Sequence[str] = [c for c in (key, token) if c]
    if not (key and token):
        return eventbus_check(url, credentials, None, False, None)
    try:
        problem, refused, session = await asyncio.wait_for(_handshake(url, key, token),
                                                           2 * PROBE_TIMEOUT)
    except asyncio.TimeoutError:
        problem, refused, session = f"no answer within {2 * PROBE_TIMEOUT:g} s", False, None
    return eventbus_check(url, credentials, problem, refused, session)


async def _target(url: str) -> Check:
    from ofevents_cli.shells.health import listening, target_address

    return target_check(url, await listening(*target_address(url), timeout=PROBE_TIMEOUT))


async def run_doctor(settings: DoctorSettings) -> list[Check]:
    """Every check, in the order a user sets things up."""
    package = Path(__file__).resolve().parents[1]
    checks = [python_check((sys.version_info.major, sys.version_info.minor,
                            sys.version_info.micro), sys.executable),
              Check("ofevents", Status.OK, f"ofevents {__version__} at {package}")]
    config, readable = _config()
    checks += [config, *_secrets(readable)]
    checks.append(await _clock(settings.time_source))
    checks.append(proxy_check(dict(os.environ)))
    checks += [_agent(), _authtoken(readable)]
    checks.append(await _eventbus(readable))
    checks.append(await _target(settings.target))
    return checks
