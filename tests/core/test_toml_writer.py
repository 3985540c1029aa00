"""The TOML writer: what it writes, tomllib reads back unchanged."""

from __future__ import annotations

import datetime
import math
import sys
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ofevents_cli.core.toml_writer import dumps

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on 3.10 only
    import tomli as tomllib

_SCALARS = (st.text() | st.booleans() | st.integers(-(2**63), 2**63 - 1)
            | st.floats(allow_nan=False))
_TABLES = st.recursive(
    st.dictionaries(st.text(), _SCALARS | st.lists(_SCALARS, max_size=3), max_size=4),
    lambda children: st.dictionaries(st.text(), children | _SCALARS, max_size=4),
    max_leaves=20,
)


@given(_TABLES)
def test_round_trip_through_tomllib(table: dict[str, Any]) -> None:
    """Any nested table of strings, numbers, bools and lists reads back equal."""
    assert tomllib.loads(dumps(table)) == table


def test_config_file_layout_is_plain_and_readable() -> None:
    """Tables become [headers], scalars `key = value`, bare keys where TOML allows."""
    text = dumps({"eventbus": {"url": "ws://localhost:8765", "api_key": "bfl_x"},
                  "secrets": {"ofauth": "whsec_abc"}, "version": 1})
    assert text == ('version = 1\n\n[eventbus]\napi_key = "bfl_x"\nurl = "ws://localhost:8765"\n'
                    '\n[secrets]\nofauth = "whsec_abc"\n')


def test_awkward_strings_and_keys_are_escaped() -> None:
    """Quotes, backslashes, control characters and dotted keys survive the trip."""
    table = {"a.b": {"k y": 'say "hi"\\\n\t\x00\x7f é 😘'}, "": True}
    assert tomllib.loads(dumps(table)) == table


def test_empty_tables_and_special_floats_survive() -> None:
    """An empty table keeps its header; inf and -inf are written as TOML inf."""
    loaded = tomllib.loads(dumps({"empty": {}, "big": math.inf, "low": -math.inf}))
    assert loaded == {"empty": {}, "big": math.inf, "low": -math.inf}
    assert math.isnan(tomllib.loads(dumps({"n": math.nan}))["n"])


def test_dates_are_written_as_toml_datetimes() -> None:
    """Dates and times a hand-written file held are kept as TOML date-times."""
    table = {"at": datetime.datetime(2026, 11, 22, 14, 0, tzinfo=datetime.timezone.utc),
             "day": datetime.date(2026, 11, 22)}
    assert tomllib.loads(dumps(table)) == table


@pytest.mark.parametrize("value", [None, object(), [{"inline": "table"}]])
def test_values_toml_cannot_hold_here_are_refused(value: Any) -> None:
    """None, objects and arrays of tables raise TypeError instead of writing bad TOML."""
    with pytest.raises(TypeError):
        dumps({"key": value})
