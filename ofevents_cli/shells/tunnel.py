"""Public tunnels in front of the local relay: ngrok through pyngrok, or none.

pyngrok is synchronous and its startup can hang on a silent agent (its deadline is only
checked between log lines), so every call runs in a thread under our own deadline, and the
agent is killed when the deadline expires. Errors become exit codes with a hint.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

from ofevents_cli.errors import CredentialsError, InputError, UnreachableError

if TYPE_CHECKING:
    from pyngrok.conf import PyngrokConfig

__all__ = ["NoTunnel", "Tunnel", "TunnelSettings", "agent_missing", "open_tunnel"]

DEFAULT_TIMEOUT = 20.0
TIMEOUT_ENV = "OFEVENTS_TUNNEL_TIMEOUT"
TUNNEL_NAME = "ofevents-relay"
_TOKEN_CODES = ("ERR_NGROK_4018", "ERR_NGROK_105", "ERR_NGROK_107")
_TOKEN_HINT = (
    "get your authtoken at https://dashboard.ngrok.com/get-started/your-authtoken, then run "
    "`ngrok config add-authtoken TOKEN`, set NGROK_AUTHTOKEN, or pass --authtoken "
    "(or use --tunnel none)"
)
_NO_AGENT_HINT = "install ngrok and pass --ngrok-path, or use --tunnel none"


@dataclass(frozen=True)
class TunnelSettings:
    """How to open the tunnel; `kind` is `ngrok` or `none`."""

    kind: str = "ngrok"
    authtoken: str | None = None
    domain: str | None = None
    region: str | None = None
    ngrok_path: str | None = None
    ngrok_config: str | None = None
    timeout: float = DEFAULT_TIMEOUT


class Tunnel(Protocol):
    """An open tunnel: its public URL (None without one) and how to close it."""

    public_url: str | None

    async def close(self) -> None:
        """Take the tunnel down; never raises."""


class NoTunnel:
    """`--tunnel none`: the relay is only reachable on loopback (tests, your own tunnel)."""

    public_url: str | None = None

    async def close(self) -> None:
        """Nothing to close."""


def _quiet_pyngrok() -> None:
    """No pyngrok log lines or download progress on our terminal: we print our own."""
    from pyngrok import installer

    logger = logging.getLogger("pyngrok")
    logger.addHandler(logging.NullHandler())
    logger.propagate = False
    installer._print_progress_enabled = False


def agent_path(settings: TunnelSettings) -> str:
    """--ngrok-path, else PYNGROK_NGROK_PATH, else pyngrok's own copy (never PATH: pyngrok
    installs an `ngrok` *wrapper script* there, which is not an agent)."""
    from pyngrok import conf

    return (settings.ngrok_path or os.environ.get("PYNGROK_NGROK_PATH")
            or conf.DEFAULT_NGROK_PATH)


def _chosen_agent(settings: TunnelSettings) -> str | None:
    """The agent the user pointed at (--ngrok-path or PYNGROK_NGROK_PATH), if any: it is
    never downloaded, only pyngrok's default copy is."""
    return settings.ngrok_path or os.environ.get("PYNGROK_NGROK_PATH") or None


def agent_missing(settings: TunnelSettings) -> bool:
    """True when opening an ngrok tunnel will first download the agent (a slow first run)."""
    return (settings.kind == "ngrok" and _chosen_agent(settings) is None
            and not os.path.exists(agent_path(settings)))


def _token_file(token: str) -> str:
    """A 0600 ngrok config holding only the authtoken: on the agent's command line
    (`--authtoken`) every user of the machine could read it in the process list."""
    handle, path = tempfile.mkstemp(prefix="ofevents-ngrok-", suffix=".yml")
    with os.fdopen(handle, "w", encoding="utf-8") as config:
        config.write(f'version: "3"\nagent:\n  authtoken: {json.dumps(token)}\n')
    return path


