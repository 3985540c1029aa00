"""Routes: `PATTERN[@ACCOUNT,…]=URL` and `[[routes]]` tables, read and matched as users mean."""

from __future__ import annotations

import pytest

from ofevents_cli.core.envelope import account_in
from ofevents_cli.core.routes import (
    Route,
    matching,
    parse_route,
    routes_from_tables,
)
from ofevents_cli.errors import InputError


def test_a_route_names_patterns_accounts_and_a_target() -> None:
    """`tip,ppv_*@111,222=3000/tips`: two patterns, two accounts, localhost:3000/tips."""
    route = parse_route("tip,ppv_*@111,222=3000/tips", secret="s", provider="ofapi")
    assert route.events == ("tip", "ppv_*")
    assert route.accounts == ("111", "222")
    assert route.to == "http://localhost:3000/tips"
    assert (route.secret, route.provider) == ("s", "ofapi")


def test_the_url_keeps_its_own_equals_and_at_signs() -> None:
    """Only the first `=` splits, so a query string and userinfo survive in the URL."""
    route = parse_route("*=https://user@hooks.example/in?a=b&c=d")
    assert route.to == "https://user@hooks.example/in?a=b&c=d" and route.accounts is None


def test_a_route_without_a_path_gets_the_commands_default() -> None:
    """listen's routes default to /webhooks (as --forward-to), forward's to none (as --to)."""
    assert parse_route("*=4000", default_path="/webhooks").to == "http://localhost:4000/webhooks"
    assert parse_route("*=4000").to == "http://localhost:4000"


@pytest.mark.parametrize(("text", "why"), [
    ("tip", "has no '=URL'"),
    ("=3000", "event pattern"),
    ("tip,=3000", "event pattern"),
    ("ti p@1=3000", "event pattern"),
    ("tip@=3000", "account"),
    ("tip=", "is empty"),
    ("tip=ftp://x", "not an http(s) target"),
])
def test_a_bad_route_is_a_usage_error_naming_it(text: str, why: str) -> None:
    """Each malformed route is refused with the flag, the text and what is wrong."""
    with pytest.raises(InputError) as caught:
        parse_route(text)
    assert why in caught.value.message and "--route" in caught.value.message


def test_globs_and_accounts_decide_what_matches() -> None:
    """`subscriber.*` takes subscriber events only, `@…` only those accounts, `*` all."""
    subs = Route(("subscriber.*",), "http://a")
    mine = Route(("*",), "http://b", accounts=("111",))
    anything = Route(("*",), "http://c")
    assert subs.matches("subscriber.new", "9") and not subs.matches("tip.received", "9")
    assert not subs.matches("subscriber", "9")
    assert mine.matches("tip", "111") and not mine.matches("tip", "222")
    assert not mine.matches("tip", None)
    assert anything.matches(None, None) and not subs.matches(None, None)
    assert matching([subs, mine, anything], "subscriber.new", "111") == (subs, mine, anything)


def test_route_tables_read_lists_strings_and_numbered_accounts() -> None:
    """`events` a string or list, `accounts` numbers allowed, the per-route settings kept."""
    [route] = routes_from_tables([{"events": ["tip", "ppv_*"], "accounts": [384751629],
                                   "to": "4000/tips", "secret": "whsec_x", "provider": "ofapi",
                                   "timeout": 2}], "routes.toml", "listen",
                                 providers=("ofapi",))
    assert route.events == ("tip", "ppv_*") and route.accounts == ("384751629",)
    assert (route.to, route.secret, route.provider, route.timeout) == (
        "http://localhost:4000/tips", "whsec_x", "ofapi", 2.0)
    assert route.label == "routes.toml [[routes]] #1"


def test_a_table_without_events_takes_every_event_and_command_limits_it() -> None:
    """No `events` means `*`; `command = "forward"` keeps a table away from listen."""
    tables = [{"to": "4000"}, {"to": "5000", "command": "forward"}]
    assert [r.to for r in routes_from_tables(tables, "f", "listen")] == ["http://localhost:4000"]
    assert len(routes_from_tables(tables, "f", "forward")) == 2
    assert routes_from_tables(tables, "f", "listen")[0].events == ("*",)


@pytest.mark.parametrize(("table", "why"), [
    ({"events": "tip"}, "has no `to`"),
    ({"to": "4000", "url": "x"}, "unknown key `url`"),
    ({"to": "4000", "evnets": "tip"}, "did you mean `events`?"),
    ({"to": "4000", "timeout": 0}, "`timeout` must be"),
    ({"to": "4000", "timeout": True}, "`timeout` must be"),
    ({"to": "4000", "events": []}, "`events` must be"),
    ({"to": "4000", "accounts": [True]}, "`accounts` must be"),
    ({"to": 4000}, "`to` must be"),
    ({"to": "4000", "provider": "stripe"}, "unknown provider"),
    ({"to": "4000", "command": "trigger"}, "`command` must be"),
])
def test_a_bad_table_is_a_usage_error_naming_the_file_and_table(table: dict[str, object],
                                                                why: str) -> None:
    """Every mistake in a [[routes]] table names the file, the table number and the key."""
    with pytest.raises(InputError) as caught:
        routes_from_tables([{"to": "3000"}, table], "routes.toml", "listen",
                           providers=("ofapi",))
    text = caught.value.message + " " + (caught.value.hint or "")
    assert "routes.toml [[routes]] #2" in text and why in text


def test_routes_that_are_not_an_array_of_tables_are_refused() -> None:
    """`routes = "x"` (not [[routes]]) is a usage error."""
    with pytest.raises(InputError, match=r"array of tables"):
        routes_from_tables("x", "config.toml", "listen")


def test_the_account_of_a_webhook_envelope() -> None:
    """Each provider's envelope names its account its own way; none is None."""
    assert account_in({"event": "x", "account_id": "acct_1", "payload": {}}) == "acct_1"
    assert account_in({"type": "x", "creatorId": "crt_9"}) == "crt_9"
    assert account_in({"data": {"accountId": 42}}) == "42"
    assert account_in({"type": "x"}) is None and account_in([1]) is None
    assert account_in({"accountId": True}) is None
