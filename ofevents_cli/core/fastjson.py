"""Reading outside JSON fast: orjson where its reading is the one the strict rules allow,
the stdlib (and strictjson's checks) for the rest.

Its own module so that what `--help` imports (the registry, strictjson) loads no orjson.
"""

from __future__ import annotations

from typing import Any, Literal

import orjson

from ofevents_cli.core.strictjson import MAX_DEPTH

__all__ = ["SLOW", "fast_loads"]


# orjson reads an integer past 64 bits as a float (a 30-digit id would come out as 1e+29):
# a value holding a float that large goes to the stdlib decoder, which keeps every digit
_HUGE = float(2**63)
SLOW = object()  # `fast_loads`: read this one with the stdlib decoder


def _huge_or_deep(value: dict[str, Any] | list[Any], max_depth: int | None) -> bool:
    """Whether a decoded object or array holds a float of 2**63 or more, or (with
    `max_depth`) a container `max_depth` levels down (the top is level 0, as
    `strictjson.problem` counts), without recursion: one pass, only containers pushed."""
    items: list[tuple[Any, int]] = [(value, 0)]
    while items:
        item, depth = items.pop()
        if max_depth is not None and depth >= max_depth:
            return True
        for child in item.values() if type(item) is dict else item:
            kind = type(child)
            if kind is dict or kind is list:
                items.append((child, depth + 1))
            elif kind is float and not -_HUGE < child < _HUGE:
                return True
    return False


# digits -> "0" and "[" -> "{": one C pass, then a run of zeros is a run of digits
_SHAPE = bytes.maketrans(b"123456789[", b"000000000{")
_DIGIT_RUN = b"0" * 19  # 2**63 has 19 digits: an integer with fewer is well inside 64 bits


def _plainly_safe(text: str | bytes, nesting: bool) -> bool:
    """Whether orjson's reading of `text` is plainly the one to keep, read off the text at
    about half of `_huge_or_deep`'s cost on an event frame: no 19 digits in a row, so no integer
    orjson turned into a float (a float literal, 1e30, reads the same either way), and (with
    `nesting`) no more brackets than MAX_DEPTH, so no container that deep. Digits and
    brackets inside strings count too: then the walk decides. Only text orjson accepted gets
    here, so it holds no lone surrogate and encodes."""
    shape = (text.encode() if isinstance(text, str) else text).translate(_SHAPE)
    return _DIGIT_RUN not in shape and (not nesting or shape.count(b"{") <= MAX_DEPTH)


def _huge_float_near(value: Any) -> bool:
    """`_huge_or_deep`'s float test for the top of an object and the objects right under it."""
    if type(value) is not dict:  # an array: "near" readers look no deeper (scalars: fast_loads)
        return False
    for item in value.values():
        kind = type(item)
        if kind is float:
            if not -_HUGE < item < _HUGE:
                return True
        elif kind is dict:
            for inner in item.values():
                if type(inner) is float and not -_HUGE < inner < _HUGE:
                    return True
    return False


def fast_loads(text: str | bytes, *, nesting: bool,
               floats: Literal["all", "near", "none"] = "all") -> Any:
    """orjson's reading of `text` (3x the stdlib's speed) when it is strict JSON as it stands,
    else SLOW: the caller's stdlib path then reads it and says what is wrong, in the words it
    always used. orjson itself refuses lone surrogates, NaN, 1e999 and text that is not UTF-8;
    what it accepts but a reader must not (more than MAX_DEPTH levels, with `nesting`) or
    cannot keep (an integer past 64 bits, read as a float: looked for everywhere, or with
    `floats="near"` only in the top object and the objects right under it, for a reader whose
    numbers all sit there, or not at all with `floats="none"`, for a reader that uses no number
    of an object) goes the slow way too.
    So a value that comes back needs no `suspect`/`problem` check."""
    try:
        value = orjson.loads(text)
    except orjson.JSONDecodeError:
        return SLOW
    if type(value) is not dict and type(value) is not list:
        return SLOW if type(value) is float and not -_HUGE < value < _HUGE else value
    if floats == "none" and not nesting:
        return value
    if floats == "all" and _plainly_safe(text, nesting):
        return value
    huge = (_huge_float_near(value) if floats == "near"
            else _huge_or_deep(value, MAX_DEPTH if nesting else None))
    return SLOW if huge else value
