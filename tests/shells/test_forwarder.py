"""`listen --forward-to`: real deliveries into a real receiver, checked with standardwebhooks."""

from __future__ import annotations

import asyncio
import json

from standardwebhooks.webhooks import Webhook

from ofevents_cli.shells.emulator import EmulatorSettings, running
from ofevents_cli.shells.eventbus import ClientSettings
from ofevents_cli.shells.forwarder import Delivered, ForwardSettings
from ofevents_cli.shells.listener import listen
from ofevents_cli.shells.session_secret import session_secret
from tests.eventbus_servers import KEY, TOKEN
from tests.receiver import receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
ACCOUNTS = ("384751629", "518273946", "602938174")


def _forward(url: str, fail_first: bool = False) -> list[object]:
    shown: list[object] = []

    async def main() -> None:
        async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                            ws_token=TOKEN)) as served:
            task = asyncio.ensure_future(listen(
                ClientSettings(served.url, KEY, TOKEN), shown.append, max_events=30,
                forward=ForwardSettings(url, SECRET, initial_delay=0.01)))
            while served.app.sessions == 0:
                await asyncio.sleep(0.01)
            served.app.emit([{"event": "tip", "accountId": ACCOUNTS[n % 3],
                              "data": {"amount": n}} for n in range(30)])
            await asyncio.wait_for(task, 15)
    asyncio.run(main())
    return shown


def test_forwarded_events_verify_and_keep_per_account_order() -> None:
    """Every event arrives once, signed (standardwebhooks verifies), in order per account."""
    with receiver() as (url, got):
        shown = _forward(url)
    assert len(got.requests) == 30
    hook = Webhook(SECRET)
    per_account: dict[str, list[int]] = {}
    for path, headers, body in got.requests:
        assert path == "/hooks"
        payload = hook.verify(body, headers)
        assert headers["webhook-id"] == payload["_id"]
        per_account.setdefault(payload["accountId"], []).append(payload["amount"])
    for account, amounts in per_account.items():
        assert amounts == sorted(amounts), account
    assert sum(isinstance(v, Delivered) and v.status == 200 for v in shown) == 30


def test_failed_deliveries_are_retried_and_reported() -> None:
    """A 500 is retried; the result of each attempt is reported."""
    with receiver(fail_first=True) as (url, got):
        shown = _forward(url)
    results = [v for v in shown if isinstance(v, Delivered)]
    assert sum(r.status == 500 and r.retry_in is not None for r in results) == 30
    assert sum(r.ok for r in results) == 30
    ids = [json.loads(body)["_id"] for _, _, body in got.requests]
    assert len(ids) == 60 and len(set(ids)) == 30


def test_unreachable_target_gives_up_after_five_attempts() -> None:
    """Connection refused: five attempts, then a failure the renderer counts."""
    shown = _forward("http://127.0.0.1:9/hooks")
    results = [v for v in shown if isinstance(v, Delivered)]
    assert len(results) == 150 and sum(r.failed for r in results) == 30
    assert all(r.error for r in results)


def test_session_secret_is_made_once_and_kept() -> None:
    """The generated whsec_ secret is stable across calls (restarts) and usable."""
    first = session_secret()
    assert first.startswith("whsec_") and session_secret() == first
    Webhook(first)


def test_a_full_backlog_drops_and_reports_instead_of_blocking() -> None:
    """With the backlog full, submit returns at once and reports the event as not forwarded."""
    from ofevents_cli.core.frames import Event
    from ofevents_cli.shells.forwarder import Forwarder

    shown: list[Delivered] = []

    async def main() -> None:
        with receiver() as (url, got):
            forwarder = Forwarder(ForwardSettings(url, SECRET, backlog=2), shown.append)
            for n in range(5):
                forwarder.submit(Event(f"evt_{n}", "tip", ACCOUNTS[0], "ts", {"amount": n}))
            await forwarder.drain(10)
            await forwarder.aclose()
            assert [json.loads(body)["_id"] for _, _, body in got.requests] == ["evt_0", "evt_1"]
    asyncio.run(main())
    assert [d.event.id for d in shown if d.dropped] == ["evt_2", "evt_3", "evt_4"]
    assert all(d.failed for d in shown if d.dropped)


def test_events_still_queued_at_the_end_are_reported_as_not_forwarded() -> None:
    """Deliveries cut short (drain timeout, Ctrl+C) are each reported as failed, not dropped."""
    from ofevents_cli.core.frames import Event
    from ofevents_cli.shells.forwarder import Forwarder

    shown: list[Delivered] = []

    async def main() -> None:
        stalled: list[asyncio.StreamWriter] = []

        async def stall(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            stalled.append(writer)  # accept, then never answer

        server = await asyncio.start_server(stall, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        forwarder = Forwarder(ForwardSettings(f"http://127.0.0.1:{port}/", SECRET), shown.append)
        for n in range(3):
            forwarder.submit(Event(f"e{n}", "tip", ACCOUNTS[0], "2026-11-22T10:30:00Z"))
        await forwarder.drain(0.2)
        await forwarder.aclose()
        for writer in stalled:
            writer.close()
        server.close()
        await asyncio.wait_for(server.wait_closed(), 5)
    asyncio.run(asyncio.wait_for(main(), 10))
    assert [d.event.id for d in shown] == ["e0", "e1", "e2"]
    assert all(d.failed and d.error == "listen ended before it was delivered" for d in shown)
