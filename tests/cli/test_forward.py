"""`ofevents forward --tunnel none` as a user runs it: the installed command in a subprocess."""

from __future__ import annotations

import json
import queue
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import httpx
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.capture import Capture, read_captures
from ofevents_cli.core.signing import sign, verify
from tests.target import Target, closed_port, running_target

OFEVENTS = str(Path(sys.executable).with_name("ofevents"))
SECRET = "ofapi-secret"
runner = CliRunner()


@dataclass
class Forward:
    """A running `ofevents forward` process and its output lines."""

    proc: subprocess.Popen[str]
    lines: queue.Queue[str] = field(default_factory=queue.Queue)
    ready: dict[str, object] = field(default_factory=dict)
    first: str = ""

    def line(self, timeout: float = 10) -> str:
        """The next stdout line."""
        return self.lines.get(timeout=timeout)

    def stop(self, sig: int = signal.SIGINT) -> tuple[int, list[str], str]:
        """Send `sig`; the exit code, the remaining stdout lines and all of stderr."""
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=30)
        time.sleep(0.1)
        rest = []
        while not self.lines.empty():
            rest.append(self.lines.get_nowait())
        assert self.proc.stderr is not None
        return code, rest, self.proc.stderr.read()


def _pump(stream: IO[str], lines: queue.Queue[str]) -> None:
    for text in stream:
        lines.put(text.rstrip("\n"))


@contextmanager
def forwarding(*args: str, json_lines: bool = True) -> Iterator[Forward]:
    """Start `ofevents forward --tunnel none ARGS`; wait for its ready line (JSON mode)."""
    command = [OFEVENTS, "forward", "--tunnel", "none", *args] + (["--json"] if json_lines
                                                                  else [])
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    run = Forward(proc)
    assert proc.stdout is not None
    pump = threading.Thread(target=_pump, args=(proc.stdout, run.lines), daemon=True)
    pump.start()
    try:
        run.first = run.line(timeout=20)
        if json_lines:
            run.ready = json.loads(run.first)
        yield run
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        pump.join(timeout=10)
        proc.stdout.close()
        assert proc.stderr is not None
        proc.stderr.close()


def signed(body: bytes) -> list[tuple[str, str]]:
    """ofapi signature headers for `body`, made by the core."""
    return sign("ofapi", SECRET, body, msg_id="unused", timestamp=int(time.time()))


def read(path: Path) -> list[Capture]:
    """The capture file's records."""
    records = list(read_captures(path.read_text(encoding="utf-8").splitlines()))
    assert all(isinstance(r, Capture) for r in records)
    return [r for r in records if isinstance(r, Capture)]


def test_json_lines_follow_the_contract(tmp_path: Path) -> None:
    """--json: a `ready` line, then one `delivery` line per delivery with exactly cli.md's keys."""
    body = b'{"type":"tip.received","data":{"amount":5}}'
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(tmp_path / "c.jsonl"),
                       "--secret", SECRET) as run:
        assert set(run.ready) == {"type", "public_url", "local_url", "target"}
        assert run.ready["type"] == "ready" and run.ready["public_url"] is None
        local = str(run.ready["local_url"])
        assert local.startswith("http://127.0.0.1:")
        httpx.post(f"{local}/webhooks", content=body, headers=signed(body), timeout=5)
        delivery = json.loads(run.line())
        code, _, stderr = run.stop()
    assert code == 0, stderr
    assert set(delivery) == {"type", "event", "provider", "valid", "status", "ms", "id"}
    assert delivery["type"] == "delivery" and delivery["event"] == "tip.received"
    assert (delivery["provider"], delivery["valid"], delivery["status"]) == ("ofapi", True, 200)
    [record] = read(tmp_path / "c.jsonl")
    assert record.id == delivery["id"] and record.body == body


