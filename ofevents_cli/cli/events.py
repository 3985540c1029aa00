"""`ofevents events` (being built on its own branch)."""

from __future__ import annotations

import typer

app = typer.Typer(help="The event catalogue.")
