"""How a command prints its data: the `--format` values, shared by every layer (like errors)."""

from enum import Enum


class Format(str, Enum):
    """For people (text, with colour on a terminal) or for programs (JSON Lines)."""

    TEXT = "text"
    JSON = "json"
