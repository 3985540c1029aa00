"""Header lists as received: order, case and repeated names kept, looked up case-insensitively."""

from __future__ import annotations

from collections.abc import Sequence

from ofevents_cli.core.strictjson import lone_surrogate

Headers = Sequence[tuple[str, str]] | dict[str, str]


def index_headers(headers: Headers) -> dict[str, str]:
    """Lower-cased name -> first value, built once so later lookups are O(1)."""
    if isinstance(headers, dict):
        return headers
    index: dict[str, str] = {}
    for key, value in headers:
        index.setdefault(key.lower(), value)
    return index


def header_value(headers: Headers, name: str) -> str | None:
    """The first value of `name` (case-insensitive), or None: signatures use one header each.

    A dict is taken to be an index from `index_headers` (lower-case keys).
    """
    wanted = name.lower()
    if isinstance(headers, dict):
        return headers.get(wanted)
    for key, value in headers:
        if key.lower() == wanted:
            return value
    return None


def parse_header_line(line: str) -> tuple[str, str]:
    """Split a `Name: value` flag into a pair; ValueError says what is wrong with it.

    Only spaces and tabs around the value go, as an HTTP server drops them: any other character
    is part of the value (`svix-id: msg_1\\xa0` is not `msg_1`, and is signed as such).
    """
    name, sep, value = line.partition(":")
    if not sep or not name.strip() or name != name.strip() or " " in name:
        raise ValueError(f"not a 'Name: value' header: {line!r}")
    if lone_surrogate(line):  # what a command line with bytes that are not UTF-8 decodes to
        raise ValueError(f"header {line!r} is not text (it holds bytes that are not UTF-8)")
    return name, value.strip(" \t")
