"""Making untrusted payload text safe and short for a terminal line."""

from __future__ import annotations

import html
import re

_TAGS = re.compile(r"<[^>]*>")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2066-\u2069\ud800-\udfff]")


def escape_control(text: str) -> str:
    """Replace control and bidi characters by visible escapes, so text cannot drive the terminal;
    a lone surrogate too, which no terminal can be sent."""
    return _CONTROL.sub(lambda m: repr(m.group(0))[1:-1] if ord(m.group(0)) < 0x100
                        else f"\\u{ord(m.group(0)):04x}", text)


def plain(text: str) -> str:
    """HTML message text as one plain line: tags dropped, entities decoded, spaces folded."""
    return " ".join(html.unescape(_TAGS.sub(" ", text)).split())


def shorten(text: str, width: int = 60) -> str:
    """Cut to `width` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1] + "…"


def money(amount: object, currency: str = "$") -> str:
    """25 -> `$25.00`; anything not a number is shown short and with control chars escaped."""
    if isinstance(amount, (int, float)) and not isinstance(amount, bool):
        try:
            return f"{currency}{amount:,.2f}"
        except OverflowError:  # an integer too large for a float: JSON allows it
            return shorten(f"{currency}{amount:,}", 20)
    return escape_control(shorten(str(amount), 20))


def safe(text: str, width: int = 60) -> str:
    """Untrusted text ready for one human line: plain, shortened, control characters escaped."""
    return escape_control(shorten(plain(text), width))


_PLURALS = {"delivery": "deliveries"}


def count(n: int, noun: str) -> str:
    """`1 delivery`, `2 deliveries`, `3 requests`: never "1 deliveries"."""
    return f"{n:,} {noun if n == 1 else _PLURALS.get(noun, noun + 's')}"
