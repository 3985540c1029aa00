"""`ofevents emulator` (being built on its own branch)."""

from __future__ import annotations

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.errors import InputError


@guarded
def emulator() -> None:
    """Not available yet."""
    raise InputError("`ofevents emulator` is not built yet")
