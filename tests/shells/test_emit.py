"""emit_events (for `trigger --to ws://…`) against the real emulator."""

from __future__ import annotations

import asyncio

import pytest

from ofevents_cli.errors import CredentialsError, InputError, UnreachableError
from ofevents_cli.shells.emit import emit_events
from ofevents_cli.shells.emulator import EmulatorSettings, running
from tests.eventbus_servers import KEY, TOKEN


def test_emit_returns_ids_and_maps_errors() -> None:
    """202 -> ids; 401 -> CredentialsError; 400 -> InputError with the server's message."""
    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            ids = await emit_events(served.url, KEY, TOKEN, [{"event": "tip"}, {"event": "typing"}])
            assert ids == [served.app.bus.id_of(1), served.app.bus.id_of(2)]
            with pytest.raises(CredentialsError):
                await emit_events(served.url, KEY, "wrong", [{"event": "tip"}])
            with pytest.raises(InputError, match="unknown event 'tipz'"):
                await emit_events(served.url, KEY, TOKEN, [{"event": "tipz"}])
    asyncio.run(asyncio.wait_for(main(), 10))


def test_emit_to_nothing_is_unreachable() -> None:
    """No emulator listening: UnreachableError (exit 3)."""
    with pytest.raises(UnreachableError):
        asyncio.run(emit_events("ws://127.0.0.1:9/v1/events", KEY, TOKEN, [{"event": "tip"}]))
