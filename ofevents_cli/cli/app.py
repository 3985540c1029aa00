"""The `ofevents` command: one root app composed from one small module per command.

A command's module is imported, and the command built, only when it is looked up
(cli/lazy_commands.py): `ofevents --help` and `--version` build none, `verify --help` builds
`verify` alone. Command modules import only typer at import time (their work is imported when
they run) and hold real annotations (no `from __future__ import annotations`): typer would
evaluate string ones on each start. tests/cli/test_startup.py checks both.
"""

import functools
import gc
import importlib
from typing import Annotated, Any

import typer

from ofevents_cli import __version__
from ofevents_cli.cli.boundary import DEBUG, OfeventsGroup, readable_metavars
from ofevents_cli.cli.examples import epilog, short_help
from ofevents_cli.cli.lazy_commands import LazyCommands
from ofevents_cli.cli.optional_value import OptionalValueCommand

# in the order a user meets them: tail, develop locally, receive, re-send, look back, fire,
# check, then the groups. Each lives in ofevents_cli.cli.<name> (MODULES: where not), as a
# function of its name or, for a group, a Typer `app`
COMMANDS = ("listen", "emulator", "forward", "worker", "replay", "inspect", "trigger", "verify",
            "check", "doctor", "history", "events", "config")
MODULES = {"inspect": "inspector"}
OPTIONAL_VALUE = {"listen", "trigger"}  # `--keep` / `--save` alone mean "in the history"


def module_of(name: str) -> str:
    """The module that holds command `name`."""
    return f"ofevents_cli.cli.{MODULES.get(name, name)}"


def build(name: str) -> Any:
    """The Click command for `name`, registered on a Typer of its own exactly as on the root
    (same short help, examples and class), then readable metavars."""
    module = importlib.import_module(module_of(name))
    group = getattr(module, "app", None)
    holder = typer.Typer(rich_markup_mode=None, add_completion=False)
    if isinstance(group, typer.Typer):
        holder.add_typer(group, name=name, short_help=short_help(name), epilog=epilog(name))
    else:
        cls = OptionalValueCommand if name in OPTIONAL_VALUE else None
        holder.command(name, cls=cls, short_help=short_help(name),
                       epilog=epilog(name))(getattr(module, name))
    command = typer.main.get_group(holder).commands[name]
    readable_metavars(command)
    return command


class RootGroup(OfeventsGroup):
    """`ofevents`: every command listed from the start, each built when it runs."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.commands = LazyCommands({name: functools.partial(build, name) for name in COMMANDS})

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The command list from the short-help table, building no command to show it."""
        with formatter.section("Commands"):
            formatter.write_dl([(name, short_help(name)) for name in self.commands])


app = typer.Typer(
    name="ofevents",
    cls=RootGroup,
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


def main() -> None:
    """The console-script entry point."""
    try:
        app()
    finally:
        # the interpreter's last collection at exit walks every object still alive (after
        # `listen` of 50,000 events: ~20 ms, 4% of the run); frozen, they are left to exit.
        # Files and sockets are closed by then: every one is held in a `with` or `finally`.
        gc.freeze()
