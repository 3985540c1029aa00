"""A `curl` command that sends one captured delivery again, safe to paste into a POSIX shell."""

from __future__ import annotations

import base64
import shlex
from collections.abc import Sequence

__all__ = ["curl_command"]


def curl_command(method: str, url: str, headers: Sequence[tuple[str, str]], body: bytes) -> str:
    """The command line; a body that is not UTF-8 text is piped in through `base64 -d`."""
    parts = ["curl", "-sS", "-X", shlex.quote(method), shlex.quote(url)]
    parts += [f"-H {shlex.quote(f'{name}: {value}')}" for name, value in headers]
    try:
        text: str | None = body.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None and "\x00" not in text:  # a shell argument cannot hold NUL
        return " ".join([*parts, "--data-binary", shlex.quote(text)])
    encoded = base64.b64encode(body).decode("ascii")
    return f"printf %s {encoded} | base64 -d | " + " ".join([*parts, "--data-binary @-"])
