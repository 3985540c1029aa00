"""Dotted-key get / set / unset on the config table, and which keys are secrets."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from ofevents_cli.core import providers as registry
from ofevents_cli.core.config_table import (
    get_key,
    is_secret,
    known_keys,
    leaves,
    set_key,
    unset_key,
)
from ofevents_cli.errors import InputError

TABLE = {"eventbus": {"url": "ws://localhost:8765"}, "secrets": {"ofapi": "s1"}}


def test_set_creates_tables_in_place() -> None:
    """Setting a nested key builds the missing tables inside the given table."""
    table = copy.deepcopy(TABLE)
    set_key(table, "ngrok.authtoken", "tok")
    assert table["ngrok"] == {"authtoken": "tok"} and table["secrets"] == {"ofapi": "s1"}


def test_set_refuses_to_replace_a_value_or_a_table() -> None:
    """A value in the way of a table, or a table where a value goes: InputError, unchanged."""
    table = copy.deepcopy(TABLE)
    with pytest.raises(InputError):
        set_key(table, "eventbus.url.deeper", "x")
    with pytest.raises(InputError):
        set_key(table, "secrets", "x")
    assert table == TABLE


def test_get_returns_values_tables_or_none() -> None:
    """A dotted key finds a value, a sub-table, or None when absent."""
    assert get_key(TABLE, "eventbus.url") == "ws://localhost:8765"
    assert get_key(TABLE, "secrets") == {"ofapi": "s1"}
    assert get_key(TABLE, "eventbus.url.deeper") is None
    assert get_key(TABLE, "ngrok.authtoken") is None


def test_unset_prunes_emptied_tables_and_reports_absence() -> None:
    """Removing the last key of a table removes the table; a missing key changes nothing."""
    table = copy.deepcopy(TABLE)
    assert unset_key(table, "secrets.ofapi") is True
    assert table == {"eventbus": {"url": "ws://localhost:8765"}}
    assert unset_key(table, "secrets.ofauth") is False
    assert unset_key(table, "eventbus.url.x") is False
    assert table == {"eventbus": {"url": "ws://localhost:8765"}}
    nested: dict[str, Any] = {"a": {"b": {"c": 1}}}
    assert unset_key(nested, "a.b.c") is True and nested == {}


@pytest.mark.parametrize("key", ["", "a..b", "a b", ".a", "a.", "ä"])
def test_malformed_keys_are_input_errors(key: str) -> None:
    """Keys must be dotted names of letters, digits, _ and -."""
    with pytest.raises(InputError):
        get_key(TABLE, key)


def test_leaves_flatten_to_dotted_keys_in_order() -> None:
    """Nested tables flatten to sorted (dotted key, value) pairs."""
    assert list(leaves(TABLE)) == [("eventbus.url", "ws://localhost:8765"),
                                   ("secrets.ofapi", "s1")]


def test_secret_keys_are_recognised() -> None:
    """Known secrets, anything under secrets., and token/key-like names count as secret."""
    assert is_secret("eventbus.api_key") and is_secret("secrets.custom")
    assert is_secret("other.password") and is_secret("x.refresh_token")
    assert not is_secret("eventbus.url") and not is_secret("listen.max_events")


def test_known_secret_keys_match_the_env_vars_the_shell_reads() -> None:
    """secrets.<provider> documents the same env var that shells.config reads."""
    assert {k: v.env for k, v in known_keys().items() if k.startswith("secrets.")} == {
        "secrets.ofapi": "OFAPI_WEBHOOK_SECRET",
        "secrets.onlyfansapi": "ONLYFANSAPI_WEBHOOK_SECRET",
        "secrets.ofauth": "OFAUTH_WEBHOOK_SECRET"}
    assert {p.config_key for p in registry.providers() if p.secret_env} == {
        k for k in known_keys() if k.startswith("secrets.")}
