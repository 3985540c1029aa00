"""`ofevents forward --route … --sink …` as a user runs it: the installed command, JSON Lines,
and a capture file the other commands still read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from tests.cli.test_forward import SECRET, forwarding, signed
from tests.redis_server import RedisServer
from tests.target import running_target

runner = CliRunner()
TIP = b'{"type":"tip.received","data":{"amount":5}}'


def test_forward_routes_json_capture_and_sink(tmp_path: Path, redis_server: RedisServer,
                                              redis_client: Any) -> None:
    """A tip goes to the tip route (which answers) and, as a copy, to the catch-all; JSON
    Lines say so (delivery, copy, store); the capture still verifies and replays as one
    delivery per line."""
    capture = tmp_path / "c.jsonl"
    with running_target() as tips, running_target() as everything:
        with forwarding("--route", f"tip.*={tips.url}/t", "--route", f"*={everything.url}",
                        "--secret", SECRET, "--capture", str(capture), "--sink",
                        f"{redis_server.url}?stream=fw") as run:
            answer = httpx.post(str(run.ready["local_url"]), content=TIP,
                                headers=signed(TIP), timeout=5)
            lines = [json.loads(run.line()) for _ in range(3)]
            code, rest, stderr = run.stop()
        assert code == 0, stderr
        assert answer.status_code == 200 and run.ready["target"] is None
        by_type = {line["type"]: line for line in lines + [json.loads(x) for x in rest]}
        assert by_type["delivery"]["route"] == f"{tips.url}/t"
        assert (by_type["delivery"]["copies"], by_type["delivery"]["unrouted"]) == (1, False)
        assert by_type["copy"]["to"] == everything.url
        assert by_type["copy"]["outcome"] == "delivered" and by_type["copy"]["status"] == 200
        assert by_type["store"]["outcome"] == "stored"
        assert by_type["store"]["entry"] == redis_client.xrange("fw")[0][0].decode()
        assert f"route       tip.* -> {tips.url}/t" in stderr
        verified = runner.invoke(app, ["verify", str(capture), "--secret", SECRET, "--json"])
        assert verified.exit_code == 0, verified.stderr
        assert [json.loads(x)["valid"] for x in verified.stdout.splitlines()] == [True]
        replayed = runner.invoke(app, ["replay", str(capture), "--to", everything.url])
        assert replayed.exit_code == 0, replayed.stderr
        assert [r.body for r in everything.requests] == [TIP, TIP]


def test_forward_needs_a_target_or_a_route() -> None:
    """Neither --to nor --route (nor [[routes]]): exit 2 naming both."""
    result = runner.invoke(app, ["forward", "--tunnel", "none"])
    assert result.exit_code == 2
    assert "forward needs --to or a --route" in result.stderr
