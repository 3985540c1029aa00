"""Reading many capture files as one history, newest first, in flat memory.

Each file is read from a size fixed when it was opened (a file still being written is read
up to that point) in blocks: backwards for newest first, forwards for oldest first. Files
are merged on `received_at` (a file opens only once its records can be next), so
concurrent sessions interleave, yet only the files that overlap in time are open at once.
A line longer than `MAX_LINE` is reported, never held. Bad lines come out as `BadLine`.
"""

from __future__ import annotations

import heapq
import os
import stat
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Union

from ofevents_cli.core.capture import MAX_LINE, Capture, CaptureProblem
from ofevents_cli.core.envelope import EnvelopeFacts, envelope_facts
from ofevents_cli.core.history_query import Entry, entry_of
from ofevents_cli.core.history_record import HistoryRecord, parse_record
from ofevents_cli.errors import InputError
from ofevents_cli.shells.history_home import history_files

__all__ = ["MAX_LINE", "BadLine", "Follower", "Source", "find", "newest_first",
           "oldest_first", "sources"]

BLOCK = 64 * 1024
SLACK = 300.0  # seconds a file's records may be out of order (captured when answered)
_NO_FACTS = EnvelopeFacts(None, None)


@dataclass(frozen=True)
class Source:
    """A capture file as it was when the read began."""

    path: Path
    size: int
    mtime: float

    @property
    def name(self) -> str:
        """How messages name it."""
        return str(self.path)


@dataclass(frozen=True)
class BadLine:
    """A line that is not a record (reported and skipped), or a file that went away."""

    source: str
    line: int | None
    message: str


Item = Union[Entry, BadLine]  # noqa: UP007 - a runtime alias must work on 3.10


def sources(paths: Iterable[Path], given: bool) -> list[Source]:
    """Snapshot each file's size; a given file that cannot be read is an input error, a
    history file that vanished meanwhile is left out."""
    found = []
    for path in paths:
        try:
            info = path.stat()
            if path.is_dir():
                raise IsADirectoryError(21, "is a directory")
            if not stat.S_ISREG(info.st_mode):  # a pipe or a device: no end to read back from
                raise InputError(f"cannot read capture file {path}: not a regular file (the "
                                 "history is read newest first, which a pipe or a device "
                                 "cannot do)", "save it to a file first, or pipe it to "
                                 "`ofevents verify -`")
            with path.open("rb"):
                pass
        except OSError as exc:
            if not given and isinstance(exc, FileNotFoundError):
                continue
            raise InputError(f"cannot read capture file {path}: {exc.strerror or exc}",
                             "check the path (a history directory is read with no argument)"
                             ) from None
        found.append(Source(path, info.st_size, info.st_mtime))
    return found


def entry(record: HistoryRecord, source: str) -> Entry:
    """A record summarised, its body parsed once."""
    facts = envelope_facts(record.body) if isinstance(record, Capture) else _NO_FACTS
    return entry_of(record, source, facts)


def _backward(handle: BinaryIO, end: int) -> Iterator[bytes | None]:
    """The lines of [0, end) from last to first; None for one longer than MAX_LINE."""
    later: list[bytes] = []  # the pieces of the line being assembled, rightmost first
    held, overlong, pos = 0, False, end
    while pos > 0:
        start = max(0, pos - BLOCK)
        handle.seek(start)
        block = handle.read(pos - start)
        pos = start
        pieces = block.split(b"\n")
        for piece in reversed(pieces[1:]):
            yield None if overlong or held + len(piece) > MAX_LINE else \
                b"".join([piece, *reversed(later)])
            later, held, overlong = [], 0, False
        if not overlong:
            later.append(pieces[0])
            held += len(pieces[0])
            if held > MAX_LINE:
                later, overlong = [], True
    yield None if overlong else b"".join(reversed(later))


def _forward(handle: BinaryIO, end: int) -> Iterator[bytes | None]:
    """The lines of [0, end) in order; None for one longer than MAX_LINE."""
    left = end
    while left > 0:
        text = handle.readline(min(left, MAX_LINE + 1))
        if not text:
            return  # the file shrank while it was read
        left -= len(text)
        line = text.removesuffix(b"\n")
        if len(line) <= MAX_LINE and (line is not text or left == 0):
            yield line
            continue
        while text and left > 0 and not text.endswith(b"\n"):  # overlong: skip to its end
            text = handle.readline(min(left, BLOCK))
            left -= len(text)
        yield None


def _count_lines(handle: BinaryIO, end: int) -> int:
    handle.seek(0)
    count, left = 0, end
    while left > 0:
        block = handle.read(min(left, 1024 * 1024))
        if not block:
            break
        count += block.count(b"\n")
        left -= len(block)
    return count


def records(source: Source, backward: bool) -> Iterator[HistoryRecord | BadLine]:
    """The records of one file (bad lines as BadLine), newest or oldest first."""
    try:
        handle = source.path.open("rb")
    except OSError as exc:
        yield BadLine(source.name, None, exc.strerror or str(exc))
        return
    with handle:
        end = source.size
        if end:
            handle.seek(end - 1)
            end -= handle.read(1) == b"\n"  # a final newline ends the last line
        total = _count_lines(handle, end) + 1 if backward else 0
        handle.seek(0)
        lines = _backward(handle, end) if backward else _forward(handle, end)
        for offset, text in enumerate(lines):
            number = total - offset if backward else offset + 1
            if number == 1 and text is not None:
                text = text.removeprefix(b"\xef\xbb\xbf")  # saved by an editor with a BOM
            if text is None:
                yield BadLine(source.name, number, f"longer than {MAX_LINE} bytes")
            elif text.strip():
                parsed = parse_record(text, number)
                yield (BadLine(source.name, number, parsed.message)
                       if isinstance(parsed, CaptureProblem) else parsed)