@contextmanager
def waiting(run: Forward, target: Target, count: int, path: str) -> Iterator[list[httpx.Response]]:
    """`count` deliveries to `path` in flight (the target has them); their answers once the
    block ends."""
    answers: list[httpx.Response] = []
    local = str(run.ready["local_url"])
    with ThreadPoolExecutor(count) as pool:
        futures = [pool.submit(httpx.post, f"{local}{path}/{n}", content=b"{}", timeout=30)
                   for n in range(count)]
        deadline = time.monotonic() + 10
        while len(target.requests) < count:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        yield answers
        answers += [f.result() for f in futures]


def test_sigint_during_in_flight_deliveries_loses_no_capture_line(tmp_path: Path) -> None:
    """Ctrl+C while 5 slow deliveries are in flight: all 5 answered and captured, exit 0."""
    capture = tmp_path / "c.jsonl"
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(capture)) as run:
        with waiting(run, target, 5, "/slow/1") as answers:
            code, rest, stderr = run.stop(signal.SIGINT)
        statuses = [a.status_code for a in answers]
    assert code == 0, stderr
    assert statuses == [200] * 5
    assert len(read(capture)) == 5 and len(rest) == 5
    assert "stopped: 5 deliveries captured" in stderr


def test_sigterm_stops_cleanly(tmp_path: Path) -> None:
    """SIGTERM is a clean end too: exit 0, the summary on stderr, nothing on stdout."""
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(tmp_path / "c.jsonl")) as run:
        code, rest, stderr = run.stop(signal.SIGTERM)
    assert code == 0 and rest == []
    assert "Traceback" not in stderr and "stopped: 0 deliveries" in stderr


def test_human_view_shows_banner_rows_and_a_down_target(tmp_path: Path) -> None:
    """Banner on stderr (target, capture), a row per delivery on stdout, the 502 explained."""
    port = closed_port()
    with forwarding("--to", f"127.0.0.1:{port}", "--capture", str(tmp_path / "c.jsonl"),
                    "--secret", SECRET, json_lines=False) as run:
        body = b'{"event":"messages.received"}'
        code, rest, stderr = _post_via_banner(run, body)
        header = run.first
    assert code == 0
    assert "time" in header and "signature" in header
    assert f"target      http://127.0.0.1:{port}/" in stderr
    assert f"capture     {tmp_path / 'c.jsonl'}" in stderr
    assert f"nothing is listening on 127.0.0.1:{port} yet: deliveries will get 502" in stderr
    [row] = rest
    assert "messages.received" in row and "valid" in row and "502" in row


def _post_via_banner(run: Forward, body: bytes) -> tuple[int, list[str], str]:
    """Read the banner's local URL from stderr, post one delivery, stop; stderr returned whole."""
    assert run.proc.stderr is not None
    seen = []
    for text in run.proc.stderr:
        seen.append(text)
        if text.strip().startswith("local URL"):
            break
    local = seen[-1].split()[-1]
    httpx.post(f"{local}/hook", content=body, headers=signed(body), timeout=5)
    time.sleep(0.3)
    code, rest, stderr = run.stop()
    return code, rest, "".join(seen) + stderr


def test_forward_capture_verifies_offline_like_it_did_live(tmp_path: Path) -> None:
    """verify() over forward's capture (with received_at as now) repeats the live verdicts."""
    capture = tmp_path / "c.jsonl"
    good = b'{"type":"tip.received"}'
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(capture), "--secret", SECRET) as run:
        local = str(run.ready["local_url"])
        httpx.post(f"{local}/a", content=good, headers=signed(good), timeout=5)
        httpx.post(f"{local}/b", content=good + b" ", headers=signed(good), timeout=5)
        live = [json.loads(run.line())["valid"] for _ in range(2)]
        run.stop()
    offline = [verify(r.body, r.headers, [SECRET], now=r.received_epoch).valid
               for r in read(capture)]
    assert live == offline == [True, False]


