"""`ofevents inspect`: the terminal inspector (textual, imported only when this command runs)."""


from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.history_options import Secrets
from ofevents_cli.cli.options import finite


@guarded
def inspect(
    captures: Annotated[list[str] | None, typer.Argument(
        help="Capture files to show and follow (default: the history directory, new sessions "
        "included).", show_default=False)] = None,
    to: Annotated[str | None, typer.Option(
        help="Where `r` (replay) and `R` (re-sign and replay) send: 3000, localhost:3000 or a "
        "URL.", show_default=False)] = None,
    secret: Secrets = None,
    limit: Annotated[int, typer.Option(help="Most records held in the list.", min=1)] = 1000,
    timeout: Annotated[float, typer.Option(callback=finite, min=0.01,
                                           help="Seconds to wait for a replay's answer.")] = 10.0,
) -> None:
    """Browse, search and re-send deliveries in the terminal, following new ones as they come."""
    from ofevents_cli.cli.history import read_sources
    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.errors import InputError
    from ofevents_cli.shells.history_home import history_dir
    from ofevents_cli.tui.inspector import Inspector, InspectSettings

    if any(not s.strip() for s in secret or ()):
        raise InputError("--secret is empty", "pass the secret, or leave --secret out to use "
                         "the provider's *_WEBHOOK_SECRET")
    files, _ = read_sources(captures)
    settings = InspectSettings(
        files, directory=None if captures else history_dir(),
        target=parse_target(to, default_path="", default=None) if to else None,
        secrets=tuple(secret or ()), limit=limit, timeout=timeout)
    Inspector(settings).run()