def _config(settings: TunnelSettings, token_file: str | None) -> PyngrokConfig:
    """A fresh config per run (never pyngrok's import-time default). The authtoken goes in
    `token_file` when there is one; only with the user's own --ngrok-config is it passed on
    the agent's command line (pyngrok takes one config file)."""
    from pyngrok.conf import PyngrokConfig

    config = PyngrokConfig(
        ngrok_path=agent_path(settings),
        config_path=settings.ngrok_config or token_file,
        region=settings.region,
        monitor_thread=False,
        startup_timeout=max(1, int(settings.timeout)),
    )
    # PyngrokConfig falls back to NGROK_AUTHTOKEN itself: set it explicitly either way
    config.auth_token = (settings.authtoken or None) if token_file is None else None
    return config


def _clean(text: str) -> str:
    return " ".join(text.replace("\\n", " ").split())


def _code(exc: BaseException) -> str | None:
    code = getattr(exc, "ngrok_error_code", None)
    if code:
        return str(code)
    match = re.search(r"ERR_NGROK_\d+", f"{exc} {getattr(exc, 'body', '')}")
    return match.group(0) if match else None


def translate(exc: BaseException) -> Exception:
    """A pyngrok failure as our error: no agent -> 3, authtoken -> 4, other agent trouble -> 3."""
    from pyngrok.exception import PyngrokError, PyngrokNgrokInstallError

    if isinstance(exc, PyngrokNgrokInstallError):
        return UnreachableError(f"the ngrok agent is not installed and could not be downloaded "
                                f"({_clean(str(exc))})", _NO_AGENT_HINT)
    if isinstance(exc, PyngrokError):
        code = _code(exc)
        if code in _TOKEN_CODES:
            what = "no authtoken" if code == "ERR_NGROK_4018" else "the authtoken is invalid"
            return CredentialsError(f"ngrok refused to start: {what} ({code})", _TOKEN_HINT)
        message = _clean(getattr(exc, "ngrok_error", None) or str(exc))
        if code:
            return UnreachableError(f"the ngrok agent failed ({code}): {message}",
                                    f"see https://ngrok.com/docs/errors/{code.lower()}/ , "
                                    "or use --tunnel none")
        return UnreachableError(f"the ngrok agent failed: {message}", _NO_AGENT_HINT)
    return exc if isinstance(exc, Exception) else RuntimeError(str(exc))


class NgrokTunnel:
    """A tunnel opened through pyngrok; `close` takes the endpoint down and kills the agent."""

    def __init__(self, config: PyngrokConfig, public_url: str | None, endpoint: str | None
                 ) -> None:
        self.config = config
        self.public_url = public_url
        self.endpoint = endpoint  # the agent API URL of the endpoint (DELETE closes it)

    async def close(self) -> None:
        """DELETE the endpoint on the agent's API, then kill the agent; each step bounded.

        Not `ngrok.disconnect`: it re-creates a default config file at the config path."""
        from pyngrok import ngrok

        try:
            if self.endpoint:  # closing must not fail the shutdown
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(asyncio.to_thread(
                        ngrok.api_request, self.endpoint, method="DELETE", timeout=5), 6)
        finally:
            _kill(self.config)


def _remove(path: str | None) -> None:
    if path is not None:
        with contextlib.suppress(OSError):
            os.unlink(path)


def _kill(config: PyngrokConfig | None) -> None:
    """SIGKILL the agent without pyngrok's lock (its startup holds that lock while it hangs)."""
    from pyngrok import process

    if config is None:
        return
    running = process._current_processes.get(config.ngrok_path)
    if running is not None and running.proc.poll() is None:
        running.proc.kill()
        running.proc.wait()


async def _bounded(call: Callable[[], Any], seconds: float | None, config: PyngrokConfig) -> Any:
    """Run a blocking pyngrok call in a thread; past `seconds`, kill the agent and give up."""
    future = asyncio.ensure_future(asyncio.to_thread(call))
    try:
        done, _ = await asyncio.wait({future}, timeout=seconds)
    except asyncio.CancelledError:
        _kill(config)  # the thread then ends with pyngrok's error: expected, not reported
        future.add_done_callback(lambda done: done.cancelled() or done.exception())
        raise
    if future in done:
        return future.result()
    _kill(config)
    with contextlib.suppress(Exception):  # the agent is dead: the thread's error is expected
        await asyncio.wait_for(future, 5)
    raise UnreachableError(
        f"the ngrok agent did not start within {seconds:g} s",
        f"check your network; raise --tunnel-timeout (or {TIMEOUT_ENV}); {_NO_AGENT_HINT}")


