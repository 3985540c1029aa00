"""Routes: which events (or deliveries) go to which targets.

A route is event patterns (exact names or globs: `tip`, `subscriber.*`, `*`), optionally the
accounts it is limited to, and the URL. On the command line it is `PATTERN[@ACCOUNT,…]=URL`
(several patterns or accounts separated by commas); in a TOML file (the config file, or
`--routes FILE`) a `[[routes]]` table with `events`, `accounts`, `to`, `secret`, `provider`,
`timeout` and `command`. Pure: parsing, checking and matching; the shell reads the files.
"""

from __future__ import annotations

import difflib
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

from ofevents_cli.core.targets import parse_target
from ofevents_cli.errors import InputError

__all__ = [
    "COMMANDS",
    "ROUTE_KEYS",
    "Route",
    "is_glob",
    "matching",
    "parse_route",
    "routes_from_tables",
    "tables",
]

COMMANDS = ("listen", "forward")
ROUTE_KEYS = ("events", "accounts", "to", "secret", "provider", "timeout", "command")
ROUTE_HINT = "use PATTERN[@ACCOUNT,…]=URL, e.g. 'tip=localhost:3000/tips' or '*@111,222=4000'"
_NAME = re.compile(r"[^\s,=@\x00-\x1f\x7f]+")  # one pattern or account: no spaces, , = @


@dataclass(frozen=True)
class Route:
    """Where the events that match go; `secret`, `provider`, `timeout` None: the command's."""

    events: tuple[str, ...]
    to: str
    accounts: tuple[str, ...] | None = None
    secret: str | None = None
    provider: str | None = None
    timeout: float | None = None
    label: str = ""  # where it was given: `--route 'tip=…'`, `routes.toml [[routes]] #2`

    def matches(self, event: str | None, account: str | None) -> bool:
        """Whether an event of this type (None: unknown) and account goes this way. An event
        whose type is unknown only matches `*`; one without an account never matches a route
        limited to accounts."""
        if self.accounts is not None and (account is None or account not in self.accounts):
            return False
        if "*" in self.events:  # every delivery (--to): no pattern to match
            return True
        name = event or ""
        return any(fnmatchcase(name, pattern) for pattern in self.events)

    def describe(self) -> str:
        """`tip,ppv_* @111 -> http://localhost:3000/tips`, for banners and errors."""
        accounts = f" @{','.join(self.accounts)}" if self.accounts is not None else ""
        return f"{','.join(self.events)}{accounts} -> {self.to}"


def is_glob(pattern: str) -> bool:
    """Whether a pattern is a glob (`*`, `?`, `[…]`) rather than one event name."""
    return any(c in pattern for c in "*?[")


def matching(routes: Sequence[Route], event: str | None, account: str | None
             ) -> tuple[Route, ...]:
    """Every route this event goes to, in the order they were given."""
    return tuple(route for route in routes if route.matches(event, account))


def _names(text: str, what: str, where: str) -> tuple[str, ...]:
    """`a,b` -> ("a", "b"); InputError when one is empty or holds spaces or `=`/`@`."""
    names = tuple(part.strip() for part in text.split(","))
    for name in names:
        if not _NAME.fullmatch(name):
            shown = f" {name!r}" if name else ""
            raise InputError(f"{where}: {what}{shown} is not valid (empty, or with spaces, "
                             "',', '=' or '@' in it)", ROUTE_HINT)
    return names


def parse_route(text: str, *, flag: str = "--route", default_path: str = "",
                secret: str | None = None, provider: str | None = None) -> Route:
    """`PATTERN[@ACCOUNT,…]=URL` -> a Route (the URL as `parse_target` reads a `--to`); the
    route inherits the command's `secret` and `provider`. InputError names `flag`."""
    where = f"{flag} {text!r}"
    left, equals, url = text.partition("=")
    if not equals:
        raise InputError(f"{where} has no '=URL'", ROUTE_HINT)
    patterns, at, accounts = left.partition("@")
    return Route(
        events=_names(patterns, "event pattern", where),
        to=parse_target(url, flag=where, default_path=default_path, default=None),
        accounts=_names(accounts, "account", where) if at else None,
        secret=secret, provider=provider, label=f"{flag} {text}")


# -- [[routes]] tables -------------------------------------------------------------------------


def _strings(value: Any, key: str, where: str, numbers: bool = False) -> tuple[str, ...]:
    """A string or a list of them (numbers too, for account ids written without quotes)."""
    kinds: tuple[type, ...] = (str, int) if numbers else (str,)
    items = value if isinstance(value, list) else [value]
    if not items or any(isinstance(v, bool) or not isinstance(v, kinds) for v in items):
        what = "a string or a list of strings" + (" or numbers" if numbers else "")
        raise InputError(f"{where}: `{key}` must be {what}", ROUTE_HINT)
    return _names(",".join(str(v) for v in items), key, where)


def _timeout(value: Any, where: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
            math.isfinite(value) and value > 0):
        raise InputError(f"{where}: `timeout` must be a number of seconds above 0",
                         "e.g. timeout = 5")
    return float(value)


def _text(value: Any, key: str, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputError(f"{where}: `{key}` must be a non-empty string", ROUTE_HINT)
    return value


def _unknown(table: Mapping[str, Any], where: str, allowed: Sequence[str]) -> None:
    for key in table:
        if key not in allowed:
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f"did you mean `{close[0]}`? " if close else ""
            raise InputError(f"{where}: unknown key `{key}`",
                             hint + f"a table takes {', '.join(allowed)}")


def _command(table: Mapping[str, Any], where: str) -> str | None:
    """The `command` a table is limited to (None: every command)."""
    if "command" not in table:
        return None
    value = table["command"]
    if value not in COMMANDS:
        raise InputError(f"{where}: `command` must be {' or '.join(COMMANDS)}",
                         "leave it out for both")
    return str(value)


def tables(value: Any, name: str, source: str) -> list[Mapping[str, Any]]:
    """The `[[name]]` array of tables of a TOML document (none: empty); InputError otherwise."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        raise InputError(f"{source}: `{name}` must be an array of tables ([[{name}]])",
                         f"write each one as a [[{name}]] table")
    return list(value)


def routes_from_tables(value: Any, source: str, command: str, *, default_path: str = "",
                       providers: Iterable[str] = ()) -> tuple[Route, ...]:
    """The `[[routes]]` of a TOML document that apply to `command`; `providers` are the names
    a route's `provider` may take. InputError names the file and the table."""
    known = tuple(providers)
    found = []
    for number, table in enumerate(tables(value, "routes", source), start=1):
        where = f"{source} [[routes]] #{number}"
        _unknown(table, where, ROUTE_KEYS)
        only = _command(table, where)
        if "to" not in table:
            raise InputError(f"{where} has no `to`", "add to = \"URL\" (3000, localhost:3000/"
                             "path or a URL)")
        route = Route(
            events=_strings(table.get("events", "*"), "events", where),
            to=parse_target(_text(table["to"], "to", where), flag=f"{where} `to`",
                            default_path=default_path, default=None),
            accounts=(_strings(table["accounts"], "accounts", where, numbers=True)
                      if "accounts" in table else None),
            secret=_text(table["secret"], "secret", where) if "secret" in table else None,
            provider=_text(table["provider"], "provider", where) if "provider" in table else None,
            timeout=_timeout(table["timeout"], where) if "timeout" in table else None,
            label=where)
        if route.provider is not None and known and route.provider not in known:
            raise InputError(f"{where}: unknown provider {route.provider!r}",
                             f"use one of {', '.join(known)}")
        if only in (None, command):
            found.append(route)
    return tuple(found)
