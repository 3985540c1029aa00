"""Settings: flag > env var > config file (TOML in the user config dir) > default."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.config_table import get_key
from ofevents_cli.core.providers import Provider
from ofevents_cli.errors import InputError

if TYPE_CHECKING:
    import tomlkit

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

CONFIG_DIR_ENV = "OFEVENTS_CONFIG_DIR"

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


def _read(path: Path) -> str | None:
    """The config file's text, None when there is none; InputError when it is unreadable."""
    try:
        return path.read_bytes().decode("utf-8")
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InputError(f"cannot read config file {path}: {exc.strerror or exc}",
                         "fix its permissions or delete it (`ofevents config path`)") from None
    except UnicodeDecodeError:
        raise InputError(f"cannot read config file {path}: it is not UTF-8 text",
                         "TOML files are UTF-8: fix or delete it (`ofevents config path`)"
                         ) from None


def _unparsable(path: Path, why: str) -> InputError:
    return InputError(f"cannot read config file {path}: {why}",
                      "fix or delete it; its path is `ofevents config path`")


@functools.lru_cache(maxsize=4)
def _parsed(path: Path, signature: tuple[int, int, int]) -> Mapping[str, Any]:
    """The parsed file, once per version of it (`signature`: mtime, size, inode): every
    setting a command resolves reads the same table, and the file is parsed once."""
    text = _read(path)
    if text is None:
        return {}
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _unparsable(path, str(exc)) from None
    except RecursionError:
        raise _unparsable(path, "it is nested too deeply") from None


def load_config() -> Mapping[str, Any]:
    """The config file's table (read-only), empty when there is none."""
    path = config_file()
    try:
        info = path.stat()
    except FileNotFoundError:
        return {}
    except OSError as exc:
        raise InputError(f"cannot read config file {path}: {exc.strerror or exc}",
                         "fix its permissions or delete it (`ofevents config path`)") from None
    return _parsed(path, (info.st_mtime_ns, info.st_size, info.st_ino))


def load_document() -> tomlkit.TOMLDocument:
    """The config file as an editable document that keeps the user's comments and order."""
    import tomlkit
    from tomlkit.exceptions import TOMLKitError

    path = config_file()
    text = _read(path)
    try:
        return tomlkit.parse(text or "")
    except TOMLKitError as exc:
        raise _unparsable(path, str(exc)) from None
    except RecursionError:
        raise _unparsable(path, "it is nested too deeply") from None


def config_value(key: str) -> Any:
    """A dotted key (`secrets.ofapi`) from the config file, or None."""
    return get_key(load_config(), key)


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


def _secret_holders(provider: str | None) -> list[Provider]:
    """The providers whose secret a command may use: `provider`'s, else every one's."""
    holders = [p for p in registry.providers() if p.secret_env and p.config_key]
    return [p for p in holders if p.name == provider] if provider else holders


def secrets_for(flags: list[str] | None, provider: str | None) -> list[str]:
    """Webhook secrets: every `--secret`, else the provider's env var, else the config file
    (every provider's, in registry order, when `provider` is None)."""
    if flags:
        return list(flags)
    found = []
    for holder in _secret_holders(provider):
        assert holder.secret_env is not None and holder.config_key is not None
        value = resolve(None, holder.secret_env, holder.config_key)
        if value:
            found.append(value)
    return found


def secret_envs(provider: str | None = None) -> str:
    """The env var(s) that hold `provider`'s secret (every provider's when None), for hints."""
    names = [p.secret_env for p in _secret_holders(provider) if p.secret_env]
    return " or ".join(names) or "no env var (pass --secret)"


def save_config(document: tomlkit.TOMLDocument) -> Path:
    """Write the config file atomically, readable by its owner only (it holds secrets)."""
    import tomlkit

    from ofevents_cli.shells.private_file import write_private

    path = config_file()
    try:
        write_private(path, tomlkit.dumps(document))
    except OSError as exc:
        raise InputError(f"cannot write config file {path}: {exc}",
                         f"check the permissions of {path.parent} (or set {CONFIG_DIR_ENV})"
                         ) from exc
    return path
