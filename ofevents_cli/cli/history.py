"""`ofevents history`: list what arrived (newest first, filtered), `history show ID` in full.

`history [CAPTURES…]` is the `list` subcommand: a first word that is not a subcommand goes to
it, so `ofevents history --last 5` and `ofevents history old.jsonl` both list.
"""

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from typer.core import TyperGroup

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.examples import epilog, short_help
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.history_options import (
    Accounts,
    Events,
    Grep,
    Invalid,
    Last,
    Providers,
    Secrets,
    Since,
    Statuses,
    Until,
    build_query,
)
from ofevents_cli.formats import Format as FormatChoice

if TYPE_CHECKING:
    from typer._click.shell_completion import CompletionItem

    from ofevents_cli.shells.history_read import Source


class _ListByDefault(TyperGroup):
    """`history ARGS` is `history list ARGS` unless ARGS starts with a subcommand or --help."""

    def parse_args(self, ctx: typer.Context, args: list[str]) -> list[str]:  # type: ignore[override]
        if args:
            listing = args[0] not in self.commands and args[0] not in ctx.help_option_names
        else:  # completing the first word: leave it to shell_complete below
            listing = not ctx.resilient_parsing
        if listing:
            args = ["list", *args]
        return super().parse_args(ctx, args)

    def shell_complete(self, ctx: typer.Context, incomplete: str  # type: ignore[override]
                       ) -> "list[CompletionItem]":
        """The first word completes to a subcommand or to one of `list`'s flags."""
        listing = self.commands["list"]
        sub = listing.make_context("list", [], parent=ctx, resilient_parsing=True)
        return [*super().shell_complete(ctx, incomplete),
                *listing.shell_complete(sub, incomplete)]


app = typer.Typer(
    cls=_ListByDefault,
    help="Browse what forward, trigger --save and listen --keep kept: `ofevents history "
    "[CAPTURES…] [filters]` lists (newest first), `ofevents history show ID` shows one.",
    rich_markup_mode=None,
)

Captures = Annotated[list[str] | None, typer.Argument(
    help="Capture files or directories to read (default: the history directory).",
    show_default=False)]
def as_json(output: FormatChoice | None, json_flag: bool) -> bool:
    """Whether to print JSON Lines (the shared --format / --json rule)."""
    return output_format(output, json_flag) is FormatChoice.JSON


def read_sources(captures: list[str] | None) -> "tuple[list[Source], str]":
    """The files to read (a directory stands for its *.jsonl files), and how to name them."""
    from ofevents_cli.errors import InputError
    from ofevents_cli.shells.history_home import history_dir, history_files
    from ofevents_cli.shells.history_read import sources

    if not captures:
        home = history_dir()
        return sources(history_files(home), given=False), f"the history ({home})"
    paths: list[Path] = []
    for name in captures:
        if name == "-":
            raise InputError("the history is read newest first, which standard input cannot do",
                             "save it to a file first, or pipe it to `ofevents verify -`")
        path = Path(name)
        paths += history_files(path) if path.is_dir() else [path]
    return sources(paths, given=True), ", ".join(captures)


@app.command("list", short_help=short_help("history list"),
             epilog=epilog("history list"))
@guarded
def list_records(
    captures: Captures = None,
    event: Events = None,
    provider: Providers = None,
    account: Accounts = None,
    since: Since = None,
    until: Until = None,
    status: Statuses = None,
    invalid: Invalid = False,
    grep: Grep = None,
    last: Last = None,
    json_flag: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """List deliveries and events, newest first: one line (or JSON object) each."""
    from ofevents_cli.render.history import HistoryView
    from ofevents_cli.shells.history_read import BadLine, newest_first

    view = HistoryView(as_json(fmt, json_flag))
    query = build_query(event, provider, account, since, until, status, invalid, grep)
    files, where = read_sources(captures)
    try:
        for item in newest_first(files, since=query.since):
            if isinstance(item, BadLine) or query.matches(item):
                view.show(item)
                if last is not None and view.shown >= last:
                    break
        view.summary(where)
    except BrokenPipeError:  # `ofevents history | head`: the reader has what it wanted
        import os
        import sys

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())


@app.command("show", short_help=short_help("history show"),
             epilog=epilog("history show"))
@guarded
def show(
    ident: Annotated[str, typer.Argument(metavar="ID", help="The record's id (from `ofevents "
                                         "history`).", show_default=False)],
    captures: Captures = None,
    secret: Secrets = None,
    explain: Annotated[bool, typer.Option(
        "--explain", help="Show the signed string, both signatures, and the diagnosis.")
    ] = False,
    json_flag: JsonOption = False,
    fmt: FormatOption = None,
) -> None:
    """Show one delivery or event in full: headers, pretty body, the signature checked now."""
    import sys

    from ofevents_cli.errors import InputError
    from ofevents_cli.render.history import HistoryView, detail_text, show_json
    from ofevents_cli.render.output import emit_json
    from ofevents_cli.shells.history_check import check_entry
    from ofevents_cli.shells.history_read import find

    json_out = as_json(fmt, json_flag)
    files, where = read_sources(captures)
    found, bad = find(files, [ident])
    view = HistoryView(json_out)
    for line in bad:
        view.show(line)
    if ident not in found:
        raise InputError(f"no delivery or event {ident!r} in {where}",
                         "list the ids with `ofevents history` (filter with --grep, --since…)")
    entry = found[ident]
    checked = check_entry(entry, secret or (), explain)
    if json_out:
        emit_json(show_json(entry, checked, explain))
    else:
        sys.stdout.write(detail_text(entry, checked, explain))
