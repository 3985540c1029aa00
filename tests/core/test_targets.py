"""The one parser behind every --to and --forward-to."""

from __future__ import annotations

import pytest

from ofevents_cli.core.targets import DEFAULT_TARGET, parse_target
from ofevents_cli.errors import InputError


@pytest.mark.parametrize(("given", "url"), [
    (None, DEFAULT_TARGET),
    ("3000", "http://localhost:3000/webhooks"),
    ("3000/hooks/ofapi", "http://localhost:3000/hooks/ofapi"),
    ("3000/?x=1", "http://localhost:3000/webhooks?x=1"),
    ("localhost:3000", "http://localhost:3000/webhooks"),
    ("127.0.0.1:8080/x?y=1", "http://127.0.0.1:8080/x?y=1"),
    ("[::1]:3000/x", "http://[::1]:3000/x"),
    ("https://example.test/hooks", "https://example.test/hooks"),
    ("  http://127.0.0.1:4000  ", "http://127.0.0.1:4000/webhooks"),
])
def test_what_developers_type_means_what_they_mean(given: str | None, url: str) -> None:
    """A port, a port and path, host:port, or a URL; the default path fills an empty one."""
    assert parse_target(given) == url


def test_without_a_default_path_the_url_keeps_its_own() -> None:
    """forward and replay append the delivery's path themselves."""
    assert parse_target("3000", default_path="") == "http://localhost:3000"
    assert parse_target("3000/api", default_path="") == "http://localhost:3000/api"


@pytest.mark.parametrize(("given", "needle"), [
    ("http://3000/webhooks", "only of digits"),
    ("12345:80/x", "only of digits"),
    ("2130706433:80", "only of digits"),
    ("ftp://host/x", "http(s)"),
    ("localhost:99999", "not a valid target"),
    ("localhost:0", "out of range"),
    ("local host:3000", "spaces or control"),
    ("http://", "http(s)"),
    (":3000", "http(s)"),
])
def test_targets_that_cannot_be_meant_are_refused(given: str, needle: str) -> None:
    """A host of digits would resolve to another machine (3000 -> 0.0.11.184): refused."""
    with pytest.raises(InputError) as caught:
        parse_target(given, flag="--forward-to")
    assert needle in caught.value.message and caught.value.message.startswith("--forward-to")


def test_a_required_target_cannot_be_empty() -> None:
    """forward --to '' is an error, not the trigger default."""
    with pytest.raises(InputError):
        parse_target("", default=None)
