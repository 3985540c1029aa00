"""The ngrok tunnel, driven through the real pyngrok by a fake agent (tests/fake_ngrok.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.shells.relay import Delivered, RelaySettings
from ofevents_cli.shells.tunnel import TunnelSettings
from tests.target import fake_agent, pid_alive, running_relay, running_target

runner = CliRunner()


def ngrok_flags(tmp_path: Path, *extra: str) -> list[str]:
    """forward flags that keep every ngrok file inside tmp_path."""
    return ["--ngrok-path", str(fake_agent(tmp_path)),
            "--ngrok-config", str(tmp_path / "ngrok.yml"), *extra]


def test_public_url_reaches_the_target_through_the_relay(tmp_path: Path) -> None:
    """A POST to the tunnel's public URL arrives at the target via the relay, then it closes."""
    tunnel = TunnelSettings(kind="ngrok", authtoken="test-token",
                            ngrok_path=str(fake_agent(tmp_path)),
                            ngrok_config=str(tmp_path / "ngrok.yml"), timeout=10)
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl",
                                        tunnel=tunnel)) as relay:
        public = relay.started.public_url
        assert public and public != relay.started.local_url
        answer = httpx.post(f"{public}/webhooks?x=1", content=b'{"type":"tip.received"}',
                            timeout=10)
        relay.wait_for(Delivered)
    assert answer.status_code == 200 and answer.content == b'{"type":"tip.received"}'
    [got] = target.requests
    assert got.path == "/webhooks?x=1" and got.values("x-forwarded-proto") == ["https"]
    with pytest.raises(httpx.TransportError):
        httpx.post(public, content=b"{}", timeout=2)


def test_missing_authtoken_exits_4_with_how_to_get_one(tmp_path: Path) -> None:
    """The agent refuses to start without an authtoken: exit 4 and a hint naming the fixes."""
    result = runner.invoke(app, ["forward", "--to", "3000", *ngrok_flags(tmp_path)])
    assert result.exit_code == 4, result.stderr
    assert "ERR_NGROK_4018" in result.stderr
    assert "dashboard.ngrok.com" in result.stderr and "NGROK_AUTHTOKEN" in result.stderr
    assert "Traceback" not in result.stderr and result.stdout == ""


