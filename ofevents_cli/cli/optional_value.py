"""Options whose value may be left out: `trigger --save` and `listen --keep` alone mean "in the
history", `--save FILE` names a file. Typer has no optional-value options, so the command
rewrites a bare one to `--save=` (an empty value) before parsing."""

from __future__ import annotations

import typer
from typer.core import TyperCommand

OPTIONAL = ("--save", "--keep")


class OptionalValueCommand(TyperCommand):
    """A command where `--save` / `--keep` followed by nothing or by another flag is empty."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        out: list[str] = []
        for index, arg in enumerate(args):
            if arg == "--":
                out += args[index:]
                break
            following = args[index + 1] if index + 1 < len(args) else None
            bare = following is None or (following.startswith("-") and following != "-")
            out.append(f"{arg}=" if arg in OPTIONAL and bare else arg)
        return super().parse_args(ctx, out)
