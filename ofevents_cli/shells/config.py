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
    return str(value) if value is not None else default


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
    import tempfile

    from ofevents_cli.core.toml_writer import dumps

    path = config_file()
    try:
        text = dumps(table)
    except TypeError as exc:
        raise InputError(f"cannot rewrite config file {path}: {exc}",
                         "it holds TOML ofevents does not write (arrays of tables); edit it "
                         "by hand") from exc
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(prefix=".config-", suffix=".toml", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(text)
            os.chmod(temp, 0o600)
            os.replace(temp, path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise
    except OSError as exc:
        raise InputError(f"cannot write config file {path}: {exc}",
                         f"check the permissions of {path.parent} (or set {CONFIG_DIR_ENV})"
                         ) from exc
    return path
