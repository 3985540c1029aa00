"""`replay --id/--last/--since` and the history filters: from the history or one capture file."""

from __future__ import annotations

import json
import os
from pathlib import Path

from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from tests.history_data import delivery, kept, now, write
from tests.target import running_target

runner = CliRunner()


def _history(start: float) -> None:
    home = Path(os.environ["OFEVENTS_HISTORY_DIR"])
    write(home / "forward-a.jsonl", *(delivery(n, start + n).to_json() for n in (0, 2, 4)),
          mtime=start + 4)
    write(home / "forward-b.jsonl", delivery(1, start + 1, status=500).to_json(),
          delivery(3, start + 3, event="subscriber.new").to_json(), "{broken", mtime=start + 3)
    write(home / "listen-c.jsonl", kept(5, start + 5).to_json(), mtime=start + 5)


def _sent(target_requests: list[object]) -> list[int]:
    return [json.loads(r.body)["data"]["n"] for r in target_requests]  # type: ignore[attr-defined]


def test_replay_by_id_sends_just_those_in_the_order_given() -> None:
    """--id B --id A re-sends B then A, byte for byte, and nothing else."""
    _history(now() - 600)
    with running_target() as target:
        result = runner.invoke(app, ["replay", "--to", target.url, "--id", "dlv_0003",
                                     "--id", "dlv_0000", "--json"])
    assert result.exit_code == 0, result.stderr
    assert _sent(target.requests) == [3, 0]
    assert target.requests[0].path == "/webhooks?n=3"
    assert [json.loads(line)["id"] for line in result.stdout.splitlines()] == \
        ["dlv_0003", "dlv_0000"]


def test_an_unknown_id_or_an_event_id_sends_nothing_and_exits_2() -> None:
    """One bad id: exit 2 before any request; an event's id is no delivery."""
    _history(now() - 600)
    with running_target() as target:
        unknown = runner.invoke(app, ["replay", "--to", target.url, "--id", "dlv_0001",
                                      "--id", "dlv_gone"])
        event = runner.invoke(app, ["replay", "--to", target.url, "--id", "ev_5"])
    assert target.requests == []
    assert unknown.exit_code == 2 and "no delivery 'dlv_gone'" in unknown.stderr
    assert event.exit_code == 2 and "EventBus event" in event.stderr


def test_last_n_from_the_history_goes_oldest_first() -> None:
    """--last 3: the three newest deliveries (events left out), sent in the order they came."""
    _history(now() - 600)
    with running_target() as target:
        result = runner.invoke(app, ["replay", "--to", target.url, "--last", "3"])
    assert result.exit_code == 0, result.stderr
    assert _sent(target.requests) == [2, 3, 4]


def test_since_and_filters_stream_the_history_in_order() -> None:
    """--since with --event/--status picks across sessions, oldest first; bad lines reported."""
    start = now() - 600
    _history(start)
    with running_target() as target:
        tips = runner.invoke(app, ["replay", "--to", target.url, "--since", "1h",
                                   "--event", "tip.*"])
        failed = runner.invoke(app, ["replay", "--to", target.url, "--since", "1h",
                                     "--status", "5xx"])
    assert tips.exit_code == 0, tips.stderr
    assert _sent(target.requests) == [0, 1, 2, 4, 1]  # the tips, then the one 5xx
    assert "forward-b.jsonl: not valid JSON" in tips.stderr
    assert failed.exit_code == 0


def test_a_history_replay_needs_a_selection() -> None:
    """No CAPTURE and no selection: exit 2 rather than re-sending the whole history."""
    _history(now() - 600)
    with running_target() as target:
        result = runner.invoke(app, ["replay", "--to", target.url])
    assert result.exit_code == 2 and "needs a selection" in result.stderr
    assert target.requests == []


def test_a_capture_file_with_last_and_filters(tmp_path: Path) -> None:
    """CAPTURE --last 2 --status 2xx: the last two 2xx deliveries of the file, in file order."""
    start = now() - 60
    path = write(tmp_path / "c.jsonl", *(delivery(n, start + n, status=500 if n == 3 else 200)
                                         .to_json() for n in range(5)))
    with running_target() as target:
        result = runner.invoke(app, ["replay", str(path), "--to", target.url, "--last", "2",
                                     "--status", "2xx"])
        by_id = runner.invoke(app, ["replay", str(path), "--to", target.url, "--id", "dlv_0001"])
    assert result.exit_code == 0 and by_id.exit_code == 0
    assert _sent(target.requests) == [2, 4, 1]
