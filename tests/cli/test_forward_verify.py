"""`ofevents verify` agrees with forward's live verdicts (needs `verify` from main: cli.md)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core.signing import sign
from tests.cli.test_forward import forwarding
from tests.target import running_target

SECRET = "ofapi-secret"
runner = CliRunner()


def test_verify_cli_on_forward_capture_matches_live_verdicts(tmp_path: Path) -> None:
    """forward's capture through `ofevents verify --json`: same verdicts, exit 1 for the bad one."""
    capture = tmp_path / "c.jsonl"
    body = b'{"type":"tip.received"}'
    headers = sign("ofapi", SECRET, body, msg_id="unused", timestamp=int(time.time()))
    with running_target() as target, \
            forwarding("--to", target.url, "--capture", str(capture), "--secret", SECRET) as run:
        local = str(run.ready["local_url"])
        httpx.post(f"{local}/a", content=body, headers=headers, timeout=5)
        httpx.post(f"{local}/b", content=body + b"\n", headers=headers, timeout=5)
        live = [json.loads(run.line()) for _ in range(2)]
        run.stop()
    result = runner.invoke(app, ["verify", str(capture), "--secret", SECRET, "--json"])
    offline = [json.loads(line) for line in result.stdout.splitlines()]
    assert [(o["id"], o["valid"]) for o in offline] == [(d["id"], d["valid"]) for d in live]
    assert [o["valid"] for o in offline] == [True, False] and result.exit_code == 1
    assert offline[1]["reason"] == "mismatch"
