"""`listen --route`, `--routes FILE`, `[[routes]]` and `--sink` as a user runs them: each event
to every route it matches, stored once, resumed from what is stored."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from standardwebhooks.webhooks import Webhook
from typer.testing import CliRunner

from ofevents_cli.cli.app import app
from ofevents_cli.core import sinks
from ofevents_cli.core.routes import Route
from ofevents_cli.core.signing import verify
from ofevents_cli.shells.emulator import EmulatorSettings, running
from ofevents_cli.shells.eventbus import ClientSettings
from ofevents_cli.shells.fanout import Plan
from ofevents_cli.shells.forwarder import ForwardSettings
from ofevents_cli.shells.listener import listen
from tests.eventbus_servers import KEY, TOKEN, emulator_thread, publish
from tests.receiver import Receiver, receiver
from tests.redis_server import RedisServer, free_port
from tests.target import running_target

runner = CliRunner()
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
A, B = "111111111", "222222222"
# (event, account) in the order they are published
TRAFFIC = [("tip", A), ("chat_message", B), ("tip", B), ("typing", A), ("chat_message", A),
           ("tip", A), ("new_subscriber", B), ("tip", B)]


def _listen(served: Any, *args: str, events: int, env: dict[str, str] | None = None) -> Any:
    return runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY, "--ws-token",
                               TOKEN, "--json", "--max-events", str(events), "--resume",
                               served.app.bus.id_of(0), *args], env=env)


def _got(record: Receiver) -> list[dict[str, Any]]:
    """Each request's verified payload, in arrival order."""
    hook = Webhook(SECRET)
    return [hook.verify(body, headers) for _, headers, body in record.requests]


def _by_account(ids: list[str], published: list[str]) -> dict[str, list[str]]:
    """Event ids per account, in the order given (`published`: the ids of TRAFFIC): accounts
    go in parallel, so order is kept within an account."""
    accounts = {event_id: account for event_id, (_, account) in zip(published, TRAFFIC,
                                                                     strict=True)}
    out: dict[str, list[str]] = {}
    for event_id in ids:
        out.setdefault(accounts[event_id], []).append(event_id)
    return out


def _publish(served: Any, loop: Any) -> list[str]:
    """Publish TRAFFIC; its ids."""
    return [publish(served, loop, e, a, {}) for e, a in TRAFFIC]


def test_events_go_to_every_route_they_match_by_type_and_account() -> None:
    """`tip=…` gets every tip, `*@B=…` every event of account B, `chat_*=…` the chats; a tip
    of B goes to both of its routes; each is signed and arrives once, in order."""
    with emulator_thread() as (served, loop), receiver() as (tips, got_tips), \
            receiver() as (b_url, got_b), receiver() as (chats, got_chats):
        ids = _publish(served, loop)
        result = _listen(served, "--route", f"tip={tips}", "--route", f"*@{B}={b_url}",
                         "--route", f"chat_*={chats}", "--secret", SECRET,
                         events=len(TRAFFIC))
    assert result.exit_code == 0, result.stderr
    expected = {
        "tips": [i for i, (e, _) in zip(ids, TRAFFIC, strict=True) if e == "tip"],
        "b": [i for i, (_, a) in zip(ids, TRAFFIC, strict=True) if a == B],
        "chats": [i for i, (e, _) in zip(ids, TRAFFIC, strict=True) if e == "chat_message"],
    }
    for name, record in (("tips", got_tips), ("b", got_b), ("chats", got_chats)):
        assert _by_account([p["_id"] for p in _got(record)], ids) == _by_account(
            expected[name], ids)
    assert len(result.stdout.splitlines()) == len(TRAFFIC)
    assert f"route tip -> {tips}" in result.stderr and "secret whsec_…aSw" in result.stderr
    assert SECRET not in result.stderr


def test_an_event_no_route_matches_is_reported_unrouted_and_is_no_failure() -> None:
    """Only tips are routed: every other event is printed, named `unrouted` on stderr and
    counted at the end; exit 0."""
    with emulator_thread() as (served, loop), receiver() as (url, got):
        ids = [publish(served, loop, e, a, {}) for e, a in TRAFFIC]
        result = _listen(served, "--route", f"tip={url}", events=len(TRAFFIC))
    assert result.exit_code == 0, result.stderr
    others = [(i, e) for i, (e, _) in zip(ids, TRAFFIC, strict=True) if e != "tip"]
    for event_id, event in others:
        assert f"-- unrouted {event} {event_id}" in result.stderr
    assert f"{len(others)} event(s) matched no route" in result.stderr
    assert len(got.requests) == len(TRAFFIC) - len(others)


