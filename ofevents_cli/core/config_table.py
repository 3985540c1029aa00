"""The config file's table: the keys ofevents reads, and dotted-key get / set / unset on it.

Pure: the shell reads and writes the file, these functions only transform the table.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any

from ofevents_cli.core import providers as registry
from ofevents_cli.core.masking import mask
from ofevents_cli.errors import InputError

__all__ = [
    "KnownKey",
    "get_key",
    "is_secret",
    "known_keys",
    "leaves",
    "masked",
    "set_key",
    "split_key",
    "unset_key",
]


@dataclass(frozen=True)
class KnownKey:
    """A config key some command reads: the env var that overrides it, and what it is."""

    env: str
    secret: bool
    help: str


# the keys that are not a provider's secret (those come from the registry)
_SETTINGS: dict[str, KnownKey] = {
    "eventbus.url": KnownKey("OFEVENTS_EVENTBUS_URL", False, "EventBus WebSocket URL for listen"),
    "eventbus.api_key": KnownKey("BFL_API_KEY", True, "EventBus API key"),
    "eventbus.ws_token": KnownKey("BFL_WS_TOKEN", True, "EventBus WebSocket token"),
    "ngrok.authtoken": KnownKey("NGROK_AUTHTOKEN", True, "ngrok authtoken for forward"),
}


def known_keys() -> dict[str, KnownKey]:
    """Every key some command reads: each provider's secret (from the registry), then the
    other settings."""
    keys = {p.config_key: KnownKey(p.secret_env, True, f"{p.name} webhook signing secret"
                                   + (f" ({registry.scheme(p.schemes[0]).secret_form})"
                                      if p.schemes else ""))
            for p in registry.providers() if p.config_key and p.secret_env}
    return {**keys, **_SETTINGS}


_SEGMENT = re.compile(r"[A-Za-z0-9_-]+")
_SECRET_WORDS = ("secret", "token", "key", "password")


def is_secret(key: str) -> bool:
    """Whether a key holds a secret (known as one, under `secrets.`, or named like one)."""
    known = known_keys().get(key)
    if known is not None:
        return known.secret
    last = key.rsplit(".", 1)[-1].lower()
    return key.startswith("secrets.") or any(word in last for word in _SECRET_WORDS)


_URL_PASSWORD = re.compile(r"(://[^/@:\s]*:)([^@/\s]+)@")


def masked(key: str, value: Any) -> Any:
    """`value` as it may be shown: a secret masked, also inside tables and arrays of tables
    (`[[routes]]` secrets) and the password of a URL (`[[sinks]]`)."""
    if isinstance(value, Mapping):
        return {name: masked(f"{key}.{name}", item) for name, item in value.items()}
    if isinstance(value, list):
        return [masked(key, item) for item in value]
    if is_secret(key):
        return mask(str(value))
    if isinstance(value, str):
        return _URL_PASSWORD.sub(lambda m: f"{m.group(1)}{mask(m.group(2))}@", value)
    return value


def split_key(key: str) -> list[str]:
    """The parts of a dotted key; InputError when it is not one."""
    parts = key.split(".")
    if not all(_SEGMENT.fullmatch(part) for part in parts):
        raise InputError(f"config key {key!r} is not valid",
                         "use dotted names of letters, digits, _ and -: secrets.ofapi")
    return parts


def get_key(table: Mapping[str, Any], key: str) -> Any:
    """The value (or sub-table) at dotted `key`, or None when it is not set."""
    node: Any = table
    for part in split_key(key):
        if not isinstance(node, Mapping) or part not in node:
            return None
        node = node[part]
    return node


def set_key(table: MutableMapping[str, Any], key: str, value: Any) -> None:
    """Set `key` in `table` in place, creating tables; InputError if a value is in the way.

    In place, so a document that remembers its comments and order (tomlkit) keeps them."""
    parts = split_key(key)
    node: MutableMapping[str, Any] = table
    for depth, part in enumerate(parts[:-1]):
        if part not in node:
            node[part] = {}
        child = node[part]
        if not isinstance(child, MutableMapping):
            where = ".".join(parts[: depth + 1])
            raise InputError(f"config key {where!r} holds a value, not a table",
                             f"unset it first: ofevents config unset {where}")
        node = child
    if isinstance(node.get(parts[-1]), Mapping):
        raise InputError(f"config key {key!r} is a table",
                         f"set one of its keys, e.g. {key}.<name>")
    node[parts[-1]] = value


def unset_key(table: MutableMapping[str, Any], key: str) -> bool:
    """Remove `key` from `table` in place (emptied parent tables dropped); whether it was set."""
    parts = split_key(key)
    trail: list[MutableMapping[str, Any]] = [table]
    for part in parts[:-1]:
        child = trail[-1].get(part)
        if not isinstance(child, MutableMapping):
            return False
        trail.append(child)
    if parts[-1] not in trail[-1]:
        return False
    del trail[-1][parts[-1]]
    for depth in range(len(parts) - 1, 0, -1):
        if not trail[depth]:
            del trail[depth - 1][parts[depth - 1]]
    return True


def leaves(table: Mapping[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every (dotted key, value) under `table`, in sorted key order."""
    for name in sorted(table):
        value = table[name]
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            yield from leaves(value, key + ".")
        else:
            yield key, value
