"""`ofevents doctor` on a machine set up well and on one set up badly (all on 127.0.0.1)."""

from __future__ import annotations

import base64
import contextlib
import email.utils
import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from tests.eventbus_servers import KEY, TOKEN, emulator_thread
from tests.target import closed_port, fake_agent, running_target

SVIX_SECRET = "whsec_" + base64.b64encode(b"doctor-tests-signing-key-32byte!").decode()
AUTHTOKEN = "2abcDEFghiJKLmnoPQRstuVWX_0123456789abcdefGHIJ"
runner = CliRunner()


@contextlib.contextmanager
def time_source(offset: float = 0.0) -> Iterator[str]:
    """An HTTP server on 127.0.0.1 whose Date header is `offset` seconds off."""

    class Handler(BaseHTTPRequestHandler):
        def date_time_string(self, timestamp: float | None = None) -> str:
            return email.utils.formatdate(time.time() + offset, usegmt=True)

        def do_GET(self) -> None:
            self.send_response(204)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            """Quiet."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A home of its own (no real ngrok config is read) and no proxy variables."""
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in ("XDG_CONFIG_HOME", "LOCALAPPDATA", "OFEVENTS_TIME_SOURCE"):
        monkeypatch.delenv(name, raising=False)
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(name.lower(), raising=False)
    return tmp_path


def doctor(*args: str) -> tuple[int, dict[str, dict[str, Any]], dict[str, Any], str]:
    """Run `doctor --json`: exit code, checks by name, the summary, and all output."""
    result = runner.invoke(app, ["doctor", "--json", *args])
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert lines[-1]["summary"] is True, result.stdout + result.stderr
    return (result.exit_code, {line["check"]: line for line in lines[:-1]}, lines[-1],
            result.stdout + result.stderr)


def statuses(checks: dict[str, dict[str, Any]]) -> dict[str, str]:
    """check -> status."""
    return {name: record["status"] for name, record in checks.items()}


def test_a_machine_set_up_well(home: Path, isolated_env: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    """Secrets of the right form, a private config, an agent and token, a reachable EventBus
    with good credentials, a listening target and a true clock: all ok, exit 0."""
    config = isolated_env / "config.toml"
    config.write_text(f'[secrets]\nofauth = "{SVIX_SECRET}"\n')
    config.chmod(0o600)
    monkeypatch.setenv("OFAPI_WEBHOOK_SECRET", "an-ofapi-secret-of-some-length")
    monkeypatch.setenv("ONLYFANSAPI_WEBHOOK_SECRET", "fans-secret-of-some-length")
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(fake_agent(home)))
    monkeypatch.setenv("NGROK_AUTHTOKEN", AUTHTOKEN)
    with emulator_thread() as (served, _), running_target() as target, time_source() as clock:
        monkeypatch.setenv("OFEVENTS_EVENTBUS_URL", served.url)
        monkeypatch.setenv("BFL_API_KEY", KEY)
        monkeypatch.setenv("BFL_WS_TOKEN", TOKEN)
        code, checks, summary, output = doctor("--to", target.url, "--time-source", clock)
    assert statuses(checks) == {
        "python": "ok", "ofevents": "ok", "config": "ok", "secrets.ofapi": "ok",
        "secrets.onlyfansapi": "ok", "secrets.ofauth": "ok", "clock": "ok", "proxy": "ok",
        "ngrok.agent": "ok", "ngrok.authtoken": "ok", "eventbus": "ok", "target": "ok"}
    assert code == 0 and summary["counts"]["fail"] == 0 and summary["exit_code"] == 0
    assert "from config secrets.ofauth" in checks["secrets.ofauth"]["detail"]
    assert "fits svix, standard-webhooks, ofauth-signature" in checks["secrets.ofauth"]["detail"]
    assert "ngrok version 3.99.0" in checks["ngrok.agent"]["detail"]
    assert "from env NGROK_AUTHTOKEN" in checks["ngrok.authtoken"]["detail"]
    assert "connected" in checks["eventbus"]["detail"]
    for secret in (SVIX_SECRET, AUTHTOKEN, KEY, TOKEN, "an-ofapi-secret-of-some-length"):
        assert secret not in output  # masked everywhere


