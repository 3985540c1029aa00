"""Event lines: every type has its key fields, untrusted text is made safe."""

from __future__ import annotations

import pytest

from ofevents_cli.core import frames
from ofevents_cli.core.catalogue import all_events
from ofevents_cli.core.traffic import WEIGHTS
from ofevents_cli.render.events import SUMMARIES, line, summary

EVENTBUS = {e.name: e for e in all_events() if e.provider == "eventbus"}


def _event(name: str, **data: object) -> frames.Event:
    return frames.Event("evt_1", name, "384751629", "2026-11-22T10:30:00.123Z",
                        {**EVENTBUS[name].data, **data})


def test_every_eventbus_type_has_a_summary_and_traffic() -> None:
    """The catalogue, the renderer and the traffic generator know the same 12 types."""
    assert set(SUMMARIES) == set(EVENTBUS) == set(WEIGHTS)
    assert len(EVENTBUS) == 12


def test_lines_show_time_account_type_and_key_fields() -> None:
    """A tip line: HH:MM:SS, account, type, amount as money, the fan."""
    text = line(_event("tip"))
    assert text.startswith("10:30:00  384751629  tip ")
    assert "$25.00 from user 562630475" in text
    assert "Jake M → Lena Rose" in summary(_event("chat_message"))
    assert "$20.00" in summary(_event("ppv_sent")) and "3 media" in summary(_event("ppv_sent"))
    assert "14 unread" in summary(_event("counts"))


def test_untrusted_text_is_plain_short_and_escaped() -> None:
    """HTML is dropped, control characters escaped, long text shortened."""
    text = summary(_event("chat_message", text="<p>hi\x1b[2J <b>there</b></p>" + "x" * 200))
    assert "\x1b" not in text and "\\x1b[2J" in text and "<b>" not in text
    assert len(text) < 140


def test_unknown_types_and_odd_data_do_not_break_the_line() -> None:
    """An event type the renderer does not know, or data of the wrong shape, still renders."""
    odd = frames.Event("evt_1", "brand_new", "1", "ts", {"a": 1, "b": "<i>x</i>"})
    assert "a=1" in line(odd)
    assert "?" in summary(frames.Event("evt_1", "counts", "1", "ts", {"chats": [1]}))


def test_finish_sums_up_events_not_forwarded(capsys: pytest.CaptureFixture[str]) -> None:
    """Events reported as not forwarded end with a count on stderr and exit code 1."""
    from ofevents_cli.core.exit_policy import ListenTally, listen_exit
    from ofevents_cli.formats import Format
    from ofevents_cli.render.events import Renderer
    from ofevents_cli.shells.forwarder import Delivered

    renderer = Renderer(Format.JSON, ListenTally())
    event = frames.Event("e1", "tip", "1", "2026-11-22T10:30:00Z")
    renderer.show(Delivered(event, "http://127.0.0.1:9/", None, 0.0, 0, "listen ended",
                            dropped=True))
    renderer.finish()
    err = capsys.readouterr().err
    assert "!! not forwarded e1: listen ended" in err and "!! 1 event not forwarded" in err
    assert listen_exit(renderer.tally) == 1


def test_a_money_field_that_is_not_a_number_cannot_drive_the_terminal() -> None:
    """A tip `amount` holding text with escapes is shown short and escaped, never raw."""
    text = line(_event("tip", amount="\x1b]0;pwned\x07" + "9" * 40))
    assert "\x1b" not in text and "\x07" not in text and "\\x1b]0;pwned" in text
    assert "9" * 30 not in text
