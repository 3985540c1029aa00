"""The replay view prints untrusted text (errors, URLs, events) with control characters escaped."""

from __future__ import annotations

import pytest

from ofevents_cli.core.exit_policy import ReplayTally
from ofevents_cli.formats import Format
from ofevents_cli.render.replays import ReplayView
from ofevents_cli.shells.replay import Replayed


def test_an_error_with_control_characters_is_escaped(capsys: pytest.CaptureFixture[str]) -> None:
    """An error carrying an ANSI escape cannot recolour or rewrite the terminal."""
    view = ReplayView(Format.TEXT, ReplayTally())
    view.show(Replayed("dlv_1", 1, None, "POST", "http://127.0.0.1:1/w", None, 1.0,
                       "cannot connect (\x1b[2Kgone)"))
    out = capsys.readouterr().out
    assert "\x1b" not in out and "cannot connect (" in out and view.tally.errors == 1
