"""The `ofevents` command: one root app composed from one small module per command.

Command modules import only typer at import time (their work is imported when they run), so
`ofevents --help` and `--version` stay fast. They hold real annotations (no `from __future__
import annotations`): typer would evaluate string ones, every command's, on each start (~15 ms
of every --help). tests/cli/test_startup.py checks both.
"""

from typing import Annotated

import typer

from ofevents_cli import __version__
from ofevents_cli.cli import (
    check,
    config,
    doctor,
    emulator,
    events,
    forward,
    listen,
    replay,
    trigger,
    verify,
)
from ofevents_cli.cli.boundary import DEBUG, OfeventsGroup
from ofevents_cli.cli.examples import epilog, short_help

app = typer.Typer(
    name="ofevents",
    cls=OfeventsGroup,
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


# in the order a user meets them: tail, develop locally, receive, re-send, fire, check
for _name, _command in (("listen", listen.listen), ("emulator", emulator.emulator),
                        ("forward", forward.forward), ("replay", replay.replay),
                        ("trigger", trigger.trigger), ("verify", verify.verify),
                        ("check", check.check), ("doctor", doctor.doctor)):
    app.command(_name, short_help=short_help(_name), epilog=epilog(_name))(_command)
app.add_typer(events.app, name="events", short_help=short_help("events"),
              epilog=epilog("events"))
app.add_typer(config.app, name="config", short_help=short_help("config"),
              epilog=epilog("config"))


def main() -> None:
    """The console-script entry point."""
    app()