def _first_epoch(source: Source) -> float:
    """When a file's first readable record arrived (0: none in its first lines)."""
    for count, item in enumerate(records(source, backward=False)):
        if not isinstance(item, BadLine):
            return item.received_epoch
        if count > 16:
            break
    return 0.0


def _merge(ordered: list[tuple[float, Source]], backward: bool, stop: float | None
           ) -> Iterator[Item]:
    """Merge files on received_at; `ordered` by the bound each file's records cannot pass
    (newest first: its mtime; oldest first: its first record). A file stops at `stop`."""
    sign = -1.0 if backward else 1.0
    heap: list[tuple[float, int, Entry, Iterator[HistoryRecord | BadLine], str]] = []
    pending = iter(ordered)
    upcoming = next(pending, None)
    serial = 0

    def advance(stream: Iterator[HistoryRecord | BadLine], name: str) -> Iterator[BadLine]:
        nonlocal serial
        for item in stream:
            if isinstance(item, BadLine):
                yield item
                continue
            epoch = item.received_epoch
            if stop is not None and sign * (epoch - stop) > SLACK:
                return  # the rest of this file is beyond --since / --until
            serial += 1
            heapq.heappush(heap, (sign * epoch, serial, entry(item, name), stream, name))
            return

    while heap or upcoming is not None:
        while upcoming is not None and (not heap or sign * upcoming[0] <= heap[0][0]):
            yield from advance(records(upcoming[1], backward), upcoming[1].name)
            upcoming = next(pending, None)
        if heap:
            _, _, item, stream, name = heapq.heappop(heap)
            yield item
            yield from advance(stream, name)


def newest_first(files: list[Source], since: float | None = None) -> Iterator[Item]:
    """Every record, newest first; with `since`, older files and records are not read."""
    chosen = [(s.mtime, s) for s in files if since is None or s.mtime >= since - SLACK]
    ordered = sorted(chosen, key=lambda pair: pair[0], reverse=True)
    return _merge(ordered, backward=True, stop=since)


def oldest_first(files: list[Source], since: float | None = None,
                 until: float | None = None) -> Iterator[Item]:
    """Every record, oldest first (replay's order); files before `since` are not read."""
    chosen = [s for s in files if since is None or s.mtime >= since - SLACK]
    ordered = sorted(((_first_epoch(s), s) for s in chosen), key=lambda pair: pair[0])
    return _merge(ordered, backward=False, stop=until)


def find(files: list[Source], ids: Iterable[str]) -> tuple[dict[str, Entry], list[BadLine]]:
    """The newest record of each id (reading stops once all are found), and the bad lines."""
    wanted, found, bad = set(ids), {}, []
    for item in newest_first(files):
        if isinstance(item, BadLine):
            bad.append(item)
        elif item.id in wanted and item.id not in found:
            found[item.id] = item
            if len(found) == len(wanted):
                break
    return found, bad


class Follower:
    """`tail -f` over capture files (and new files in a history directory): each `poll`
    returns the whole lines appended since the last one."""

    def __init__(self, files: list[Source], directory: Path | None = None) -> None:
        self.directory = directory
        self.offsets = {s.path: s.size for s in files}
        self.numbers: dict[Path, int] = {}  # the next line number, counted on first growth

    def _new_files(self) -> None:
        if self.directory is not None:
            for path in history_files(self.directory):
                self.offsets.setdefault(path, 0)

    def poll(self) -> list[Item]:
        """The records appended since the last poll, oldest first."""
        self._new_files()
        items: list[Item] = []
        for path, offset in list(self.offsets.items()):
            try:
                size = os.stat(path).st_size
            except OSError:
                continue
            if size < offset:  # replaced or truncated: start again
                offset, self.numbers[path] = 0, 1
            if size == offset:
                continue
            items += self._read(path, offset, size)
        return items

    def _read(self, path: Path, offset: int, size: int) -> list[Item]:
        items: list[Item] = []
        try:
            with path.open("rb") as handle:
                if path not in self.numbers:
                    self.numbers[path] = _count_lines(handle, offset) + 1
                handle.seek(offset)
                chunk = handle.read(min(size - offset, MAX_LINE))
        except OSError:
            return items
        whole = chunk.rfind(b"\n") + 1  # a line still being written waits for its end
        if not whole and len(chunk) >= MAX_LINE:  # no end in sight: skip it
            self.offsets[path] = offset + len(chunk)
            return [BadLine(str(path), self.numbers[path], f"longer than {MAX_LINE} bytes")]
        self.offsets[path] = offset + whole
        for text in chunk[:whole].split(b"\n")[:-1]:
            number = self.numbers[path]
            self.numbers[path] += 1
            if not text.strip():
                continue
            parsed = parse_record(text, number)
            items.append(BadLine(str(path), number, parsed.message)
                         if isinstance(parsed, CaptureProblem) else entry(parsed, str(path)))
        return items
