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
    history,
    inspector,
    listen,
    replay,
    trigger,
    verify,
    worker,
)
from ofevents_cli.cli.boundary import DEBUG, OfeventsGroup
from ofevents_cli.cli.examples import epilog, short_help
from ofevents_cli.cli.optional_value import OptionalValueCommand

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


# in the order a user meets them: tail, develop locally, receive, re-send, look back, fire,
# check; `--save` / `--keep` alone mean "in the history" (OptionalValueCommand)
for _name, _command, _cls in (
        ("listen", listen.listen, OptionalValueCommand), ("emulator", emulator.emulator, None),
        ("forward", forward.forward, None), ("worker", worker.worker, None),
        ("replay", replay.replay, None),
        ("inspect", inspector.inspect, None), ("trigger", trigger.trigger, OptionalValueCommand),
        ("verify", verify.verify, None), ("check", check.check, None),
        ("doctor", doctor.doctor, None)):
    app.command(_name, cls=_cls, short_help=short_help(_name), epilog=epilog(_name))(_command)
for _name, _group in (("history", history.app), ("events", events.app),
                      ("config", config.app)):
    app.add_typer(_group, name=_name, short_help=short_help(_name), epilog=epilog(_name))


def main() -> None:
    """The console-script entry point."""
    app()
