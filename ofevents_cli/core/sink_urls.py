"""Where a sink (or a worker) finds its Redis stream: `redis://[[user]:password@]host[:port]/db
?stream=NAME&maxlen=N…`, from `--sink`, `--from` or a `[[sinks]]` table. Pure parsing."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

from ofevents_cli.core.routes import COMMANDS, tables
from ofevents_cli.errors import InputError

__all__ = ["DEFAULTS", "RedisSpec", "parse_redis_url", "sinks_from_tables"]

# query parameter -> default; `group` is the worker's, the rest the sink's
DEFAULTS: dict[str, int | str] = {
    "stream": "ofevents",
    "maxlen": 100_000,  # entries kept (XADD MAXLEN ~): 0 keeps every entry
    "ttl": 86_400,  # seconds an id's duplicate guard lives
    "backlog": 10_000,  # items waiting while Redis is down, beyond that dropped (reported)
    "group": "ofevents",
}
HINT = "use redis://[:password@]host:port/db?stream=NAME&maxlen=N (or rediss:// for TLS)"


@dataclass(frozen=True)
class RedisSpec:
    """One Redis stream: the server, the stream and its retention, and the worker group."""

    host: str
    port: int
    db: int
    stream: str
    username: str | None = None
    password: str | None = None
    tls: bool = False
    maxlen: int = 100_000
    ttl: int = 86_400
    backlog: int = 10_000
    group: str = "ofevents"

    @property
    def label(self) -> str:
        """`redis://127.0.0.1:6379/0 stream ofevents`: never the password."""
        scheme = "rediss" if self.tls else "redis"
        return f"{scheme}://{self.host}:{self.port}/{self.db} stream {self.stream}"

    @property
    def dead(self) -> str:
        """The dead-letter stream's name: `S:dead`."""
        return f"{self.stream}:dead"

    @property
    def resume_key(self) -> str:
        """Where `listen` records its resume point: `S:resume`."""
        return f"{self.stream}:resume"

    def guard(self, item_id: str) -> str:
        """The duplicate guard key of an item id: `S:seen:<id>`."""
        return f"{self.stream}:seen:{item_id}"


def _number(value: str, key: str, where: str, least: int) -> int:
    if not value.isdigit() or int(value) < least:
        raise InputError(f"{where}: `{key}` must be a whole number of at least {least}", HINT)
    return int(value)


def parse_redis_url(text: str, *, flag: str = "--sink", worker: bool = False) -> RedisSpec:
    """A RedisSpec for `text`; InputError names `flag` (the password never appears in it)."""
    try:
        parts = urlsplit(text.strip())
        port = parts.port or 6379
        host = parts.hostname or "localhost"
    except ValueError:
        raise InputError(f"{flag}: not a valid Redis URL", HINT) from None
    where = f"{flag} {parts.scheme}://{host}:{port}{parts.path}"
    if parts.scheme not in ("redis", "rediss"):
        raise InputError(f"{flag}: only redis:// and rediss:// URLs are sinks", HINT)
    path = parts.path.strip("/")
    if path and not path.isdigit():
        raise InputError(f"{where}: the path must be a database number (/0)", HINT)
    allowed = ("stream", "maxlen", "ttl", "backlog", "group") if worker else (
        "stream", "maxlen", "ttl", "backlog")
    query: dict[str, str] = {}
    for key, value in parse_qsl(parts.query, keep_blank_values=True):
        if key not in allowed:
            raise InputError(f"{where}: unknown parameter `{key}`",
                             f"it takes {', '.join(allowed)}")
        query[key] = value
    stream = query.get("stream", str(DEFAULTS["stream"]))
    group = query.get("group", str(DEFAULTS["group"]))
    for key, name in (("stream", stream), ("group", group)):
        if not name or any(ord(c) < 0x21 or ord(c) == 0x7F for c in name):
            raise InputError(f"{where}: `{key}` must be a name without spaces", HINT)
    return RedisSpec(
        host=host, port=port, db=int(path or 0), stream=stream,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
        tls=parts.scheme == "rediss",
        maxlen=_number(query.get("maxlen", str(DEFAULTS["maxlen"])), "maxlen", where, 0),
        ttl=_number(query.get("ttl", str(DEFAULTS["ttl"])), "ttl", where, 1),
        backlog=_number(query.get("backlog", str(DEFAULTS["backlog"])), "backlog", where, 1),
        group=group)


def sinks_from_tables(value: Any, source: str, command: str) -> tuple[RedisSpec, ...]:
    """The `[[sinks]]` of a TOML document (`url`, optional `command`) that apply to
    `command`."""
    found = []
    for number, table in enumerate(tables(value, "sinks", source), start=1):
        where = f"{source} [[sinks]] #{number}"
        _check(table, where)
        if table.get("command") in (None, command):
            found.append(parse_redis_url(table["url"], flag=where))
    return tuple(found)


def _check(table: Mapping[str, Any], where: str) -> None:
    for key in table:
        if key not in ("url", "command"):
            raise InputError(f"{where}: unknown key `{key}`", "a [[sinks]] table takes url "
                             "and command")
    if not isinstance(table.get("url"), str):
        raise InputError(f"{where} has no `url`", HINT)
    if "command" in table and table["command"] not in COMMANDS:
        raise InputError(f"{where}: `command` must be {' or '.join(COMMANDS)}",
                         "leave it out for both")