def test_a_machine_set_up_badly(home: Path, isolated_env: Path,
                                monkeypatch: pytest.MonkeyPatch) -> None:
    """An unreadable config, a secret of the wrong form, no agent where it points, no
    authtoken, refused EventBus credentials, a skewed clock, nothing on the target: each
    says what is wrong, exit 1."""
    (isolated_env / "config.toml").write_text("[secrets\nofapi = ")
    monkeypatch.setenv("OFAUTH_WEBHOOK_SECRET", "whsec_not*base64*at-all")
    monkeypatch.setenv("PYNGROK_NGROK_PATH", str(home / "no-such-ngrok"))
    with emulator_thread() as (served, _), time_source(offset=-1000) as clock:
        monkeypatch.setenv("OFEVENTS_EVENTBUS_URL", served.url)
        monkeypatch.setenv("BFL_API_KEY", KEY)
        monkeypatch.setenv("BFL_WS_TOKEN", "not-the-token")
        code, checks, summary, _ = doctor("--to", str(closed_port()), "--time-source", clock)
    assert statuses(checks) == {
        "python": "ok", "ofevents": "ok", "config": "fail", "secrets.ofapi": "skip",
        "secrets.onlyfansapi": "skip", "secrets.ofauth": "fail", "clock": "fail",
        "proxy": "ok", "ngrok.agent": "fail", "ngrok.authtoken": "warn", "eventbus": "fail",
        "target": "warn"}
    assert code == 1 and summary["counts"]["fail"] == 5
    assert "cannot read config file" in checks["config"]["detail"]
    assert "does not fit svix" in checks["secrets.ofauth"]["detail"]
    assert "whsec_" in checks["secrets.ofauth"]["detail"]
    assert "cannot be read" in checks["secrets.ofapi"]["detail"]
    assert "1000 s ahead of" in checks["clock"]["detail"]
    assert "no ngrok agent at" in checks["ngrok.agent"]["detail"]
    assert "credentials refused" in checks["eventbus"]["detail"]
    assert "nothing listens at http://localhost:" in checks["target"]["detail"]


def test_group_readable_config_warns_and_names_the_fix(home: Path, isolated_env: Path) -> None:
    """A config others can read (it may hold secrets) is a warning with `chmod 600`."""
    config = isolated_env / "config.toml"
    config.write_text('[secrets]\nofapi = "abc"\n')
    config.chmod(0o644)
    _, checks, _, _ = doctor()
    assert checks["config"]["status"] == "warn"
    assert checks["config"]["hint"] == f"chmod 600 {config}"
    assert checks["secrets.ofapi"]["status"] == "ok"


def test_no_network_means_the_clock_is_not_checked(home: Path) -> None:
    """Without --online or --time-source the clock is skipped with the way to check it."""
    _, checks, _, _ = doctor()
    assert checks["clock"]["status"] == "skip"
    assert "--online" in checks["clock"]["hint"]
    assert checks["eventbus"]["status"] == "skip"


def test_an_unreachable_time_source_or_eventbus_is_said_plainly(
        home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A time source nobody serves warns (could not check); an EventBus nobody serves fails."""
    monkeypatch.setenv("OFEVENTS_EVENTBUS_URL", f"ws://127.0.0.1:{closed_port()}/v1/events")
    monkeypatch.setenv("BFL_API_KEY", KEY)
    monkeypatch.setenv("BFL_WS_TOKEN", TOKEN)
    code, checks, _, _ = doctor("--time-source", f"http://127.0.0.1:{closed_port()}/")
    assert checks["clock"]["status"] == "warn"
    assert "could not check" in checks["clock"]["detail"]
    assert "connection refused" in checks["clock"]["detail"]
    assert checks["eventbus"]["status"] == "fail" and code == 1
    assert "connection refused" in checks["eventbus"]["detail"]


def test_proxy_variables_are_shown_without_passwords(home: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """HTTP_PROXY with a password is shown masked; loopback never goes through it: ok."""
    monkeypatch.setenv("HTTP_PROXY", "http://me:hunter2@proxy.invalid:3128")
    _, checks, _, output = doctor()
    assert checks["proxy"]["status"] == "ok" and "hunter2" not in output
    assert "http://me:…@proxy.invalid:3128" in checks["proxy"]["detail"]
    assert "127.0.0.1 are always reached direct" in checks["proxy"]["detail"]


def test_authtoken_found_in_ngrok_s_own_config(home: Path) -> None:
    """With no env var or config key, the token in ngrok's own ngrok.yml is found (masked)."""
    path = home / ".config" / "ngrok" / "ngrok.yml"
    path.parent.mkdir(parents=True)
    path.write_text(f'version: "3"\nagent:\n    authtoken: {AUTHTOKEN}\n')
    _, checks, _, output = doctor()
    assert checks["ngrok.authtoken"]["status"] == "ok"
    assert str(path) in checks["ngrok.authtoken"]["detail"] and AUTHTOKEN not in output


def test_text_view_is_one_line_per_check(home: Path, isolated_env: Path) -> None:
    """The human view: a mark, the check's name and what it found, then the tally."""
    (isolated_env / "config.toml").write_bytes(b"\xff\xfe")
    result = runner.invoke(app, ["doctor", "--format", "text"])
    lines = result.stdout.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 13
    assert any(line.startswith("✘ config") and "not UTF-8" in line for line in lines)
    assert lines[-1].startswith("doctor: ") and "1 fail" in lines[-1]


def test_installed_doctor_runs_offline(home: Path) -> None:
    """`ofevents doctor --json` in a subprocess: every check answers, nothing leaves 127.0.0.1."""
    exe = str(Path(sys.executable).with_name("ofevents"))
    done = subprocess.run([exe, "doctor", "--json", "--to", str(closed_port())],
                          capture_output=True, text=True, timeout=60)
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert done.returncode == 0, done.stderr
    assert [line["check"] for line in lines[:-1]][:3] == ["python", "ofevents", "config"]
    assert lines[-1]["exit_code"] == 0
