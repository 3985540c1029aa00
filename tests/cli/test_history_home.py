"""The history home: forward, trigger --save and listen --keep write there by default."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import httpx
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.shells.history_home import HistoryFile
from tests.cli.test_forward import forwarding, signed
from tests.history_data import delivery, now
from tests.target import running_target

runner = CliRunner()
EXE = str(Path(sys.executable).with_name("ofevents"))


def _home() -> Path:
    return Path(os.environ["OFEVENTS_HISTORY_DIR"])


def test_forward_without_capture_writes_a_session_file_in_the_history(tmp_path: Path) -> None:
    """No --capture: the banner names a new file in the history dir, which history lists."""
    with running_target() as target, \
            forwarding("--to", target.url, json_lines=False) as run:
        local = next(line for line in iter(lambda: run.proc.stderr.readline(), "")  # type: ignore[union-attr]
                     if "local URL" in line).split()[-1]
        httpx.post(f"{local}/hook", content=b'{"type":"tip.received"}',
                   headers=signed(b'{"type":"tip.received"}'), timeout=5)
        run.line()
        code, _, stderr = run.stop()
    assert code == 0
    [session] = list(_home().glob("forward-*.jsonl"))
    assert f"captured in {session}" in stderr
    assert oct(_home().stat().st_mode & 0o777) == "0o700"  # fans' messages: owner only
    listed = runner.invoke(app, ["history", "--json"])
    [record] = [json.loads(line) for line in listed.stdout.splitlines()]
    assert record["event"] == "tip.received" and record["source"] == str(session)


def test_forward_banner_says_the_capture_is_the_history() -> None:
    """The banner's capture line names the file and how to look at it."""
    with running_target() as target, \
            forwarding("--to", target.url, json_lines=False) as run:
        banner = [run.proc.stderr.readline() for _ in range(5)]  # type: ignore[union-attr]
        run.stop()
    [line] = [b for b in banner if b.startswith("  capture")]
    assert str(_home()) in line and "ofevents history" in line


def test_trigger_save_alone_keeps_in_the_history_and_save_file_still_works(tmp_path: Path
                                                                          ) -> None:
    """`--save` with no value: a trigger session in the history; `--save FILE`: that file."""
    with running_target() as target:
        alone = runner.invoke(app, ["trigger", "tip.received", "--to", target.url, "-s", "k",
                                    "--count", "2", "--save"])
        before = runner.invoke(app, ["trigger", "tip.received", "--save", "--to", target.url,
                                     "-s", "k"])
        named = runner.invoke(app, ["trigger", "tip.received", "--to", target.url, "-s", "k",
                                    "--save", str(tmp_path / "mine.jsonl")])
    assert alone.exit_code == before.exit_code == named.exit_code == 0, alone.stderr
    sessions = sorted(_home().glob("trigger-*.jsonl"))
    assert len(sessions) == 2 and f"kept in the history: {sessions[0]}" in alone.stderr + \
        before.stderr
    assert sum(len(s.read_text().splitlines()) for s in sessions) == 3
    assert len((tmp_path / "mine.jsonl").read_text().splitlines()) == 1
    assert len(runner.invoke(app, ["history"]).stdout.splitlines()) == 3


def test_listen_keep_records_events_that_history_lists_and_verify_refuses() -> None:
    """listen --keep: event records in a listen session; verify never takes one for a
    delivery, replay cannot pick one."""
    done = subprocess.run([EXE, "listen", "--demo", "--max-events", "3", "--json", "--keep"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    [session] = list(_home().glob("listen-*.jsonl"))
    assert "keeping events in" in done.stderr and str(session) in done.stderr
    streamed = [json.loads(line)["_id"] for line in done.stdout.splitlines()]
    listed = runner.invoke(app, ["history", "--provider", "eventbus", "--json"])
    records = [json.loads(line) for line in listed.stdout.splitlines()]
    assert [r["id"] for r in records] == streamed[::-1]
    assert {r["kind"] for r in records} == {"event"}
    checked = runner.invoke(app, ["verify", str(session), "-s", "k"])
    assert "not a webhook delivery" in checked.stderr and "✔" not in checked.stdout


def test_listen_keep_file_appends_events_there(tmp_path: Path) -> None:
    """listen --keep FILE: the events go to FILE, not to the history."""
    kept = tmp_path / "events.jsonl"
    done = subprocess.run([EXE, "listen", "--demo", "--max-events", "2", "--keep", str(kept)],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len(kept.read_text().splitlines()) == 2 and not list(_home().glob("*.jsonl"))


def test_a_session_rotates_into_parts_that_history_reads_as_one(tmp_path: Path) -> None:
    """A full part is closed and the next record starts part 2; the listing loses nothing."""
    start = now() - 100
    session = HistoryFile(tmp_path / "forward-x.jsonl", max_bytes=2000)
    for n in range(10):
        session.append(delivery(n, start + n))
    session.close()
    parts = sorted(tmp_path.glob("forward-x*.jsonl"))
    assert len(parts) > 2 and all(p.stat().st_size < 2000 + 1000 for p in parts)
    records = [r for p in parts for r in read_captures(p.read_bytes().splitlines())]
    assert all(isinstance(r, Capture) for r in records) and len(records) == 10
    listed = runner.invoke(app, ["history", str(tmp_path), "--json"])
    assert [json.loads(line)["id"] for line in listed.stdout.splitlines()] == \
        [f"dlv_{n:04d}" for n in range(9, -1, -1)]


def test_the_default_history_home_follows_the_platform_conventions(tmp_path: Path) -> None:
    """Linux: $XDG_STATE_HOME/ofevents/history, else ~/.local/state/ofevents/history."""
    probe = ("from ofevents_cli.shells.history_home import history_dir; print(history_dir())")
    env = {k: v for k, v in os.environ.items() if k != "OFEVENTS_HISTORY_DIR"}
    xdg = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env={**env, "XDG_STATE_HOME": str(tmp_path)}, check=True)
    assert xdg.stdout.strip() == str(tmp_path / "ofevents" / "history")
    env.pop("XDG_STATE_HOME", None)
    home = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          env={**env, "HOME": str(tmp_path)}, check=True)
    assert home.stdout.strip() == str(tmp_path / ".local" / "state" / "ofevents" / "history")
