"""Which deliveries `replay` sends: all of a capture file, or a selection (`--id`, `--last`,
`--since`, the history filters) from a file or from the history, in flat memory.

Replay's order is oldest first (a file's order); `--id` keeps the order the ids were given.
Only `--last N` and `--id` hold records back, N or one per id at most.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass

from ofevents_cli.core.capture import Capture, CaptureProblem
from ofevents_cli.core.history_query import Entry, Query
from ofevents_cli.errors import InputError
from ofevents_cli.shells.history_read import BadLine, Item, Source, entry, find, newest_first
from ofevents_cli.shells.history_read import oldest_first as history_oldest_first

__all__ = ["Selection", "from_file", "from_history"]

Records = Iterator[Capture | CaptureProblem]


@dataclass(frozen=True)
class Selection:
    """The flags that pick deliveries; `any` says whether one was given."""

    query: Query
    last: int | None = None

    @property
    def any(self) -> bool:
        """A selection narrower than "everything"."""
        return self.last is not None or self.query != Query()


def _unknown(ids: tuple[str, ...], found: dict[str, Entry], where: str) -> None:
    missing = [i for i in ids if i not in found]
    if missing:
        raise InputError(f"no delivery {missing[0]!r} in {where}",
                         "list the ids with `ofevents history`")
    events = [i for i in ids if found[i].kind == "event"]
    if events:
        raise InputError(f"{events[0]} is an EventBus event, not a webhook delivery: there is "
                         "no request to re-send", "pick a delivery id (dlv_…)")


def _deliveries(entries: Iterator[Entry]) -> Records:
    for item in entries:
        if isinstance(item.record, Capture):
            yield item.record


def from_file(records: Records, source: str, selection: Selection) -> Records:
    """The selected records of one capture file, in file order; bad lines pass through."""
    query = selection.query
    if not selection.any:
        yield from records
        return
    ids = query.ids
    kept: deque[Capture] = deque(maxlen=selection.last)
    found: dict[str, Entry] = {}
    for record in records:
        if isinstance(record, CaptureProblem):
            yield record
            continue
        summary = entry(record, source)
        if not query.matches(summary):
            continue
        if ids:
            found.setdefault(record.id, summary)
        elif selection.last is not None:
            kept.append(record)
        else:
            yield record
    if ids:
        _unknown(ids, found, source)
        yield from _deliveries(found[i] for i in ids)
    yield from kept


def _problem(bad: BadLine) -> CaptureProblem:
    return CaptureProblem(bad.line or 0, f"in {bad.source}: {bad.message}")


def _matching(items: Iterator[Item], query: Query) -> Iterator[Entry | CaptureProblem]:
    for item in items:
        if isinstance(item, BadLine):
            yield _problem(item)
        elif item.kind == "delivery" and query.matches(item):
            yield item


def from_history(files: list[Source], selection: Selection, where: str) -> Records:
    """The selected deliveries of the history, oldest first."""
    query = selection.query
    if not selection.any:
        raise InputError("replay from the history needs a selection",
                         "pick deliveries with --id, --last N or --since (or name a CAPTURE "
                         "file to re-send all of it)")
    if query.ids:
        found, bad = find(files, query.ids)
        yield from (_problem(b) for b in bad)
        _unknown(query.ids, {i: e for i, e in found.items() if query.matches(e)}, where)
        yield from _deliveries(found[i] for i in query.ids)
        return
    if selection.last is not None:
        newest: list[Capture] = []
        for item in _matching(newest_first(files, since=query.since), query):
            if isinstance(item, CaptureProblem):
                yield item
                continue
            assert isinstance(item.record, Capture)
            newest.append(item.record)
            if len(newest) == selection.last:
                break
        yield from reversed(newest)
        return
    for item in _matching(history_oldest_first(files, query.since, query.until), query):
        if isinstance(item, CaptureProblem):
            yield item
        elif isinstance(item.record, Capture):
            yield item.record
