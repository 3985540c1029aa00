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
    worker,
)
from ofevents_cli.cli.boundary import DEBUG

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


# in the order a user meets them: tail, develop locally, receive, deliver from a queue,
# re-send, fire, check
app.command("listen")(listen.listen)
app.command("emulator")(emulator.emulator)
app.command("forward")(forward.forward)
app.command("worker")(worker.worker)
app.command("replay")(replay.replay)
app.command("trigger")(trigger.trigger)
app.command("verify")(verify.verify)
app.command("check")(check.check)
app.command("doctor")(doctor.doctor)
app.add_typer(events.app, name="events")
app.add_typer(config.app, name="config")


def main() -> None:
    """The console-script entry point."""
    app()
