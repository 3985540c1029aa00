"""`ofevents replay`: send captured deliveries again, as captured or freshly signed."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.history_options import (
    Accounts,
    Events,
    Grep,
    Invalid,
    Last,
    Providers,
    Since,
    Statuses,
    Until,
    build_query,
)
from ofevents_cli.cli.options import CACERT_HELP, INSECURE_HELP, finite


@guarded
def replay(
    to: Annotated[str, typer.Option(help="Where to send: 3000, localhost:3000 or a URL; each "
                                    "captured path+query is appended.", show_default=False)],
    capture: Annotated[str | None, typer.Argument(
        help="Capture file (- for stdin). Default: the history, with a selection (--id, "
        "--last, --since…).", show_default=False)] = None,
    ident: Annotated[
        list[str] | None,
        typer.Option("--id", help="Only this delivery (repeatable; sent in the order given).",
                     show_default=False),
    ] = None,
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
        typer.Option("--filter", help="Only this event type (repeatable; same as --event).",
                     show_default=False),
    ] = None,
    event: Events = None,
    provider: Providers = None,
    account: Accounts = None,
    since: Since = None,
    until: Until = None,
    status: Statuses = None,
    invalid: Invalid = False,
    grep: Grep = None,
    last: Last = None,
    timeout: Annotated[float, typer.Option(callback=finite, help="Seconds to wait for each answer.",
                                           min=0.01)] = 10.0,
    json_lines: JsonOption = False,
    output: FormatOption = None,
    insecure: Annotated[bool, typer.Option("--insecure", help=INSECURE_HELP)] = False,
    cacert: Annotated[str | None, typer.Option(metavar="FILE", help=CACERT_HELP,
                                               show_default=False)] = None,
) -> None:
    """Re-send deliveries (of CAPTURE, or picked from the history) in order, byte for byte
    (or re-signed)."""
    import asyncio

    from ofevents_cli.core.exit_policy import ReplayTally, replay_exit
    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.replays import ReplayView
    from ofevents_cli.shells.history_home import history_dir, history_files
    from ofevents_cli.shells.history_read import sources
    from ofevents_cli.shells.replay import ReplaySettings, read_replay_file
    from ofevents_cli.shells.replay import replay as replay_all
    from ofevents_cli.shells.replay_selection import Selection, from_file, from_history

    if any(not s.strip() for s in secret or ()):
        raise InputError("--secret is empty", "pass the signing secret, or leave --secret out "
                         "to use the provider's *_WEBHOOK_SECRET")
    settings = ReplaySettings(target=parse_target(to, default_path="", default=None), resign=resign,
                              secrets=tuple(secret or ()), timeout=timeout,
                              insecure=insecure, cacert=cacert)
    query = build_query([*(filter_ or ()), *(event or ())], provider, account, since, until,
                        status, invalid, grep, ident)
    selection = Selection(query, last)
    if capture is not None:
        records = from_file(read_replay_file(capture), capture, selection)
    else:
        home = history_dir()
        records = from_history(sources(history_files(home), given=False), selection,
                               f"the history ({home})")
    tally = ReplayTally()
    view = ReplayView(output_format(output, json_lines), tally, named=capture is not None)

    async def main() -> None:
        async for outcome in replay_all(records, settings):
            view.show(outcome)

    try:
        asyncio.run(main())
    finally:
        view.close()
    raise typer.Exit(int(replay_exit(tally)))
