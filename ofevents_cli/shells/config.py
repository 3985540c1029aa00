"""Settings: flag > env var > config file (TOML in the user config dir) > default."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from ofevents_cli.errors import InputError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_DIR_ENV = "OFEVENTS_CONFIG_DIR"

# provider -> env var holding its webhook secret (cli.md)
SECRET_ENV = {
    "ofapi": "OFAPI_WEBHOOK_SECRET",
    "onlyfansapi": "ONLYFANSAPI_WEBHOOK_SECRET",
    "ofauth": "OFAUTH_WEBHOOK_SECRET",
}


# what a TOML value is, in the words of the file (for errors about a value of the wrong kind)
_KINDS: dict[type, str] = {bool: "a boolean", int: "a number", float: "a number",
                           list: "a list", dict: "a table"}


def config_dir() -> Path:
    """`$OFEVENTS_CONFIG_DIR`, else the platform's user config dir for ofevents."""
    override = os.environ.get(CONFIG_DIR_ENV)
    if override:
        return Path(override)
    import typer

    return Path(typer.get_app_dir("ofevents"))


def config_file() -> Path:
    """Where `ofevents config` keeps its TOML."""
    return config_dir() / "config.toml"


def load_config() -> dict[str, Any]:
    """The config file's table, empty when there is none."""
    path = config_file()
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InputError(f"cannot read config file {path}: {exc}",
                         "fix or delete it; its path is `ofevents config path`") from exc
    except UnicodeDecodeError:
        raise InputError(f"cannot read config file {path}: it is not UTF-8 text",
                         "TOML files are UTF-8: fix or delete it (`ofevents config path`)"
                         ) from None
    except RecursionError:
        raise InputError(f"cannot read config file {path}: it is nested too deeply",
                         "fix or delete it; its path is `ofevents config path`") from None


def config_value(key: str) -> Any:
    """A dotted key (`secrets.ofapi`) from the config file, or None."""
    node: Any = load_config()
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node


def resolve(flag: str | None, env: str, key: str, default: str | None = None) -> str | None:
    """One setting by precedence: the flag, then `env`, then config `key`, then `default`."""
    if flag:
        return flag
    if os.environ.get(env):
        return os.environ[env]
    value = config_value(key)
    if value is None:
        return default
    if not isinstance(value, str):  # `ofapi = 5` or a table must not become a secret "5"
        kind = _KINDS.get(type(value), "a date or time")
        raise InputError(f"config key {key} must be a string, not {kind}",
                         f"quote the value in {config_file()}, or set it with "
                         f"`ofevents config set {key} VALUE`")
    return value


def secrets_for(flags: list[str] | None, provider: str | None) -> list[str]:
    """Webhook secrets: every `--secret`, else the provider's env var, else the config file."""
    if flags:
        return list(flags)
    providers = [provider] if provider in SECRET_ENV else list(SECRET_ENV)
    found = []
    for name in providers:
        assert name is not None
        value = resolve(None, SECRET_ENV[name], f"secrets.{name}")
        if value:
            found.append(value)
    return found


def save_config(table: dict[str, Any]) -> Path:
    """Write the config file atomically, readable by its owner only (it holds secrets)."""
    from ofevents_cli.core.toml_writer import dumps
    from ofevents_cli.shells.private_file import write_private

    path = config_file()
    try:
        text = dumps(table)
    except TypeError as exc:
        raise InputError(f"cannot rewrite config file {path}: {exc}",
                         "it holds TOML ofevents does not write (arrays of tables); edit it "
                         "by hand") from exc
    try:
        write_private(path, text)
    except OSError as exc:
        raise InputError(f"cannot write config file {path}: {exc}",
                         f"check the permissions of {path.parent} (or set {CONFIG_DIR_ENV})"
                         ) from exc
    return path
