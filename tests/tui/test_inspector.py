"""`ofevents inspect` driven headless by textual's pilot: follow, search, select, replay, curl."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from textual.widgets import DataTable, Static

from ofevents_cli.core.capture import Capture, format_timestamp
from ofevents_cli.core.signing import sign, verify
from ofevents_cli.shells.history_read import sources
from ofevents_cli.tui.inspector import Inspector, InspectSettings
from tests.history_data import SECRET, delivery, now, write
from tests.target import running_target

SVIX = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def _settings(path: Path, target: str | None, copied: list[str]) -> InspectSettings:
    return InspectSettings(sources([path], given=True), target=target, secrets=(SECRET,),
                           poll=0.05, copy=copied.append)


async def _until(pilot: object, check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():  # type: ignore[operator]
        assert time.monotonic() < deadline, "timed out"
        await pilot.pause(0.05)  # type: ignore[attr-defined]


def test_inspector_follows_searches_and_replays(tmp_path: Path) -> None:
    """Open on 3 deliveries, see a 4th appended, find it with /, replay it to a target."""
    start = now() - 60
    path = write(tmp_path / "c.jsonl", *(delivery(n, start + n).to_json() for n in range(3)))
    copied: list[str] = []

    async def scenario() -> None:
        with running_target() as target:
            app = Inspector(_settings(path, target.url, copied))
            async with app.run_test(size=(140, 40)) as pilot:
                table = app.query_one("#list", DataTable)
                assert table.row_count == 3
                with path.open("a", encoding="utf-8") as handle:
                    handle.write(delivery(7, start + 10, body=b'{"type":"tip.received",'
                                          b'"note":"needle"}').to_json() + "\n")
                await _until(pilot, lambda: table.row_count == 4)
                await pilot.press("slash", *"needle", "enter")
                assert table.row_count == 1
                await _until(pilot, lambda: '"note": "needle"' in
                             str(app.query_one("#detail", Static).render()))
                assert "delivery dlv_0007" in str(app.query_one("#detail", Static).render())
                await pilot.press("r")
                await _until(pilot, lambda: len(target.requests) == 1)
                assert target.requests[0].body == b'{"type":"tip.received","note":"needle"}'
                assert target.requests[0].path == "/webhooks?n=7"
                await _until(pilot, lambda: "[200]" in str(app.query_one("#status").render()))
                await pilot.press("c")
                assert copied and copied[-1].startswith("curl -sS -X POST")
                assert f"{target.url}/webhooks?n=7" in copied[-1]

    asyncio.run(scenario())


def test_inspector_resigns_before_replaying(tmp_path: Path) -> None:
    """R sends an hour-old Svix delivery with a fresh signature that verifies now."""
    old = now() - 3600
    body = b'{"type":"connection.created","data":{}}'
    stale = tuple(sign("svix", SVIX, body, msg_id="msg_1", timestamp=int(old)))
    record = Capture("dlv_svix", format_timestamp(old), "POST", "/hook", stale, body)
    path = write(tmp_path / "c.jsonl", record.to_json())

    async def scenario() -> None:
        with running_target() as target:
            settings = InspectSettings(sources([path], given=True), target=target.url,
                                       secrets=(SVIX,), poll=0.05)
            app = Inspector(settings)
            async with app.run_test(size=(140, 40)) as pilot:
                await pilot.press("R")
                await _until(pilot, lambda: len(target.requests) == 1)
                await _until(pilot, lambda: "re-signed [200]" in
                             str(app.query_one("#status", Static).render()))
        [got] = target.requests
        assert got.body == body
        assert not verify(body, list(stale), [SVIX], now=time.time()).valid
        assert verify(got.body, got.headers, [SVIX], now=time.time()).valid

    asyncio.run(scenario())


def test_inspector_follows_a_running_forward_in_the_history() -> None:
    """With no file given it follows the history: a delivery forward captures shows up."""
    import httpx

    from ofevents_cli.shells.history_home import history_dir, history_files
    from tests.cli.test_forward import forwarding, signed

    async def scenario() -> None:
        with running_target() as target, forwarding("--to", target.url) as run:
            home = history_dir()
            app = Inspector(InspectSettings(sources(history_files(home), given=False),
                                            directory=home, poll=0.05))
            async with app.run_test(size=(140, 40)) as pilot:
                table = app.query_one("#list", DataTable)
                assert table.row_count == 0
                body = b'{"type":"subscriber.new","data":{}}'
                await asyncio.to_thread(httpx.post, f"{run.ready['local_url']}/x", content=body,
                                        headers=signed(body), timeout=5)
                await _until(pilot, lambda: table.row_count == 1)
                await _until(pilot, lambda: "subscriber.new" in
                             str(app.query_one("#detail", Static).render()))
            run.stop()

    asyncio.run(scenario())


def test_inspector_shows_markup_from_a_file_as_text_and_needs_a_target(tmp_path: Path) -> None:
    """Markup in a captured event name stays literal; r without --to sends nothing, says so."""
    record = delivery(1, now(), body=b'{"type":"[bold red]x[/]"}')
    path = write(tmp_path / "c.jsonl", record.to_json())

    async def scenario() -> None:
        app = Inspector(_settings(path, None, []))
        async with app.run_test(size=(140, 40)) as pilot:
            table = app.query_one("#list", DataTable)
            assert "[bold red]x[/]" in [str(cell) for cell in table.get_row_at(0)]
            await pilot.press("r")
            assert "no target" in str(app.query_one("#status", Static).render())

    asyncio.run(scenario())
