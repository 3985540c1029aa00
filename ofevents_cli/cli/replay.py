"""`ofevents replay`: send captured deliveries again, as captured or freshly signed."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.options import finite


@guarded
def replay(
    capture: Annotated[str, typer.Argument(help="Capture file (- for stdin).",
                                           show_default=False)],
    to: Annotated[str, typer.Option(help="Where to send: 3000, localhost:3000 or a URL; each "
                                    "captured path+query is appended.", show_default=False)],
    resign: Annotated[
        bool, typer.Option("--resign", help="Replace the signature with a fresh one (new id "
                           "and timestamp), same scheme as captured.")
    ] = False,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", "-s", help="Signing secret for --resign (default: the "
                     "provider's env var).", show_default=False),
    ] = None,
    filter_: Annotated[
        list[str] | None,
        typer.Option("--filter", help="Only this event type (repeatable).", show_default=False),
    ] = None,
    timeout: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for each answer.",
                                           min=0.01)] = 10.0,
    json_lines: Annotated[bool, typer.Option("--json", help="One JSON object per delivery.")
                          ] = False,
) -> None:
    """Re-send the deliveries of CAPTURE in order, byte for byte (or re-signed)."""
    import asyncio

    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.replays import ReplayView
    from ofevents_cli.shells.replay import ReplaySettings, read_replay_file
    from ofevents_cli.shells.replay import replay as replay_all

    if any(not s.strip() for s in secret or ()):
        raise InputError("--secret is empty", "pass the signing secret, or leave --secret out "
                         "to use the provider's *_WEBHOOK_SECRET")
    settings = ReplaySettings(target=parse_target(to, default_path="", default=None), resign=resign,
                              secrets=tuple(secret or ()), filters=tuple(filter_ or ()),
                              timeout=timeout)
    view = ReplayView(json_lines)

    async def main() -> None:
        async for event in replay_all(read_replay_file(capture), settings):
            view.show(event)

    asyncio.run(main())
    if view.failed:
        raise typer.Exit(1)
