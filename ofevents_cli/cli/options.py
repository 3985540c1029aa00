"""Checks shared by the commands' options (typer callbacks run while the flags are parsed)."""

from __future__ import annotations

import math

import typer


def finite(value: float) -> float:
    """Refuse `inf` and `nan` (`1e309` parses as inf): a deadline or rate must be a number."""
    if not math.isfinite(value):
        raise typer.BadParameter(f"{value} is not a finite number")
    return value
