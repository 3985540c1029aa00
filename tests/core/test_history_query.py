"""The history query: moments, status patterns and each filter, pure."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from ofevents_cli.core.envelope import envelope_facts
from ofevents_cli.core.history_query import Query, entry_of, parse_moment, parse_status
from tests.history_data import delivery, kept

NOW = 1_800_000_000.0
PLUS2 = timezone(timedelta(hours=2))


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW - 7200), ("30m", NOW - 1800), ("1h30m", NOW - 5400), ("7d", NOW - 7 * 86400),
    ("1w", NOW - 7 * 86400), ("45s", NOW - 45), ("1.5h", NOW - 5400),
    ("1614265330", 1614265330.0),
    ("2026-11-22T10:30:00Z", datetime(2026, 11, 22, 10, 30, tzinfo=timezone.utc).timestamp()),
    ("2026-11-22T10:30:00+01:00",
     datetime(2026, 11, 22, 9, 30, tzinfo=timezone.utc).timestamp()),
    ("2026-11-22T10:30", datetime(2026, 11, 22, 8, 30, tzinfo=timezone.utc).timestamp()),
    ("2026-11-22", datetime(2026, 11, 21, 22, 0, tzinfo=timezone.utc).timestamp()),
])
def test_moments(text: str, expected: float) -> None:
    """Durations count back from now; a time without an offset is local time (here +02:00)."""
    assert parse_moment(text, NOW, PLUS2) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "h", "2 hours", "yesterday", "2h-", "-2h", "2026-13-01"])
def test_not_a_moment(text: str) -> None:
    """Anything else is a ValueError."""
    with pytest.raises(ValueError):
        parse_moment(text, NOW, PLUS2)


def test_status_patterns() -> None:
    """Codes, classes with x (any case) and none are patterns; anything else is refused."""
    assert [parse_status(s) for s in ("5xx", "404", "2XX", "none", "4x4")] == \
        ["5xx", "404", "2xx", "none", "4x4"]
    for bad in ("600", "5x", "2xxx", "ok", "x00"):
        with pytest.raises(ValueError):
            parse_status(bad)


def _entry(record: object) -> object:
    body = getattr(record, "body", b"")
    return entry_of(record, "f", envelope_facts(body))  # type: ignore[arg-type]


def test_each_filter() -> None:
    """One record against each filter, kept or dropped as the flag says."""
    tip = _entry(delivery(1, NOW - 10, status=503, valid=False, account="crt_7",
                          headers=(("X-Trace", "AbC"),)))
    event = _entry(kept(2, NOW - 5))
    cases = [
        (Query(events=("tip.*",)), True, False), (Query(events=("tip",)), False, True),
        (Query(providers=("ofapi",)), True, False), (Query(accounts=("crt_7",)), True, False),
        (Query(accounts=("384751629",)), False, True),
        (Query(since=NOW - 7), False, True), (Query(until=NOW - 7), True, False),
        (Query(statuses=("5xx",)), True, False), (Query(statuses=("2xx", "none")), False, False),
        (Query(invalid=True), True, False), (Query(grep="abc"), True, False),
        (Query(grep='"amount": 2'), False, True), (Query(ids=("ev_2",)), False, True),
        (Query(), True, True),
    ]
    for query, keeps_tip, keeps_event in cases:
        assert (query.matches(tip), query.matches(event)) == (keeps_tip, keeps_event), query  # type: ignore[arg-type]


def test_envelope_facts_name_event_and_account_per_provider() -> None:
    """Each provider's envelope gives its event and the account it is about."""
    assert envelope_facts(b'{"type":"tip.received","creatorId":"crt_1"}') == \
        ("tip.received", "crt_1")
    assert envelope_facts(b'{"event":"users.typing","account_id":"acct_5"}') == \
        ("users.typing", "acct_5")
    assert envelope_facts(b'{"eventType":"connection.created","data":{"connection":'
                          b'{"id":"conn_9"}}}') == ("connection.created", "conn_9")
    assert envelope_facts(b'{"event":"tip","accountId":384751629}') == ("tip", "384751629")
    assert envelope_facts(b"not json") == (None, None)
    assert envelope_facts(b"[" * 100000) == (None, None)
