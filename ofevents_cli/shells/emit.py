"""Injecting events into an emulator (`POST /v1/emit`), for `ofevents trigger --to ws://…`."""

from __future__ import annotations

import json
from typing import Any

import httpx

from ofevents_cli.errors import CredentialsError, InputError, UnreachableError
from ofevents_cli.shells.sender import describe


def emit_url(url: str) -> str:
    """`ws://host:port[/…]` -> `http://host:port/v1/emit` (wss -> https)."""
    parsed = httpx.URL(url)
    schemes = {"ws": "http", "wss": "https", "http": "http", "https": "https"}
    if parsed.scheme not in schemes or not parsed.host:
        raise InputError(f"{url!r} is not an emulator URL", "use ws://127.0.0.1:8765/v1/events")
    return str(parsed.copy_with(scheme=schemes[parsed.scheme], path="/v1/emit", query=None))


async def emit_events(url: str, api_key: str, ws_token: str, items: list[dict[str, Any]]
                      ) -> list[str]:
    """POST `items` ({"event", "accountId", "data"}) to the emulator; return their event ids."""
    target = emit_url(url)
    headers = {"x-api-key": api_key, "x-ws-token": ws_token}
    from ofevents_cli.shells.http_client import HttpSettings, httpx_client

    try:
        async with httpx_client(target, HttpSettings(10.0)) as client:
            response = await client.post(target, json=items, headers=headers)
    except httpx.TransportError as exc:
        raise UnreachableError(f"emulator at {target}: {describe(exc)}",
                               "start it with `ofevents emulator` (or check the URL)") from None
    try:
        answer = response.json()
    except json.JSONDecodeError:
        answer = {}
    message = answer.get("error", response.text[:200]) if isinstance(answer, dict) else ""
    if response.status_code == 401:
        raise CredentialsError(f"the emulator rejected the credentials: {message}",
                               "use the emulator's --api-key/--ws-token "
                               "(BFL_API_KEY, BFL_WS_TOKEN)")
    if response.status_code != 202 or not isinstance(answer, dict):
        raise InputError(f"the emulator refused the events ({response.status_code}): {message}")
    return [str(i) for i in answer.get("ids", [])]
