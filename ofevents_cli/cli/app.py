"""The `ofevents` command: one root app composed from one small module per command.

Command modules import only typer at import time (their work is imported when they run), so
`ofevents --help` and `--version` stay fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from ofevents_cli import __version__
from ofevents_cli.cli import (
    config,
    emulator,
    events,
    forward,
    history,
    inspector,
    listen,
    replay,
    trigger,
    verify,
)
from ofevents_cli.cli.boundary import DEBUG
from ofevents_cli.cli.optional_value import OptionalValueCommand

app = typer.Typer(
    name="ofevents",
    help="The developer CLI for OnlyFans-API event streams and webhooks.",
    no_args_is_help=True,
    pretty_exceptions_show_locals=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _version(value: bool) -> None:
    if value:
        print(f"ofevents {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks of errors.")] = False,
) -> None:
    """Listen to the EventBus, forward and verify webhooks, trigger signed test events."""
    DEBUG.set(debug)


# in the order a user meets them: tail, develop locally, receive, re-send, look back, fire, check
app.command("listen", cls=OptionalValueCommand)(listen.listen)
app.command("emulator")(emulator.emulator)
app.command("forward")(forward.forward)
app.command("replay")(replay.replay)
app.add_typer(history.app, name="history")
app.command("inspect")(inspector.inspect)
app.command("trigger", cls=OptionalValueCommand)(trigger.trigger)
app.command("verify")(verify.verify)
app.add_typer(events.app, name="events")
app.add_typer(config.app, name="config")


def main() -> None:
    """The console-script entry point."""
    app()
