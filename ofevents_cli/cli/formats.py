"""`--format text|json` and its alias `--json`, for the commands that print a report."""

from __future__ import annotations

from enum import Enum

from ofevents_cli.errors import InputError


class Format(str, Enum):
    """How a report is printed: for people (text) or for programs (JSON Lines)."""

    TEXT = "text"
    JSON = "json"


def wants_json(chosen: Format | None, json_flag: bool) -> bool:
    """Whether to print JSON Lines; `--json` with `--format text` is a contradiction."""
    if json_flag and chosen is Format.TEXT:
        raise InputError("--json and --format text contradict each other", "give one of them")
    return json_flag or chosen is Format.JSON