def test_bad_flags_exit_2_with_a_hint(tmp_path: Path) -> None:
    """Unknown --tunnel/--provider, busy --port, --reject-invalid with no secret, --secret "":
    exit 2, one line and a hint."""
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        cases = [["--tunnel", "frp"], ["--tunnel", "none", "--provider", "eventbus"],
                 ["--tunnel", "none", "--port", str(port)],
                 ["--tunnel", "none", "--reject-invalid"],
                 ["--tunnel", "none", "--secret", ""]]
        for extra in cases:
            result = runner.invoke(app, ["forward", "--to", "3000", "--capture",
                                         str(tmp_path / "c.jsonl"), *extra])
            assert result.exit_code == 2, (extra, result.stderr)
            assert result.stderr.startswith("ofevents: error: ") and "hint: " in result.stderr
    assert not (tmp_path / "c.jsonl").exists()


def test_capture_to_a_full_disk_relays_reports_and_exits_1(tmp_path: Path) -> None:
    """--capture /dev/full: the answer still comes back, stderr says so, exit 1, no traceback."""
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", "/dev/full") as run:
        answer = httpx.post(f"{run.ready['local_url']}/hook", content=b"{}", timeout=5)
        delivery = json.loads(run.line())
        code, _, stderr = run.stop()
    assert (answer.status_code, answer.content, delivery["status"]) == (200, b"{}", 200)
    assert code == 1 and "Traceback" not in stderr
    assert "capture write failed: /dev/full" in stderr and "1 NOT captured" in stderr


def test_an_unwritable_capture_path_names_the_flag(tmp_path: Path) -> None:
    """--capture in a missing directory: exit 2, the hint names --capture."""
    result = runner.invoke(app, ["forward", "--to", "3000", "--tunnel", "none", "--capture",
                                 str(tmp_path / "no" / "c.jsonl")])
    assert result.exit_code == 2
    assert "cannot write capture file" in result.stderr and "--capture" in result.stderr


def test_a_second_ctrl_c_stops_waiting_for_in_flight_deliveries(tmp_path: Path) -> None:
    """Ctrl+C twice while 3 deliveries wait on a slow target: 503s, all captured, exit 0 now."""
    capture = tmp_path / "c.jsonl"
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(capture)) as run:
        with waiting(run, target, 3, "/slow/20") as answers:
            run.proc.send_signal(signal.SIGINT)
            time.sleep(0.3)
            start = time.monotonic()
            code, rest, stderr = run.stop(signal.SIGINT)
            waited = time.monotonic() - start
        statuses = [a.status_code for a in answers]
    assert code == 0, stderr
    assert waited < 10 and statuses == [503] * 3
    assert [r.response and r.response.status for r in read(capture)] == [503] * 3
    assert len(rest) == 3 and "stopped: 3 deliveries captured" in stderr


def test_forward_json_into_a_reader_that_closes_early_exits_quietly(tmp_path: Path) -> None:
    """`forward --json | head -1`: its delivery lines are flushed once per burst; once the
    reader has gone, forward ends with exit 0, no traceback and no asyncio "Exception in
    callback" (stdout buffered, as from a user's shell, so the flush is what finds it)."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    reader, writer = os.pipe()
    with running_target() as target:
        proc = subprocess.Popen([OFEVENTS, "forward", "--tunnel", "none", "--json", "--to",
                                 target.url, "--capture", str(tmp_path / "c.jsonl")],
                                stdout=writer, stderr=subprocess.PIPE, env=env)
        os.close(writer)
        first = b""
        while not first.endswith(b"\n"):
            first += os.read(reader, 1)
        os.close(reader)  # `head -1` has its line
        url = json.loads(first)["local_url"]
        for _ in range(20):
            if proc.poll() is not None:
                break
            try:
                httpx.post(f"{url}/hook", content=b"{}", timeout=5)
            except httpx.TransportError:
                break
            time.sleep(0.05)
        code = proc.wait(timeout=30)
        assert proc.stderr is not None
        with proc.stderr:
            stderr = proc.stderr.read()
    assert code == 0, stderr
    for noise in (b"Traceback", b"Exception in callback", b"Exception ignored"):
        assert noise not in stderr, stderr
