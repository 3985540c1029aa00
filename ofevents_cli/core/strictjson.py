"""Values `json.loads` accepts that no consumer can use: found once, where outside JSON comes in.

Python's json reads `"\\ud800"` (a lone surrogate: not a Unicode character, so printing,
UTF-8-encoding or hashing it raises later) and `1e999` (infinity: re-encoding it raises, or
writes `Infinity`, which is not JSON) without complaint, and nests as deep as the stack allows.
Readers of outside JSON (capture lines, EventBus frames) ask `problem` for the first such
value, with its path, and report it instead of carrying it on.
"""

from __future__ import annotations

import math
import re
from typing import Any

__all__ = ["MAX_DEPTH", "OutOfRange", "deeper_than", "escaped", "finite_float",
           "lone_surrogate", "problem", "reject_constant", "suspect"]

MAX_DEPTH = 64  # nesting levels; far above any event or capture, far below the stack limit

_SURROGATE = re.compile(r"[\ud800-\udfff]")


class OutOfRange(ValueError):
    """A JSON number too large for a float (`1e999` would read as infinity)."""


def finite_float(token: str) -> float:
    """A decoder's `parse_float`: the number, or OutOfRange for one that reads as infinity."""
    value = float(token)
    if value - value != 0.0:  # only infinity: NaN is no JSON number
        raise OutOfRange(f"{token[:40]} is out of range")
    return value


def reject_constant(name: str) -> Any:
    """A decoder's `parse_constant`: NaN, Infinity and -Infinity are not JSON."""
    raise ValueError(f"{name} is not valid JSON")


def lone_surrogate(text: str) -> bool:
    """Whether `text` holds a surrogate code point (a pair decodes to one character, never two)."""
    return not text.isascii() and _SURROGATE.search(text) is not None


def escaped(text: str, width: int = 40) -> str:
    """`text` cut to about `width` characters around its first surrogate, each surrogate written
    as `\\udXXX`: safe to put in a message, and showing what is wrong."""
    found = _SURROGATE.search(text) if not text.isascii() else None
    start = max(0, found.start() - width // 2) if found and found.start() >= width - 1 else 0
    cut = ("…" if start else "") + text[start : start + width]
    cut += "…" if start + width < len(text) else ""
    return cut.encode("utf-8", "backslashreplace").decode("utf-8")


def suspect(text: str, nesting: bool = True) -> bool:
    """A fast pre-check of JSON text decoded from UTF-8 (so holding no surrogate of its own):
    False means `problem` finds nothing in what it decodes to, so well-formed input skips the
    walk. A lone surrogate needs a `\\uD800`..`\\uDFFF` escape; deep nesting, many brackets.
    Non-finite numbers are the decoder's to catch (`parse_float`)."""
    if "\\ud" in text or "\\uD" in text:
        bare = text.replace("\\\\", "")  # an escaped backslash starts no escape
        if "\\ud" in bare or "\\uD" in bare:
            return True
    return nesting and text.count("[") + text.count("{") > MAX_DEPTH


_TOKENS = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)  # strings, brackets


def deeper_than(text: str, limit: int) -> bool:
    """Whether JSON text nests containers more than `limit` levels (brackets inside strings do
    not count). Read off the text, so the answer does not depend on how deep the caller's
    stack already is, as the stdlib decoder's RecursionError does."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for token in _TOKENS.finditer(text):
        char = token.group()
        if char in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif char in ("]", "}"):
            depth -= 1
    return False


def _at(where: str) -> str:
    return where if len(where) <= 60 else where[:59] + "…"


def _key(path: str, key: str) -> str:
    shown = escaped(key)
    return shown if not path else f"{path}.{shown}"


def problem(value: Any, path: str = "", *, surrogates: bool = True) -> str | None:
    """The first value no strict JSON reader would accept, as `path: why`, or None.
    `surrogates=False` lets lone surrogates pass (a body can carry them as escapes).

    Walks without recursion, so depth itself cannot raise.
    """
    stack: list[tuple[Any, str, int]] = [(value, path, 0)]
    while stack:
        item, where, depth = stack.pop()
        if isinstance(item, str):
            if surrogates and lone_surrogate(item):
                return (f"{_at(where) or 'value'} holds a lone surrogate ({escaped(item)}), "
                        "which is not a Unicode character")
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{_at(where) or 'value'} is a number out of range (it reads as {item})"
        elif isinstance(item, (dict, list)):
            if depth >= MAX_DEPTH:
                return f"{_at(where) or 'value'} is nested deeper than {MAX_DEPTH} levels"
            if isinstance(item, dict):
                for key, child in reversed(item.items()):
                    if surrogates and isinstance(key, str) and lone_surrogate(key):
                        return (f"a key in {_at(where) or 'the object'} holds a lone surrogate "
                                f"({escaped(key)}), which is not a Unicode character")
                    stack.append((child, _key(where, str(key)), depth + 1))
            else:
                stack.extend((child, f"{where}[{n}]", depth + 1)
                             for n, child in reversed(list(enumerate(item))))
    return None