def test_a_routes_file_sets_each_routes_provider_secret_and_accounts(tmp_path: Path) -> None:
    """`--routes FILE`: a route of its own provider and secret signs in that format; a route
    limited to an account gets only that account's events."""
    ofapi_secret = "ofapi-route-secret"
    with emulator_thread() as (served, loop), receiver() as (ofapi_url, got_ofapi), \
            receiver() as (a_url, got_a):
        ids = _publish(served, loop)
        routes = tmp_path / "routes.toml"
        routes.write_text(f'[[routes]]\nevents = "tip"\nto = "{ofapi_url}"\n'
                          f'provider = "ofapi"\nsecret = "{ofapi_secret}"\n\n'
                          f'[[routes]]\naccounts = [{A}]\nto = "{a_url}"\n')
        result = _listen(served, "--routes", str(routes), "--secret", SECRET,
                         events=len(TRAFFIC))
    assert result.exit_code == 0, result.stderr
    for _, headers, body in got_ofapi.requests:
        assert verify(body, list(headers.items()), [ofapi_secret], now=0).valid
    assert _by_account([json.loads(b)["_id"] for _, _, b in got_ofapi.requests], ids) == (
        _by_account([i for i, (e, _) in zip(ids, TRAFFIC, strict=True) if e == "tip"], ids))
    assert [p["_id"] for p in _got(got_a)] == [
        i for i, (_, a) in zip(ids, TRAFFIC, strict=True) if a == A]


def test_config_routes_apply_unless_a_route_flag_is_given(isolated_env: Path) -> None:
    """`[[routes]]` in the config file routes a plain `listen`; `--route` replaces them."""
    with emulator_thread() as (served, loop), receiver() as (config_url, got_config), \
            receiver() as (flag_url, got_flag):
        publish(served, loop, "tip", A, {})
        (isolated_env / "config.toml").write_text(f'[[routes]]\nto = "{config_url}"\n')
        first = _listen(served, events=1)
        second = _listen(served, "--route", f"*={flag_url}", events=1)
    assert first.exit_code == 0 and second.exit_code == 0, first.stderr + second.stderr
    assert (len(got_config.requests), len(got_flag.requests)) == (1, 1)


@pytest.mark.parametrize(("args", "config", "why"), [
    (["--route", "tipp=3000"], "", "unknown event 'tipp'"),
    (["--route", "tip"], "", "has no '=URL'"),
    (["--resume", "auto"], "", "--resume auto needs a --sink"),
    (["--secret", "x"], "", "only apply to --forward-to and --route"),
    (["--sink", "http://x"], "", "only redis:// and rediss://"),
    ([], "[[routes]]\nevents = 'tip'\n", "config.toml [[routes]] #1 has no `to`"),
    ([], "[[sinks]]\nurl = 5\n", "[[sinks]] #1 has no `url`"),
    (["--routes", "/nonexistent/r.toml"], "", "cannot read --routes"),
])
def test_a_bad_route_sink_or_resume_is_a_usage_error(isolated_env: Path, args: list[str],
                                                     config: str, why: str) -> None:
    """Exit 2 with `ofevents: error:` naming what is wrong, before connecting anywhere."""
    (isolated_env / "config.toml").write_text(config)
    result = runner.invoke(app, ["listen", "--api-key", KEY, "--ws-token", TOKEN, *args])
    assert result.exit_code == 2, result.stderr
    assert "ofevents: error:" in result.stderr and why in result.stderr


def test_a_dead_route_does_not_hold_up_the_others() -> None:
    """One route hangs (every attempt times out); the other gets all 300 events, in order per
    account, as fast as they come; what the dead one still holds at the end is reported
    dropped by id."""
    shown: list[object] = []
    with running_target() as hanging, receiver() as (url, got):
        async def main() -> float:
            async with running(EmulatorSettings(port=0, rate=0, api_key=KEY,
                                                ws_token=TOKEN)) as served:
                dead = ForwardSettings(f"{hanging.url}/slow/30", SECRET, timeout=1.0,
                                       attempts=1)
                plan = Plan(((Route(("*",), dead.url), dead),
                             (Route(("*",), url), ForwardSettings(url, SECRET))))
                task = asyncio.ensure_future(listen(
                    ClientSettings(served.url, KEY, TOKEN), shown.append, max_events=300,
                    plan=plan, drain=3.0))
                while served.app.sessions == 0:
                    await asyncio.sleep(0.01)
                loop = asyncio.get_running_loop()
                start = loop.time()
                served.app.emit([{"event": "tip", "accountId": str(n % 3),
                                  "data": {"amount": n}} for n in range(300)])
                while len(got.requests) < 300 and loop.time() - start < 20:
                    await asyncio.sleep(0.01)
                took = loop.time() - start
                await asyncio.wait_for(task, 30)
                return took
        took = asyncio.run(main())
    per_account: dict[str, list[int]] = {}
    for payload in _got(got):
        per_account.setdefault(payload["accountId"], []).append(payload["amount"])
    assert sum(map(len, per_account.values())) == 300
    assert all(amounts == sorted(amounts) for amounts in per_account.values())
    assert took < 5, f"the live route needed {took:.1f} s"  # the dead one needs 300 s
    dropped = [v for v in shown if isinstance(v, sinks.Dropped)]
    assert dropped and {d.sink for d in dropped} == {f"{hanging.url}/slow/30"}


