"""Where routes and sinks come from: `--route`, `--routes FILE` and `--sink`, else the config
file's `[[routes]]` and `[[sinks]]` (flag > config file, as for every setting)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.routes import Route, parse_route, routes_from_tables
from ofevents_cli.core.sink_urls import RedisSpec, parse_redis_url, sinks_from_tables
from ofevents_cli.errors import InputError
from ofevents_cli.shells.config import config_file, load_config

if TYPE_CHECKING:
    from ofevents_cli.shells.forwarder import ForwardSettings

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

__all__ = ["read_routes_file", "routes_for", "sinks_for", "webhook_settings"]


def read_routes_file(path: str) -> Mapping[str, Any]:
    """A `--routes FILE` TOML document; InputError when it cannot be read or parsed, or holds
    more than `[[routes]]` tables."""
    try:
        document = tomllib.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as exc:
        raise InputError(f"cannot read --routes {path}: {exc.strerror or exc}",
                         "check the path given to --routes") from None
    except UnicodeDecodeError:
        raise InputError(f"cannot read --routes {path}: it is not UTF-8 text",
                         "TOML files are UTF-8") from None
    except (tomllib.TOMLDecodeError, RecursionError) as exc:
        raise InputError(f"cannot read --routes {path}: {exc}",
                         "write it as [[routes]] tables (docs/routes.md)") from None
    extra = [key for key in document if key != "routes"]
    if extra:
        raise InputError(f"--routes {path}: unknown key `{extra[0]}`",
                         "the file holds [[routes]] tables only")
    return document


def routes_for(command: str, flags: Sequence[str], routes_file: str | None, *,
               default_path: str, secret: str | None = None,
               provider: str | None = None) -> tuple[Route, ...]:
    """The routes of one run: every `--route` (inheriting the command's `secret` and
    `provider`), then the `--routes FILE` ones; when neither flag is given, the config file's
    `[[routes]]` for `command`."""
    names = registry.names("webhook") if command == "forward" else registry.names()
    routes = [parse_route(text, default_path=default_path, secret=secret, provider=provider)
              for text in flags]
    if routes_file:
        routes += routes_from_tables(read_routes_file(routes_file).get("routes"),
                                     routes_file, command, default_path=default_path,
                                     providers=names)
    if flags or routes_file:
        return tuple(routes)
    return routes_from_tables(load_config().get("routes"), str(config_file()), command,
                              default_path=default_path, providers=names)


def sinks_for(command: str, flags: Sequence[str]) -> tuple[RedisSpec, ...]:
    """Every `--sink`; none given: the config file's `[[sinks]]` for `command`."""
    if flags:
        return tuple(parse_redis_url(text) for text in flags)
    return sinks_from_tables(load_config().get("sinks"), str(config_file()), command)


def webhook_settings(route: Route, provider: str, secret: str | None, *,
                     timeout: float = 10.0, insecure: bool = False,
                     cacert: str | None = None) -> ForwardSettings:
    """How `listen` POSTs to a route: its own provider, secret and timeout, else the
    command's (`--provider`, `--secret`, then that provider's env var or config entry, then
    the session secret; `--forward-timeout`, `--insecure`, `--cacert`). InputError when the
    secret cannot sign that provider's scheme."""
    from ofevents_cli.shells.config import secrets_for
    from ofevents_cli.shells.forwarder import ForwardSettings, check
    from ofevents_cli.shells.session_secret import session_secret

    chosen = route.provider or provider
    given = route.secret or secret
    known = [given] if given else (secrets_for(None, chosen)
                                   if registry.provider(chosen).secret_env else [])
    settings = ForwardSettings(route.to, known[0] if known else session_secret(), chosen,
                               timeout=route.timeout or timeout, insecure=insecure,
                               cacert=cacert)
    check(settings)
    return settings
