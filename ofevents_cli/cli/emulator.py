"""`ofevents emulator`: a local EventBus with realistic traffic and `POST /v1/emit`."""

from typing import Annotated

import typer

from ofevents_cli.cli.boundary import guarded
from ofevents_cli.cli.options import FixturesOption, finite


@guarded
def emulator(
    host: Annotated[str, typer.Option("--host", metavar="HOST", help="Interface to bind (keep 127.0.0.1 unless you mean it).")] = "127.0.0.1",  # noqa: E501
    port: Annotated[int, typer.Option("--port", metavar="PORT", min=0, max=65535, help="Port (0 = any free one).")] = 8765,  # noqa: E501
    rate: Annotated[float, typer.Option("--rate", metavar="R", min=0, callback=finite, help="Generated events per second (0 = none; inject with POST /v1/emit).")] = 2.0,  # noqa: E501
    accounts: Annotated[int, typer.Option("--accounts", metavar="N", min=1, max=1000, help="Number of creator accounts.")] = 3,  # noqa: E501
    seed: Annotated[int | None, typer.Option("--seed", metavar="S", help="Make the generated traffic reproducible.")] = None,  # noqa: E501
    api_key: Annotated[str | None, typer.Option("--api-key", metavar="KEY", help="Accepted API key [env BFL_API_KEY; default demo-api-key].")] = None,  # noqa: E501
    ws_token: Annotated[str | None, typer.Option("--ws-token", metavar="TOKEN", help="Accepted WS token [env BFL_WS_TOKEN; default demo-ws-token].")] = None,  # noqa: E501
    drop_every: Annotated[int, typer.Option("--drop-every", metavar="N", min=0, help="Close each connection after every N events (chaos testing).")] = 0,  # noqa: E501
    fixtures: FixturesOption = None,
) -> None:
    """Run a local EventBus that speaks ofevents' protocol, until Ctrl+C."""
    import asyncio

    from ofevents_cli.core.masking import mask
    from ofevents_cli.render.output import say
    from ofevents_cli.render.text import escape_control, shorten
    from ofevents_cli.shells import config
    from ofevents_cli.shells import emulator as emu
    from ofevents_cli.shells.emit import emit_url
    from ofevents_cli.shells.user_fixtures import load_user_fixtures

    load_user_fixtures(fixtures)
    key = config.resolve(api_key, "BFL_API_KEY", "eventbus.api_key")
    token = config.resolve(ws_token, "BFL_WS_TOKEN", "eventbus.ws_token")
    settings = emu.EmulatorSettings(host, port, rate, accounts, seed,
                                    key or emu.DEFAULT_API_KEY, token or emu.DEFAULT_WS_TOKEN,
                                    drop_every)

    def key_hint(given: str | None, default: str) -> str:
        """The demo default in clear; a credential of the user's only masked."""
        return mask(given) if given else default

    async def serve() -> None:
        def log(line: str) -> None:
            say("  " + escape_control(shorten(line, 200)))

        async with emu.running(settings, log) as served:
            say(f"emulator listening on {served.url} (POST {emit_url(served.url)})")
            say(f"accounts: {', '.join(a.id for a in served.app.creators)}")
            say(f"try: ofevents listen --url {served.url}"
                f" --api-key {key_hint(key, emu.DEFAULT_API_KEY)}"
                f" --ws-token {key_hint(token, emu.DEFAULT_WS_TOKEN)}")
            await asyncio.Event().wait()

    try:
        asyncio.run(serve())
    except KeyboardInterrupt:
        say("emulator stopped")