def test_agent_crash_exits_3_with_the_ngrok_error_code(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent that fails at start: exit 3, its ERR_NGROK code, no literal \\n in the line."""
    monkeypatch.setenv("FAKE_NGROK_MODE", "crash")
    result = runner.invoke(app, ["forward", "--to", "3000", "--authtoken", "t",
                                 *ngrok_flags(tmp_path)])
    assert result.exit_code == 3, result.stderr
    assert "ERR_NGROK_108" in result.stderr and "\\n" not in result.stderr
    assert "--tunnel none" in result.stderr


def test_silent_agent_hits_our_deadline_and_is_killed(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """An agent that prints nothing: exit 3 after OFEVENTS_TUNNEL_TIMEOUT, the agent killed."""
    pidfile = tmp_path / "agent.pid"
    monkeypatch.setenv("FAKE_NGROK_MODE", "silent")
    monkeypatch.setenv("FAKE_NGROK_PIDFILE", str(pidfile))
    monkeypatch.setenv("OFEVENTS_TUNNEL_TIMEOUT", "1")
    start = time.monotonic()
    result = runner.invoke(app, ["forward", "--to", "3000", "--authtoken", "t",
                                 *ngrok_flags(tmp_path)])
    assert result.exit_code == 3, result.stderr
    assert "did not start within 1 s" in result.stderr
    assert time.monotonic() - start < 15
    assert not pid_alive(int(pidfile.read_text()))


def test_no_agent_offline_exits_3_quickly_and_writes_only_in_tmp(tmp_path: Path) -> None:
    """No agent at pyngrok's default place (under HOME) and no network: exit 3, install hint."""
    env = {k: v for k, v in os.environ.items() if k != "PYNGROK_NGROK_PATH"}
    env["HOME"] = str(tmp_path)
    command = [str(Path(sys.executable).with_name("ofevents")), "forward", "--to", "3000",
               "--authtoken", "t", "--capture", str(tmp_path / "c.jsonl")]
    start = time.monotonic()
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 3, result.stderr
    assert "install ngrok and pass --ngrok-path, or use --tunnel none" in result.stderr
    assert time.monotonic() - start < 15
    assert not any(p.is_file() for p in tmp_path.rglob("ngrok"))


def test_ctrl_c_while_the_agent_starts_exits_0_and_kills_it(tmp_path: Path) -> None:
    """SIGINT while a silent agent is starting: no waiting for the deadline, exit 0, agent gone."""
    pidfile = tmp_path / "agent.pid"
    env = {**os.environ, "FAKE_NGROK_MODE": "silent", "FAKE_NGROK_PIDFILE": str(pidfile),
           "OFEVENTS_TUNNEL_TIMEOUT": "30"}
    command = [str(Path(sys.executable).with_name("ofevents")), "forward", "--to", "3000",
               "--authtoken", "t", "--capture", str(tmp_path / "c.jsonl"),
               *ngrok_flags(tmp_path)]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 15
        while not pidfile.exists() or not pidfile.read_text():
            assert time.monotonic() < deadline and proc.poll() is None
            time.sleep(0.05)
        time.sleep(0.3)  # the relay is waiting on the agent now
        proc.send_signal(signal.SIGINT)
        stdout, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0, stderr
    assert "Traceback" not in stderr and stdout == ""
    assert not pid_alive(int(pidfile.read_text()))


def test_the_authtoken_is_not_on_the_agent_command_line(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The token reaches the agent in a 0600 config file (gone afterwards), not in its argv."""
    seen = tmp_path / "argv.json"
    monkeypatch.setenv("FAKE_NGROK_ARGVFILE", str(seen))
    tunnel = TunnelSettings(kind="ngrok", authtoken="tok-SECRET-123",
                            ngrok_path=str(fake_agent(tmp_path)), timeout=10)
    with running_target() as target, \
            running_relay(RelaySettings(target.url, tmp_path / "c.jsonl",
                                        tunnel=tunnel)) as relay:
        assert relay.started.public_url
        record = json.loads(seen.read_text(encoding="utf-8"))
    assert not any("tok-SECRET-123" in arg for arg in record["argv"])
    [config] = record["configs"]
    assert config["mode"] == 0o600 and "tok-SECRET-123" in config["text"]
    token_file = record["argv"][record["argv"].index("--config") + 1]
    assert not os.path.exists(token_file)


def test_a_missing_ngrok_path_exits_2_without_downloading(tmp_path: Path) -> None:
    """--ngrok-path that does not exist: exit 2 naming it; nothing is downloaded there."""
    missing = tmp_path / "agent-dir" / "ngrok"
    result = runner.invoke(app, ["forward", "--to", "3000", "--authtoken", "t",
                                 "--ngrok-path", str(missing), "--capture",
                                 str(tmp_path / "c.jsonl")])
    assert result.exit_code == 2, result.stderr
    assert f"no ngrok agent at {missing}" in result.stderr and "hint: " in result.stderr
    assert not missing.parent.exists()


@pytest.mark.parametrize("kind", ["directory", "not executable"])
def test_an_ngrok_path_that_cannot_run_exits_2_naming_it(tmp_path: Path, kind: str) -> None:
    """--ngrok-path that is a directory or not executable: exit 2 with a hint, no traceback."""
    agent = tmp_path / "ngrok"
    if kind == "directory":
        agent.mkdir()
    else:
        agent.write_text("#!/bin/sh\n")
        agent.chmod(0o644)
    result = runner.invoke(app, ["forward", "--to", "3000", "--authtoken", "t",
                                 "--ngrok-path", str(agent), "--capture",
                                 str(tmp_path / "c.jsonl")])
    assert result.exit_code == 2, result.stderr
    assert f"{agent}" in result.stderr and kind.split()[-1] in result.stderr
    assert "hint: " in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("value", ["1e309", "nan", "inf"])
def test_a_tunnel_timeout_that_is_not_a_number_is_refused(tmp_path: Path, value: str) -> None:
    """OFEVENTS_TUNNEL_TIMEOUT=1e309 (inf) or nan: exit 2 naming the setting, no token file."""
    env = {**os.environ, "OFEVENTS_TUNNEL_TIMEOUT": value, "TMPDIR": str(tmp_path)}
    command = [str(Path(sys.executable).with_name("ofevents")), "forward", "--to", "3000",
               "--authtoken", "tok-SECRET", "--ngrok-path", str(fake_agent(tmp_path)),
               "--capture", str(tmp_path / "c.jsonl")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 2, result.stderr
    assert "OFEVENTS_TUNNEL_TIMEOUT" in result.stderr and "Traceback" not in result.stderr
    assert list(tmp_path.glob("ofevents-ngrok-*")) == []


def _token_files(tmp: Path) -> list[Path]:
    return list(tmp.glob("ofevents-ngrok-*"))


@pytest.mark.parametrize(("mode", "when", "sig"), [
    ("", "ready", signal.SIGINT), ("", "ready", signal.SIGTERM), ("", "ready", signal.SIGKILL),
    ("silent", "starting", signal.SIGINT), ("silent", "starting", signal.SIGTERM),
    ("silent", "deadline", None), ("crash", "exit", None),
])
def test_the_authtoken_file_is_gone_whatever_stops_forward(
        tmp_path: Path, mode: str, when: str, sig: signal.Signals | None) -> None:
    """Killed once the tunnel is up (SIGINT, SIGTERM, even SIGKILL), interrupted while the agent
    starts, timed out or failed: no temp file holding the ngrok authtoken is left behind."""
    temp = tmp_path / "tmp"
    temp.mkdir()
    pidfile = tmp_path / "agent.pid"
    env = {**os.environ, "TMPDIR": str(temp), "FAKE_NGROK_MODE": mode,
           "FAKE_NGROK_PIDFILE": str(pidfile), "OFEVENTS_TUNNEL_TIMEOUT": "2"}
    command = [str(Path(sys.executable).with_name("ofevents")), "forward", "--to", "3000",
               "--authtoken", "tok-SECRET-123", "--ngrok-path", str(fake_agent(tmp_path)),
               "--capture", str(tmp_path / "c.jsonl"), "--json"]
    with subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True) as proc:
        assert proc.stdout is not None
        if when == "ready":
            assert json.loads(proc.stdout.readline())["type"] == "ready"
            assert _token_files(temp) == []  # the agent is up: the token left the disk
        elif when == "starting":
            deadline = time.monotonic() + 15
            while not pidfile.exists() or not pidfile.read_text():
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.05)
        if sig is not None:
            proc.send_signal(sig)
        proc.wait(timeout=30)
        if sig == signal.SIGKILL:  # its orphaned agent holds the pipes open: tidy up
            os.kill(int(pidfile.read_text()), signal.SIGKILL)
        proc.communicate(timeout=30)
    assert _token_files(temp) == []


def test_no_authtoken_anywhere_is_exit_4_before_any_download(tmp_path: Path) -> None:
    """No --authtoken, NGROK_AUTHTOKEN or config, no agent yet (first run): the missing
    authtoken is reported (exit 4) without first trying to download the agent."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYNGROK_NGROK_PATH",
                                                            "NGROK_AUTHTOKEN")}
    env["HOME"] = str(tmp_path)
    command = [str(Path(sys.executable).with_name("ofevents")), "forward", "--to", "3000",
               "--capture", str(tmp_path / "c.jsonl")]
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=30)
    assert result.returncode == 4, result.stderr
    assert "no authtoken (ERR_NGROK_4018)" in result.stderr and "NGROK_AUTHTOKEN" in result.stderr
    assert "download" not in result.stderr and not (tmp_path / ".config" / "ngrok").exists()


def test_pyngroks_wrapper_script_is_named_as_such(tmp_path: Path) -> None:
    """--ngrok-path "$(command -v ngrok)" inside a virtualenv finds pyngrok's Python script,
    not the agent: exit 2 saying so and where the agent lives."""
    wrapper = Path(sys.executable).with_name("ngrok")
    assert wrapper.exists()  # pyngrok installs it with the package
    result = runner.invoke(app, ["forward", "--to", "3000", "--authtoken", "t",
                                 "--ngrok-path", str(wrapper), "--capture",
                                 str(tmp_path / "c.jsonl")])
    assert result.exit_code == 2, result.stderr
    assert "pyngrok's `ngrok` wrapper script, not the ngrok agent" in result.stderr
    assert "hint: point --ngrok-path at the agent binary" in result.stderr