def test_sink_stores_each_event_once_with_the_bytes_listen_prints(
        redis_server: RedisServer, redis_client: Any) -> None:
    """`--sink`: one entry per event, its body the flat object `--json` prints, even though
    the bus drops the connection every 3 events (replays are neither printed nor stored
    again)."""
    with emulator_thread(drop_every=3) as (served, loop):
        ids = [publish(served, loop, e, a, {"n": n}) for n, (e, a) in enumerate(TRAFFIC)]
        result = _listen(served, "--sink", f"{redis_server.url}?stream=ev", events=len(TRAFFIC))
    assert result.exit_code == 0, result.stderr
    entries = redis_client.xrange("ev")
    assert [f[b"id"].decode() for _, f in entries] == ids
    printed = [json.loads(line) for line in result.stdout.splitlines()]
    assert [json.loads(f[b"body"]) for _, f in entries] == printed
    assert f"{redis_server.url.split('/0')[0]}/0 stream ev: {len(ids)} stored" in result.stderr


def test_resume_auto_starts_after_the_newest_stored_event(redis_server: RedisServer,
                                                          redis_client: Any) -> None:
    """A second `listen --resume auto` gets only what came after the first run's last stored
    event (recorded in `S:resume`), and says where it resumed."""
    sink = f"{redis_server.url}?stream=ra"
    with emulator_thread() as (served, loop):
        first_ids = [publish(served, loop, "tip", A, {"n": n}) for n in range(3)]
        first = _listen(served, "--sink", sink, events=3)
        later = [publish(served, loop, "tip", A, {"n": n}) for n in range(3, 5)]
        second = runner.invoke(app, ["listen", "--url", served.url, "--api-key", KEY,
                                     "--ws-token", TOKEN, "--json", "--max-events", "2",
                                     "--sink", sink, "--resume", "auto"])
    assert first.exit_code == 0 and second.exit_code == 0, second.stderr
    assert [json.loads(x)["_id"] for x in second.stdout.splitlines()] == later
    assert f"resuming after {first_ids[-1]}" in second.stderr
    assert [f[b"id"].decode() for _, f in redis_client.xrange("ra")] == first_ids + later
    assert redis_client.get("ra:resume") == later[-1].encode()  # where the next one resumes


def test_redis_down_names_what_was_not_stored_and_exits_1() -> None:
    """Nothing listens at the sink: a loud state line, the events still print, and at the end
    every event not stored is named; exit 1."""
    port = free_port()
    sink = f"redis://127.0.0.1:{port}/0?stream=x"
    with emulator_thread() as (served, loop):
        ids = [publish(served, loop, "tip", A, {}) for _ in range(3)]
        result = _listen(served, "--sink", sink, events=3,
                         env={"OFEVENTS_DRAIN_TIMEOUT": "0.3"})
    assert result.exit_code == 1
    assert len(result.stdout.splitlines()) == 3
    assert "is down: connection refused; 3 waiting, retrying in" in result.stderr
    assert f"!! 3 NOT stored in redis://127.0.0.1:{port}/0 stream x: " in result.stderr
    assert all(event_id in result.stderr.splitlines()[-1] for event_id in ids)


def test_resume_auto_with_redis_down_is_unreachable() -> None:
    """`--resume auto` cannot know where to resume without Redis: exit 3 and a hint."""
    result = runner.invoke(app, ["listen", "--api-key", KEY, "--ws-token", TOKEN, "--sink",
                                 f"redis://127.0.0.1:{free_port()}/0", "--resume", "auto"])
    assert result.exit_code == 3
    assert "is unreachable: connection refused" in result.stderr and "hint:" in result.stderr


def test_a_fast_replay_into_a_healthy_redis_drops_nothing(redis_server: RedisServer,
                                                          redis_client: Any) -> None:
    """2,000 events replayed at full speed into a sink with a backlog of 100: the reader
    waits for Redis rather than dropping; every event is stored, exit 0."""
    with emulator_thread(buffer=3000) as (served, loop):
        async def many() -> list[str]:
            return served.app.emit([{"event": "tip", "accountId": A} for _ in range(2000)])
        ids = asyncio.run_coroutine_threadsafe(many(), loop).result(10)
        result = _listen(served, "--sink", f"{redis_server.url}?stream=fast&backlog=100",
                         events=2000)
    assert result.exit_code == 0, result.stderr[-2000:]
    assert "not stored" not in result.stderr
    assert [f[b"id"].decode() for _, f in redis_client.xrange("fast")] == ids
