"""`ofevents replay` (being built on its own branch)."""

from __future__ import annotations

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.errors import InputError


@guarded
def replay() -> None:
    """Not available yet."""
    raise InputError("`ofevents replay` is not built yet")