async def open_tunnel(settings: TunnelSettings, port: int) -> Tunnel:
    """Open the configured tunnel to http://127.0.0.1:PORT; raises our errors, never pyngrok's."""
    if settings.kind == "none":
        return NoTunnel()
    if settings.kind != "ngrok":
        raise InputError(f"unknown tunnel {settings.kind!r}", "use --tunnel ngrok or --tunnel none")
    from pyngrok import ngrok
    from pyngrok.exception import PyngrokError

    _check_agent(_chosen_agent(settings))
    _check_authtoken(settings)
    _quiet_pyngrok()
    options: dict[str, Any] = {}
    if settings.domain:
        domain = settings.domain
        options["url"] = domain if "://" in domain else f"https://{domain}"
    token_file: str | None = None
    config: PyngrokConfig | None = None
    try:  # from here on, every way out removes the token file
        token_file = (_token_file(settings.authtoken)
                      if settings.authtoken and not settings.ngrok_config else None)
        config = _config(settings, token_file)
        if not os.path.exists(config.ngrok_path):
            await _bounded(lambda: ngrok.install_ngrok(config), None, config)
        opened = await _bounded(
            lambda: ngrok.connect(f"http://127.0.0.1:{port}", name=TUNNEL_NAME,
                                  pyngrok_config=config, **options),
            settings.timeout, config)
    except PyngrokError as exc:
        _kill(config)
        raise translate(exc) from exc
    except BaseException:
        _kill(config)
        raise
    finally:  # the agent has read its config once it is up: the token need not stay on disk
        _remove(token_file)
    endpoint = f"{opened.api_url}{opened.uri}" if opened.api_url and opened.uri else None
    return NgrokTunnel(config, opened.public_url, endpoint)


def _check_authtoken(settings: TunnelSettings) -> None:
    """No authtoken from ofevents and none in the config file the agent will read: say so
    now (exit 4), before a first run downloads an agent that would refuse to start."""
    if settings.authtoken:
        return
    from pyngrok import conf

    from ofevents_cli.core.doctor_checks import token_in_ngrok_config

    path = str(settings.ngrok_config or conf.DEFAULT_CONFIG_PATH)
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            text = handle.read(1 << 20)
    except OSError:
        text = ""
    if token_in_ngrok_config(text) is None:
        raise CredentialsError(f"ngrok has no authtoken (ERR_NGROK_4018): none was given and "
                               f"{path} holds none", _TOKEN_HINT)


def _check_agent(chosen: str | None) -> None:
    """The agent the user named must be an executable file: it is never downloaded."""
    if chosen is None:
        return
    hint = ("pass the path of an installed ngrok agent, or leave --ngrok-path and "
            "PYNGROK_NGROK_PATH out to let ofevents download it")
    if not os.path.exists(chosen):
        raise InputError(f"no ngrok agent at {chosen}", hint)
    if os.path.isdir(chosen):
        raise InputError(f"the ngrok agent path {chosen} is a directory", hint)
    if not os.access(chosen, os.X_OK):
        raise InputError(f"the ngrok agent at {chosen} is not executable",
                         f"chmod +x {chosen}, or {hint}")
    with open(chosen, "rb") as handle:  # pyngrok installs a Python `ngrok` script on PATH
        head = handle.read(4096)
    if head.startswith(b"#!") and b"pyngrok" in head:
        from pyngrok import conf

        raise InputError(f"{chosen} is pyngrok's `ngrok` wrapper script, not the ngrok agent",
                         f"point --ngrok-path at the agent binary (pyngrok keeps it at "
                         f"{conf.DEFAULT_NGROK_PATH}), or leave --ngrok-path out")
