"""The emulator's traffic: reproducible with a seed, a believable mix of every type."""

from __future__ import annotations

import random
from collections import Counter

from ofevents_cli.core.catalogue import all_events
from ofevents_cli.core.traffic import Traffic, accounts


def _run(seed: int, n: int) -> list[tuple[str, str, dict[str, object]]]:
    rng = random.Random(seed)
    traffic = Traffic(rng, accounts(3, rng))
    return [traffic.next("2026-11-22T10:30:00.000Z") for _ in range(n)]


def test_same_seed_same_stream() -> None:
    """--seed reproduces the traffic exactly."""
    assert _run(7, 200) == _run(7, 200)
    assert _run(7, 200) != _run(8, 200)


def test_mix_covers_every_event_type_with_chat_dominating() -> None:
    """All 12 EventBus types appear; chats and typing outnumber tips and PPV."""
    counts = Counter(event for event, _, _ in _run(1, 5000))
    assert set(counts) == {e.name for e in all_events() if e.provider == "eventbus"}
    assert counts["chat_message"] > 3 * counts["tip"]
    assert counts["typing"] > 3 * counts["ppv_purchase"]


def test_data_has_the_fixture_fields() -> None:
    """Generated data carries every field the type's fixture has, ids typed as there."""
    fixtures = {e.name: e.data for e in all_events() if e.provider == "eventbus"}
    for event, account, data in _run(3, 2000):
        assert set(fixtures[event]) <= set(data), event
        assert account.isdigit()
        for key in ("id", "userId", "toUserId", "chatId", "messageId"):
            if key in data:
                assert type(data[key]) is type(fixtures[event][key]), (event, key)
