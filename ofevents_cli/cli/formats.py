"""`--format text|json` and its alias `--json`: one definition for every command that prints."""

from typing import Annotated

import typer

from ofevents_cli.errors import InputError
from ofevents_cli.formats import Format

FormatOption = Annotated[
    Format | None,
    typer.Option("--format", metavar="text|json", case_sensitive=False, show_default=False,
                 help="text (for people) or json (JSON Lines: one object per line on stdout)."),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Same as --format json.")]


def output_format(chosen: Format | None, json_flag: bool) -> Format:
    """The format a command prints in; `--json` with `--format text` is a contradiction."""
    if json_flag and chosen is Format.TEXT:
        raise InputError("--json and --format text contradict each other", "give one of them")
    return Format.JSON if json_flag or chosen is Format.JSON else Format.TEXT
