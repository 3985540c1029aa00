"""`ofevents doctor`: check the machine ofevents runs on and say what is wrong in plain words."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.formats import FormatOption, JsonOption, output_format


@guarded
def doctor(
    to: Annotated[
        str | None,
        typer.Option(help="Where trigger/forward send (checked for a listener). Default: "
                     "http://localhost:3000/webhooks.", show_default=False),
    ] = None,
    time_source: Annotated[
        str | None,
        typer.Option(help="Check the clock against this URL's HTTP Date header [env "
                     "OFEVENTS_TIME_SOURCE].", show_default=False),
    ] = None,
    online: Annotated[
        bool, typer.Option("--online", help="Check the clock against a public HTTPS server "
                           "(the only check that needs the internet).")
    ] = False,
    json_lines: JsonOption = False,
    output: FormatOption = None,
) -> None:
    """Check Python, ofevents, the config file, secrets, clock, proxies, ngrok, the EventBus
    and the default target (exit 1 if any check fails)."""
    import asyncio
    import os

    from ofevents_cli.core.doctor_checks import exit_code
    from ofevents_cli.core.targets import parse_target
    from ofevents_cli.formats import Format
    from ofevents_cli.render.doctor import show
    from ofevents_cli.shells.machine import (
        DEFAULT_TIME_SOURCE,
        TIME_SOURCE_ENV,
        DoctorSettings,
        run_doctor,
    )

    as_json = output_format(output, json_lines) is Format.JSON
    source = time_source or os.environ.get(TIME_SOURCE_ENV) or (
        DEFAULT_TIME_SOURCE if online else None)
    checks = asyncio.run(run_doctor(DoctorSettings(parse_target(to), source)))
    code = exit_code(checks)
    show(checks, as_json, int(code))
    raise typer.Exit(int(code))
