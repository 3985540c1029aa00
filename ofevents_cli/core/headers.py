"""Header lists as received: order, case and repeated names kept, looked up case-insensitively."""

from __future__ import annotations

from collections.abc import Sequence

Headers = Sequence[tuple[str, str]]


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of `name` (case-insensitive), or None: signatures use one header each."""
    wanted = name.lower()
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def parse_header_line(line: str) -> tuple[str, str]:
    """Split a `Name: value` flag into a pair; ValueError says what is wrong with it."""
    name, sep, value = line.partition(":")
    if not sep or not name.strip() or name != name.strip() or " " in name:
        raise ValueError(f"not a 'Name: value' header: {line!r}")
    return name, value.strip()
