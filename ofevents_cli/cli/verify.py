"""`ofevents verify`: check captured webhook signatures offline and explain failures."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format
from ofevents_cli.cli.options import complete_webhook_provider, provider_names, webhook_provider


@guarded
def verify(
    captures: Annotated[
        list[str] | None,
        typer.Argument(help="Capture files (JSON Lines); - reads standard input.",
                       show_default=False),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option("--secret", "-s", help="Signing secret; repeat for key rotation (any may "
                     "match). Default: the provider's env var.", show_default=False),
    ] = None,
    provider: Annotated[
        str, typer.Option(help=f"{provider_names('webhook', auto=True)}: whose scheme to "
                          "expect.", autocompletion=complete_webhook_provider)
    ] = "auto",
    tolerance: Annotated[
        int, typer.Option(help="Seconds a signed timestamp may be off, past or future.", min=0)
    ] = 300,
    now: Annotated[
        str | None,
        typer.Option(help="Verify as of this moment (unix seconds or ISO-8601) instead of each "
                     "capture's received_at.", show_default=False),
    ] = None,
    body: Annotated[
        str | None,
        typer.Option(help="Verify one raw body from FILE (- for stdin), with --header.",
                     show_default=False),
    ] = None,
    header: Annotated[
        list[str] | None,
        typer.Option("--header", "-H", help="'Name: value' header of the --body delivery.",
                     show_default=False),
    ] = None,
    explain: Annotated[
        bool, typer.Option(help="Show the signed string, both signatures, and the diagnosis.")
    ] = False,
    jobs: Annotated[
        int | None,
        typer.Option("--jobs", "-j", help="Worker processes for a large capture file "
                     "(default: one per core; 1: none).", min=1, show_default=False),
    ] = None,
    json_lines: JsonOption = False,
    output: FormatOption = None,
) -> None:
    """Verify captured deliveries' signatures offline (exit 1 if any is invalid)."""
    from ofevents_cli.core.exit_policy import VerifyTally, verify_exit
    from ofevents_cli.errors import InputError
    from ofevents_cli.render.verdicts import VerdictRenderer
    from ofevents_cli.shells.chunks import cores
    from ofevents_cli.shells.verification import (
        Keyring,
        Settings,
        check_body,
        moment,
    )

    if body is not None and captures:
        raise InputError("give capture files or --body, not both",
                         "verify one raw delivery with --body FILE --header 'Name: value'")
    if header and body is None:
        raise InputError("--header goes with --body", "add --body FILE (- for stdin)")
    chosen = webhook_provider(provider)
    keys = Keyring.load(secret, chosen)
    settings = Settings(chosen, tolerance, moment(now), explain)
    if body is None and not captures:
        raise InputError("nothing to verify",
                         "name capture files (- for stdin), or give --body FILE with --header")
    import sys

    live = sys.stdout.isatty() or "-" in (captures or []) or body == "-"
    tally = VerifyTally()
    renderer = VerdictRenderer(output_format(output, json_lines), tally, explain, live,
                               len(captures or []))
    try:
        if body is not None:
            for item in check_body(body, header or [], keys, settings):
                renderer.show(item)
        else:
            renderer.show_captures(captures or [], keys, settings, jobs or cores())
    finally:  # lines are written in chunks: none verified may be lost (Ctrl+C)
        renderer.write()
    renderer.summary()
    raise typer.Exit(int(verify_exit(tally)))
